/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

const char *flow_state_str(enum flow_state s)
{
	switch (s) {
	case FLOW_SYN_SENT: return "syn-sent";
	case FLOW_SYN_RCVD: return "syn-received";
	case FLOW_KX: return "negotiating";
	case FLOW_ENCRYPTED: return "encrypted";
	case FLOW_CLOSED: return "closed";
	case FLOW_ABORTED: return "aborted";
	}
	return "unknown";
}

/* The flows the last lookups found, so that the segments of a busy
 * connection skip the SipHash.  Direct-mapped by the ports (a miss costs
 * the lookup it always cost); an entry counts only while it names this
 * table and its slot is in use with the same key, and removal, a table's
 * end and a table's start clear what could point into freed memory.
 * The daemon has one table and one thread; tests have several tables. */
#define LOOKUP_CACHE 4
static struct {
	const struct flow_table *t;
	struct flow *f;
} lookup_cache[LOOKUP_CACHE];

static size_t cache_index(const struct flow_key *k)
{
	return (size_t)(k->lport ^ k->rport) % LOOKUP_CACHE;
}

static void cache_forget_table(const struct flow_table *t)
{
	for (size_t i = 0; i < LOOKUP_CACHE; i++)
		if (lookup_cache[i].t == t)
			lookup_cache[i].t = NULL, lookup_cache[i].f = NULL;
}

int flow_table_init(struct flow_table *t, size_t max, const uint8_t hash_key[16],
		    struct flow *slots, uint64_t *slots_used)
{
	size_t n = 1024;

	cache_forget_table(t);

	memset(t, 0, sizeof(*t));
	/* Load factor at most 1 when full. */
	while (n < max && n < ((size_t)1 << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	if (!slots) {
		/* calloc of a large array maps fresh zero pages: only the
		 * slots ever used cost memory. */
		slots = calloc(max, sizeof(*slots));
		if (!slots) {
			free(t->buckets);
			t->buckets = NULL;
			return -1;
		}
		t->own_slots = true;
		slots_used = &t->own_used;
		*slots_used = 0;
	}
	t->slots = slots;
	t->slots_used = slots_used;
	t->nbuckets = n;
	t->max = max;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	return 0;
}

void flow_table_detach(struct flow_table *t)
{
	cache_forget_table(t);
	free(t->buckets);
	t->buckets = NULL;
	if (t->own_slots) {
		sodium_memzero(t->slots, (size_t)*t->slots_used * sizeof(*t->slots));
		free(t->slots);
	}
	t->slots = NULL;
	t->count = 0;
	t->oldest = t->newest = t->free_slots = NULL;
}

void flow_table_free(struct flow_table *t)
{
	while (t->oldest)
		flow_remove(t, t->oldest);
	flow_table_detach(t);
}

static size_t bucket_of(const struct flow_table *t, const struct flow_key *k)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const uint8_t *)k, sizeof(*k), t->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & (t->nbuckets - 1);
}

struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k)
{
	size_t c = cache_index(k);
	struct flow *f = lookup_cache[c].f;

	if (f && lookup_cache[c].t == t && f->slot_magic == FLOW_SLOT_MAGIC &&
	    memcmp(&f->key, k, sizeof(*k)) == 0)
		return f;
	for (f = t->buckets[bucket_of(t, k)]; f; f = f->hnext)
		if (memcmp(&f->key, k, sizeof(*k)) == 0) {
			lookup_cache[c].t = t;
			lookup_cache[c].f = f;
			return f;
		}
	return NULL;
}

/* The activity list runs from the oldest flow (older == NULL) to the newest. */
static void unlink_age(struct flow_table *t, struct flow *f)
{
	LIST_UNLINK(f, older, newer, t->oldest, t->newest);
}

static void link_newest(struct flow_table *t, struct flow *f)
{
	LIST_INSERT_LAST(f, older, newer, t->oldest, t->newest);
}

struct flow *flow_insert(struct flow_table *t, const struct flow_key *k, uint64_t now,
			 void (*evict)(void *ctx, struct flow *f), void *ctx)
{
	struct flow *f;
	size_t b;

	while (t->count >= t->max && t->oldest)
		evict(ctx, t->oldest);
	if (t->free_slots) {
		f = t->free_slots;
		t->free_slots = f->hnext;
	} else if (*t->slots_used < t->max) {
		f = &t->slots[(*t->slots_used)++];
	} else {
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->slot_magic = FLOW_SLOT_MAGIC;
	f->key = *k;
	f->created = f->last_seen = now;
	b = bucket_of(t, k);
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	link_newest(t, f);
	t->count++;
	return f;
}

void flow_touch(struct flow_table *t, struct flow *f, uint64_t now)
{
	f->last_seen = now;
	if (t->newest != f) {
		unlink_age(t, f);
		link_newest(t, f);
	}
}

void flow_remove(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->buckets[bucket_of(t, &f->key)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	unlink_age(t, f);
	t->count--;
	for (size_t i = 0; i < LOOKUP_CACHE; i++)
		if (lookup_cache[i].f == f)
			lookup_cache[i].t = NULL, lookup_cache[i].f = NULL;
	/* Keys, session ID and all: nothing of it stays in the slot (which
	 * may be a file that outlives us). */
	sodium_memzero(f, sizeof(*f));
	f->hnext = t->free_slots;
	t->free_slots = f;
}

const struct flow *flow_walk_at(const struct flow_table *t, struct flow_walk *w,
				size_t *buckets)
{
	while (!flow_walk_done(t, w) && *buckets > 0) {
		const struct flow *f = t->buckets[w->bucket];

		for (size_t i = 0; f && i < w->index; i++)
			f = f->hnext;
		if (f)
			return f;
		w->bucket++;
		w->index = 0;
		(*buckets)--;
	}
	return NULL;
}

static int by_last_seen(const void *a, const void *b)
{
	const struct flow *fa = *(struct flow *const *)a, *fb = *(struct flow *const *)b;

	return fa->last_seen < fb->last_seen ? -1 : fa->last_seen > fb->last_seen;
}

size_t flow_table_adopt(struct flow_table *t, bool (*keep)(void *ctx, const struct flow *f),
			void *ctx, size_t *dropped)
{
	struct flow **kept;
	uint64_t used = *t->slots_used, i;
	size_t n = 0, wiped = 0, j;

	if (used > t->max)
		used = *t->slots_used = t->max;
	kept = calloc(used ? used : 1, sizeof(*kept));
	for (i = used; i-- > 0;) {
		struct flow *f = &t->slots[i];

		/* A key seen twice can only come from a damaged file. */
		if (kept && f->slot_magic == FLOW_SLOT_MAGIC && keep(ctx, f) &&
		    !flow_lookup(t, &f->key)) {
			size_t b = bucket_of(t, &f->key);

			f->hs = NULL;
			f->hnext = t->buckets[b];
			t->buckets[b] = f;
			kept[n++] = f;
		} else {
			wiped += f->slot_magic == FLOW_SLOT_MAGIC;
			sodium_memzero(f, sizeof(*f));
			f->hnext = t->free_slots;
			t->free_slots = f;
		}
	}
	if (dropped)
		*dropped = wiped;
	/* The eviction order is the order of last activity. */
	qsort(kept, n, sizeof(*kept), by_last_seen);
	for (j = 0; j < n; j++)
		link_newest(t, kept[j]);
	t->count = n;
	free(kept);
	return n;
}
