/* SPDX-License-Identifier: BSD-2-Clause */
/* The key exchange of protocol version 2 (doc/protocol.md sections 4 and
 * 5): Init1 with its suite list and Init2 with the chosen suite, their
 * parsers' length rules, the choice of a suite, and the key schedule up to
 * mk, against the known-answer vectors of tests/vectors/protocol-v2.json
 * (converted to v2-kx.txt by v2_to_txt.py) and between the two sides. */
#include "unit.h"
#include "vfile.h"

#include <sodium.h>

#include "bytes.h"
#include "hkdf.h"
#include "kx.h"
#include "seal2.h"

#define AES SEAL2_SUITE_AES128CTR	/* 0x7403 */
#define CHA SEAL2_SUITE_CHACHA20	/* 0x7402 */

/* The ENO options of a fresh exchange, A's then B's. */
static const uint8_t transcript[] = {
	0x45, 0x05, 0xa0, 0x74, 0x32,
	0x45, 0x06, 0x01, 0xa0, 0x74, 0x32,
};

/* What we offer by default on a CPU with AES instructions. */
static const uint16_t both[] = { AES, CHA };

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 13 * i);
}

/* Builds an Init1 as some other implementation might: any suite list, any
 * trailer, with len covering everything.  Returns the length. */
static size_t build_init1(uint8_t *out, const uint16_t *suites, uint8_t n,
			  const uint8_t nonce[32], const uint8_t pub[32], size_t trailer)
{
	size_t len = 9;

	put_be32(out, KX_INIT1_MAGIC);
	out[8] = n;
	for (unsigned i = 0; i < n; i++) {
		out[len++] = (uint8_t)(suites[i] >> 8);
		out[len++] = (uint8_t)suites[i];
	}
	memcpy(out + len, nonce, 32);
	memcpy(out + len + 32, pub, 32);
	len += 64;
	memset(out + len, 0xcc, trailer);
	len += trailer;
	put_be32(out + 4, (uint32_t)len);
	return len;
}

struct msgs {
	uint8_t nonce_a[32], pub_a[32], nonce_b[32], pub_b[32];
	uint8_t init1[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN];
};

/* Init1 offering both suites (77 bytes), Init2 choosing ChaCha20. */
static void make_msgs(struct msgs *m)
{
	fill(m->nonce_a, 32, 0x10);
	fill(m->pub_a, 32, 0x20);
	fill(m->nonce_b, 32, 0x30);
	fill(m->pub_b, 32, 0x40);
	ck_assert_uint_eq(kx_init1_encode(m->init1, both, 2, m->nonce_a, m->pub_a), 77);
	ck_assert_uint_eq(kx_init2_encode(m->init2, CHA, m->nonce_b, m->pub_b), KX_INIT2_LEN);
}

/* ------------------------------------------------------------------------ */
/* Encoding */

START_TEST(test_sizes)
{
	ck_assert_uint_eq(KX_INIT1_FIXED, 73);
	ck_assert_uint_eq(KX_MAX_SUITES, 2);
	ck_assert_uint_eq(KX_INIT1_MAX_OWN, 77);
	ck_assert_uint_eq(KX_INIT2_LEN, 74);
	ck_assert_uint_ge(KX_OWN_INIT_MAX, KX_INIT1_MAX_OWN);
	ck_assert_uint_ge(KX_OWN_INIT_MAX, KX_INIT2_LEN);
}
END_TEST

START_TEST(test_init1_layout)
{
	static const uint8_t head[] = {
		0x15, 0x10, 0x1a, 0x0e,	/* magic */
		0x00, 0x00, 0x00, 77,	/* len */
		0x02,			/* nciphers */
		0x74, 0x03, 0x74, 0x02,	/* suites, A's order */
	};
	struct msgs m;

	make_msgs(&m);
	ck_assert_mem_eq(m.init1, head, sizeof(head));
	ck_assert_mem_eq(m.init1 + 13, m.nonce_a, 32);
	ck_assert_mem_eq(m.init1 + 45, m.pub_a, 32);
}
END_TEST

START_TEST(test_init1_one_suite)
{
	static const uint8_t head[] = {
		0x15, 0x10, 0x1a, 0x0e, 0x00, 0x00, 0x00, 75, 0x01, 0x74, 0x02,
	};
	static const uint16_t cha = CHA;
	uint8_t out[KX_INIT1_MAX_OWN], nonce[32], pub[32];

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	memset(out, 0xee, sizeof(out));
	ck_assert_uint_eq(kx_init1_encode(out, &cha, 1, nonce, pub), 75);
	ck_assert_mem_eq(out, head, sizeof(head));
	ck_assert_mem_eq(out + 11, nonce, 32);
	ck_assert_mem_eq(out + 43, pub, 32);
	/* nothing written past the message */
	ck_assert_uint_eq(out[75], 0xee);
	ck_assert_uint_eq(out[76], 0xee);
}
END_TEST

/* No suite, or more than we could ever offer: nothing is encoded. */
START_TEST(test_init1_bad_count)
{
	static const uint16_t three[] = { AES, CHA, AES };
	uint8_t out[KX_INIT1_MAX_OWN], nonce[32], pub[32];

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	ck_assert_uint_eq(kx_init1_encode(out, three, 0, nonce, pub), 0);
	ck_assert_uint_eq(kx_init1_encode(out, three, 3, nonce, pub), 0);
	ck_assert_uint_eq(kx_init1_encode(out, three, 255, nonce, pub), 0);
}
END_TEST

