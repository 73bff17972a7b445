/* SPDX-License-Identifier: BSD-2-Clause */
/* HKDF-SHA256 against RFC 5869 appendix A (test cases 1-3). */
#include "unit.h"

#include "hkdf.h"

struct rfc5869_case {
	const char *ikm, *salt, *info;
	size_t len;
	const char *prk, *okm;
};

static const struct rfc5869_case cases[] = {
	{	/* A.1: basic */
		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		"000102030405060708090a0b0c",
		"f0f1f2f3f4f5f6f7f8f9",
		42,
		"077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		"34007208d5b887185865",
	},
	{	/* A.2: longer inputs and outputs */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f",
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		"d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		82,
		"06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		"59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		"cc30c58179ec3e87c14c01d5c1f3434f1d87",
	},
	{	/* A.3: empty salt and info */
		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		"",
		"",
		42,
		"19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		"9d201395faa4b61a96c8",
	},
};

struct decoded {
	uint8_t ikm[80], salt[80], info[80], prk[32], okm[82];
	size_t ikm_len, salt_len, info_len, okm_len;
};

static void decode(const struct rfc5869_case *c, struct decoded *d)
{
	d->ikm_len = unit_unhex(c->ikm, d->ikm, sizeof(d->ikm));
	d->salt_len = unit_unhex(c->salt, d->salt, sizeof(d->salt));
	d->info_len = unit_unhex(c->info, d->info, sizeof(d->info));
	ck_assert_uint_eq(unit_unhex(c->prk, d->prk, sizeof(d->prk)), 32);
	d->okm_len = unit_unhex(c->okm, d->okm, sizeof(d->okm));
	ck_assert_uint_eq(d->okm_len, c->len);
}

START_TEST(test_rfc5869)
{
	struct decoded d;
	struct hkdf_extract x;
	uint8_t prk[HKDF_SHA256_LEN], okm[82];

	decode(&cases[_i], &d);
	hkdf_extract_init(&x, d.salt, d.salt_len);
	hkdf_extract_update(&x, d.ikm, d.ikm_len);
	hkdf_extract_final(&x, prk);
	ck_assert_mem_eq(prk, d.prk, 32);
	ck_assert_int_eq(hkdf_expand(okm, d.okm_len, prk, d.info, d.info_len), 0);
	ck_assert_mem_eq(okm, d.okm, d.okm_len);
}
END_TEST

/* A NULL salt means the same as an empty one (A.3). */
START_TEST(test_null_salt)
{
	struct decoded d;
	struct hkdf_extract x;
	uint8_t prk[HKDF_SHA256_LEN];

	decode(&cases[2], &d);
	hkdf_extract_init(&x, NULL, 0);
	hkdf_extract_update(&x, d.ikm, d.ikm_len);
	hkdf_extract_final(&x, prk);
	ck_assert_mem_eq(prk, d.prk, 32);
}
END_TEST

/* tcpcrypt feeds the IKM in four pieces; any split must give the same PRK. */
START_TEST(test_extract_pieces)
{
	static const size_t cuts[][4] = {
		{ 0, 0, 0, 80 }, { 1, 1, 1, 77 }, { 11, 65, 4, 0 },
		{ 0, 40, 0, 40 }, { 79, 0, 1, 0 }, { 5, 13, 29, 33 },
	};
	struct decoded d;
	uint8_t prk[HKDF_SHA256_LEN];

	decode(&cases[1], &d);
	ck_assert_uint_eq(d.ikm_len, 80);
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct hkdf_extract x;
		size_t pos = 0;

		hkdf_extract_init(&x, d.salt, d.salt_len);
		for (size_t p = 0; p < 4; p++) {
			hkdf_extract_update(&x, d.ikm + pos, cuts[c][p]);
			pos += cuts[c][p];
		}
		ck_assert_uint_eq(pos, 80);
		hkdf_extract_final(&x, prk);
		ck_assert_msg(memcmp(prk, d.prk, 32) == 0, "split %zu differs", c);
	}
}
END_TEST

