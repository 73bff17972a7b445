/* Init1/Init2 wire format and the key schedule (PROTOCOL.md sections 2-3). */
#include "unit.h"

#include <sodium.h>

#include "kx.h"

/* The ENO options of PROTOCOL.md section 1, A's then B's. */
static const uint8_t transcript[] = {
	0x45, 0x05, 0xa0, 0x74, 0x31,
	0x45, 0x06, 0x01, 0xa0, 0x74, 0x31,
};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 13 * i);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Builds an Init1 as some other implementation might: any suite list, any
 * trailer, with len covering everything.  Returns the length. */
static size_t build_init1(uint8_t *out, const uint16_t *suites, uint8_t n,
			  const uint8_t nonce[32], const uint8_t pub[32], size_t trailer)
{
	size_t len = 9;

	put32(out, KX_INIT1_MAGIC);
	out[8] = n;
	for (uint8_t i = 0; i < n; i++) {
		out[len++] = (uint8_t)(suites[i] >> 8);
		out[len++] = (uint8_t)suites[i];
	}
	memcpy(out + len, nonce, 32);
	memcpy(out + len + 32, pub, 32);
	len += 64;
	memset(out + len, 0xcc, trailer);
	len += trailer;
	put32(out + 4, (uint32_t)len);
	return len;
}

struct msgs {
	uint8_t nonce_a[32], pub_a[32], nonce_b[32], pub_b[32];
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN];
};

static void make_msgs(struct msgs *m)
{
	fill(m->nonce_a, 32, 0x10);
	fill(m->pub_a, 32, 0x20);
	fill(m->nonce_b, 32, 0x30);
	fill(m->pub_b, 32, 0x40);
	ck_assert_uint_eq(kx_init1_encode(m->init1, m->nonce_a, m->pub_a), KX_INIT1_LEN);
	ck_assert_uint_eq(kx_init2_encode(m->init2, m->nonce_b, m->pub_b), KX_INIT2_LEN);
}

/* ------------------------------------------------------------------------ */
/* Encoding */

START_TEST(test_init1_layout)
{
	static const uint8_t head[] = {
		0x15, 0x10, 0x1a, 0x0e,	/* magic */
		0x00, 0x00, 0x00, 75,	/* len */
		0x01,			/* nciphers */
		0x74, 0x01,		/* suite */
	};
	struct msgs m;

	ck_assert_uint_eq(KX_INIT1_LEN, 75);
	make_msgs(&m);
	ck_assert_mem_eq(m.init1, head, sizeof(head));
	ck_assert_mem_eq(m.init1 + 11, m.nonce_a, 32);
	ck_assert_mem_eq(m.init1 + 43, m.pub_a, 32);
}
END_TEST

START_TEST(test_init2_layout)
{
	static const uint8_t head[] = {
		0x09, 0x71, 0x05, 0xe0,	/* magic */
		0x00, 0x00, 0x00, 74,	/* len */
		0x74, 0x01,		/* suite */
	};
	struct msgs m;

	ck_assert_uint_eq(KX_INIT2_LEN, 74);
	make_msgs(&m);
	ck_assert_mem_eq(m.init2, head, sizeof(head));
	ck_assert_mem_eq(m.init2 + 10, m.nonce_b, 32);
	ck_assert_mem_eq(m.init2 + 42, m.pub_b, 32);
}
END_TEST

START_TEST(test_round_trip)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;

	make_msgs(&m);
	ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_OK);
	ck_assert_uint_eq(i1.len, KX_INIT1_LEN);
	ck_assert_uint_eq(i1.nciphers, 1);
	ck_assert_ptr_eq(i1.nonce, m.init1 + 11);
	ck_assert_mem_eq(i1.nonce, m.nonce_a, 32);
	ck_assert_mem_eq(i1.pub, m.pub_a, 32);

	ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_OK);
	ck_assert_uint_eq(i2.len, KX_INIT2_LEN);
	ck_assert_uint_eq(i2.suite, KX_SUITE_V1);
	ck_assert_ptr_eq(i2.nonce, m.init2 + 10);
	ck_assert_mem_eq(i2.nonce, m.nonce_b, 32);
	ck_assert_mem_eq(i2.pub, m.pub_b, 32);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rejections */

START_TEST(test_init1_truncated)
{
	struct msgs m;
	struct kx_init1 i1;

	make_msgs(&m);
	for (size_t n = 0; n < KX_INIT1_LEN; n++)
		ck_assert_msg(kx_init1_parse(m.init1, n, &i1) == KX_ERR_TRUNCATED,
			      "Init1 cut to %zu bytes not reported truncated", n);
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
		m.init1[b] ^= 0x40;
		m.init2[b] ^= 0x01;
	}
}
END_TEST

