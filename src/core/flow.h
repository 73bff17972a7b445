/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-connection state and the flow table: a hash table keyed by the
 * connection 4-tuple (local side first), plus a list in order of last
 * activity so the oldest flow can be evicted when the table is full.
 *
 * Flows live in one array of fixed-size slots.  The daemon maps that array
 * from a file in memory (flowstore.h) so that a restarted daemon can adopt
 * the flows of the one before: everything a keyed flow needs is inside its
 * slot, and the pointers in it are rebuilt by flow_table_adopt(). */
#ifndef TC_FLOW_H
#define TC_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kx.h"
#include "resume.h"
#include "seal2.h"
#include "seqmap.h"

enum flow_role { ROLE_A = 0, ROLE_B = 1 };

enum flow_state {
	FLOW_SYN_SENT,		/* A: our SYN with ENO is out */
	FLOW_SYN_RCVD,		/* B: accepted A's SYN with ENO */
	FLOW_KX,		/* ENO switched on, Init messages in flight */
	FLOW_ENCRYPTED,		/* traffic keys in place */
	FLOW_CLOSED,		/* both FINs or an RST seen: lingering */
	FLOW_ABORTED,		/* we reset it; dropping stragglers */
};

const char *flow_state_str(enum flow_state s);

struct flow_key {
	uint8_t family;		/* AF_INET / AF_INET6 */
	uint8_t pad;
	uint16_t lport, rport;	/* host order */
	uint8_t laddr[16], raddr[16];
};

/* A kernel segment kept without a verdict until keys exist. */
struct held_pkt {
	uint32_t id;
	uint16_t len;
	uint8_t *data;
};

/* State needed only until the key exchange is over; freed afterwards so an
 * established flow stays small. */
struct flow_hs {
	struct flow *flow;
	struct flow_hs *prev, *next;	/* engine's list of handshaking flows */
	uint8_t priv[KX_KEY_LEN];	/* our X25519 private key */
	uint64_t kp_gen;		/* ... of the engine's key pair number kp_gen */
	uint8_t own_init[KX_OWN_INIT_MAX];	/* byte-identical retransmissions */
	uint8_t own_init_len;
	uint8_t transcript[KX_TRANSCRIPT_MAX];
	uint8_t a_opt_len, b_opt_len;	/* parts of the transcript filled */
	bool sent_eno;			/* A: some SYN of ours carried ENO */
	bool last_syn_eno;		/* A: the latest SYN of ours carried ENO */
	bool eno_confirmed;		/* B: A's first ACK carried ENO */
	uint8_t syn_count;		/* A: SYNs seen from our kernel */
	uint8_t rtx_tries;
	uint64_t syn_time;		/* when our SYN / SYN-ACK left (us) */
	uint64_t rto;			/* current Init retransmission timeout */
	uint64_t first_send;		/* our Init's first send: the give-up
					 * time counts from it */
	uint64_t rtx_deadline;		/* 0: no timer */
	struct held_pkt *held;
	unsigned nheld;
	/* Resumption (doc/protocol.md section 13).  A: the secret our SYN
	 * offers and its option bytes, repeated by every retransmission;
	 * B: the secret we accept and our SYN-ACK's option.  Wiped with the
	 * rest of this struct whatever way the handshake ends. */
	bool offering;			/* A: our SYNs carry offer_opt */
	bool accepting;			/* B: our SYN-ACKs carry accept_opt */
	struct resume_offer offer;		/* B: only offer.r_a, A's R_A */
	struct resume_accept accept;
	uint8_t offer_opt[RESUME_OFFER_LEN];
	uint8_t accept_opt[RESUME_ACCEPT_LEN];
};