/* Byte-at-a-time extract also matches. */
START_TEST(test_extract_bytewise)
{
	struct decoded d;
	struct hkdf_extract x;
	uint8_t prk[HKDF_SHA256_LEN];

	decode(&cases[0], &d);
	hkdf_extract_init(&x, d.salt, d.salt_len);
	for (size_t i = 0; i < d.ikm_len; i++)
		hkdf_extract_update(&x, d.ikm + i, 1);
	hkdf_extract_final(&x, prk);
	ck_assert_mem_eq(prk, d.prk, 32);
}
END_TEST

/* A shorter output is a prefix of a longer one (T(i) chaining). */
START_TEST(test_expand_prefix)
{
	struct decoded d;
	uint8_t okm[82];

	decode(&cases[1], &d);
	for (size_t n = 0; n <= d.okm_len; n++) {
		memset(okm, 0xee, sizeof(okm));
		ck_assert_int_eq(hkdf_expand(okm, n, d.prk, d.info, d.info_len), 0);
		ck_assert_mem_eq(okm, d.okm, n);
		/* nothing beyond out_len is written */
		for (size_t i = n; i < sizeof(okm); i++)
			ck_assert_uint_eq(okm[i], 0xee);
	}
}
END_TEST

START_TEST(test_expand_limit)
{
	enum { MAX = 255 * HKDF_SHA256_LEN };
	static uint8_t out[MAX + 1];
	uint8_t prk[HKDF_SHA256_LEN] = { 1 };

	memset(out, 0x5a, sizeof(out));
	ck_assert_int_eq(hkdf_expand(out, MAX + 1, prk, NULL, 0), -1);
	/* the failed call wrote nothing */
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0x5a);
	ck_assert_int_eq(hkdf_expand(out, SIZE_MAX, prk, NULL, 0), -1);
	ck_assert_int_eq(hkdf_expand(out, MAX, prk, NULL, 0), 0);
	ck_assert_uint_eq(out[MAX], 0x5a);
}
END_TEST

/* Expand against RFC 5869's definition written out with libsodium's
 * HMAC-SHA256, for infos that fit hkdf.c's one-piece block and infos that
 * do not (ONE_PIECE_INFO, 160 bytes). */
START_TEST(test_expand_info_lengths)
{
	uint8_t prk[HKDF_SHA256_LEN], info[300], got[96], want[96], t[HKDF_SHA256_LEN];

	for (size_t i = 0; i < sizeof(prk); i++)
		prk[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(i * 13);
	for (size_t len = 0; len <= sizeof(info); len += len < 150 ? 37 : 1) {
		if (len > 170 && len < 290)
			len = 290;
		for (uint8_t c = 1; c <= 3; c++) {
			crypto_auth_hmacsha256_state st;

			crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
			if (c > 1)
				crypto_auth_hmacsha256_update(&st, t, sizeof(t));
			crypto_auth_hmacsha256_update(&st, info, len);
			crypto_auth_hmacsha256_update(&st, &c, 1);
			crypto_auth_hmacsha256_final(&st, t);
			memcpy(want + (c - 1) * HKDF_SHA256_LEN, t, HKDF_SHA256_LEN);
		}
		ck_assert_int_eq(hkdf_expand(got, sizeof(got), prk, info, len), 0);
		ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "info of %zu bytes", len);
	}
}
END_TEST

/* CPRF(K, C, L) is HKDF-Expand with the one-byte info C. */
START_TEST(test_cprf)
{
	uint8_t key[HKDF_SHA256_LEN], a[64], b[64];
	const uint8_t ctx = 0x04;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7);
	hkdf_cprf(a, sizeof(a), key, ctx);
	ck_assert_int_eq(hkdf_expand(b, sizeof(b), key, &ctx, 1), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	hkdf_cprf(b, sizeof(b), key, 0x05);
	ck_assert_msg(memcmp(a, b, sizeof(a)) != 0, "contexts must separate");
}
END_TEST

static Suite *hkdf_suite(void)
{
	Suite *s = suite_create("hkdf");
	TCase *tc = tcase_create("core");

	if (sodium_init() < 0)
		abort();

	tcase_add_loop_test(tc, test_rfc5869, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_null_salt);
	tcase_add_test(tc, test_extract_pieces);
	tcase_add_test(tc, test_extract_bytewise);
	tcase_add_test(tc, test_expand_prefix);
	tcase_add_test(tc, test_expand_limit);
	tcase_add_test(tc, test_expand_info_lengths);
	tcase_add_test(tc, test_cprf);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(hkdf_suite)
