/* SPDX-License-Identifier: BSD-2-Clause */
/* Session resumption (doc/protocol.md section 13): secrets, option bytes
 * and the two hosts' tables. */
#include "resume.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "eno.h"
#include "hkdf.h"

/* CPRF contexts of doc/protocol.md section 13 (0x01..0x03 as in the fresh
 * key schedule of doc/protocol.md section 5.1, here keyed with ss[i]). */
enum {
	CTX_SS_NEXT = 0x01,
	CTX_SESSID = 0x02,
	CTX_MK = 0x03,
	CTX_R = 0x06,
};

#define SESSID_TAG 0xa0

/* "t2" after our TEP byte, as in eno.c's fresh form. */
#define OUR_DATA_RESUME (2 + RESUME_RH_LEN + RESUME_N_LEN)

/* ------------------------------------------------------------------------
 * Secrets */

void resume_ss_next(uint8_t next[RESUME_SS_LEN], const uint8_t ss[RESUME_SS_LEN])
{
	uint8_t tmp[RESUME_SS_LEN];

	/* Through tmp, so that next may alias ss (HKDF-Expand reads its key
	 * for every block). */
	hkdf_cprf(tmp, sizeof(tmp), ss, CTX_SS_NEXT);
	memcpy(next, tmp, sizeof(tmp));
	sodium_memzero(tmp, sizeof(tmp));
}

void resume_r(const uint8_t ss[RESUME_SS_LEN], uint8_t r_a[RESUME_RH_LEN],
	      uint8_t r_b[RESUME_RH_LEN])
{
	uint8_t r[RESUME_R_LEN];

	hkdf_cprf(r, sizeof(r), ss, CTX_R);
	if (r_a)
		memcpy(r_a, r, RESUME_RH_LEN);
	if (r_b)
		memcpy(r_b, r + RESUME_RH_LEN, RESUME_RH_LEN);
	sodium_memzero(r, sizeof(r));
}

/* CPRF(ss, ctx | T, len): the context is more than one byte here, so
 * hkdf_cprf does not fit; HKDF-Expand takes the info in one piece. */
static void cprf_t(uint8_t *out, size_t len, const uint8_t ss[RESUME_SS_LEN], uint8_t ctx,
		   const uint8_t *t, size_t t_len)
{
	uint8_t info[1 + KX_TRANSCRIPT_MAX];

	info[0] = ctx;
	if (t_len)
		memcpy(info + 1, t, t_len);
	/* 32 bytes: far below HKDF's limit. */
	if (hkdf_expand(out, len, ss, info, 1 + t_len) != 0)
		abort();
}

bool resume_keys(const uint8_t ss[RESUME_SS_LEN], const uint8_t *transcript,
		 size_t transcript_len, struct kx_secrets *out)
{
	sodium_memzero(out, sizeof(*out));
	if (transcript_len > KX_TRANSCRIPT_MAX || (transcript_len && !transcript))
		return false;
	out->session_id[0] = SESSID_TAG;
	cprf_t(out->session_id + 1, KX_SESSID_LEN - 1, ss, CTX_SESSID, transcript,
	       transcript_len);
	cprf_t(out->mk, sizeof(out->mk), ss, CTX_MK, transcript, transcript_len);
	/* A resumed connection starts no chain of its own (the next one is
	 * ss[i+1] of the same chain): ss1 stays zero. */
	return true;
}

/* ------------------------------------------------------------------------
 * Option bytes */

size_t resume_offer_build(uint8_t out[RESUME_OFFER_LEN], const uint8_t r_a[RESUME_RH_LEN],
			  const uint8_t n_a[RESUME_N_LEN])
{
	out[0] = ENO_KIND;
	out[1] = RESUME_OFFER_LEN;
	out[2] = 0x80 | ENO_TEP_EXPERIMENT;
	out[3] = 0x74;
	out[4] = 0x32;
	memcpy(out + 5, r_a, RESUME_RH_LEN);
	memcpy(out + 5 + RESUME_RH_LEN, n_a, RESUME_N_LEN);
	return RESUME_OFFER_LEN;
}

