/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nullcrypto: a measuring instrument for scripts/bench, never for use.
 *
 *   LD_PRELOAD=tools/.libs/nullcrypto.so tcpcryptd ...
 *
 * Replaces the primitives that tcpcryptd runs over every payload byte with
 * functions that cost next to nothing:
 *   protocol version 1 (suite 0x7401): libsodium's ChaCha20 keystream and
 *     keyed BLAKE2b;
 *   protocol version 2: OpenSSL's AES-128-CTR and ChaCha20 keystreams
 *     (EVP_EncryptUpdate on a context of either cipher; any other cipher
 *     runs for real) and its Poly1305 (EVP_MAC_update and EVP_MAC_final
 *     on a POLY1305 context), and libsodium's fallbacks for them:
 *     crypto_stream_chacha20_xor_ic, the crypto_onetimeauth_poly1305
 *     functions and the HChaCha20 that finishes a tag.
 * The "keystream" is all zeros, so payloads cross the wire unchanged, and
 * every tag is zeros, so both daemons still agree on it and verify it.
 * Keying (EVP_EncryptInit_ex2, EVP_MAC_init) still runs.  Everything else
 * the daemon does (TCP-ENO, the key exchange, Init messages, options,
 * sequence mapping, checksums, the queue) runs unchanged.  Both hosts must
 * load it, or every MAC fails.
 *
 * What it answers: how fast tcpcryptd would move data if the cipher suite
 * the protocol fixes cost nothing, i.e. how much of the gap to the
 * copy-back passthrough is tcpcryptd's own packet handling and how much the
 * suite's per-byte cost.  It announces itself on stderr when loaded, since
 * a daemon running with it sends plaintext.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <sodium.h>

__attribute__((constructor)) static void nullcrypto_announce(void)
{
	fprintf(stderr, "nullcrypto: ChaCha20, AES-128-CTR, BLAKE2b and Poly1305 replaced by "
			"no-ops in this process: payloads travel in plaintext (measurement "
			"only)\n");
}

int crypto_stream_chacha20_xor_ic(unsigned char *c, const unsigned char *m,
				  unsigned long long mlen, const unsigned char *n,
				  uint64_t ic, const unsigned char *k)
{
	(void)n;
	(void)ic;
	(void)k;
	/* XOR with a zero keystream: the output is the input. */
	if (c != m)
		memmove(c, m, (size_t)mlen);
	return 0;
}

int crypto_generichash_init(crypto_generichash_state *state, const unsigned char *key,
			    const size_t keylen, const size_t outlen)
{
	(void)state;
	(void)key;
	(void)keylen;
	(void)outlen;
	return 0;
}

int crypto_generichash_update(crypto_generichash_state *state, const unsigned char *in,
			      unsigned long long inlen)
{
	(void)state;
	(void)in;
	(void)inlen;
	return 0;
}

int crypto_generichash_final(crypto_generichash_state *state, unsigned char *out,
			     const size_t outlen)
{
	(void)state;
	memset(out, 0, outlen);
	return 0;
}

/* --- protocol version 2 ---------------------------------------------------- */

int EVP_EncryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl,
		      const unsigned char *in, int inl)
{
	static int (*real)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
	int nid = EVP_CIPHER_CTX_get_nid(ctx);

	if (nid == NID_aes_128_ctr || nid == NID_chacha20) {
		if (inl < 0)
			return 0;
		if (out != in && inl > 0)
			memmove(out, in, (size_t)inl);
		*outl = inl;
		return 1;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "EVP_EncryptUpdate");
	return real ? real(ctx, out, outl, in, inl) : 0;
}

/* The Poly1305 MAC, recognised once by its EVP_MAC (the daemon keeps it
 * for its lifetime); any other MAC runs for real. */
static const EVP_MAC *poly1305_mac;

static int is_poly1305(EVP_MAC_CTX *ctx)
{
	const EVP_MAC *m = EVP_MAC_CTX_get0_mac(ctx);

	if (m && m == poly1305_mac)
		return 1;
	if (m && EVP_MAC_is_a(m, "POLY1305")) {
		poly1305_mac = m;
		return 1;
	}
	return 0;
}

int EVP_MAC_update(EVP_MAC_CTX *ctx, const unsigned char *data, size_t datalen)
{
	static int (*real)(EVP_MAC_CTX *, const unsigned char *, size_t);

	if (is_poly1305(ctx))
		return 1;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "EVP_MAC_update");
	return real ? real(ctx, data, datalen) : 0;
}

int EVP_MAC_final(EVP_MAC_CTX *ctx, unsigned char *out, size_t *outl, size_t outsize)
{
	static int (*real)(EVP_MAC_CTX *, unsigned char *, size_t *, size_t);

	if (is_poly1305(ctx)) {
		if (out) {
			if (outsize < 16)
				return 0;
			memset(out, 0, 16);
		}
		if (outl)
			*outl = 16;
		return 1;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "EVP_MAC_final");
	return real ? real(ctx, out, outl, outsize) : 0;
}

int crypto_onetimeauth_poly1305(unsigned char *out, const unsigned char *in,
				unsigned long long inlen, const unsigned char *k)
{
	(void)in;
	(void)inlen;
	(void)k;
	memset(out, 0, crypto_onetimeauth_poly1305_BYTES);
	return 0;
}

int crypto_onetimeauth_poly1305_verify(const unsigned char *h, const unsigned char *in,
				       unsigned long long inlen, const unsigned char *k)
{
	static const unsigned char zeros[crypto_onetimeauth_poly1305_BYTES];

	(void)in;
	(void)inlen;
	(void)k;
	return memcmp(h, zeros, sizeof(zeros)) == 0 ? 0 : -1;
}

int crypto_onetimeauth_poly1305_init(crypto_onetimeauth_poly1305_state *state,
				     const unsigned char *key)
{
	(void)state;
	(void)key;
	return 0;
}

int crypto_onetimeauth_poly1305_update(crypto_onetimeauth_poly1305_state *state,
				       const unsigned char *in, unsigned long long inlen)
{
	(void)state;
	(void)in;
	(void)inlen;
	return 0;
}

int crypto_onetimeauth_poly1305_final(crypto_onetimeauth_poly1305_state *state,
				      unsigned char *out)
{
	(void)state;
	memset(out, 0, crypto_onetimeauth_poly1305_BYTES);
	return 0;
}

int crypto_core_hchacha20(unsigned char *out, const unsigned char *in, const unsigned char *k,
			  const unsigned char *c)
{
	(void)in;
	(void)k;
	(void)c;
	memset(out, 0, crypto_core_hchacha20_OUTPUTBYTES);
	return 0;
}
