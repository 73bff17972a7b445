/* SPDX-License-Identifier: BSD-2-Clause */
/* tcpcrypt key exchange: Init1/Init2 wire format and the key schedule
 * (doc/protocol.md sections 4 and 5). */
#include "kx.h"

#include <string.h>
#include <sodium.h>

#include "bytes.h"
#include "hkdf.h"

/* magic(4) | len(4): common to both messages. */
#define KX_HDR_LEN        8
/* Init1 up to and including nciphers. */
#define KX_INIT1_HEAD_LEN (KX_HDR_LEN + 1)
/* Init2 has no variable part. */
#define KX_INIT2_FIXED    (KX_HDR_LEN + 2 + KX_NONCE_LEN + KX_KEY_LEN)

/* One-byte CPRF contexts of the key schedule (the traffic-key chains'
 * 0x04, 0x05, 0x07 and 0x08 are seal2.h's). */
enum {
	CTX_SS_NEXT = 0x01,
	CTX_SESSID = 0x02,
	CTX_MK = 0x03,
};

#define KX_SESSID_TAG 0xa0

size_t kx_init1_encode(uint8_t out[KX_INIT1_MAX_OWN], const uint16_t *suites, unsigned n,
		       const uint8_t nonce[KX_NONCE_LEN], const uint8_t pub[KX_KEY_LEN])
{
	size_t len = KX_INIT1_FIXED + 2 * (size_t)n;
	uint8_t *p = out + KX_INIT1_HEAD_LEN;

	if (n == 0 || n > KX_MAX_SUITES)
		return 0;
	put_be32(out, KX_INIT1_MAGIC);
	put_be32(out + 4, (uint32_t)len);
	out[8] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++, p += 2)
		put_be16(p, suites[i]);
	memcpy(p, nonce, KX_NONCE_LEN);
	memcpy(p + KX_NONCE_LEN, pub, KX_KEY_LEN);
	return len;
}

size_t kx_init2_encode(uint8_t out[KX_INIT2_LEN], uint16_t suite,
		       const uint8_t nonce[KX_NONCE_LEN], const uint8_t pub[KX_KEY_LEN])
{
	put_be32(out, KX_INIT2_MAGIC);
	put_be32(out + 4, KX_INIT2_LEN);
	put_be16(out + 8, suite);
	memcpy(out + 10, nonce, KX_NONCE_LEN);
	memcpy(out + 10 + KX_NONCE_LEN, pub, KX_KEY_LEN);
	return KX_INIT2_LEN;
}

/* Checks the part both messages share once the size of the fixed part is
 * known: the buffer must hold that part, and len must cover it, stay within
 * our limit and within the buffer.  The magic is checked by the caller first,
 * so that a short segment that is no Init message at all says so. */
static enum kx_status check_len(const uint8_t *buf, size_t buf_len, size_t fixed,
				uint32_t *len_out)
{
	uint32_t len;

	if (buf_len < fixed)
		return KX_ERR_TRUNCATED;
	len = get_be32(buf + 4);
	if (len < fixed || len > KX_INIT_MAX_LEN)
		return KX_ERR_LENGTH;
	if (len > buf_len)
		return KX_ERR_TRUNCATED;
	*len_out = len;
	return KX_OK;
}

bool kx_suite_listed(const uint16_t *list, unsigned n, uint16_t suite)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == suite)
			return true;
	return false;
}

uint16_t kx_choose_suite(const struct kx_init1 *m, const uint16_t *ours, unsigned n)
{
	for (unsigned i = 0; i < m->nciphers; i++) {
		uint16_t s = get_be16(m->suites + 2 * i);

		if (kx_suite_listed(ours, n, s))
			return s;
	}
	return 0;
}

enum kx_status kx_init1_parse(const uint8_t *buf, size_t buf_len, struct kx_init1 *out)
{
	enum kx_status st;
	uint32_t len;
	uint8_t n;
	size_t fixed;

	if (buf_len < 4)
		return KX_ERR_TRUNCATED;
	if (get_be32(buf) != KX_INIT1_MAGIC)
		return KX_ERR_MAGIC;
	if (buf_len < KX_INIT1_HEAD_LEN)
		return KX_ERR_TRUNCATED;
	n = buf[8];
	fixed = KX_INIT1_HEAD_LEN + 2 * (size_t)n + KX_NONCE_LEN + KX_KEY_LEN;
	st = check_len(buf, buf_len, fixed, &len);
	if (st != KX_OK)
		return st;
	if (n == 0)
		return KX_ERR_NO_SUITE;
	out->len = len;
	out->nciphers = n;
	out->suites = buf + KX_INIT1_HEAD_LEN;
	out->nonce = buf + KX_INIT1_HEAD_LEN + 2 * (size_t)n;
	out->pub = out->nonce + KX_NONCE_LEN;
	return KX_OK;
}

enum kx_status kx_init2_parse(const uint8_t *buf, size_t buf_len, struct kx_init2 *out)
{
	enum kx_status st;
	uint32_t len;
	uint16_t suite;

