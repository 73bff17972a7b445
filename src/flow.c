#include "flow.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

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

int flow_table_init(struct flow_table *t, size_t max, const uint8_t hash_key[16])
{
	size_t n = 1024;

	memset(t, 0, sizeof(*t));
	/* Load factor at most 1 when full. */
	while (n < max && n < ((size_t)1 << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	t->nbuckets = n;
	t->max = max;
	memcpy(t->hash_key, hash_key, sizeof(t->hash_key));
	return 0;
}

void flow_table_free(struct flow_table *t)
{
	while (t->oldest)
		flow_remove(t, t->oldest);
	free(t->buckets);
	t->buckets = NULL;
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
	struct flow *f;

	for (f = t->buckets[bucket_of(t, k)]; f; f = f->hnext)
		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	return NULL;
}

static void unlink_age(struct flow_table *t, struct flow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		t->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		t->newest = f->older;
	f->older = f->newer = NULL;
}

static void link_newest(struct flow_table *t, struct flow *f)
{
	f->older = t->newest;
	f->newer = NULL;
	if (t->newest)
		t->newest->newer = f;
	else
		t->oldest = f;
	t->newest = f;
}

struct flow *flow_insert(struct flow_table *t, const struct flow_key *k, uint64_t now,
			 void (*evict)(void *ctx, struct flow *f), void *ctx)
{
	struct flow *f;
	size_t b;

	while (t->count >= t->max && t->oldest)
		evict(ctx, t->oldest);
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
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
	seal_key_wipe(&f->tx);
	seal_key_wipe(&f->rx);
	sodium_memzero(f->session_id, sizeof(f->session_id));
	free(f);
}
