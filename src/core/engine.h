/* SPDX-License-Identifier: BSD-2-Clause */
/* The per-packet protocol engine: ENO negotiation, the key exchange, data
 * protection and sequence translation for every flow (doc/protocol.md).
 *
 * Pure with respect to I/O: time comes in as an argument; random bytes,
 * injected packets, verdicts for held packets and key-log lines go out
 * through struct engine_io, which the daemon wires to the real world and
 * unit tests wire to buffers. */
#ifndef TC_ENGINE_H
#define TC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "escache.h"
#include "flow.h"
#include "packet.h"
#include "policy.h"
#include "ratelimit.h"
#include "resume.h"

/* Packet marks shared with scripts/tcpcrypt-firewall; the contract (marks,
 * NF_REPEAT, connmark, guard) is doc/design.md section 1. */
#define TC_MARK_INJECTED  0x10000000u	/* our raw-socket packets: never queued */
#define TC_MARK_PLAINTEXT 0x20000000u	/* flow decided plaintext: stop queueing */
#define TC_MARK_ENCRYPTED 0x40000000u	/* connection negotiated encryption; the
					 * rules keep it in the connmark and hand
					 * it back with every queued packet */

/* Room a packet buffer needs beyond the packet for the engine's rewrites
 * (ENO or MAC option plus an Init message). */
#define ENGINE_HEADROOM 256

struct engine_io {
	void *ctx;
	/* Send a complete IP packet (IPv4 or IPv6) through the raw socket. */
	int (*inject)(void *ctx, const uint8_t *pkt, size_t len);
	/* Final verdict for a packet the engine held (accept with these bytes,
	 * or drop). */
	void (*release)(void *ctx, uint32_t id, bool accept, const uint8_t *pkt, size_t len);
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	/* Called when a connection completes the key exchange, before any
	 * tagged segment of it is sent. */
	void (*keylog)(void *ctx, const uint8_t n_a[32], const uint8_t es[32]);
	/* The same for a resumed connection (doc/protocol.md section 10):
	 * R_A, the ss[i] it was keyed from and its suite.  May be NULL. */
	void (*keylog_ss)(void *ctx, const uint8_t r_a[RESUME_RH_LEN],
			  const uint8_t ss[RESUME_SS_LEN], uint16_t suite);
	/* The MTU of the route to k's remote address (0: unknown), for the
	 * MSS of the peer's SYN.  May be NULL. */
	unsigned (*route_mtu)(void *ctx, const struct flow_key *k);
	/* The connection is committed to encryption and its conntrack entry exists:
	 * let conntrack accept its translated sequence numbers.  May be NULL. */
	void (*conntrack_liberal)(void *ctx, const struct flow_key *k, bool we_opened);
};

struct engine_config {
	size_t max_flows;
	uint64_t idle_us;		/* established flows without traffic */
	uint64_t handshake_idle_us;	/* flows stuck before encryption */
	uint64_t linger_us;		/* closed flows, for stragglers */
	unsigned max_held;		/* per flow, before keys */
	unsigned max_held_total;	/* all flows together: well below the
					 * queue length, so held segments can
					 * never fill the queue */
	bool rst_authenticated;		/* drop RSTs without a valid tag */
	bool x25519_memo;		/* reuse X25519 results (escache.h) */
	/* Cipher suites (SEAL2_SUITE_*) we offer as A, in this order, and
	 * accept as B. */
	uint16_t suites[KX_MAX_SUITES];
	unsigned nsuites;
	/* Session resumption (doc/protocol.md section 13): off, or on with
	 * entries that live this long from the end of their key exchange. */
	bool resumption;
	uint64_t resume_lifetime_us;
};

/* Bounds of the resumption tables (oldest dropped first): A's entries, one
 * per B address, and B's windows, at most RESUME_B_PER_PEER per A address.
 * sizeof(struct resume_a_entry) and sizeof(struct resume_b_window) bytes
 * each, allocated once at start. */
#define ENGINE_RESUME_A_MAX 1024
#define ENGINE_RESUME_B_MAX 4096

void engine_config_defaults(struct engine_config *c);
/* The default suite order: AES-128 first where the CPU has AES
 * instructions, ChaCha20 first otherwise. */
void engine_default_suites(struct engine_config *c);

enum engine_verdict {
	EV_ACCEPT,		/* pass (p rewritten in place if *modified) */
	EV_ACCEPT_PLAIN,	/* pass and mark the connection plaintext */
	EV_ACCEPT_ENCRYPTED,	/* pass; the connection negotiated encryption
				 * (the caller marks it unless already marked) */
	EV_DROP,
	EV_HOLD,		/* no verdict now: io->release later */
};

/* A SYN that reached a live flow's ports and was passed to the kernel
 * (stray_syn), remembered until the kernel says whether it starts a new
 * connection: its SYN-ACK then negotiates at once, instead of after the
 * peer's SYN retransmission (about a second).  A handful: a lost entry
 * only costs that second. */