START_TEST(test_init2_layout)
{
	static const uint8_t head[] = {
		0x09, 0x71, 0x05, 0xe0,	/* magic */
		0x00, 0x00, 0x00, 74,	/* len */
		0x74, 0x02,		/* the suite B chose */
	};
	struct msgs m;

	make_msgs(&m);
	ck_assert_mem_eq(m.init2, head, sizeof(head));
	ck_assert_mem_eq(m.init2 + 10, m.nonce_b, 32);
	ck_assert_mem_eq(m.init2 + 42, m.pub_b, 32);
	kx_init2_encode(m.init2, AES, m.nonce_b, m.pub_b);
	ck_assert_uint_eq(m.init2[8], 0x74);
	ck_assert_uint_eq(m.init2[9], 0x03);
}
END_TEST

START_TEST(test_round_trip)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;

	make_msgs(&m);
	ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_OK);
	ck_assert_uint_eq(i1.len, 77);
	ck_assert_uint_eq(i1.nciphers, 2);
	ck_assert_ptr_eq(i1.suites, m.init1 + 9);
	ck_assert_ptr_eq(i1.nonce, m.init1 + 13);
	ck_assert_mem_eq(i1.nonce, m.nonce_a, 32);
	ck_assert_mem_eq(i1.pub, m.pub_a, 32);

	ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_OK);
	ck_assert_uint_eq(i2.len, KX_INIT2_LEN);
	ck_assert_uint_eq(i2.suite, CHA);
	ck_assert_ptr_eq(i2.nonce, m.init2 + 10);
	ck_assert_mem_eq(i2.nonce, m.nonce_b, 32);
	ck_assert_mem_eq(i2.pub, m.pub_b, 32);
}
END_TEST

/* Suites we do not know do not make an Init1 invalid: which one is
 * acceptable is kx_choose_suite's question, not the parser's. */
START_TEST(test_init1_foreign_suites)
{
	static const uint16_t suites[] = { 0x2101, 0x7401, CHA, 0x0001, 0xffff };
	uint8_t buf[256], nonce[32], pub[32];
	struct kx_init1 i1;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	for (unsigned first = 0; first < 5; first++) {
		uint8_t n = (uint8_t)(5 - first);
		size_t len = build_init1(buf, suites + first, n, nonce, pub, 0);

		ck_assert_uint_eq(len, 73 + 2u * n);
		ck_assert_int_eq(kx_init1_parse(buf, len, &i1), KX_OK);
		ck_assert_uint_eq(i1.nciphers, n);
		ck_assert_uint_eq(i1.len, len);
		ck_assert_ptr_eq(i1.suites, buf + 9);
		ck_assert_mem_eq(i1.nonce, nonce, 32);
		ck_assert_mem_eq(i1.pub, pub, 32);
	}
}
END_TEST

/* The same for Init2: any suite parses, the caller checks it against what
 * it offered. */
START_TEST(test_init2_any_suite)
{
	static const uint16_t any[] = { 0x0000, 0x7400, 0x7401, 0x0174, 0x2101, 0xffff };
	struct msgs m;
	struct kx_init2 i2;

	make_msgs(&m);
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		m.init2[8] = (uint8_t)(any[i] >> 8);
		m.init2[9] = (uint8_t)any[i];
		ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_OK);
		ck_assert_uint_eq(i2.suite, any[i]);
		ck_assert(!kx_suite_listed(both, 2, i2.suite));
	}
}
END_TEST

START_TEST(test_trailing_bytes)
{
	uint8_t buf[256], nonce[32], pub[32];
	struct kx_init1 i1;
	struct kx_init2 i2;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	n = build_init1(buf, both, 2, nonce, pub, 20);
	ck_assert_uint_eq(n, 77 + 20);
	/* more bytes after len in the buffer (the segment's next data) too */
	ck_assert_int_eq(kx_init1_parse(buf, sizeof(buf), &i1), KX_OK);
	ck_assert_uint_eq(i1.len, n);
	ck_assert_uint_eq(i1.nciphers, 2);
	ck_assert_mem_eq(i1.nonce, nonce, 32);
	ck_assert_mem_eq(i1.pub, pub, 32);
	/* ... but a cut inside the trailer is still a truncation */
	ck_assert_int_eq(kx_init1_parse(buf, n - 1, &i1), KX_ERR_TRUNCATED);

	memset(buf, 0xdd, sizeof(buf));
	kx_init2_encode(buf, AES, nonce, pub);
	put_be32(buf + 4, KX_INIT2_LEN + 9);
	ck_assert_int_eq(kx_init2_parse(buf, KX_INIT2_LEN + 9, &i2), KX_OK);
	ck_assert_uint_eq(i2.len, KX_INIT2_LEN + 9);
	ck_assert_uint_eq(i2.suite, AES);
	ck_assert_mem_eq(i2.nonce, nonce, 32);
	ck_assert_mem_eq(i2.pub, pub, 32);
	ck_assert_int_eq(kx_init2_parse(buf, KX_INIT2_LEN + 8, &i2), KX_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_status_str)
{
	for (int s = KX_OK; s <= KX_ERR_ZERO_KEY; s++) {
		const char *str = kx_status_str((enum kx_status)s);

		ck_assert_ptr_nonnull(str);
		ck_assert_uint_gt(strlen(str), 0);
		for (int t = KX_OK; t < s; t++)
			ck_assert_str_ne(str, kx_status_str((enum kx_status)t));
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rejections */

START_TEST(test_init1_truncated)
{
	static const uint16_t cha = CHA;
	struct msgs m;
	struct kx_init1 i1;

	make_msgs(&m);
	for (size_t n = 0; n < 77; n++)
		ck_assert_msg(kx_init1_parse(m.init1, n, &i1) == KX_ERR_TRUNCATED,
			      "Init1 cut to %zu bytes not reported truncated", n);
	kx_init1_encode(m.init1, &cha, 1, m.nonce_a, m.pub_a);
	for (size_t n = 0; n < 75; n++)
		ck_assert_msg(kx_init1_parse(m.init1, n, &i1) == KX_ERR_TRUNCATED,
			      "one-suite Init1 cut to %zu bytes not reported truncated", n);
	ck_assert_int_eq(kx_init1_parse(m.init1, 75, &i1), KX_OK);
}
END_TEST

START_TEST(test_init2_truncated)
{
	struct msgs m;
	struct kx_init2 i2;

	make_msgs(&m);
	for (size_t n = 0; n < KX_INIT2_LEN; n++)
		ck_assert_msg(kx_init2_parse(m.init2, n, &i2) == KX_ERR_TRUNCATED,
			      "Init2 cut to %zu bytes not reported truncated", n);
}
END_TEST

START_TEST(test_wrong_magic)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;

	make_msgs(&m);
	/* each message to the other parser */
	ck_assert_int_eq(kx_init1_parse(m.init2, sizeof(m.init2), &i1), KX_ERR_MAGIC);
	ck_assert_int_eq(kx_init2_parse(m.init1, sizeof(m.init1), &i2), KX_ERR_MAGIC);
	/* a single flipped bit in each magic byte */
	for (size_t b = 0; b < 4; b++) {
		m.init1[b] ^= 0x40;
		m.init2[b] ^= 0x01;
		ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_ERR_MAGIC);
		ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_MAGIC);
		/* 4 bytes are enough to tell */
		ck_assert_int_eq(kx_init1_parse(m.init1, 4, &i1), KX_ERR_MAGIC);
		ck_assert_int_eq(kx_init2_parse(m.init2, 4, &i2), KX_ERR_MAGIC);
		m.init1[b] ^= 0x40;
		m.init2[b] ^= 0x01;
	}
}
END_TEST