struct flow {
	struct flow_key key;
	uint32_t slot_magic;			/* FLOW_SLOT_MAGIC while in use */
	struct flow *hnext;			/* hash chain */
	struct flow *older, *newer;		/* activity order */
	uint8_t role;				/* enum flow_role */
	uint8_t state;				/* enum flow_state */
	uint8_t policy;				/* enum policy_action, fixed at the SYN */
	bool keyed;				/* traffic keys installed */
	bool have_peer_init;			/* peer's Init received */
	bool peer_tagged;			/* B: a valid tag from A seen */
	bool fin_out, fin_in;
	bool resumed;				/* keyed by resumption, no Init */
	bool eno_ack_pending;			/* A, resumed: our segments carry
						 * 45 02 until B's first tagged one */
	uint16_t suite;				/* SEAL2_SUITE_*, once keyed */
	struct seqdir snd, rcv;			/* our stream, the peer's */
	/* Traffic-key chains: tx protects our stream, rx the peer's. */
	struct seal2_chain tx, rx;
	/* What the wipe rules of doc/protocol.md section 5.3 go by: the highest
	 * offset of our stream the peer acknowledged in a tagged segment
	 * (SND.UNA), and the highest offset of the peer's stream our kernel
	 * acknowledged. */
	uint64_t peer_acked, own_acked;
	uint8_t session_id[KX_SESSID_LEN];
	bool kack_valid;
	uint32_t kack;				/* last ACK number our kernel sent
						 * (kernel space): what it really
						 * received, holes included */
	uint16_t pmtu;				/* path MTU an ICMP error reported
						 * (0: none), see seal_outgoing */
	uint16_t window;			/* last window field our kernel sent,
						 * for the segments we inject */
	uint64_t created;			/* us: first seen (control socket's age) */
	uint64_t last_seen;			/* us */
	uint64_t linger_until;			/* CLOSED/ABORTED removal time */
	uint64_t bytes_out, bytes_in;		/* application bytes */
	struct flow_hs *hs;
};

#define FLOW_SLOT_MAGIC 0x74636632u		/* "tcf2": protocol version 2 */

/* The persisted layout.  struct flow, byte for byte, is the format of the
 * daemon's state file (src/daemon/flowstore.h): a restarted daemon maps the
 * slots the previous one left and uses them as they are.  So is every
 * struct held in it by value (flow_key, seqdir, seal2_chain with its
 * seal2_slot, seal2_keys and seal2_tail); the pointers are rebuilt.
 *
 * When one of them changes (a field added, removed, moved or resized, a
 * length constant such as SEAL2_CHAIN_SLOTS, or the meaning of a field):
 *   - list any new field in FLOW_LAYOUT_FINGERPRINT below (a field put into
 *     padding moves no other one, so only its own entry shows it);
 *   - raise FLOWSTORE_VERSION and set FLOWSTORE_FLOW_LAYOUT, both in
 *     flowstore.h, to the new fingerprint, which this prints:
 *       printf '#include "flow.h"\nint main(void) { return printf("%%#llx\\n",
 *         (unsigned long long)FLOW_LAYOUT_FINGERPRINT) < 0; }' |
 *         cc -Isrc/core -include stdio.h -x c - -o /tmp/fp && /tmp/fp
 * The build fails until the fingerprint there matches.  A daemon then finds
 * another version or fingerprint in the file's header and starts with an
 * empty flow table instead of reading the old slots with the new layout
 * (their connections are reset, see doc/attacks.md).
 *
 * The fingerprint: one term per field (its number here, offset and size)
 * and per struct (its size), summed; a constant expression. */
#define FLOW_LAYOUT_MIX(h, v) ((((uint64_t)(h)) ^ (uint64_t)(v)) * 0x100000001b3ull)
#define FLOW_LAYOUT_T(n, v) FLOW_LAYOUT_MIX(FLOW_LAYOUT_MIX(0xcbf29ce484222325ull, n), v)
#define FLOW_LAYOUT_F(n, type, m) \
	FLOW_LAYOUT_MIX(FLOW_LAYOUT_T(n, offsetof(type, m)), sizeof(((type *)0)->m))
#define FLOW_LAYOUT_S(n, type) FLOW_LAYOUT_T(n, sizeof(type))

