/*
 * nullcrypto: a measuring instrument for scripts/bench, never for use.
 *
 *   LD_PRELOAD=tools/.libs/nullcrypto.so tcpcryptd ...
 *
 * Replaces the two libsodium primitives that tcpcryptd runs over every
 * payload byte (suite 0x7401: the ChaCha20 keystream and the keyed BLAKE2b
 * segment tag) with functions that cost next to nothing: the "keystream"
 * is all zeros, so payloads cross the wire unchanged, and every tag is
 * zeros, so both daemons still agree on it and verify it.  Everything else
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
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

__attribute__((constructor)) static void nullcrypto_announce(void)
{
	fprintf(stderr, "nullcrypto: ChaCha20 and BLAKE2b replaced by no-ops in this "
			"process: payloads travel in plaintext (measurement only)\n");
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