/* len must cover the fixed part: for Init1 that depends on nciphers. */
START_TEST(test_len_below_fixed)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;
	static const uint32_t lens[] = { 0, 1, 8, 9, 13, 73, 75, 76 };

	make_msgs(&m);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		put_be32(m.init1 + 4, lens[i]);		/* 77 needed */
		ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_ERR_LENGTH);
	}
	for (uint32_t len = 0; len < KX_INIT2_LEN; len++) {
		put_be32(m.init2 + 4, len);
		ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_LENGTH);
	}
}
END_TEST

/* nciphers claiming more suites than the message holds: the suite list
 * would run into (or past) N_A and Pub_A. */
START_TEST(test_nciphers_too_large)
{
	static uint8_t buf[1024];
	uint8_t nonce[32], pub[32];
	struct kx_init1 i1;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	n = build_init1(buf, both, 2, nonce, pub, 0);
	ck_assert_uint_eq(n, 77);
	/* the buffer ends where len says: too short for the claimed list */
	buf[8] = 3;
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_TRUNCATED);
	buf[8] = 255;
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_TRUNCATED);
	/* more bytes in the buffer, but len (77) does not cover the list */
	buf[8] = 3;
	ck_assert_int_eq(kx_init1_parse(buf, sizeof(buf), &i1), KX_ERR_LENGTH);
	buf[8] = 255;
	ck_assert_int_eq(kx_init1_parse(buf, sizeof(buf), &i1), KX_ERR_LENGTH);
	/* len covering it: fine, the rest of the list is A's business */
	put_be32(buf + 4, 9 + 2 * 255 + 64);
	ck_assert_int_eq(kx_init1_parse(buf, sizeof(buf), &i1), KX_OK);
	ck_assert_uint_eq(i1.nciphers, 255);
	ck_assert_ptr_eq(i1.nonce, buf + 9 + 2 * 255);
}
END_TEST

START_TEST(test_len_beyond_buffer)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;

	make_msgs(&m);
	put_be32(m.init1 + 4, 77 + 1);
	put_be32(m.init2 + 4, KX_INIT2_LEN + 1);
	ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_ERR_TRUNCATED);
	ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_len_above_max)
{
	/* Buffers large enough that only the limit can be the reason. */
	static uint8_t b1[KX_INIT_MAX_LEN + 8], b2[KX_INIT_MAX_LEN + 8];
	uint8_t nonce[32], pub[32];
	struct kx_init1 i1;
	struct kx_init2 i2;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	/* exactly at the limit: accepted */
	n = build_init1(b1, both, 2, nonce, pub, KX_INIT_MAX_LEN - 77);
	ck_assert_uint_eq(n, KX_INIT_MAX_LEN);
	ck_assert_int_eq(kx_init1_parse(b1, sizeof(b1), &i1), KX_OK);
	kx_init2_encode(b2, AES, nonce, pub);
	put_be32(b2 + 4, KX_INIT_MAX_LEN);
	ck_assert_int_eq(kx_init2_parse(b2, sizeof(b2), &i2), KX_OK);
	/* one above */
	put_be32(b1 + 4, KX_INIT_MAX_LEN + 1);
	put_be32(b2 + 4, KX_INIT_MAX_LEN + 1);
	ck_assert_int_eq(kx_init1_parse(b1, sizeof(b1), &i1), KX_ERR_LENGTH);
	ck_assert_int_eq(kx_init2_parse(b2, sizeof(b2), &i2), KX_ERR_LENGTH);
	/* huge, with a small buffer: still a length error, not a read */
	put_be32(b1 + 4, 0xffffffffu);
	put_be32(b2 + 4, 0xffffffffu);
	ck_assert_int_eq(kx_init1_parse(b1, 77, &i1), KX_ERR_LENGTH);
	ck_assert_int_eq(kx_init2_parse(b2, KX_INIT2_LEN, &i2), KX_ERR_LENGTH);
}
END_TEST