#define FLOW_LAYOUT_FINGERPRINT (0 + \
	FLOW_LAYOUT_S(1, struct flow_key) + \
	FLOW_LAYOUT_F(2, struct flow_key, family) + \
	FLOW_LAYOUT_F(3, struct flow_key, pad) + \
	FLOW_LAYOUT_F(4, struct flow_key, lport) + \
	FLOW_LAYOUT_F(5, struct flow_key, rport) + \
	FLOW_LAYOUT_F(6, struct flow_key, laddr) + \
	FLOW_LAYOUT_F(7, struct flow_key, raddr) + \
	FLOW_LAYOUT_S(10, struct seqdir) + \
	FLOW_LAYOUT_F(11, struct seqdir, isn) + \
	FLOW_LAYOUT_F(12, struct seqdir, init_len) + \
	FLOW_LAYOUT_F(13, struct seqdir, high) + \
	FLOW_LAYOUT_S(20, struct seal2_keys) + \
	FLOW_LAYOUT_F(21, struct seal2_keys, enc) + \
	FLOW_LAYOUT_F(22, struct seal2_keys, hash) + \
	FLOW_LAYOUT_F(23, struct seal2_keys, prf) + \
	FLOW_LAYOUT_S(30, struct seal2_slot) + \
	FLOW_LAYOUT_F(31, struct seal2_slot, gen) + \
	FLOW_LAYOUT_F(32, struct seal2_slot, used) + \
	FLOW_LAYOUT_F(33, struct seal2_slot, k) + \
	FLOW_LAYOUT_S(40, struct seal2_tail) + \
	FLOW_LAYOUT_F(41, struct seal2_tail, hash) + \
	FLOW_LAYOUT_F(42, struct seal2_tail, prf) + \
	FLOW_LAYOUT_S(50, struct seal2_chain) + \
	FLOW_LAYOUT_F(51, struct seal2_chain, g_lo) + \
	FLOW_LAYOUT_F(52, struct seal2_chain, g_cur) + \
	FLOW_LAYOUT_F(53, struct seal2_chain, lo) + \
	FLOW_LAYOUT_F(54, struct seal2_chain, cur) + \
	FLOW_LAYOUT_F(55, struct seal2_chain, clock) + \
	FLOW_LAYOUT_F(56, struct seal2_chain, has_tail) + \
	FLOW_LAYOUT_F(57, struct seal2_chain, slot) + \
	FLOW_LAYOUT_F(58, struct seal2_chain, tail) + \
	FLOW_LAYOUT_S(100, struct flow) + \
	FLOW_LAYOUT_F(101, struct flow, key) + \
	FLOW_LAYOUT_F(102, struct flow, slot_magic) + \
	FLOW_LAYOUT_F(103, struct flow, hnext) + \
	FLOW_LAYOUT_F(104, struct flow, older) + \
	FLOW_LAYOUT_F(105, struct flow, newer) + \
	FLOW_LAYOUT_F(106, struct flow, role) + \
	FLOW_LAYOUT_F(107, struct flow, state) + \
	FLOW_LAYOUT_F(108, struct flow, policy) + \
	FLOW_LAYOUT_F(109, struct flow, keyed) + \
	FLOW_LAYOUT_F(110, struct flow, have_peer_init) + \
	FLOW_LAYOUT_F(111, struct flow, peer_tagged) + \
	FLOW_LAYOUT_F(112, struct flow, fin_out) + \
	FLOW_LAYOUT_F(113, struct flow, fin_in) + \
	FLOW_LAYOUT_F(132, struct flow, resumed) + \
	FLOW_LAYOUT_F(133, struct flow, eno_ack_pending) + \
	FLOW_LAYOUT_F(114, struct flow, suite) + \
	FLOW_LAYOUT_F(115, struct flow, snd) + \
	FLOW_LAYOUT_F(116, struct flow, rcv) + \
	FLOW_LAYOUT_F(117, struct flow, tx) + \
	FLOW_LAYOUT_F(118, struct flow, rx) + \
	FLOW_LAYOUT_F(119, struct flow, peer_acked) + \
	FLOW_LAYOUT_F(120, struct flow, own_acked) + \
	FLOW_LAYOUT_F(121, struct flow, session_id) + \
	FLOW_LAYOUT_F(122, struct flow, kack_valid) + \
	FLOW_LAYOUT_F(123, struct flow, kack) + \
	FLOW_LAYOUT_F(124, struct flow, pmtu) + \
	FLOW_LAYOUT_F(125, struct flow, window) + \
	FLOW_LAYOUT_F(126, struct flow, created) + \
	FLOW_LAYOUT_F(127, struct flow, last_seen) + \
	FLOW_LAYOUT_F(128, struct flow, linger_until) + \
	FLOW_LAYOUT_F(129, struct flow, bytes_out) + \
	FLOW_LAYOUT_F(130, struct flow, bytes_in) + \
	FLOW_LAYOUT_F(131, struct flow, hs))

