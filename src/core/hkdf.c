/* SPDX-License-Identifier: BSD-2-Clause */
/* HKDF-SHA256 (RFC 5869) on top of libsodium's HMAC-SHA256. */
#include "hkdf.h"

#include <stdlib.h>
#include <string.h>

#define HKDF_MAX_OUT (255 * HKDF_SHA256_LEN)

void hkdf_extract_init(struct hkdf_extract *x, const uint8_t *salt, size_t salt_len)
{
	/* RFC 5869 2.2: a missing salt is HashLen zero bytes.  HMAC would pad
	 * an empty key to the same block anyway, but say what the RFC says. */
	static const uint8_t zero_salt[HKDF_SHA256_LEN];

	if (salt == NULL || salt_len == 0) {
		salt = zero_salt;
		salt_len = sizeof(zero_salt);
	}
	crypto_auth_hmacsha256_init(&x->hmac, salt, salt_len);
}

void hkdf_extract_update(struct hkdf_extract *x, const uint8_t *ikm, size_t len)
{
	crypto_auth_hmacsha256_update(&x->hmac, ikm, len);
}

void hkdf_extract_final(struct hkdf_extract *x, uint8_t prk[HKDF_SHA256_LEN])
{
	crypto_auth_hmacsha256_final(&x->hmac, prk);
	/* The state holds key-derived pads: do not leave them on the stack
	 * of whoever owns x. */
	sodium_memzero(x, sizeof(*x));
}

/* T(i) = HMAC(PRK, T(i-1) | info | i); T(0) is empty. */
static void hkdf_block(uint8_t t[HKDF_SHA256_LEN], const uint8_t prk[HKDF_SHA256_LEN],
		       const uint8_t *info, size_t info_len, uint8_t counter)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, prk, HKDF_SHA256_LEN);
	if (counter > 1)
		crypto_auth_hmacsha256_update(&st, t, HKDF_SHA256_LEN);
	if (info_len > 0)
		crypto_auth_hmacsha256_update(&st, info, info_len);
	crypto_auth_hmacsha256_update(&st, &counter, 1);
	crypto_auth_hmacsha256_final(&st, t);
	sodium_memzero(&st, sizeof(st));
}

int hkdf_expand(uint8_t *out, size_t out_len, const uint8_t prk[HKDF_SHA256_LEN],
		const uint8_t *info, size_t info_len)
{
	uint8_t t[HKDF_SHA256_LEN];
	uint8_t counter = 0;
	size_t done = 0;

	if (out_len > HKDF_MAX_OUT)
		return -1;
	/* T(i) is kept in its own buffer rather than in out, because the
	 * next block needs all of it even when out only takes a prefix. */
	while (done < out_len) {
		size_t n = out_len - done;

		if (n > HKDF_SHA256_LEN)
			n = HKDF_SHA256_LEN;
		hkdf_block(t, prk, info, info_len, ++counter);
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(t, sizeof(t));
	return 0;
}

void hkdf_cprf(uint8_t *out, size_t out_len, const uint8_t key[HKDF_SHA256_LEN], uint8_t context)
{
	/* Every caller asks for a fixed size far below the limit; failing
	 * here would mean a key silently left uninitialised, so stop. */
	if (hkdf_expand(out, out_len, key, &context, 1) != 0)
		abort();
}