/* An Init1 offering nothing is refused by the parser itself. */
START_TEST(test_nciphers_zero)
{
	uint8_t buf[128], nonce[32], pub[32];
	struct kx_init1 i1;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	n = build_init1(buf, NULL, 0, nonce, pub, 0);
	ck_assert_uint_eq(n, 73);
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_NO_SUITE);
	n = build_init1(buf, NULL, 0, nonce, pub, 4);
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_NO_SUITE);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Choosing the suite */

/* B's choice from A's Init1 (built with A's list, parsed) given B's
 * list. */
static uint16_t choose(const uint16_t *a, uint8_t na, const uint16_t *b, unsigned nb)
{
	uint8_t buf[1024], nonce[32], pub[32];
	struct kx_init1 i1;
	size_t len;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	len = build_init1(buf, a, na, nonce, pub, 0);
	ck_assert_int_eq(kx_init1_parse(buf, len, &i1), KX_OK);
	return kx_choose_suite(&i1, b, nb);
}

/* A's order of preference wins, not B's. */
START_TEST(test_choose_a_order)
{
	static const uint16_t aes_first[] = { AES, CHA }, cha_first[] = { CHA, AES };

	ck_assert_uint_eq(choose(aes_first, 2, cha_first, 2), AES);
	ck_assert_uint_eq(choose(aes_first, 2, aes_first, 2), AES);
	ck_assert_uint_eq(choose(cha_first, 2, aes_first, 2), CHA);
	ck_assert_uint_eq(choose(cha_first, 2, cha_first, 2), CHA);
}
END_TEST

/* A suite B does not list is skipped, whatever A's order. */
START_TEST(test_choose_b_subset)
{
	static const uint16_t aes_first[] = { AES, CHA }, cha_first[] = { CHA, AES };
	static const uint16_t aes = AES, cha = CHA;

	ck_assert_uint_eq(choose(aes_first, 2, &cha, 1), CHA);
	ck_assert_uint_eq(choose(cha_first, 2, &aes, 1), AES);
	ck_assert_uint_eq(choose(&aes, 1, aes_first, 2), AES);
	ck_assert_uint_eq(choose(&cha, 1, &cha, 1), CHA);
}
END_TEST

/* Suites we do not know (0x7401 of version 1 among them) are passed over. */
START_TEST(test_choose_skips_unknown)
{
	static const uint16_t a[] = { 0x2101, 0x7401, 0xffff, CHA, AES };
	static const uint16_t dup[] = { 0x7401, 0x7401, AES, AES };

	ck_assert_uint_eq(choose(a, 5, both, 2), CHA);
	ck_assert_uint_eq(choose(dup, 4, both, 2), AES);
}
END_TEST

/* No common suite: 0, which names no suite (B aborts). */
START_TEST(test_choose_none)
{
	static const uint16_t foreign[] = { 0x7401, 0x2101, 0x0000 };
	static const uint16_t aes = AES, cha = CHA;

	ck_assert_uint_eq(choose(foreign, 3, both, 2), 0);
	ck_assert_uint_eq(choose(&aes, 1, &cha, 1), 0);
	ck_assert_uint_eq(choose(&cha, 1, &aes, 1), 0);
	ck_assert_uint_eq(choose(both, 2, NULL, 0), 0);
	/* a 0x0000 entry in A's list never matches an empty B list either */
	ck_assert_uint_eq(choose(foreign, 3, NULL, 0), 0);
}
END_TEST

/* The longest list a one-byte nciphers allows, ours last. */
START_TEST(test_choose_long_list)
{
	uint16_t a[255];

	for (unsigned i = 0; i < 254; i++)
		a[i] = (uint16_t)(0x1000 + i);
	a[254] = CHA;
	ck_assert_uint_eq(choose(a, 255, both, 2), CHA);
	a[254] = 0x7401;
	ck_assert_uint_eq(choose(a, 255, both, 2), 0);
}
END_TEST

/* A's check of the suite in Init2. */
START_TEST(test_suite_listed)
{
	static const uint16_t aes = AES;

	ck_assert(kx_suite_listed(both, 2, AES));
	ck_assert(kx_suite_listed(both, 2, CHA));
	ck_assert(!kx_suite_listed(both, 2, 0x7401));
	ck_assert(!kx_suite_listed(both, 2, 0));
	ck_assert(kx_suite_listed(&aes, 1, AES));
	ck_assert(!kx_suite_listed(&aes, 1, CHA));
	ck_assert(!kx_suite_listed(both, 0, AES));
	ck_assert(!kx_suite_listed(NULL, 0, 0));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Key schedule: the known-answer vectors */

static uint16_t parse_suite(const struct vfile *vf, const struct vcase *c, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	ck_assert_msg(end != s && v > 0 && v <= 0xffff, "%s:%zu: bad suite '%s'", vf->path,
		      c->line, s);
	return (uint16_t)v;
}

/* "0x7403 0x7402" -> list; returns the count. */
static unsigned suite_list(const struct vfile *vf, const struct vcase *c, uint16_t *out,
			   unsigned max)
{
	char list[128], *save = NULL;
	unsigned n = 0;

	snprintf(list, sizeof(list), "%s", vget(vf, c, "suites_offered"));
	for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		ck_assert_uint_lt(n, max);
		out[n++] = parse_suite(vf, c, t);
	}
	return n;
}

struct kxv {
	uint8_t transcript[KX_TRANSCRIPT_MAX];
	size_t transcript_len;
	uint16_t offered[KX_MAX_SUITES], suite;
	unsigned noffered;
	uint8_t init1[KX_INIT_MAX_LEN], init2[KX_INIT_MAX_LEN];
	size_t init1_len, init2_len;
	uint8_t a_priv[32], b_priv[32], a_pub[32], b_pub[32], n_a[32], n_b[32], es[32];
	uint8_t prk[32], session_id[KX_SESSID_LEN], mk[KX_MK_LEN], ss1[32];
};