/* Checked against the expected value in flowstore.h; here only that it is
 * a constant expression wherever flow.h is used. */
_Static_assert(FLOW_LAYOUT_FINGERPRINT != 0, "FLOW_LAYOUT_FINGERPRINT is a constant");

struct flow_table {
	struct flow **buckets;
	size_t nbuckets;			/* power of two */
	size_t count, max;
	struct flow *oldest, *newest;
	uint8_t hash_key[16];			/* SipHash key: no flooding */
	struct flow *slots;			/* max slots */
	uint64_t *slots_used;			/* slots[0..*slots_used) were handed
						 * out at least once */
	uint64_t own_used;
	struct flow *free_slots;		/* chained through hnext */
	bool own_slots;				/* slots allocated here */
};

/* slots: max zeroed or previously used slots owned by the caller, with
 * *slots_used saying how many were ever used; NULL: allocate them here. */
int flow_table_init(struct flow_table *t, size_t max, const uint8_t hash_key[16],
		    struct flow *slots, uint64_t *slots_used);
/* Wipes and removes every flow and frees the table. */
void flow_table_free(struct flow_table *t);
/* Frees the table but leaves the flows in the caller's slots, for the
 * next process to adopt. */
void flow_table_detach(struct flow_table *t);
/* Takes over the slots a previous table left: each slot in use for which
 * keep() says yes is linked into the table (its pointers are stale and
 * rewritten; keep() must not follow them), every other slot is wiped.
 * Returns the number of flows kept; *dropped (if not NULL) gets the number
 * of slots in use that were wiped. */
size_t flow_table_adopt(struct flow_table *t, bool (*keep)(void *ctx, const struct flow *f),
			void *ctx, size_t *dropped);

struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k);
/* Inserts a new zeroed flow; when the table is full the least recently
 * active flow is passed to evict (which must call flow_remove) first.
 * Returns NULL if memory runs out. */
struct flow *flow_insert(struct flow_table *t, const struct flow_key *k, uint64_t now,
			 void (*evict)(void *ctx, struct flow *f), void *ctx);
void flow_touch(struct flow_table *t, struct flow *f, uint64_t now);
/* Unlinks, wipes and frees the flow (the caller has freed f->hs first). */
void flow_remove(struct flow_table *t, struct flow *f);

/* A walk over every flow of the table, hash bucket by hash bucket, that can
 * pause between two flows and go on later (the control socket's "list").
 * A flow inserted or removed while the walk pauses may make it miss or
 * repeat one flow of that bucket.  Start with a zeroed struct. */
struct flow_walk {
	size_t bucket;		/* hash bucket */
	size_t index;		/* position in its chain */
};

/* The flow the walk stands at, without moving past it; NULL when the walk
 * is over (flow_walk_done) or when it has left *buckets buckets behind in
 * this call and so used up the budget (*buckets counts down). */
const struct flow *flow_walk_at(const struct flow_table *t, struct flow_walk *w,
				size_t *buckets);
/* Moves past the flow flow_walk_at returned. */
static inline void flow_walk_next(struct flow_walk *w) { w->index++; }
static inline bool flow_walk_done(const struct flow_table *t, const struct flow_walk *w)
{
	return w->bucket >= t->nbuckets;
}

#endif