	if (buf_len < 4)
		return KX_ERR_TRUNCATED;
	if (get_be32(buf) != KX_INIT2_MAGIC)
		return KX_ERR_MAGIC;
	st = check_len(buf, buf_len, KX_INIT2_FIXED, &len);
	if (st != KX_OK)
		return st;
	/* Whether we offered it is the caller's check (kx_suite_listed). */
	suite = get_be16(buf + KX_HDR_LEN);
	out->len = len;
	out->suite = suite;
	out->nonce = buf + KX_HDR_LEN + 2;
	out->pub = out->nonce + KX_NONCE_LEN;
	return KX_OK;
}

const char *kx_status_str(enum kx_status s)
{
	switch (s) {
	case KX_OK:
		return "ok";
	case KX_ERR_TRUNCATED:
		return "truncated Init message";
	case KX_ERR_MAGIC:
		return "bad Init magic";
	case KX_ERR_LENGTH:
		return "bad Init length";
	case KX_ERR_NO_SUITE:
		return "no supported cipher suite offered";
	case KX_ERR_BAD_SUITE:
		return "peer chose a suite we did not offer";
	case KX_ERR_ZERO_KEY:
		return "X25519 shared secret is all zeros";
	}
	return "unknown kx status";
}

/* PRK = HKDF-Extract(N_A, transcript | Init1 | Init2 | ES). */
static void derive_prk(const struct kx_input *in, const uint8_t *n_a,
		       const uint8_t es[KX_KEY_LEN], uint8_t prk[HKDF_SHA256_LEN])
{
	struct hkdf_extract x;

	hkdf_extract_init(&x, n_a, KX_NONCE_LEN);
	hkdf_extract_update(&x, in->transcript, in->transcript_len);
	hkdf_extract_update(&x, in->init1, in->init1_len);
	hkdf_extract_update(&x, in->init2, in->init2_len);
	hkdf_extract_update(&x, es, KX_KEY_LEN);
	hkdf_extract_final(&x, prk);	/* wipes x */
}

static void derive_keys(const uint8_t prk[HKDF_SHA256_LEN], struct kx_secrets *out)
{
	out->session_id[0] = KX_SESSID_TAG;
	hkdf_cprf(out->session_id + 1, KX_SESSID_LEN - 1, prk, CTX_SESSID);
	hkdf_cprf(out->mk, sizeof(out->mk), prk, CTX_MK);
	hkdf_cprf(out->ss1, sizeof(out->ss1), prk, CTX_SS_NEXT);
}

/* The u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519
 * and its twist, and the non-canonical encodings of 0 and 1 (p and p + 1)
 * and of p - 1.  X25519 ignores bit 255, so it is masked before comparing. */
static const uint8_t small_order[][KX_KEY_LEN] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
	  0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
	  0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83,
	  0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd,
	  0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
};

bool kx_pub_has_small_order(const uint8_t pub[KX_KEY_LEN])
{
	uint8_t u[KX_KEY_LEN];
	bool found = false;
	size_t i;

	memcpy(u, pub, sizeof(u));
	u[KX_KEY_LEN - 1] &= 0x7f;
	/* Public values: no need for constant time. */
	for (i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		found |= memcmp(u, small_order[i], sizeof(u)) == 0;
	return found;
}

enum kx_status kx_shared_secret(uint8_t es[KX_KEY_LEN], const uint8_t own_priv[KX_KEY_LEN],
				const uint8_t peer_pub[KX_KEY_LEN])
{
	/* libsodium refuses (returns -1) when the result is all zeros, which
	 * is what a low-order peer public key produces. */
	if (crypto_scalarmult(es, own_priv, peer_pub) != 0) {
		sodium_memzero(es, KX_KEY_LEN);
		return KX_ERR_ZERO_KEY;
	}
	return KX_OK;
}

enum kx_status kx_derive_from_es(const struct kx_input *in, const uint8_t es[KX_KEY_LEN],
				 struct kx_secrets *out)
{
	struct kx_init1 i1;
	enum kx_status st;
	uint8_t prk[HKDF_SHA256_LEN];

	sodium_memzero(out, sizeof(*out));
	/* The salt N_A sits after a variable number of suites, so find it by
	 * parsing; this also keeps a malformed Init1 from being read past
	 * its end (callers have parsed it already, so this cannot fail for
	 * them). */
	st = kx_init1_parse(in->init1, in->init1_len, &i1);
	if (st != KX_OK)
		return st;
	derive_prk(in, i1.nonce, es, prk);
	derive_keys(prk, out);
	sodium_memzero(prk, sizeof(prk));
	return KX_OK;
}

enum kx_status kx_derive(const struct kx_input *in, struct kx_secrets *out,
			 uint8_t es_out[KX_KEY_LEN])
{
	enum kx_status st;
	uint8_t es[KX_KEY_LEN];

	sodium_memzero(out, sizeof(*out));
	st = kx_shared_secret(es, in->own_priv, in->peer_pub);
	if (st == KX_OK)
		st = kx_derive_from_es(in, es, out);
	if (st == KX_OK && es_out != NULL)
		memcpy(es_out, es, KX_KEY_LEN);
	sodium_memzero(es, sizeof(es));
	return st;
}

void kx_keypair_from_seed(uint8_t pub[KX_KEY_LEN], const uint8_t priv[KX_KEY_LEN])
{
	/* Clamping sets bit 254 of the scalar, so the result is never the
	 * all-zero point and the return value carries no information. */
	(void)crypto_scalarmult_base(pub, priv);
}
