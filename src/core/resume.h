/* SPDX-License-Identifier: BSD-2-Clause */
/* Session resumption (doc/protocol.md section 13): the chain of resumption
 * secrets ss[i] and the values derived from them, the ENO option bytes of
 * an offer and of an acceptance, and the two hosts' bookkeeping -- A's
 * entry per B address and B's windows per fresh connection.
 *
 * Pure code: the caller passes the time (microseconds, any monotonic
 * origin) and the random n_A / n_B.  Every secret leaves these tables
 * only by being moved out (the table no longer holds it), and every entry
 * or window that is dropped, for whatever reason, is wiped. */
#ifndef TC_RESUME_H
#define TC_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kx.h"

#define RESUME_SS_LEN      32	/* ss[i] */
#define RESUME_R_LEN       18	/* R[i] = R_A | R_B */
#define RESUME_RH_LEN      9	/* R_A, R_B */
#define RESUME_N_LEN       4	/* n_A, n_B */
#define RESUME_OFFER_LEN   18	/* 45 12 a0 74 32 | R_A | n_A */
#define RESUME_ACCEPT_LEN  19	/* 45 13 01 a0 74 32 | R_B | n_B */

/* B keeps ss[k+1 .. k+RESUME_WINDOW] per fresh connection, and at most
 * RESUME_B_PER_PEER such windows per A address. */
#define RESUME_WINDOW      4
#define RESUME_B_PER_PEER  8

#define RESUME_US_PER_SEC        1000000ull
#define RESUME_LIFETIME_DEFAULT  (600 * RESUME_US_PER_SEC)

/* ------------------------------------------------------------------------
 * Secrets */

/* ss[i+1] = CPRF(ss[i], 0x01, 32).  next and ss may be the same buffer. */
void resume_ss_next(uint8_t next[RESUME_SS_LEN], const uint8_t ss[RESUME_SS_LEN]);

/* R[i] = CPRF(ss[i], 0x06, 18) split into R_A (bytes 0..8) and R_B
 * (9..17); either output may be NULL. */
void resume_r(const uint8_t ss[RESUME_SS_LEN], uint8_t r_a[RESUME_RH_LEN],
	      uint8_t r_b[RESUME_RH_LEN]);

/* The resumed connection's session ID (0xa0 | CPRF(ss[i], 0x02 | T, 32))
 * and master key (CPRF(ss[i], 0x03 | T, 32)), T being the transcript
 * A's option | B's option.  Returns false (and writes zeros) when T is
 * longer than KX_TRANSCRIPT_MAX. */
bool resume_keys(const uint8_t ss[RESUME_SS_LEN], const uint8_t *transcript,
		 size_t transcript_len, struct kx_secrets *out);

/* ------------------------------------------------------------------------
 * Option bytes */

/* A's offer (RESUME_OFFER_LEN bytes) and B's acceptance
 * (RESUME_ACCEPT_LEN bytes); each returns the length written. */
size_t resume_offer_build(uint8_t out[RESUME_OFFER_LEN], const uint8_t r_a[RESUME_RH_LEN],
			  const uint8_t n_a[RESUME_N_LEN]);
size_t resume_accept_build(uint8_t out[RESUME_ACCEPT_LEN], const uint8_t r_b[RESUME_RH_LEN],
			   const uint8_t n_b[RESUME_N_LEN]);

/* R and n of an ENO option (opt at its kind byte, opt_len its length)
 * whose negotiated TEP is ours in the resumption form; false for any
 * other option, well-formed or not.  *role_b (if not NULL) gets the
 * option's b bit, which the caller checks against the segment. */
bool resume_opt_parse(const uint8_t *opt, size_t opt_len, uint8_t r[RESUME_RH_LEN],
		      uint8_t n[RESUME_N_LEN], bool *role_b);

/* ------------------------------------------------------------------------
 * Addresses */

struct resume_addr {
	uint8_t family;		/* AF_INET / AF_INET6 */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes, the rest zero */
};

/* Where the tables look first: per entry, its creation order (0: free)
 * and a hash of its peer's address, packed together so that finding a
 * peer's entries or the oldest one reads this small array only, not every
 * entry's secrets. */
struct resume_idx {
	uint64_t chain;			/* creation order: lower is older */
	uint32_t peer_hash;
	uint32_t unused;
};

/* ------------------------------------------------------------------------
 * Host A: one entry per B address */

struct resume_a_entry {
	uint8_t ss[RESUME_SS_LEN];	/* the next unused ss[index] */
	uint64_t expires;		/* time it is dropped at */
	uint32_t index;			/* i >= 1 */
	uint16_t suite;
	struct resume_addr peer;
};

