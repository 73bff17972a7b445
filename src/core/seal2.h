/* SPDX-License-Identifier: BSD-2-Clause */
/* Data protection of protocol version 2 (doc/protocol.md sections 5 and
 * 6): the per-direction generation chains of traffic keys
 * (one generation per GiB of stream offsets), the length-preserving
 * keystreams of suites 0x7402 (ChaCha20) and 0x7403 (AES-128-CTR), and the
 * 12-byte segment tag (Poly1305 then HChaCha20).
 *
 * Pure code over byte buffers: no clocks, no RNG, no I/O. */
#ifndef TC_SEAL2_H
#define TC_SEAL2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL2_SUITE_CHACHA20   0x7402
#define SEAL2_SUITE_AES128CTR  0x7403

#define SEAL2_GEN_SHIFT   30			/* G = 2^30 bytes per generation */
#define SEAL2_GEN_SIZE    ((uint64_t)1 << SEAL2_GEN_SHIFT)
#define SEAL2_SECRET_LEN  32			/* g[j], mk */
#define SEAL2_ENC_LEN     32			/* K_enc */
#define SEAL2_HASH_LEN    16			/* K_hash (Poly1305 r) */
#define SEAL2_PRF_LEN     32			/* K_prf (HChaCha20 key) */
#define SEAL2_TAG_LEN     12
#define SEAL2_PSEUDO_LEN  22

/* CPRF contexts of the key schedule. */
#define SEAL2_CTX_AB      0x04	/* g_ab[0] = CPRF(mk, 0x04, 32): A -> B */
#define SEAL2_CTX_BA      0x05	/* g_ba[0] = CPRF(mk, 0x05, 32): B -> A */
#define SEAL2_CTX_NEXT    0x07	/* g[j] = CPRF(g[j-1], 0x07, 32) */
#define SEAL2_CTX_KEYS    0x08	/* k[j] = CPRF(g[j], 0x08, 80) */

/* Generations a chain keeps derived keys for at once: the keystream's
 * generation and the tag's (they differ once the other direction has
 * passed a GiB).  A segment straddling j*G needs a third, derived again
 * from g: that happens once per GiB.  Two keep a flow's slot small. */
#define SEAL2_CHAIN_SLOTS 2
/* At most this many CPRF steps per key request: the offsets come from the
 * caller's 64-bit extension of 32-bit sequence numbers, so a legitimate
 * request is never far from what the chain holds; this bounds the work a
 * wrong offset can cause. */
#define SEAL2_CHAIN_MAX_STEPS 65536

/* k[j], split. */
struct seal2_keys {
	uint8_t enc[SEAL2_ENC_LEN];
	uint8_t hash[SEAL2_HASH_LEN];
	uint8_t prf[SEAL2_PRF_LEN];
};

/* One direction's chain g[lo], g[lo+1], ...: the secret of the lowest
 * generation it still holds, where the last step stopped (to step on from
 * there), and the keys of up to SEAL2_CHAIN_SLOTS generations.  Generations
 * below lo are gone for good, except that a receiver keeps the tag keys
 * (K_hash, K_prf, not K_enc) of generation lo - 1 in tail
 * (seal2_chain_retire_enc_below).  cur only grows and lo only grows, so a
 * caller counts generations entered and wiped by their differences.
 * 312 bytes on x86_64. */
struct seal2_chain {
	uint8_t g_lo[SEAL2_SECRET_LEN];		/* g[lo] */
	uint8_t g_cur[SEAL2_SECRET_LEN];	/* g[cur], lo <= cur */
	uint64_t lo, cur;
	uint32_t clock;				/* for least recently used */
	uint8_t has_tail;
	/* 32-bit generation numbers keep a flow's slot small: 2^32 GiB is
	 * more than any connection carries (seal2_chain_get refuses more). */
	struct seal2_slot {
		uint32_t gen;
		uint32_t used;			/* 0: empty */
		struct seal2_keys k;
	} slot[SEAL2_CHAIN_SLOTS];
	struct seal2_tail {			/* of generation lo - 1 */
		uint8_t hash[SEAL2_HASH_LEN];
		uint8_t prf[SEAL2_PRF_LEN];
	} tail;
};

