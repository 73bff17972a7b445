/* SPDX-License-Identifier: BSD-2-Clause */
/* HKDF-SHA256 (RFC 5869): extract on libsodium's HMAC-SHA256, expand on
 * OpenSSL's SHA-256 (see hmac_sha256). */
#include "hkdf.h"

#include <openssl/evp.h>
#include <stdbool.h>
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

/* HMAC-SHA256 for the expand step, the hot one: every connection derives a
 * dozen keys, and libsodium's SHA-256 is portable C, while OpenSSL's uses
 * the CPU's SHA instructions where there are some (several times faster).
 * One digest context for the process (the daemon has one thread); if
 * OpenSSL fails once, libsodium does the work from then on. */
#define SHA256_BLOCK 64

static EVP_MD *sha256_md;
static EVP_MD_CTX *sha256_ctx;
static bool sha256_evp_failed;

static bool sha256_evp_ready(void)
{
	if (sha256_evp_failed)
		return false;
	if (!sha256_md)
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_ctx)
		sha256_ctx = EVP_MD_CTX_new();
	if (!sha256_md || !sha256_ctx)
		sha256_evp_failed = true;
	return !sha256_evp_failed;
}

/* Most infos are short (a context byte and at most a transcript): then
 * each SHA-256 pass below is one EVP update of a block built on the
 * stack, not one per piece.  In a handshake, where the code is not in the
 * cache, every EVP call counts more than the compression it wraps. */
#define ONE_PIECE_INFO 160

/* One pass of SHA-256 over pad (the key XOR a pad byte) and the parts. */
static bool evp_pass(const uint8_t pad[SHA256_BLOCK], const uint8_t *const part[3],
		     const size_t part_len[3], uint8_t out[HKDF_SHA256_LEN])
{
	uint8_t blk[SHA256_BLOCK + HKDF_SHA256_LEN + ONE_PIECE_INFO + 1];
	size_t n = SHA256_BLOCK, total = SHA256_BLOCK;
	unsigned len = 0;
	bool ok;

	for (int i = 0; i < 3; i++)
		total += part_len[i];
	if (total <= sizeof(blk)) {
		memcpy(blk, pad, SHA256_BLOCK);
		for (int i = 0; i < 3; i++)
			if (part_len[i]) {
				memcpy(blk + n, part[i], part_len[i]);
				n += part_len[i];
			}
		ok = EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) == 1 &&
		     EVP_DigestUpdate(sha256_ctx, blk, n) == 1;
		sodium_memzero(blk, n);
	} else {
		ok = EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) == 1 &&
		     EVP_DigestUpdate(sha256_ctx, pad, SHA256_BLOCK) == 1;
		for (int i = 0; ok && i < 3; i++)
			if (part_len[i])
				ok = EVP_DigestUpdate(sha256_ctx, part[i], part_len[i]) == 1;
	}
	return ok && EVP_DigestFinal_ex(sha256_ctx, out, &len) == 1 && len == HKDF_SHA256_LEN;
}

/* Leaves no key-derived state in the shared context (the last pass ended
 * with an output in it): once per expand, not per block. */
static void evp_wipe(void)
{
	if (sha256_ctx && !sha256_evp_failed &&
	    EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1)
		sha256_evp_failed = true;
}

/* HMAC(key, part[0] | part[1] | part[2]) with a 32-byte key (RFC 2104).
 * The caller calls evp_wipe() when done. */
static void hmac_sha256(uint8_t out[HKDF_SHA256_LEN], const uint8_t key[HKDF_SHA256_LEN],
			const uint8_t *const part[3], const size_t part_len[3])
{
	uint8_t ipad[SHA256_BLOCK], opad[SHA256_BLOCK], inner[HKDF_SHA256_LEN];
	const uint8_t *outer_part[3] = { inner, NULL, NULL };
	const size_t outer_len[3] = { sizeof(inner), 0, 0 };
	crypto_auth_hmacsha256_state st;
	bool ok = false;

	if (sha256_evp_ready()) {
		memset(ipad, 0x36, sizeof(ipad));
		memset(opad, 0x5c, sizeof(opad));
		for (size_t i = 0; i < HKDF_SHA256_LEN; i++) {
			ipad[i] ^= key[i];
			opad[i] ^= key[i];
		}
		ok = evp_pass(ipad, part, part_len, inner) && evp_pass(opad, outer_part, outer_len, out);
		sodium_memzero(ipad, sizeof(ipad));
		sodium_memzero(opad, sizeof(opad));
		sodium_memzero(inner, sizeof(inner));
		if (!ok) {
			evp_wipe();
			sha256_evp_failed = true;
		}
	}
	if (ok)
		return;
	crypto_auth_hmacsha256_init(&st, key, HKDF_SHA256_LEN);
	for (int i = 0; i < 3; i++)
		if (part_len[i])
			crypto_auth_hmacsha256_update(&st, part[i], part_len[i]);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* T(i) = HMAC(PRK, T(i-1) | info | i); T(0) is empty. */
static void hkdf_block(uint8_t t[HKDF_SHA256_LEN], const uint8_t prk[HKDF_SHA256_LEN],
		       const uint8_t *info, size_t info_len, uint8_t counter)
{
	const uint8_t *part[3] = { t, info, &counter };
	const size_t part_len[3] = { counter > 1 ? HKDF_SHA256_LEN : 0, info_len, 1 };

	hmac_sha256(t, prk, part, part_len);
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
	evp_wipe();
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