#define ENGINE_SYN_MEMO 8
struct syn_memo {
	struct flow_key key;
	uint64_t when;			/* 0: empty */
	uint32_t isn;			/* the SYN's sequence number */
	uint8_t policy;
	uint8_t opt_len;		/* 0: the SYN negotiated nothing */
	uint8_t opt[40];		/* A's ENO option, for the transcript */
};

struct engine {
	struct engine_config cfg;
	struct engine_io io;
	struct counters ctr;
	struct flow_table flows;
	struct flow_hs *handshakes;	/* flows with handshake state, newest first */
	struct flow_hs *handshakes_oldest;
	uint8_t kp_priv[32], kp_pub[32];
	uint64_t kp_born;		/* 0: no key pair yet */
	uint64_t kp_gen;		/* counts key pairs: 1 for the first */
	struct escache es_memo;		/* X25519 results for this key pair */
	const struct policy *policy;	/* owned by the caller; NULL: default */
	struct ratelimit limits;	/* log lines and RSTs remote hosts cause */
	struct seal2_ctx sx;		/* cipher and MAC contexts, shared by all
					 * flows (seal2.h) */
	uint64_t next_scan;
	unsigned held_total;		/* segments held by all flows */
	struct syn_memo syn_memo[ENGINE_SYN_MEMO];
	unsigned syn_memo_next;
	/* Resumption secrets, in memory only (never in the flow slots):
	 * ours as A per B address, and B's windows per A address. */
	struct resume_a_table resume_a;
	struct resume_b_table resume_b;
	uint8_t scratch[IPV6_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN + KX_INIT_MAX_LEN];
};

int engine_init(struct engine *e, const struct engine_config *cfg, const struct engine_io *io);
/* The counters to show, gauges (flows_active) brought up to date. */
const struct counters *engine_counters(struct engine *e);
/* Counts the daemon's I/O shell keeps (netlink ENOBUFS of the queue,
 * conntrack updates made and failed), shown among the engine's counters:
 * each call passes the totals so far. */
void engine_note_queue_enobufs(struct engine *e, uint64_t total);
void engine_note_conntrack(struct engine *e, uint64_t set, uint64_t failed);
/* The same with the flow slots in the caller's memory (see flow_table_init
 * and flowstore.h), possibly left by an earlier daemon. */
int engine_init_slots(struct engine *e, const struct engine_config *cfg,
		      const struct engine_io *io, struct flow *slots, uint64_t *slots_used);
/* Adopts the flows an earlier daemon left in the slots that can go on
 * (keyed, handshake over, not expired by now) and wipes the others, whose
 * segments then take the lost-flow path.  Returns how many were resumed;
 * *discarded (if not NULL) gets how many were wiped. */
size_t engine_resume(struct engine *e, uint64_t now, size_t *discarded);
/* Wipes and frees everything. */
void engine_free(struct engine *e);
/* Ends the flows still in a handshake and frees the engine, but leaves
 * the established flows in the slots for the next daemon. */
void engine_detach(struct engine *e);

/* Handles one segment.  outgoing: from the local kernel (LOCAL_OUT), else
 * from the network (LOCAL_IN).  conn_encrypted: the firewall says this
 * connection negotiated encryption earlier (TC_MARK_ENCRYPTED), which
 * matters when the engine has no state for it.  p->cap must leave
 * ENGINE_HEADROOM. */
enum engine_verdict engine_handle(struct engine *e, uint64_t now, bool outgoing,
				  bool conn_encrypted, uint32_t id, struct pkt *p, bool *modified);

/* A packet from the queue that pkt_parse() could not read (truncated,
 * a fragment, an extension header it does not walk).  k: its addresses,
 * and its ports when have_ports; NULL when not even the IP header could be
 * read (dropped).  Dropped when it may belong to a connection committed to
 * encryption or governed by "private", passed otherwise; counted either
 * way. */
enum engine_verdict engine_handle_unparsed(struct engine *e, bool outgoing, bool conn_encrypted,
					   const struct flow_key *k, bool have_ports);

/* Handles an incoming packet that is not TCP: ICMP(v6) errors quoting a
 * segment of a connection we translate get the quoted sequence number
 * translated and a reported MTU lowered by the MAC option's size.  buf is
 * rewritten in place (same length) when *modified. */
enum engine_verdict engine_handle_icmp(struct engine *e, uint8_t *buf, size_t len,
				       bool *modified);

/* Installs the policy for connections that start from now on (those
 * already open keep theirs).  The caller keeps p alive until replaced. */
void engine_set_policy(struct engine *e, const struct policy *p);

/* Runs due timers (Init retransmission, idle expiry).  Returns the time
 * of the next deadline. */
uint64_t engine_tick(struct engine *e, uint64_t now);

#endif