/* The per-daemon (not per-flow) state: OpenSSL's AES-128-CTR and a few
 * cipher contexts keyed by the AES key they hold, least recently used
 * first out; OpenSSL's ChaCha20 and Poly1305 and one context for each,
 * re-keyed at every use (no key schedule to save).  An idle flow holds no
 * OpenSSL context.  Not thread-safe: one per thread.  Every key it holds
 * is also in some chain's slot: a chain that drops a slot (eviction,
 * seal2_chain_wipe*) makes it forget the key when it is given the same
 * context. */
#define SEAL2_AES_CACHE 4
struct seal2_ctx {
	void *cipher;				/* EVP_CIPHER * (fetched once) */
	uint32_t clock;
	struct seal2_aes_slot {
		void *evp;			/* EVP_CIPHER_CTX *, NULL until used */
		uint8_t key[16];
		uint32_t used;			/* 0: holds no key */
		uint32_t primed;		/* 1: evp has the cipher set up */
		uint32_t at_valid;		/* 1: the context stands at offset at */
		uint64_t at;
	} aes[SEAL2_AES_CACHE];
	void *chacha;				/* EVP_CIPHER *, NULL: libsodium's */
	void *chacha_evp;			/* EVP_CIPHER_CTX *, NULL until used */
	uint8_t chacha_key[SEAL2_ENC_LEN];	/* the K_enc it was last keyed with */
	uint32_t chacha_keyed;
	uint32_t chacha_at_valid;		/* as the AES slots' at */
	uint64_t chacha_at;
	void *mac;				/* EVP_MAC * Poly1305, NULL: libsodium's */
	void *mac_ctx;				/* EVP_MAC_CTX *, NULL until used */
	uint8_t mac_key[SEAL2_HASH_LEN];	/* the K_hash it was last keyed with */
	uint32_t mac_keyed;
};

/* Up to this much ciphertext, a tag is computed with libsodium's Poly1305
 * even when the context has OpenSSL's: no context to key through
 * OSSL_PARAMs, and a smaller code path to bring into the cache, which is
 * most of what the tag of a handshake segment or an ACK costs.  Both
 * compute the same function (test_seal2 checks either side of the limit). */
#define SEAL2_SHORT_TAG 128

/* What the tag covers besides the ciphertext (as struct seal_hdr): flags is
 * the raw TCP flags byte; the pseudo header masks it with 0x37 and zeroes
 * ack_off without ACK and urg_ptr without URG. */
struct seal2_hdr {
	uint8_t flags;
	uint64_t seq_off;
	uint64_t ack_off;
	uint16_t payload_len;
	uint16_t urg_ptr;
};

/* 0 on success, -1 when OpenSSL cannot provide AES-128-CTR.  Without
 * OpenSSL's ChaCha20, 0x7402 uses libsodium's (slower). */
int seal2_ctx_init(struct seal2_ctx *x);
/* Wipes the cached keys and frees the contexts. */
void seal2_ctx_free(struct seal2_ctx *x);

/* Generation of offset o: floor(o / G), except that o = 2^64 - 1 (S = ISN,
 * a keepalive before the first byte) counts as generation 0. */
uint64_t seal2_gen(uint64_t off);
/* Tag key index t = gen(seq_off) + gen(ack_off), ack_off counting as 0
 * without ACK. */
uint64_t seal2_tag_index(const struct seal2_hdr *h);

/* Chain of direction SEAL2_CTX_AB or SEAL2_CTX_BA from the master key mk. */
void seal2_chain_init(struct seal2_chain *c, const uint8_t mk[SEAL2_SECRET_LEN],
		      uint8_t dir_ctx);
/* The keys of generation gen, or NULL if it lies below what the chain still
 * holds (wiped), more than SEAL2_CHAIN_MAX_STEPS ahead or beyond 2^32.  The pointer is
 * valid until the next call on the chain.  x (may be NULL) is told about a
 * slot this evicts. */