size_t resume_accept_build(uint8_t out[RESUME_ACCEPT_LEN], const uint8_t r_b[RESUME_RH_LEN],
			   const uint8_t n_b[RESUME_N_LEN])
{
	out[0] = ENO_KIND;
	out[1] = RESUME_ACCEPT_LEN;
	out[2] = 0x01;			/* global suboption, b = 1 */
	out[3] = 0x80 | ENO_TEP_EXPERIMENT;
	out[4] = 0x74;
	out[5] = 0x32;
	memcpy(out + 6, r_b, RESUME_RH_LEN);
	memcpy(out + 6 + RESUME_RH_LEN, n_b, RESUME_N_LEN);
	return RESUME_ACCEPT_LEN;
}

bool resume_opt_parse(const uint8_t *opt, size_t opt_len, uint8_t r[RESUME_RH_LEN],
		      uint8_t n[RESUME_N_LEN], bool *role_b)
{
	struct eno_syn_opt p;

	/* The ENO parser decides which TEP suboption is negotiated and where
	 * its data lies; here only the data's layout "t2" | R | n is ours. */
	if (eno_parse_syn_opt(opt, opt_len, &p) != ENO_OK || !p.ours_last_valid ||
	    !p.ours_resume || !p.ours_data || p.ours_data_len != OUR_DATA_RESUME)
		return false;
	memcpy(r, p.ours_data + 2, RESUME_RH_LEN);
	memcpy(n, p.ours_data + 2 + RESUME_RH_LEN, RESUME_N_LEN);
	if (role_b)
		*role_b = p.role_b;
	return true;
}

/* ------------------------------------------------------------------------
 * Shared by both tables */

static bool addr_eq(const struct resume_addr *a, const struct resume_addr *b)
{
	/* IPv4 addresses leave bytes 4..15 zero (resume.h). */
	return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* FNV-1a of the address: only to skip other peers' entries quickly. */
static uint32_t addr_hash(const struct resume_addr *a)
{
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < sizeof(a->addr); i++)
		h = (h ^ a->addr[i]) * 16777619u;
	return h;
}

static uint64_t expiry(uint64_t now, uint64_t lifetime)
{
	return now > UINT64_MAX - lifetime ? UINT64_MAX : now + lifetime;
}

/* The index of a free slot, else of the oldest entry (expired ones are
 * older than live ones, all having the same lifetime). */
static unsigned free_or_oldest(const struct resume_idx *idx, unsigned max)
{
	unsigned best = 0;

	for (unsigned i = 0; i < max; i++) {
		if (!idx[i].chain)
			return i;
		if (idx[i].chain < idx[best].chain)
			best = i;
	}
	return best;
}