struct resume_a_table {
	struct resume_a_entry *e;	/* max entries */
	struct resume_idx *idx;		/* max: which fresh exchange (0: free) */
	unsigned max;
	uint64_t lifetime;		/* microseconds */
	uint64_t next_chain;		/* creation order: lower is older */
};

/* What resume_a_take hands to the connection that offers: ss[i] to derive
 * its keys from (then wipe), R_A for its SYN, and which chain it came
 * from (for resume_a_decline). */
struct resume_offer {
	uint8_t ss[RESUME_SS_LEN];
	uint8_t r_a[RESUME_RH_LEN];
	uint8_t r_b[RESUME_RH_LEN];	/* the answer to expect */
	uint64_t chain;
	uint32_t index;
	uint16_t suite;
};

/* max >= 1 entries (calloc'd: -1 when that fails), lifetime in
 * microseconds (0: RESUME_LIFETIME_DEFAULT). */
int resume_a_init(struct resume_a_table *t, unsigned max, uint64_t lifetime);
/* Wipes every entry and frees the table. */
void resume_a_free(struct resume_a_table *t);
/* Wipes every entry. */
void resume_a_clear(struct resume_a_table *t);

/* A finished a fresh key exchange with peer (it was A): ss1 becomes the
 * entry for peer, replacing an older one, else taking a free slot, else
 * evicting the oldest entry.  Expires at now + lifetime. */
void resume_a_store(struct resume_a_table *t, const struct resume_addr *peer,
		    const uint8_t ss1[RESUME_SS_LEN], uint16_t suite, uint64_t now);

/* Moves the entry's ss[i] out into *o for an offer; the entry keeps
 * ss[i+1].  False (o zeroed) when there is no live entry for peer. */
bool resume_a_take(struct resume_a_table *t, const struct resume_addr *peer, uint64_t now,
		   struct resume_offer *o);

/* B declined an offer from chain: the entry for peer is dropped, unless
 * a newer fresh exchange has replaced it meanwhile. */
void resume_a_decline(struct resume_a_table *t, const struct resume_addr *peer,
		      uint64_t chain);

/* Drops the entries expired at now; returns how many. */
unsigned resume_a_expire(struct resume_a_table *t, uint64_t now);

/* Live entries (for tests and statistics). */
unsigned resume_a_count(const struct resume_a_table *t);

/* ------------------------------------------------------------------------
 * Host B: windows of up to RESUME_WINDOW secrets per fresh connection */

struct resume_b_slot {
	uint8_t ss[RESUME_SS_LEN];
	uint8_t r_a[RESUME_RH_LEN];
	uint8_t valid;
};

struct resume_b_window {
	/* ss[j] lives in slot[j % RESUME_WINDOW], for k < j <= k + WINDOW */
	struct resume_b_slot slot[RESUME_WINDOW];
	uint64_t expires;
	uint32_t k;			/* last accepted index, 0 at first */
	uint16_t suite;
	struct resume_addr peer;
};

struct resume_b_table {
	struct resume_b_window *w;	/* max windows */
	struct resume_idx *idx;		/* max: creation order (0: free) */
	unsigned max;
	uint64_t lifetime;
	uint64_t next_chain;
};

/* What B's connection takes on accepting: ss[m] (derive, then wipe) and
 * R_B for its SYN-ACK. */
struct resume_accept {
	uint8_t ss[RESUME_SS_LEN];
	uint8_t r_b[RESUME_RH_LEN];
	uint32_t index;
	uint16_t suite;
};

int resume_b_init(struct resume_b_table *t, unsigned max, uint64_t lifetime);
void resume_b_free(struct resume_b_table *t);
void resume_b_clear(struct resume_b_table *t);

/* B finished a fresh key exchange with peer (it was B): a new window
 * ss[1..4].  When peer already has RESUME_B_PER_PEER windows its oldest
 * goes; else a free slot is used, else the oldest window of all goes. */
void resume_b_store(struct resume_b_table *t, const struct resume_addr *peer,
		    const uint8_t ss1[RESUME_SS_LEN], uint16_t suite, uint64_t now);

/* Looks for ss[m] with this R_A among peer's live windows; when found,
 * moves it out into *a, deletes ss[..m] of that window and derives up to
 * ss[m+4].  False (a zeroed) when there is none. */
bool resume_b_take(struct resume_b_table *t, const struct resume_addr *peer,
		   const uint8_t r_a[RESUME_RH_LEN], uint64_t now, struct resume_accept *a);

unsigned resume_b_expire(struct resume_b_table *t, uint64_t now);
unsigned resume_b_count(const struct resume_b_table *t);

#endif
