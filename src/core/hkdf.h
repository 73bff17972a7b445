/* SPDX-License-Identifier: BSD-2-Clause */
/* HKDF-SHA256 (RFC 5869).  Extract runs on libsodium's HMAC-SHA256 and is
 * incremental, because tcpcrypt's input keying material is a concatenation
 * of four pieces; expand, which every connection runs a dozen times, on
 * OpenSSL's SHA-256 (the CPU's SHA instructions), falling back to
 * libsodium. */
#ifndef TC_HKDF_H
#define TC_HKDF_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#define HKDF_SHA256_LEN 32

struct hkdf_extract {
	crypto_auth_hmacsha256_state hmac;
};

/* PRK = HMAC-SHA256(salt, ikm_1 | ikm_2 | ...); an empty salt means
 * 32 zero bytes, as RFC 5869 says. */
void hkdf_extract_init(struct hkdf_extract *x, const uint8_t *salt, size_t salt_len);
void hkdf_extract_update(struct hkdf_extract *x, const uint8_t *ikm, size_t len);
void hkdf_extract_final(struct hkdf_extract *x, uint8_t prk[HKDF_SHA256_LEN]);

/* OKM = first out_len bytes of T(1) | T(2) | ...; returns -1 (and writes
 * nothing) when out_len > 255 * 32. */
int hkdf_expand(uint8_t *out, size_t out_len, const uint8_t prk[HKDF_SHA256_LEN],
		const uint8_t *info, size_t info_len);

/* tcpcrypt's CPRF(K, C, L) with a one-byte context C. */
void hkdf_cprf(uint8_t *out, size_t out_len, const uint8_t key[HKDF_SHA256_LEN], uint8_t context);

#endif
