/* SPDX-License-Identifier: BSD-2-Clause */
/* The memo of X25519 shared secrets (escache.h): hits give the same ES as
 * computing it, and nothing outlives or strays from its key pair. */
#include "unit.h"

#include <sodium.h>

#include "escache.h"

struct keys {
	uint8_t priv[32], pub[32];
};

static void make_keys(struct keys *k, uint8_t seed)
{
	for (size_t i = 0; i < 32; i++)
		k->priv[i] = (uint8_t)(seed + 29 * i);
	kx_keypair_from_seed(k->pub, k->priv);
}

static void expect_es(const struct keys *own, const uint8_t peer_pub[32], const uint8_t es[32])
{
	uint8_t ref[32];

	ck_assert_int_eq(crypto_scalarmult(ref, own->priv, peer_pub), 0);
	ck_assert_mem_eq(es, ref, 32);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The first handshake with a peer computes, the next ones reuse. */
START_TEST(test_miss_then_hit)
{
	static struct escache c;
	struct keys own, peer, other;
	uint8_t es[32];
	bool hit = true;

	make_keys(&own, 1);
	make_keys(&peer, 2);
	make_keys(&other, 3);
	escache_reset(&c, 1);
	ck_assert_int_eq(escache_shared_secret(&c, 1, own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&own, peer.pub, es);
	memset(es, 0, sizeof(es));
	ck_assert_int_eq(escache_shared_secret(&c, 1, own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(hit);
	expect_es(&own, peer.pub, es);
	/* another peer is its own entry */
	ck_assert_int_eq(escache_shared_secret(&c, 1, own.priv, other.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&own, other.pub, es);
	ck_assert_int_eq(escache_shared_secret(&c, 1, own.priv, peer.pub, es, NULL), KX_OK);
	expect_es(&own, peer.pub, es);
}
END_TEST

/* Two keys in one slot: each evicts the other, and neither ever gets the
 * other's ES. */
START_TEST(test_collision)
{
	static struct escache c;
	struct keys own, peer;
	uint8_t twin[32], es[32];
	bool hit;

	make_keys(&own, 4);
	make_keys(&peer, 5);
	memcpy(twin, peer.pub, 32);
	twin[17] ^= 0x40;	/* same first bytes: same slot */
	escache_reset(&c, 7);
	ck_assert_int_eq(escache_shared_secret(&c, 7, own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert_int_eq(escache_shared_secret(&c, 7, own.priv, twin, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&own, twin, es);
	ck_assert_int_eq(escache_shared_secret(&c, 7, own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&own, peer.pub, es);
}
END_TEST

/* A new key pair wipes every entry; a handshake that began under the old
 * one computes with its own private key and leaves nothing behind. */
START_TEST(test_reset_and_old_generation)
{
	static struct escache c;
	struct keys old_own, new_own, peer;
	uint8_t es[32];
	bool hit;

	make_keys(&old_own, 6);
	make_keys(&new_own, 7);
	make_keys(&peer, 8);
	escache_reset(&c, 1);
	ck_assert_int_eq(escache_shared_secret(&c, 1, old_own.priv, peer.pub, es, &hit), KX_OK);
	escache_reset(&c, 2);
	ck_assert_uint_eq(c.keypair_gen, 2);
	ck_assert(all_zero(c.slot, sizeof(c.slot)));

	/* old generation: right answer, not remembered */
	ck_assert_int_eq(escache_shared_secret(&c, 1, old_own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&old_own, peer.pub, es);
	ck_assert(all_zero(c.slot, sizeof(c.slot)));
	/* the current one is served with the new key's ES, never the old */
	ck_assert_int_eq(escache_shared_secret(&c, 2, new_own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	expect_es(&new_own, peer.pub, es);
	ck_assert_int_eq(escache_shared_secret(&c, 2, new_own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(hit);
	expect_es(&new_own, peer.pub, es);

	/* generation 0 turns the memo off (what the engine does when it
	 * frees its key pair) */
	escache_reset(&c, 0);
	ck_assert(all_zero(&c, sizeof(c)));
	ck_assert_int_eq(escache_shared_secret(&c, 0, new_own.priv, peer.pub, es, &hit), KX_OK);
	ck_assert(!hit);
	ck_assert(all_zero(&c, sizeof(c)));
}
END_TEST

/* A small-order key: refused, ES wiped, nothing remembered. */
START_TEST(test_zero_result_not_kept)
{
	static struct escache c;
	struct keys own;
	uint8_t evil[32] = { 1 };	/* u = 1, of small order: every result is 0 */
	uint8_t es[32];
	bool hit = true;

	make_keys(&own, 9);
	escache_reset(&c, 3);
	memset(es, 0x55, sizeof(es));
	ck_assert_int_eq(escache_shared_secret(&c, 3, own.priv, evil, es, &hit), KX_ERR_ZERO_KEY);
	ck_assert(!hit);
	ck_assert(all_zero(es, sizeof(es)));
	ck_assert(all_zero(c.slot, sizeof(c.slot)));
	ck_assert_int_eq(escache_shared_secret(&c, 3, own.priv, evil, es, &hit), KX_ERR_ZERO_KEY);
	ck_assert(!hit);
}
END_TEST

static Suite *escache_suite(void)
{
	Suite *s = suite_create("escache");
	TCase *tc = tcase_create("memo");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(tc, test_miss_then_hit);
	tcase_add_test(tc, test_collision);
	tcase_add_test(tc, test_reset_and_old_generation);
	tcase_add_test(tc, test_zero_result_not_kept);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(escache_suite)