const struct seal2_keys *seal2_chain_get(struct seal2_chain *c, uint64_t gen,
					 struct seal2_ctx *x);
/* Wipes (sodium_memzero) every secret of generations below gen: afterwards
 * they can no longer be derived.  No-op when gen <= lo.  What the sender
 * of a direction does (doc/protocol.md section 5.3). */
void seal2_chain_wipe_below(struct seal2_chain *c, uint64_t gen, struct seal2_ctx *x);
/* What the receiver does: every K_enc below gen is wiped, and every secret
 * below gen - 1; generation gen - 1 keeps its K_hash and K_prf (the tail),
 * so a retransmitted segment of it can still be verified, and passed on
 * undecrypted.  No-op when gen <= lo. */
void seal2_chain_retire_enc_below(struct seal2_chain *c, uint64_t gen, struct seal2_ctx *x);
/* Wipes the whole chain. */
void seal2_chain_wipe(struct seal2_chain *c, struct seal2_ctx *x);

/* Serialises the 22-byte pseudo header (layout byte 0x02). */
void seal2_pseudo_header(const struct seal2_hdr *h, uint8_t out[SEAL2_PSEUDO_LEN]);

/* XORs buf (len bytes, the first at stream offset off, offsets taken
 * modulo 2^64) with the suite's keystream, each byte with the K_enc of its
 * generation.  Encrypts and decrypts.  x may be NULL for 0x7402 (then
 * libsodium's ChaCha20, slower, does the work).  -1 (buf partly XORed)
 * when a generation is gone, the suite unknown or OpenSSL fails. */
int seal2_xor(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c, uint64_t off,
	      uint8_t *buf, size_t len);

/* tag = first 12 bytes of HChaCha20(K_prf, Poly1305(K_hash | 0^16,
 * pseudo_header | ct)) with the keys of generation seal2_tag_index(h). */
void seal2_tag_keys(const struct seal2_keys *k, const struct seal2_hdr *h,
		    const uint8_t *ct, size_t ct_len, uint8_t tag[SEAL2_TAG_LEN]);
/* The same, with the keys taken from the chain and OpenSSL's Poly1305 from
 * x (NULL: libsodium's, slower); -1 when the keys are gone or OpenSSL
 * fails. */
int seal2_tag(struct seal2_chain *c, const struct seal2_hdr *h, const uint8_t *ct,
	      size_t ct_len, uint8_t tag[SEAL2_TAG_LEN], struct seal2_ctx *x);
/* Constant-time check of a received tag; false also when the keys are gone
 * or OpenSSL fails.  Uses the tail's keys for the tail's generation. */
bool seal2_verify(struct seal2_chain *c, const struct seal2_hdr *h, const uint8_t *ct,
		  size_t ct_len, const uint8_t tag[SEAL2_TAG_LEN], struct seal2_ctx *x);

/* What the sender does to a segment: encrypt buf (h->payload_len bytes at
 * h->seq_off) in place, then tag it.  0, or -1 (segment unusable). */
int seal2_seal(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
	       const struct seal2_hdr *h, uint8_t *buf, uint8_t tag[SEAL2_TAG_LEN]);
/* What the receiver does: verify the tag over the ciphertext, and only if
 * it is valid decrypt buf in place.  0, or -1 (bad tag: buf untouched; or
 * keys gone / OpenSSL failure), or 1: the tag is valid but a K_enc the
 * bytes need is gone (buf untouched; the receiver acknowledged those bytes
 * long ago and passes the segment on as it is). */
int seal2_open(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
	       const struct seal2_hdr *h, uint8_t *buf, const uint8_t tag[SEAL2_TAG_LEN]);
/* The decrypting half of seal2_open, for a caller that has verified the
 * tag itself: 0, 1 (bytes below the chain's lo left as they are) or -1. */
int seal2_decrypt_verified(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
			   const struct seal2_hdr *h, uint8_t *buf);

/* Whether this CPU has AES instructions (x86 AES-NI, arm64 AES): then
 * 0x7403 is the faster suite and goes first in what we offer. */
bool seal2_cpu_has_aes(void);

#endif