START_TEST(test_len_below_fixed)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;
	static const uint32_t lens[] = { 0, 1, 8, 9, 73 };

	make_msgs(&m);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		put32(m.init1 + 4, lens[i] + 1);	/* 74 at most: one short */
		put32(m.init2 + 4, lens[i]);		/* 73 at most: one short */
		ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_ERR_LENGTH);
		ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_LENGTH);
	}
}
END_TEST

START_TEST(test_len_beyond_buffer)
{
	struct msgs m;
	struct kx_init1 i1;
	struct kx_init2 i2;

	make_msgs(&m);
	put32(m.init1 + 4, KX_INIT1_LEN + 1);
	put32(m.init2 + 4, KX_INIT2_LEN + 1);
	ck_assert_int_eq(kx_init1_parse(m.init1, sizeof(m.init1), &i1), KX_ERR_TRUNCATED);
	ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_len_above_max)
{
	/* Buffers large enough that only the limit can be the reason. */
	static uint8_t b1[KX_INIT_MAX_LEN + 8], b2[KX_INIT_MAX_LEN + 8];
	static const uint16_t v1 = KX_SUITE_V1;
	uint8_t nonce[32], pub[32];
	struct kx_init1 i1;
	struct kx_init2 i2;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	/* exactly at the limit: accepted */
	n = build_init1(b1, &v1, 1, nonce, pub, KX_INIT_MAX_LEN - KX_INIT1_LEN);
	ck_assert_uint_eq(n, KX_INIT_MAX_LEN);
	ck_assert_int_eq(kx_init1_parse(b1, sizeof(b1), &i1), KX_OK);
	kx_init2_encode(b2, nonce, pub);
	put32(b2 + 4, KX_INIT_MAX_LEN);
	ck_assert_int_eq(kx_init2_parse(b2, sizeof(b2), &i2), KX_OK);
	/* one above */
	put32(b1 + 4, KX_INIT_MAX_LEN + 1);
	put32(b2 + 4, KX_INIT_MAX_LEN + 1);
	ck_assert_int_eq(kx_init1_parse(b1, sizeof(b1), &i1), KX_ERR_LENGTH);
	ck_assert_int_eq(kx_init2_parse(b2, sizeof(b2), &i2), KX_ERR_LENGTH);
	/* huge, with a small buffer: still a length error, not a read */
	put32(b1 + 4, 0xffffffffu);
	ck_assert_int_eq(kx_init1_parse(b1, KX_INIT1_LEN, &i1), KX_ERR_LENGTH);
}
END_TEST

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
}
END_TEST

START_TEST(test_only_other_suites)
{
	static const uint16_t others[] = { 0x2101, 0x7402, 0x0174, 0x7400 };
	uint8_t buf[256], nonce[32], pub[32];
	struct kx_init1 i1;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	n = build_init1(buf, others, 4, nonce, pub, 0);
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_NO_SUITE);
	n = build_init1(buf, others, 1, nonce, pub, 0);
	ck_assert_int_eq(kx_init1_parse(buf, n, &i1), KX_ERR_NO_SUITE);
}
END_TEST

START_TEST(test_v1_among_several)
{
	static const uint16_t suites[] = { 0x2101, 0x7402, KX_SUITE_V1, 0x0001 };
	uint8_t buf[256], nonce[32], pub[32];
	struct kx_init1 i1;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	/* v1 first, middle and last */
	for (unsigned first = 0; first < 3; first++) {
		uint8_t n = (uint8_t)(4 - first);
		size_t len = build_init1(buf, suites + first, n, nonce, pub, 0);

		ck_assert_uint_eq(len, 9 + 2u * n + 64);
		ck_assert_int_eq(kx_init1_parse(buf, len, &i1), KX_OK);
		ck_assert_uint_eq(i1.nciphers, n);
		ck_assert_uint_eq(i1.len, len);
		ck_assert_mem_eq(i1.nonce, nonce, 32);
		ck_assert_mem_eq(i1.pub, pub, 32);
	}
}
END_TEST

START_TEST(test_init2_bad_suite)
{
	static const uint16_t bad[] = { 0x0000, 0x7400, 0x7402, 0x0174, 0x2101, 0xffff };
	struct msgs m;
	struct kx_init2 i2;

	make_msgs(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.init2[8] = (uint8_t)(bad[i] >> 8);
		m.init2[9] = (uint8_t)bad[i];
		ck_assert_int_eq(kx_init2_parse(m.init2, sizeof(m.init2), &i2), KX_ERR_BAD_SUITE);
	}
}
END_TEST