static void kxv_load(const struct vfile *vf, const struct vcase *c, struct kxv *v)
{
	v->transcript_len = vhex(vf, c, "transcript", v->transcript, sizeof(v->transcript));
	v->noffered = suite_list(vf, c, v->offered, KX_MAX_SUITES);
	v->suite = parse_suite(vf, c, vget(vf, c, "suite"));
	v->init1_len = vhex(vf, c, "init1", v->init1, sizeof(v->init1));
	v->init2_len = vhex(vf, c, "init2", v->init2, sizeof(v->init2));
	vhex_n(vf, c, "a_private", v->a_priv, 32);
	vhex_n(vf, c, "b_private", v->b_priv, 32);
	vhex_n(vf, c, "a_public", v->a_pub, 32);
	vhex_n(vf, c, "b_public", v->b_pub, 32);
	vhex_n(vf, c, "n_a", v->n_a, 32);
	vhex_n(vf, c, "n_b", v->n_b, 32);
	vhex_n(vf, c, "es", v->es, 32);
	vhex_n(vf, c, "prk", v->prk, 32);
	vhex_n(vf, c, "session_id", v->session_id, KX_SESSID_LEN);
	vhex_n(vf, c, "mk", v->mk, KX_MK_LEN);
	vhex_n(vf, c, "ss1", v->ss1, 32);
}

static struct kx_input kxv_input(const struct kxv *v, bool as_a)
{
	struct kx_input in = {
		.own_priv = as_a ? v->a_priv : v->b_priv,
		.peer_pub = as_a ? v->b_pub : v->a_pub,
		.transcript = v->transcript,
		.transcript_len = v->transcript_len,
		.init1 = v->init1,
		.init1_len = v->init1_len,
		.init2 = v->init2,
		.init2_len = v->init2_len,
	};
	return in;
}

static void kxv_check_secrets(const struct vfile *vf, const struct vcase *c,
			      const struct kxv *v, const struct kx_secrets *s, const char *who)
{
	char what[64];

	snprintf(what, sizeof(what), "session_id (%s)", who);
	CHECK_EQ(vf, c, what, s->session_id, v->session_id, KX_SESSID_LEN);
	snprintf(what, sizeof(what), "mk (%s)", who);
	CHECK_EQ(vf, c, what, s->mk, v->mk, KX_MK_LEN);
	snprintf(what, sizeof(what), "ss1 (%s)", who);
	CHECK_EQ(vf, c, what, s->ss1, v->ss1, 32);
}

/* Key pairs, ES and the messages as we would send them. */
START_TEST(test_vectors_messages)
{
	struct vfile vf;

	vfile_load(&vf, "v2-kx.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		struct kxv v;
		uint8_t pub[32], es[32], msg[KX_INIT1_MAX_OWN];
		uint16_t b_list[KX_MAX_SUITES];
		struct kx_init1 i1;
		struct kx_init2 i2;

		kxv_load(&vf, c, &v);
		/* the transcript of a fresh exchange is our two options */
		ck_assert_uint_eq(v.transcript_len, sizeof(transcript));
		CHECK_EQ(&vf, c, "transcript", v.transcript, transcript, sizeof(transcript));

		kx_keypair_from_seed(pub, v.a_priv);
		CHECK_EQ(&vf, c, "a_public", pub, v.a_pub, 32);
		kx_keypair_from_seed(pub, v.b_priv);
		CHECK_EQ(&vf, c, "b_public", pub, v.b_pub, 32);
		ck_assert(!kx_pub_has_small_order(v.a_pub));
		ck_assert(!kx_pub_has_small_order(v.b_pub));
		ck_assert_int_eq(kx_shared_secret(es, v.a_priv, v.b_pub), KX_OK);
		CHECK_EQ(&vf, c, "es (A)", es, v.es, 32);
		ck_assert_int_eq(kx_shared_secret(es, v.b_priv, v.a_pub), KX_OK);
		CHECK_EQ(&vf, c, "es (B)", es, v.es, 32);

		ck_assert_uint_eq(kx_init1_encode(msg, v.offered, v.noffered, v.n_a, v.a_pub),
				  v.init1_len);
		CHECK_EQ(&vf, c, "init1", msg, v.init1, v.init1_len);
		ck_assert_uint_eq(kx_init2_encode(msg, v.suite, v.n_b, v.b_pub), v.init2_len);
		CHECK_EQ(&vf, c, "init2", msg, v.init2, v.init2_len);

		/* parsed back: B choosing from A's list with the same suites in
		 * the other order still takes A's first, as the vector did */
		ck_assert_int_eq(kx_init1_parse(v.init1, v.init1_len, &i1), KX_OK);
		ck_assert_uint_eq(i1.len, v.init1_len);
		ck_assert_uint_eq(i1.nciphers, v.noffered);
		CHECK_EQ(&vf, c, "n_a in init1", i1.nonce, v.n_a, 32);
		CHECK_EQ(&vf, c, "a_public in init1", i1.pub, v.a_pub, 32);
		for (unsigned j = 0; j < v.noffered; j++)
			b_list[j] = v.offered[v.noffered - 1 - j];
		ck_assert_uint_eq(kx_choose_suite(&i1, b_list, v.noffered), v.suite);
		ck_assert_int_eq(kx_init2_parse(v.init2, v.init2_len, &i2), KX_OK);
		ck_assert_uint_eq(i2.suite, v.suite);
		ck_assert(kx_suite_listed(v.offered, v.noffered, i2.suite));
		CHECK_EQ(&vf, c, "n_b in init2", i2.nonce, v.n_b, 32);
		CHECK_EQ(&vf, c, "b_public in init2", i2.pub, v.b_pub, 32);
	}
	vfile_free(&vf);
}
END_TEST

