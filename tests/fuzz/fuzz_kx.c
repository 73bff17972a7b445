/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: Init1/Init2 parsing, the choice of a cipher suite and
 * the key schedule's handling of untrusted messages (src/core/kx.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "kx.h"
#include "log.h"
#include "seal2.h"

#define AES SEAL2_SUITE_AES128CTR
#define CHA SEAL2_SUITE_CHACHA20

/* What B may support, in its order of preference. */
static const uint16_t b_lists[][KX_MAX_SUITES] = {
	{ AES, CHA }, { CHA, AES }, { AES, 0 }, { CHA, 0 },
};
static const unsigned b_counts[] = { 2, 2, 1, 1 };

static uint8_t own_priv[KX_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	FUZZ_CHECK(sodium_init() >= 0);
	memset(own_priv, 0x5a, sizeof(own_priv));
	return 0;
}

static uint16_t suite_at(const struct kx_init1 *m, unsigned i)
{
	return (uint16_t)(m->suites[2 * i] << 8 | m->suites[2 * i + 1]);
}

/* kx_choose_suite against a plain reading of the rule: the first suite in
 * A's list that B supports, 0 if none. */
static void check_choice(const struct kx_init1 *m)
{
	uint16_t first_known = 0;

	for (unsigned i = 0; i < m->nciphers && !first_known; i++)
		if (suite_at(m, i) == AES || suite_at(m, i) == CHA)
			first_known = suite_at(m, i);
	for (size_t l = 0; l < sizeof(b_counts) / sizeof(b_counts[0]); l++) {
		uint16_t got = kx_choose_suite(m, b_lists[l], b_counts[l]);
		uint16_t want = 0;

		for (unsigned i = 0; i < m->nciphers && !want; i++)
			if (kx_suite_listed(b_lists[l], b_counts[l], suite_at(m, i)))
				want = suite_at(m, i);
		FUZZ_CHECK(got == want);
		FUZZ_CHECK(got == 0 || kx_suite_listed(b_lists[l], b_counts[l], got));
		/* B supporting both: A's order decides, not B's */
		if (b_counts[l] == 2)
			FUZZ_CHECK(got == first_known);
	}
	FUZZ_CHECK(kx_choose_suite(m, NULL, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct kx_init1 i1;
	struct kx_init2 i2;
	enum kx_status st, st1;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);

	st1 = st = kx_init1_parse(buf, size, &i1);
	FUZZ_CHECK(kx_status_str(st) != NULL);
	if (st == KX_OK) {
		FUZZ_CHECK(i1.len <= size && i1.len <= KX_INIT_MAX_LEN);
		FUZZ_CHECK(i1.nciphers >= 1);
		FUZZ_CHECK(FUZZ_INSIDE(i1.suites, 2 * (size_t)i1.nciphers, buf, i1.len));
		FUZZ_CHECK(i1.nonce == i1.suites + 2 * (size_t)i1.nciphers);
		FUZZ_CHECK(FUZZ_INSIDE(i1.nonce, KX_NONCE_LEN, buf, i1.len));
		FUZZ_CHECK(FUZZ_INSIDE(i1.pub, KX_KEY_LEN, buf, i1.len));
		FUZZ_CHECK(i1.len >= KX_INIT1_FIXED + 2 * (size_t)i1.nciphers);
		check_choice(&i1);

		/* Re-encoding an Init1 we could have sent gives the same bytes. */
		uint8_t enc[KX_INIT1_MAX_OWN];
		struct kx_init1 again;
		if (i1.nciphers <= KX_MAX_SUITES) {
			uint16_t suites[KX_MAX_SUITES];
			size_t n;

			for (unsigned i = 0; i < i1.nciphers; i++)
				suites[i] = suite_at(&i1, i);
			n = kx_init1_encode(enc, suites, i1.nciphers, i1.nonce, i1.pub);
			FUZZ_CHECK(n == KX_INIT1_FIXED + 2 * (size_t)i1.nciphers);
			FUZZ_CHECK(kx_init1_parse(enc, n, &again) == KX_OK);
			FUZZ_CHECK(again.len == n && again.nciphers == i1.nciphers);
			FUZZ_CHECK(memcmp(again.pub, i1.pub, KX_KEY_LEN) == 0);
			FUZZ_CHECK(memcmp(again.nonce, i1.nonce, KX_NONCE_LEN) == 0);
			if (i1.len == n)
				FUZZ_CHECK(memcmp(enc, buf, n) == 0);
		}
		/* Any shorter prefix than len is truncated. */
		FUZZ_CHECK(kx_init1_parse(buf, i1.len - 1, &again) == KX_ERR_TRUNCATED);
	}

	st = kx_init2_parse(buf, size, &i2);
	FUZZ_CHECK(kx_status_str(st) != NULL);
	if (st == KX_OK) {
		FUZZ_CHECK(i2.len <= size && i2.len <= KX_INIT_MAX_LEN);
		FUZZ_CHECK(i2.len >= KX_INIT2_LEN);
		FUZZ_CHECK(FUZZ_INSIDE(i2.nonce, KX_NONCE_LEN, buf, i2.len));
		FUZZ_CHECK(FUZZ_INSIDE(i2.pub, KX_KEY_LEN, buf, i2.len));
		FUZZ_CHECK(i2.suite == (uint16_t)(buf[8] << 8 | buf[9]));
		uint8_t enc[KX_INIT2_LEN];
		struct kx_init2 again;
		FUZZ_CHECK(kx_init2_encode(enc, i2.suite, i2.nonce, i2.pub) == KX_INIT2_LEN);
		FUZZ_CHECK(kx_init2_parse(enc, sizeof(enc), &again) == KX_OK);
		FUZZ_CHECK(again.len == KX_INIT2_LEN && again.suite == i2.suite);
		if (i2.len == KX_INIT2_LEN)
			FUZZ_CHECK(memcmp(enc, buf, KX_INIT2_LEN) == 0);
		FUZZ_CHECK(kx_init2_parse(buf, i2.len - 1, &again) == KX_ERR_TRUNCATED);
	}

	/* The key schedule over the input as Init1 (and as Init2): it parses
	 * Init1 itself and must refuse exactly what the parser refuses. */
	{
		static const uint8_t transcript[] = {
			0x45, 0x05, 0xa0, 0x74, 0x32, 0x45, 0x06, 0x01, 0xa0, 0x74, 0x32,
		};
		uint8_t es[KX_KEY_LEN];
		struct kx_secrets sec;
		struct kx_input in = {
			.transcript = transcript, .transcript_len = sizeof(transcript),
			.init1 = buf, .init1_len = size, .init2 = buf, .init2_len = size,
		};

		memset(es, 0x11, sizeof(es));
		FUZZ_CHECK(kx_derive_from_es(&in, es, &sec) == st1);
		if (st1 == KX_OK)
			FUZZ_CHECK(sec.session_id[0] == 0xa0);
	}

	/* The small-order check agrees with X25519 itself on the first 32
	 * bytes taken as a public key. */
	if (size >= KX_KEY_LEN) {
		uint8_t es[KX_KEY_LEN];
		bool small = kx_pub_has_small_order(buf);

		FUZZ_CHECK((kx_shared_secret(es, own_priv, buf) == KX_ERR_ZERO_KEY) == small);
	}
	free(buf);
	return 0;
}