START_TEST(test_trailing_bytes)
{
	static const uint16_t v1 = KX_SUITE_V1;
	uint8_t buf[256], nonce[32], pub[32];
	struct kx_init1 i1;
	struct kx_init2 i2;
	size_t n;

	fill(nonce, 32, 1);
	fill(pub, 32, 2);
	n = build_init1(buf, &v1, 1, nonce, pub, 20);
	ck_assert_uint_eq(n, KX_INIT1_LEN + 20);
	/* more bytes after len in the buffer (the segment's next data) too */
	ck_assert_int_eq(kx_init1_parse(buf, sizeof(buf), &i1), KX_OK);
	ck_assert_uint_eq(i1.len, n);
	ck_assert_mem_eq(i1.nonce, nonce, 32);
	ck_assert_mem_eq(i1.pub, pub, 32);
	/* ... but a cut inside the trailer is still a truncation */
	ck_assert_int_eq(kx_init1_parse(buf, n - 1, &i1), KX_ERR_TRUNCATED);

	memset(buf, 0xdd, sizeof(buf));
	kx_init2_encode(buf, nonce, pub);
	put32(buf + 4, KX_INIT2_LEN + 9);
	ck_assert_int_eq(kx_init2_parse(buf, KX_INIT2_LEN + 9, &i2), KX_OK);
	ck_assert_uint_eq(i2.len, KX_INIT2_LEN + 9);
	ck_assert_mem_eq(i2.nonce, nonce, 32);
	ck_assert_mem_eq(i2.pub, pub, 32);
}
END_TEST

START_TEST(test_status_str)
{
	for (int s = KX_OK; s <= KX_ERR_ZERO_KEY; s++) {
		const char *str = kx_status_str((enum kx_status)s);

		ck_assert_ptr_nonnull(str);
		ck_assert_uint_gt(strlen(str), 0);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Key schedule */

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
		.init1_len = KX_INIT1_LEN,
		.init2 = init2,
		.init2_len = KX_INIT2_LEN,
	};
	return in;
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
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN];
	uint8_t es_a[32], es_b[32], es_ref[32];
	struct kx_secrets sa, sb;
	struct kx_input in;

	make_party(&a, 1);
	make_party(&b, 101);
	kx_init1_encode(init1, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, b.pub);

	in = input_for(&a, b.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &sa, es_a), KX_OK);
	in = input_for(&b, a.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &sb, es_b), KX_OK);

	ck_assert_int_eq(crypto_scalarmult(es_ref, a.priv, b.pub), 0);
	ck_assert_mem_eq(es_a, es_ref, 32);
	ck_assert_mem_eq(es_b, es_ref, 32);

	ck_assert_mem_eq(sa.session_id, sb.session_id, KX_SESSID_LEN);
	ck_assert_mem_eq(sa.k_ab, sb.k_ab, KX_TRAFFIC_KEY_LEN);
	ck_assert_mem_eq(sa.k_ba, sb.k_ba, KX_TRAFFIC_KEY_LEN);
	ck_assert_mem_eq(sa.ss1, sb.ss1, 32);
	ck_assert_uint_eq(sa.session_id[0], 0xa0);
	ck_assert_msg(memcmp(sa.k_ab, sa.k_ba, KX_TRAFFIC_KEY_LEN) != 0,
		      "the two directions must have different keys");
}
END_TEST

/* es_out is optional, and the result does not depend on it. */
START_TEST(test_derive_no_es_out)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN], es[32];
	struct kx_secrets s1, s2;
	struct kx_input in;

	make_party(&a, 3);
	make_party(&b, 4);
	kx_init1_encode(init1, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, b.pub);
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
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN], es[32], es_ref[32];
	struct kx_secrets s1, s2;
	struct kx_input in;

	make_party(&a, 5);
	make_party(&b, 6);
	kx_init1_encode(init1, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, b.pub);
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
}
END_TEST

