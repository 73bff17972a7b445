/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's event counters.  One X-macro list gives the struct fields
 * and their printed names, so adding a counter is one line. */
#ifndef TC_COUNTERS_H
#define TC_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#define TC_COUNTERS(X) \
	X(packets_in, "segments received from the peer")		\
	X(packets_out, "segments sent by the local kernel")		\
	X(malformed, "segments that could not be parsed")		\
	X(encrypted_flows, "connections that switched to encrypted")	\
	X(plaintext_flows, "connections that run in plaintext")	\
	X(eno_fallback, "plaintext because ENO failed (any reason)")	\
	X(eno_syn_without, "SYN retransmitted without ENO")		\
	X(segments_sealed, "segments encrypted and tagged")		\
	X(segments_opened, "segments verified and decrypted")		\
	X(mac_fail, "segments dropped: tag missing or invalid")	\
	X(no_keys_drop, "segments dropped: arrived before keys")	\
	X(untagged_rst, "RSTs without a valid tag passed unchanged")	\
	X(oversize_drop, "segments dropped: options did not fit")	\
	X(sack_trimmed, "SACK blocks removed to make room")		\
	X(init_retransmit, "Init messages retransmitted")		\
	X(init_bad, "invalid Init messages (abort)")			\
	X(aborts, "connections aborted with RST")			\
	X(policy_refused, "connections refused by policy private")	\
	X(held, "segments held until keys existed")			\
	X(held_overflow, "segments dropped: hold queue full")		\
	X(injected, "packets injected through the raw socket")		\
	X(inject_fail, "raw socket sends that failed")			\
	X(flows_active, "flows in the table now (a gauge, not a count)") \
	X(flows_evicted, "flows evicted because the table was full")	\
	X(flows_expired, "flows removed after the idle limit")		\
	X(icmp_translated, "ICMP errors rewritten for a translated flow")	\
	X(pmtu_injected, "segments sent by raw socket to fit the path MTU") \
	X(lost_flow_drop, "segments of encrypted connections without state") \
	X(lost_flow_reset, "RSTs sent to end such connections")	\
	X(flows_resumed, "flows taken over from the previous daemon")	\
	X(es_reused, "key exchanges that reused a remembered X25519 result") \
	X(queue_enobufs, "netlink ENOBUFS (kernel dropped queue messages)") \
	X(stray_syn, "SYNs for a live flow, not its retransmission")	\
	X(flows_replaced, "flows replaced by a new connection, same ports") \
	X(out_of_window, "unauthenticated segments failing kernel checks") \
	X(held_total_overflow, "segments dropped: all holds together full") \
	X(policy_lost_drop, "segments dropped: no state, policy private") \
	X(ct_liberal_set, "conntrack entries told to accept translated sequence numbers") \
	X(ct_liberal_fail, "conntrack updates that failed (or ctnetlink missing)") \
	X(log_suppressed, "log lines about remote hosts left out: rate limit") \
	X(rst_suppressed, "RSTs (and ACKs) not injected: rate limit") \
	X(suite_aes128, "connections keyed with suite 0x7403 (AES-128-CTR)") \
	X(suite_chacha20, "connections keyed with suite 0x7402 (ChaCha20)") \
	X(no_common_suite, "key exchanges aborted: no cipher suite in common") \
	X(resume_offered, "resumption offers sent (A)")			\
	X(resume_accepted, "connections resumed (A: offer accepted; B: offer taken)") \
	X(resume_declined, "resumption offers declined (A: by the peer; B: by us)") \
	X(resume_aborted, "connections aborted: acceptance not matching our offer") \
	X(resume_entries, "resumption entries held now (a gauge: A entries + B windows)") \
	X(gen_entered, "traffic-key generations derived beyond the first") \
	X(gen_wiped, "traffic-key generations wiped: no segment needs them") \
	X(seal_fail, "outgoing segments dropped: key wiped or cipher failure") \
	X(stale_passed, "tagged segments passed undecrypted: bytes acknowledged, key wiped")

struct counters {
#define TC_COUNTER_FIELD(name, desc) uint64_t name;
	TC_COUNTERS(TC_COUNTER_FIELD)
#undef TC_COUNTER_FIELD
};

/* Prints "counter NAME VALUE" lines. */
void counters_print(const struct counters *c, FILE *out);

#endif
