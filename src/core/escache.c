/* SPDX-License-Identifier: BSD-2-Clause */
/* Memo of X25519 shared secrets: see escache.h. */
#include "escache.h"

#include <string.h>

#include <sodium.h>

void escache_reset(struct escache *c, uint64_t keypair_gen)
{
	sodium_memzero(c, sizeof(*c));
	c->keypair_gen = keypair_gen;
}

static struct escache_entry *slot_of(struct escache *c, const uint8_t peer_pub[KX_KEY_LEN])
{
	/* Honest public keys are uniformly random, so a few of their bytes
	 * make a good index.  A peer choosing its key to collide with
	 * another only costs each of them the multiplication. */
	uint32_t h = (uint32_t)peer_pub[0] | (uint32_t)peer_pub[1] << 8 |
		     (uint32_t)peer_pub[2] << 16 | (uint32_t)peer_pub[3] << 24;

	return &c->slot[h % ESCACHE_SLOTS];
}

enum kx_status escache_shared_secret(struct escache *c, uint64_t keypair_gen,
				     const uint8_t own_priv[KX_KEY_LEN],
				     const uint8_t peer_pub[KX_KEY_LEN], uint8_t es[KX_KEY_LEN],
				     bool *hit)
{
	struct escache_entry *s = slot_of(c, peer_pub);
	bool current = keypair_gen != 0 && keypair_gen == c->keypair_gen;
	enum kx_status st;

	/* Public keys are public: an ordinary comparison will do. */
	if (current && s->used && memcmp(s->peer_pub, peer_pub, KX_KEY_LEN) == 0) {
		memcpy(es, s->es, KX_KEY_LEN);
		if (hit)
			*hit = true;
		return KX_OK;
	}
	if (hit)
		*hit = false;
	st = kx_shared_secret(es, own_priv, peer_pub);
	if (st != KX_OK || !current)
		return st;
	memcpy(s->peer_pub, peer_pub, KX_KEY_LEN);
	memcpy(s->es, es, KX_KEY_LEN);
	s->used = true;
	return KX_OK;
}
