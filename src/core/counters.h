/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's event counters.  One X-macro list gives the struct fields,
 * their printed names and descriptions, so adding a counter is one line.
 *
 * TC_COUNTER_LIST(C, G) applies C to the counters (values that only grow
 * while the daemon runs) and G to the gauges (values that go up and down:
 * a count of what exists now).  Exporters that care about the difference
 * (tcnetstat --prometheus) use it; everything else uses TC_COUNTERS(X),
 * which applies X to both alike. */
#ifndef TC_COUNTERS_H
#define TC_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#define TC_COUNTER_LIST(C, G) \
	C(packets_in, "segments received from the peer")		\
	C(packets_out, "segments sent by the local kernel")		\
	C(malformed, "segments that could not be parsed")		\
	C(encrypted_flows, "connections that switched to encrypted")	\
	C(plaintext_flows, "connections that run in plaintext")	\
	C(eno_fallback, "plaintext because ENO failed (any reason)")	\
	C(eno_syn_without, "SYN retransmitted without ENO")		\
	C(segments_sealed, "segments encrypted and tagged")		\
	C(segments_opened, "segments verified and decrypted")		\
	C(mac_fail, "segments dropped: tag missing or invalid")	\
	C(no_keys_drop, "segments dropped: arrived before keys")	\
	C(untagged_rst, "RSTs without a valid tag passed unchanged")	\
	C(oversize_drop, "segments dropped: options did not fit")	\
	C(sack_trimmed, "SACK blocks removed to make room")		\
	C(init_retransmit, "Init messages retransmitted")		\
	C(init_bad, "invalid Init messages (abort)")			\
	C(aborts, "connections aborted with RST")			\
	C(policy_refused, "connections refused by policy private")	\
	C(held, "segments held until keys existed")			\
	C(held_overflow, "segments dropped: hold queue full")		\
	C(injected, "packets injected through the raw socket")		\
	C(inject_fail, "raw socket sends that failed")			\
	G(flows_active, "flows in the table now (a gauge, not a count)") \
	C(flows_evicted, "flows evicted because the table was full")	\
	C(flows_expired, "flows removed after the idle limit")		\
	C(icmp_translated, "ICMP errors rewritten for a translated flow")	\
	C(pmtu_injected, "segments sent by raw socket to fit the path MTU") \
	C(lost_flow_drop, "segments of encrypted connections without state") \
	C(lost_flow_reset, "RSTs sent to end such connections")	\
	C(flows_resumed, "flows taken over from the previous daemon")	\
	C(es_reused, "key exchanges that reused a remembered X25519 result") \
	C(queue_enobufs, "netlink ENOBUFS (kernel dropped queue messages)") \
	C(stray_syn, "SYNs for a live flow, not its retransmission")	\
	C(flows_replaced, "flows replaced by a new connection, same ports") \
	C(out_of_window, "unauthenticated segments failing kernel checks") \
	C(held_total_overflow, "segments dropped: all holds together full") \
	C(policy_lost_drop, "segments dropped: no state, policy private") \
	C(ct_liberal_set, "conntrack entries told to accept translated sequence numbers") \
	C(ct_liberal_fail, "conntrack updates that failed (or ctnetlink missing)") \
	C(log_suppressed, "log lines about remote hosts left out: rate limit") \
	C(rst_suppressed, "RSTs (and ACKs) not injected: rate limit") \
	C(suite_aes128, "connections keyed with suite 0x7403 (AES-128-CTR)") \
	C(suite_chacha20, "connections keyed with suite 0x7402 (ChaCha20)") \
	C(no_common_suite, "key exchanges aborted: no cipher suite in common") \
	C(resume_offered, "resumption offers sent (A)")			\
	C(resume_accepted, "connections resumed (A: offer accepted; B: offer taken)") \
	C(resume_declined, "resumption offers declined (A: by the peer; B: by us)") \
	C(resume_aborted, "connections aborted: acceptance not matching our offer") \
	G(resume_entries, "resumption entries held now (a gauge: A entries + B windows)") \
	C(gen_entered, "traffic-key generations derived beyond the first") \
	C(gen_wiped, "traffic-key generations wiped: no segment needs them") \
	C(seal_fail, "outgoing segments dropped: key wiped or cipher failure") \
	C(stale_passed, "tagged segments passed undecrypted: bytes acknowledged, key wiped")

#define TC_COUNTERS(X) TC_COUNTER_LIST(X, X)

struct counters {
#define TC_COUNTER_FIELD(name, desc) uint64_t name;
	TC_COUNTERS(TC_COUNTER_FIELD)
#undef TC_COUNTER_FIELD
};

/* Prints "counter NAME VALUE" lines. */
void counters_print(const struct counters *c, FILE *out);

#endif