/* PRK from the HKDF module over exactly the inputs kx_derive hashes: pins
 * down the order of the input keying material. */
START_TEST(test_vectors_prk)
{
	struct vfile vf;

	vfile_load(&vf, "v2-kx.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		struct hkdf_extract x;
		struct kxv v;
		uint8_t prk[32], sid[KX_SESSID_LEN];

		kxv_load(&vf, c, &v);
		hkdf_extract_init(&x, v.n_a, 32);
		hkdf_extract_update(&x, v.transcript, v.transcript_len);
		hkdf_extract_update(&x, v.init1, v.init1_len);
		hkdf_extract_update(&x, v.init2, v.init2_len);
		hkdf_extract_update(&x, v.es, 32);
		hkdf_extract_final(&x, prk);
		CHECK_EQ(&vf, c, "prk", prk, v.prk, 32);
		sid[0] = 0xa0;
		hkdf_cprf(sid + 1, 32, prk, 0x02);
		CHECK_EQ(&vf, c, "session_id from prk", sid, v.session_id, KX_SESSID_LEN);
	}
	vfile_free(&vf);
}
END_TEST

/* kx_derive on both sides, and kx_derive_from_es, give the vectors'
 * session_id, mk and ss1. */
START_TEST(test_vectors_derive)
{
	struct vfile vf;

	vfile_load(&vf, "v2-kx.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		struct kx_secrets s;
		struct kx_input in;
		struct kxv v;
		uint8_t es[32];

		kxv_load(&vf, c, &v);
		in = kxv_input(&v, true);
		memset(es, 0, sizeof(es));
		ck_assert_int_eq(kx_derive(&in, &s, es), KX_OK);
		CHECK_EQ(&vf, c, "es for the key log (A)", es, v.es, 32);
		kxv_check_secrets(&vf, c, &v, &s, "A");

		in = kxv_input(&v, false);
		memset(es, 0, sizeof(es));
		ck_assert_int_eq(kx_derive(&in, &s, es), KX_OK);
		CHECK_EQ(&vf, c, "es for the key log (B)", es, v.es, 32);
		kxv_check_secrets(&vf, c, &v, &s, "B");

		in.own_priv = NULL;	/* not used */
		in.peer_pub = NULL;
		ck_assert_int_eq(kx_derive_from_es(&in, v.es, &s), KX_OK);
		kxv_check_secrets(&vf, c, &v, &s, "from ES");
	}
	vfile_free(&vf);
}
END_TEST

/* The mk of v2-kx.txt is the one v2-chains.txt (and so test_seal2) starts
 * the key_schedule chains from, and A -> B's first generation follows. */
START_TEST(test_vectors_chain_link)
{
	struct vfile kx, chains;
	struct kxv v;
	size_t found = 0;

	vfile_load(&kx, "v2-kx.txt");
	vfile_load(&chains, "v2-chains.txt");
	kxv_load(&kx, &kx.cases[0], &v);
	for (size_t i = 0; i < chains.ncases; i++) {
		const struct vcase *c = &chains.cases[i];
		uint8_t mk[32], g0[32];
		struct seal2_chain ch;

		if (strcmp(vget(&chains, c, "keys"), "key_schedule") != 0)
			continue;
		found++;
		vhex_n(&chains, c, "mk", mk, 32);
		CHECK_EQ(&chains, c, "mk (v2-kx.txt's)", mk, v.mk, 32);
		vhex_n(&chains, c, "g_0", g0, 32);
		seal2_chain_init(&ch, v.mk, strcmp(vget(&chains, c, "direction"), "ab") == 0 ?
					    SEAL2_CTX_AB : SEAL2_CTX_BA);
		CHECK_EQ(&chains, c, "g_0 from v2-kx.txt's mk", ch.g_lo, g0, 32);
		seal2_chain_wipe(&ch, NULL);
	}
	ck_assert_uint_eq(found, 2);
	vfile_free(&kx);
	vfile_free(&chains);
}
END_TEST

/* Every byte of the hashed messages matters, the suite list and the
 * chosen suite included: a man in the middle who rewrites A's list or
 * B's choice (to downgrade the suite) leaves the two sides with different
 * keys. */