/* Everything that is hashed matters: transcript, Init1, Init2. */
START_TEST(test_derive_binds_inputs)
{
	struct party a, b;
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN];
	uint8_t other_transcript[sizeof(transcript)];
	struct kx_secrets base, s;
	struct kx_input in;

	make_party(&a, 5);
	make_party(&b, 6);
	kx_init1_encode(init1, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, b.pub);
	in = input_for(&a, b.pub, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &base, NULL), KX_OK);

	memcpy(other_transcript, transcript, sizeof(transcript));
	other_transcript[sizeof(transcript) - 1] ^= 1;
	in.transcript = other_transcript;
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	ck_assert(memcmp(s.session_id, base.session_id, KX_SESSID_LEN) != 0);
	in.transcript = transcript;

	init2[20] ^= 1;	/* a nonce byte of N_B */
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	ck_assert(memcmp(s.session_id, base.session_id, KX_SESSID_LEN) != 0);
	ck_assert(memcmp(s.k_ab, base.k_ab, KX_TRAFFIC_KEY_LEN) != 0);
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
	uint8_t init1[KX_INIT1_LEN], init2[KX_INIT2_LEN], evil[32], es[32];
	struct kx_secrets s;
	struct kx_input in;

	make_party(&a, 7);
	make_party(&b, 8);
	unit_unhex(low_order[_i], evil, sizeof(evil));
	/* The cheap check B makes before it sends Init2 knows it too. */
	ck_assert(kx_pub_has_small_order(evil));
	ck_assert(!kx_pub_has_small_order(a.pub));
	kx_init1_encode(init1, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, evil);

	/* A receives the bad key in Init2 */
	in = input_for(&a, evil, init1, init2);
	memset(es, 0x77, sizeof(es));
	ck_assert_int_eq(kx_derive(&in, &s, es), KX_ERR_ZERO_KEY);
	/* no ES is handed out for the key log */
	for (size_t i = 0; i < sizeof(es); i++)
		ck_assert_uint_eq(es[i], 0x77);

	/* B receives it in Init1 */
	kx_init1_encode(init1, a.nonce, evil);
	kx_init2_encode(init2, b.nonce, b.pub);
	in = input_for(&b, evil, init1, init2);
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_ERR_ZERO_KEY);
}
END_TEST

/* B derives from an Init1 with several suites and a trailer: N_A is found
 * after the suite list and the whole message is hashed. */
START_TEST(test_derive_peer_init1)
{
	static const uint16_t suites[] = { 0x2101, KX_SUITE_V1, 0x7402 };
	struct party a, b;
	uint8_t init1[256], init1_std[KX_INIT1_LEN], init2[KX_INIT2_LEN];
	struct kx_secrets s, s_std;
	struct kx_input in;
	size_t n;

	make_party(&a, 9);
	make_party(&b, 10);
	n = build_init1(init1, suites, 3, a.nonce, a.pub, 5);
	kx_init1_encode(init1_std, a.nonce, a.pub);
	kx_init2_encode(init2, b.nonce, b.pub);

	in = input_for(&b, a.pub, init1, init2);
	in.init1_len = n;
	ck_assert_int_eq(kx_derive(&in, &s, NULL), KX_OK);
	in = input_for(&a, b.pub, init1, init2);
	in.init1_len = n;
	ck_assert_int_eq(kx_derive(&in, &s_std, NULL), KX_OK);
	ck_assert_mem_eq(&s, &s_std, sizeof(s));
	/* and differs from the one-suite encoding of the same values */
	in = input_for(&a, b.pub, init1_std, init2);
	ck_assert_int_eq(kx_derive(&in, &s_std, NULL), KX_OK);
	ck_assert(memcmp(s.session_id, s_std.session_id, KX_SESSID_LEN) != 0);
}
END_TEST

static Suite *kx_suite(void)
{
	Suite *s = suite_create("kx");
	TCase *enc = tcase_create("encode");
	TCase *rej = tcase_create("reject");
	TCase *ks = tcase_create("schedule");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(enc, test_init1_layout);
	tcase_add_test(enc, test_init2_layout);
	tcase_add_test(enc, test_round_trip);
	tcase_add_test(enc, test_v1_among_several);
	tcase_add_test(enc, test_trailing_bytes);
	tcase_add_test(enc, test_status_str);
	suite_add_tcase(s, enc);

	tcase_add_test(rej, test_init1_truncated);
	tcase_add_test(rej, test_init2_truncated);
	tcase_add_test(rej, test_wrong_magic);
	tcase_add_test(rej, test_len_below_fixed);
	tcase_add_test(rej, test_len_beyond_buffer);
	tcase_add_test(rej, test_len_above_max);
	tcase_add_test(rej, test_nciphers_zero);
	tcase_add_test(rej, test_only_other_suites);
	tcase_add_test(rej, test_init2_bad_suite);
	suite_add_tcase(s, rej);

	tcase_add_test(ks, test_keypair);
	tcase_add_test(ks, test_derive_both_sides);
	tcase_add_test(ks, test_derive_no_es_out);
	tcase_add_test(ks, test_derive_from_es);
	tcase_add_test(ks, test_derive_binds_inputs);
	tcase_add_loop_test(ks, test_zero_key, 0, (int)(sizeof(low_order) / sizeof(low_order[0])));
	tcase_add_test(ks, test_derive_peer_init1);
	suite_add_tcase(s, ks);
	return s;
}

UNIT_MAIN(kx_suite)