static int table_alloc(void **entries, struct resume_idx **idx, unsigned max, size_t size)
{
	*entries = calloc(max, size);
	*idx = calloc(max, sizeof(**idx));
	if (!*entries || !*idx) {
		free(*entries);
		free(*idx);
		*entries = NULL;
		*idx = NULL;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Host A */

int resume_a_init(struct resume_a_table *t, unsigned max, uint64_t lifetime)
{
	void *e;

	memset(t, 0, sizeof(*t));
	if (max == 0 || table_alloc(&e, &t->idx, max, sizeof(*t->e)) != 0)
		return -1;
	t->e = e;
	t->max = max;
	t->lifetime = lifetime ? lifetime : RESUME_LIFETIME_DEFAULT;
	return 0;
}

static void a_drop(struct resume_a_table *t, unsigned i)
{
	sodium_memzero(&t->e[i], sizeof(t->e[i]));
	memset(&t->idx[i], 0, sizeof(t->idx[i]));
}

void resume_a_clear(struct resume_a_table *t)
{
	if (t->e)
		sodium_memzero(t->e, t->max * sizeof(*t->e));
	if (t->idx)
		memset(t->idx, 0, t->max * sizeof(*t->idx));
}

void resume_a_free(struct resume_a_table *t)
{
	resume_a_clear(t);
	free(t->e);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

/* The slot of peer's entry, or -1. */
static int a_find(const struct resume_a_table *t, const struct resume_addr *peer)
{
	uint32_t h = addr_hash(peer);

	for (unsigned i = 0; i < t->max; i++)
		if (t->idx[i].chain && t->idx[i].peer_hash == h && addr_eq(&t->e[i].peer, peer))
			return (int)i;
	return -1;
}

void resume_a_store(struct resume_a_table *t, const struct resume_addr *peer,
		    const uint8_t ss1[RESUME_SS_LEN], uint16_t suite, uint64_t now)
{
	int found = a_find(t, peer);
	unsigned i = found >= 0 ? (unsigned)found : free_or_oldest(t->idx, t->max);
	struct resume_a_entry *e = &t->e[i];

	a_drop(t, i);
	memcpy(e->ss, ss1, RESUME_SS_LEN);
	e->expires = expiry(now, t->lifetime);
	e->index = 1;
	e->suite = suite;
	e->peer = *peer;
	t->idx[i].chain = ++t->next_chain;
	t->idx[i].peer_hash = addr_hash(peer);
}

bool resume_a_take(struct resume_a_table *t, const struct resume_addr *peer, uint64_t now,
		   struct resume_offer *o)
{
	int i = a_find(t, peer);
	struct resume_a_entry *e;

	sodium_memzero(o, sizeof(*o));
	if (i < 0)
		return false;
	e = &t->e[i];
	if (now >= e->expires || e->index == UINT32_MAX) {
		a_drop(t, (unsigned)i);
		return false;
	}
	memcpy(o->ss, e->ss, RESUME_SS_LEN);
	resume_r(o->ss, o->r_a, o->r_b);
	o->chain = t->idx[i].chain;
	o->index = e->index;
	o->suite = e->suite;
	/* ss[i] now belongs to the connection only. */
	resume_ss_next(e->ss, e->ss);
	e->index++;
	return true;
}

void resume_a_decline(struct resume_a_table *t, const struct resume_addr *peer,
		      uint64_t chain)
{
	int i = a_find(t, peer);

	if (i >= 0 && t->idx[i].chain == chain)
		a_drop(t, (unsigned)i);
}

unsigned resume_a_expire(struct resume_a_table *t, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->max; i++)
		if (t->idx[i].chain && now >= t->e[i].expires) {
			a_drop(t, i);
			n++;
		}
	return n;
}

unsigned resume_a_count(const struct resume_a_table *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->max; i++)
		n += t->idx[i].chain != 0;
	return n;
}

/* ------------------------------------------------------------------------
 * Host B */

int resume_b_init(struct resume_b_table *t, unsigned max, uint64_t lifetime)
{
	void *w;

	memset(t, 0, sizeof(*t));
	if (max == 0 || table_alloc(&w, &t->idx, max, sizeof(*t->w)) != 0)
		return -1;
	t->w = w;
	t->max = max;
	t->lifetime = lifetime ? lifetime : RESUME_LIFETIME_DEFAULT;
	return 0;
}

static void b_drop(struct resume_b_table *t, unsigned i)
{
	sodium_memzero(&t->w[i], sizeof(t->w[i]));
	memset(&t->idx[i], 0, sizeof(t->idx[i]));
}

void resume_b_clear(struct resume_b_table *t)
{
	if (t->w)
		sodium_memzero(t->w, t->max * sizeof(*t->w));
	if (t->idx)
		memset(t->idx, 0, t->max * sizeof(*t->idx));
}

void resume_b_free(struct resume_b_table *t)
{
	resume_b_clear(t);
	free(t->w);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

/* Puts ss[j] (and its R_A) into its slot. */
static void b_fill(struct resume_b_window *w, uint32_t j, const uint8_t ss[RESUME_SS_LEN])
{
	struct resume_b_slot *s = &w->slot[j % RESUME_WINDOW];

	memcpy(s->ss, ss, RESUME_SS_LEN);
	resume_r(ss, s->r_a, NULL);
	s->valid = 1;
}

void resume_b_store(struct resume_b_table *t, const struct resume_addr *peer,
		    const uint8_t ss1[RESUME_SS_LEN], uint16_t suite, uint64_t now)
{
	uint32_t h = addr_hash(peer);
	unsigned peer_n = 0, peer_oldest = 0, i;
	struct resume_b_window *w;
	uint8_t ss[RESUME_SS_LEN];

	for (i = 0; i < t->max; i++) {
		if (!t->idx[i].chain || t->idx[i].peer_hash != h || !addr_eq(&t->w[i].peer, peer))
			continue;
		if (!peer_n++ || t->idx[i].chain < t->idx[peer_oldest].chain)
			peer_oldest = i;
	}
	i = peer_n >= RESUME_B_PER_PEER ? peer_oldest : free_or_oldest(t->idx, t->max);
	b_drop(t, i);
	w = &t->w[i];
	w->expires = expiry(now, t->lifetime);
	w->k = 0;
	w->suite = suite;
	w->peer = *peer;
	t->idx[i].chain = ++t->next_chain;
	t->idx[i].peer_hash = h;
	memcpy(ss, ss1, sizeof(ss));
	for (uint32_t j = 1; j <= RESUME_WINDOW; j++) {
		b_fill(w, j, ss);
		resume_ss_next(ss, ss);
	}
	sodium_memzero(ss, sizeof(ss));
}

bool resume_b_take(struct resume_b_table *t, const struct resume_addr *peer,
		   const uint8_t r_a[RESUME_RH_LEN], uint64_t now, struct resume_accept *a)
{
	uint32_t h = addr_hash(peer);

	sodium_memzero(a, sizeof(*a));
	for (unsigned i = 0; i < t->max; i++) {
		struct resume_b_window *w = &t->w[i];
		uint32_t m = 0, top;

		if (!t->idx[i].chain || t->idx[i].peer_hash != h || !addr_eq(&w->peer, peer))
			continue;
		if (now >= w->expires) {
			b_drop(t, i);
			continue;
		}
		for (uint32_t j = w->k + 1; j <= w->k + RESUME_WINDOW; j++) {
			struct resume_b_slot *s = &w->slot[j % RESUME_WINDOW];

			if (s->valid && sodium_memcmp(s->r_a, r_a, RESUME_RH_LEN) == 0) {
				m = j;
				break;
			}
		}
		if (!m)
			continue;
		if (m > UINT32_MAX - RESUME_WINDOW) {
			b_drop(t, i);
			return false;
		}
		/* ss[m] goes to the connection; R_B is of that same m. */
		memcpy(a->ss, w->slot[m % RESUME_WINDOW].ss, RESUME_SS_LEN);
		resume_r(a->ss, NULL, a->r_b);
		a->index = m;
		a->suite = w->suite;
		/* Derive ss[k+5 .. m+4] from the highest one held, ss[k+4],
		 * before anything at or below m is wiped: each lands in the
		 * slot of an index <= m, which was to go anyway. */
		for (top = w->k + RESUME_WINDOW; top < m + RESUME_WINDOW; top++) {
			uint8_t next[RESUME_SS_LEN];

			resume_ss_next(next, w->slot[top % RESUME_WINDOW].ss);
			sodium_memzero(&w->slot[(top + 1) % RESUME_WINDOW],
				       sizeof(struct resume_b_slot));
			b_fill(w, top + 1, next);
			sodium_memzero(next, sizeof(next));
		}
		/* Exactly m - k secrets were derived, into the slots of
		 * k+1 .. m: nothing at or below m is left. */
		w->k = m;
		return true;
	}
	return false;
}

unsigned resume_b_expire(struct resume_b_table *t, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->max; i++)
		if (t->idx[i].chain && now >= t->w[i].expires) {
			b_drop(t, i);
			n++;
		}
	return n;
}

unsigned resume_b_count(const struct resume_b_table *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->max; i++)
		n += t->idx[i].chain != 0;
	return n;
}