START_TEST(test_vectors_tamper)
{
	struct vfile vf;
	struct kxv v;
	struct kx_secrets s;
	struct kx_input in;

	vfile_load(&vf, "v2-kx.txt");
	kxv_load(&vf, &vf.cases[0], &v);
	in = kxv_input(&v, false);
	for (size_t i = 0; i < v.init1_len; i++) {
		v.init1[i] ^= 0x01;
		if (kx_derive(&in, &s, NULL) == KX_OK)
			ck_assert_msg(memcmp(s.mk, v.mk, KX_MK_LEN) != 0,
				      "init1 byte %zu does not change mk", i);
		v.init1[i] ^= 0x01;
	}
	for (size_t i = 0; i < v.init2_len; i++) {
		v.init2[i] ^= 0x01;
		ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
		ck_assert_msg(memcmp(s.mk, v.mk, KX_MK_LEN) != 0,
			      "init2 byte %zu does not change mk", i);
		v.init2[i] ^= 0x01;
	}
	for (size_t i = 0; i < v.transcript_len; i++) {
		v.transcript[i] ^= 0x01;
		ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
		ck_assert_msg(memcmp(s.mk, v.mk, KX_MK_LEN) != 0,
			      "transcript byte %zu does not change mk", i);
		v.transcript[i] ^= 0x01;
	}
	/* the suites swapped in Init1, Init2 naming the other one */
	v.init1[10] ^= 0x01;
	v.init1[12] ^= 0x01;
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	ck_assert(memcmp(s.mk, v.mk, KX_MK_LEN) != 0);
	v.init1[10] ^= 0x01;
	v.init1[12] ^= 0x01;
	v.init2[9] ^= 0x01;
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	ck_assert(memcmp(s.mk, v.mk, KX_MK_LEN) != 0);
	vfile_free(&vf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Key schedule between two parties */

struct party {
	uint8_t priv[32], pub[32], nonce[32];
};

static void make_party(struct party *p, uint8_t seed)
{
	fill(p->priv, 32, seed);
	fill(p->nonce, 32, (uint8_t)(seed + 1));
	kx_keypair_from_seed(p->pub, p->priv);
}

static struct kx_input input_for(const struct party *self, const uint8_t *peer_pub,
				 const uint8_t *init1, const uint8_t *init2)
{
	struct kx_input in = {
		.own_priv = self->priv,
		.peer_pub = peer_pub,
		.transcript = transcript,
		.transcript_len = sizeof(transcript),
		.init1 = init1,
		.init1_len = 77,
		.init2 = init2,
		.init2_len = KX_INIT2_LEN,
	};
	return in;
}

/* Init1 offering both suites from a, Init2 choosing suite from b. */
static void encode_pair(uint8_t init1[KX_INIT1_MAX_OWN], uint8_t init2[KX_INIT2_LEN],
			const struct party *a, const struct party *b, uint16_t suite)
{
	ck_assert_uint_eq(kx_init1_encode(init1, both, 2, a->nonce, a->pub), 77);
	ck_assert_uint_eq(kx_init2_encode(init2, suite, b->nonce, b->pub), KX_INIT2_LEN);
}

START_TEST(test_keypair)
{
	uint8_t priv[32], pub[32], ref[32];

	fill(priv, 32, 77);
	kx_keypair_from_seed(pub, priv);
	ck_assert_int_eq(crypto_scalarmult_base(ref, priv), 0);
	ck_assert_mem_eq(pub, ref, 32);
}
END_TEST

START_TEST(test_derive_both_sides)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN];
	uint8_t es_a[32], es_b[32], es_ref[32];
	struct kx_secrets sa, sb;
	struct kx_input in;

	make_party(&a, 1);
	make_party(&b, 101);
	encode_pair(init1, init2, &a, &b, AES);

	in = input_for(&a, b.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &sa, es_a), KX_OK);
	in = input_for(&b, a.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &sb, es_b), KX_OK);

	ck_assert_int_eq(crypto_scalarmult(es_ref, a.priv, b.pub), 0);
	ck_assert_mem_eq(es_a, es_ref, 32);
	ck_assert_mem_eq(es_b, es_ref, 32);

	ck_assert_mem_eq(&sa, &sb, sizeof(sa));
	ck_assert_uint_eq(sa.session_id[0], 0xa0);
	ck_assert(memcmp(sa.mk, sa.ss1, 32) != 0);
	ck_assert(memcmp(sa.mk, sa.session_id + 1, 32) != 0);
}
END_TEST

/* es_out is optional, and the result does not depend on it. */
START_TEST(test_derive_no_es_out)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN], es[32];
	struct kx_secrets s1, s2;
	struct kx_input in;

	make_party(&a, 3);
	make_party(&b, 4);
	encode_pair(init1, init2, &a, &b, CHA);
	in = input_for(&a, b.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &s1, NULL), KX_OK);
	ck_assert_int_eq(kx_derive(&in, &s2, es), KX_OK);
	ck_assert_mem_eq(&s1, &s2, sizeof(s1));
}
END_TEST

/* The two halves give what kx_derive gives. */
START_TEST(test_derive_from_es)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN], es[32], es_ref[32];
	struct kx_secrets s1, s2;
	struct kx_input in;

	make_party(&a, 5);
	make_party(&b, 6);
	encode_pair(init1, init2, &a, &b, AES);
	in = input_for(&b, a.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &s1, es_ref), KX_OK);
	ck_assert_int_eq(kx_shared_secret(es, b.priv, a.pub), KX_OK);
	ck_assert_mem_eq(es, es_ref, sizeof(es));
	in.own_priv = NULL;	/* not used */
	in.peer_pub = NULL;
	ck_assert_int_eq(kx_derive_from_es(&in, es, &s2), KX_OK);
	ck_assert_mem_eq(&s1, &s2, sizeof(s1));
	/* a malformed Init1 is refused with nothing derived */
	in.init1_len = 40;
	ck_assert_int_eq(kx_derive_from_es(&in, es, &s2), KX_ERR_TRUNCATED);
	ck_assert_uint_eq(s2.session_id[0], 0);
	in.init1_len = 77;
	init1[8] = 0;	/* nciphers 0 */
	put_be32(init1 + 4, 73);
	ck_assert_int_eq(kx_derive_from_es(&in, es, &s2), KX_ERR_NO_SUITE);
	ck_assert_uint_eq(s2.session_id[0], 0);
}
END_TEST

/* Points whose multiples by a clamped scalar are the identity: 0, 1, the
 * two points of order 8, p - 1, p, p + 1, and the same values with the
 * (ignored) top bit set. */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

START_TEST(test_zero_key)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN], evil[32], es[32];
	struct kx_secrets s;
	struct kx_input in;

	make_party(&a, 7);
	make_party(&b, 8);
	unit_unhex(low_order[_i], evil, sizeof(evil));
	/* The cheap check B makes before it sends Init2 knows it too. */
	ck_assert(kx_pub_has_small_order(evil));
	ck_assert(!kx_pub_has_small_order(a.pub));
	ck_assert_int_eq(kx_shared_secret(es, a.priv, evil), KX_ERR_ZERO_KEY);
	for (size_t i = 0; i < sizeof(es); i++)
		ck_assert_uint_eq(es[i], 0);
	kx_init1_encode(init1, both, 2, a.nonce, a.pub);
	kx_init2_encode(init2, AES, b.nonce, evil);

	/* A receives the bad key in Init2 */
	in = input_for(&a, evil, init1, init2);
	memset(es, 0x77, sizeof(es));
	ck_assert_int_eq(kx_derive(&in, &s, es), KX_ERR_ZERO_KEY);
	/* no ES is handed out for the key log, no key is derived */
	for (size_t i = 0; i < sizeof(es); i++)
		ck_assert_uint_eq(es[i], 0x77);
	ck_assert_uint_eq(s.session_id[0], 0);

	/* B receives it in Init1 */
	kx_init1_encode(init1, both, 2, a.nonce, evil);
	kx_init2_encode(init2, AES, b.nonce, b.pub);
	in = input_for(&b, evil, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_ERR_ZERO_KEY);
}
END_TEST

/* Keys near the small-order ones are ordinary. */
START_TEST(test_not_small_order)
{
	uint8_t pub[32];

	for (size_t i = 0; i < 7; i++) {
		unit_unhex(low_order[i], pub, sizeof(pub));
		pub[0] ^= 0x10;
		ck_assert_msg(!kx_pub_has_small_order(pub), "neighbour of low_order[%zu]", i);
	}
	fill(pub, 32, 9);
	ck_assert(!kx_pub_has_small_order(pub));
}
END_TEST

/* B derives from an Init1 with foreign suites and a trailer: N_A is found
 * after the suite list and the whole message is hashed. */
START_TEST(test_derive_peer_init1)
{
	static const uint16_t suites[] = { 0x2101, AES, CHA };
	struct party a, b;
	uint8_t init1[256], init1_std[KX_INIT1_MAX_OWN], init2[KX_INIT2_LEN];
	struct kx_secrets s, s_a, s_std;
	struct kx_input in;
	size_t n;

	make_party(&a, 9);
	make_party(&b, 10);
	n = build_init1(init1, suites, 3, a.nonce, a.pub, 5);
	ck_assert_uint_eq(n, 73 + 6 + 5);
	encode_pair(init1_std, init2, &a, &b, AES);

	in = input_for(&b, a.pub, init1, init2);
	in.init1_len = n;
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	in = input_for(&a, b.pub, init1, init2);
	in.init1_len = n;
	ck_assert_int_eq(kx_derive(&in, &s_a, NULL), KX_OK);
	ck_assert_mem_eq(&s, &s_a, sizeof(s));
	/* and differs from our own encoding of the same values */
	in = input_for(&a, b.pub, init1_std, init2);
	ck_assert_int_eq(kx_derive(&in, &s_std, NULL), KX_OK);
	ck_assert(memcmp(s.session_id, s_std.session_id, KX_SESSID_LEN) != 0);
	ck_assert(memcmp(s.mk, s_std.mk, KX_MK_LEN) != 0);
}
END_TEST

static Suite *kx_suite(void)
{
	Suite *s = suite_create("kx");
	TCase *enc = tcase_create("encode");
	TCase *rej = tcase_create("reject");
	TCase *ch = tcase_create("choose");
	TCase *vec = tcase_create("vectors");
	TCase *ks = tcase_create("schedule");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(enc, test_sizes);
	tcase_add_test(enc, test_init1_layout);
	tcase_add_test(enc, test_init1_one_suite);
	tcase_add_test(enc, test_init1_bad_count);
	tcase_add_test(enc, test_init2_layout);
	tcase_add_test(enc, test_round_trip);
	tcase_add_test(enc, test_init1_foreign_suites);
	tcase_add_test(enc, test_init2_any_suite);
	tcase_add_test(enc, test_trailing_bytes);
	tcase_add_test(enc, test_status_str);
	suite_add_tcase(s, enc);

	tcase_add_test(rej, test_init1_truncated);
	tcase_add_test(rej, test_init2_truncated);
	tcase_add_test(rej, test_wrong_magic);
	tcase_add_test(rej, test_len_below_fixed);
	tcase_add_test(rej, test_nciphers_too_large);
	tcase_add_test(rej, test_len_beyond_buffer);
	tcase_add_test(rej, test_len_above_max);
	tcase_add_test(rej, test_nciphers_zero);
	suite_add_tcase(s, rej);

	tcase_add_test(ch, test_choose_a_order);
	tcase_add_test(ch, test_choose_b_subset);
	tcase_add_test(ch, test_choose_skips_unknown);
	tcase_add_test(ch, test_choose_none);
	tcase_add_test(ch, test_choose_long_list);
	tcase_add_test(ch, test_suite_listed);
	suite_add_tcase(s, ch);

	tcase_add_test(vec, test_vectors_messages);
	tcase_add_test(vec, test_vectors_prk);
	tcase_add_test(vec, test_vectors_derive);
	tcase_add_test(vec, test_vectors_chain_link);
	tcase_add_test(vec, test_vectors_tamper);
	suite_add_tcase(s, vec);

	tcase_add_test(ks, test_keypair);
	tcase_add_test(ks, test_derive_both_sides);
	tcase_add_test(ks, test_derive_no_es_out);
	tcase_add_test(ks, test_derive_from_es);
	tcase_add_loop_test(ks, test_zero_key, 0, (int)(sizeof(low_order) / sizeof(low_order[0])));
	tcase_add_test(ks, test_not_small_order);
	tcase_add_test(ks, test_derive_peer_init1);
	suite_add_tcase(s, ks);
	return s;
}

UNIT_MAIN(kx_suite)
