/* SPDX-License-Identifier: BSD-2-Clause */
/* Protocol version 2 data protection: generation chains, the keystreams of
 * suites 0x7402 and 0x7403, and the Poly1305 + HChaCha20 segment tag. */
#include "seal2.h"

#include <limits.h>
#include <string.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif
#include <sodium.h>
#include <openssl/evp.h>

#include "bytes.h"
#include "hkdf.h"

#define TH_ACK 0x10
#define TH_URG 0x20
/* FIN, SYN, RST, ACK, URG (PSH, ECE and CWR change in flight). */
#define SEAL2_FLAG_MASK 0x37
#define SEAL2_LAYOUT    0x02
#define CHACHA_BLOCK    64
#define AES_BLOCK       16
_Static_assert(AES_BLOCK <= CHACHA_BLOCK, "ctr_xor skips at most a ChaCha20 block");
#define AES_KEY_LEN     16

static const uint8_t zero_nonce[crypto_stream_chacha20_NONCEBYTES];

/* ------------------------------------------------------------------------ */
/* The per-daemon cipher contexts */

int seal2_ctx_init(struct seal2_ctx *x)
{
	memset(x, 0, sizeof(*x));
	/* Explicit fetches once: EVP_aes_128_ctr() would look the
	 * implementation up again at every initialisation.  Without
	 * OpenSSL's ChaCha20, 0x7402 falls back to libsodium's. */
	x->cipher = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	x->chacha = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);
	/* Likewise the tag's Poly1305 (libsodium's without it). */
	x->mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	return x->cipher != NULL ? 0 : -1;
}

/* Makes a slot forget its key.  The context is keyed again with an
 * all-zero key and one byte is encrypted, which overwrites the key
 * schedule, the counter block and the buffered keystream block: the
 * context is kept for the next key, so a new connection costs a key
 * expansion, not a free and an allocation of the provider's context (and
 * the cleansing that goes with them).  If OpenSSL refuses, the context is
 * reset: the provider's context is then freed, key schedule cleansed. */
static void aes_slot_clear(struct seal2_aes_slot *s)
{
	static const uint8_t zero_key[AES_KEY_LEN], zero_iv[AES_BLOCK];

	if (s->evp != NULL && s->used) {
		uint8_t b = 0;
		int outl;

		if (!s->primed || EVP_EncryptInit_ex2(s->evp, NULL, zero_key, zero_iv, NULL) != 1 ||
		    EVP_EncryptUpdate(s->evp, &b, &outl, &b, 1) != 1) {
			EVP_CIPHER_CTX_reset(s->evp);
			s->primed = 0;
		}
	}
	sodium_memzero(s->key, sizeof(s->key));
	s->used = 0;
	s->at_valid = 0;
}

/* The ChaCha20 context's key schedule is the key itself: reset wipes it. */
static void chacha_clear(struct seal2_ctx *x)
{
	if (x->chacha_evp != NULL)
		EVP_CIPHER_CTX_reset(x->chacha_evp);
	sodium_memzero(x->chacha_key, sizeof(x->chacha_key));
	x->chacha_keyed = 0;
	x->chacha_at_valid = 0;
}

/* Makes the Poly1305 context drop its key: keyed again with an all-zero
 * key, which overwrites r, s and the accumulator, so the context is kept
 * for the next key.  If OpenSSL refuses, the context is freed (OpenSSL
 * cleanses a freed Poly1305 context). */
static void mac_clear(struct seal2_ctx *x)
{
	static const uint8_t zero_key[32];

	if (x->mac_ctx != NULL && x->mac_keyed &&
	    EVP_MAC_init(x->mac_ctx, zero_key, sizeof(zero_key), NULL) != 1) {
		EVP_MAC_CTX_free(x->mac_ctx);
		x->mac_ctx = NULL;
	}
	sodium_memzero(x->mac_key, sizeof(x->mac_key));
	x->mac_keyed = 0;
}

void seal2_ctx_free(struct seal2_ctx *x)
{
	for (unsigned i = 0; i < SEAL2_AES_CACHE; i++) {
		aes_slot_clear(&x->aes[i]);
		EVP_CIPHER_CTX_free(x->aes[i].evp);
	}
	chacha_clear(x);
	EVP_CIPHER_CTX_free(x->chacha_evp);
	EVP_CIPHER_free(x->cipher);
	EVP_CIPHER_free(x->chacha);
	mac_clear(x);
	EVP_MAC_CTX_free(x->mac_ctx);
	EVP_MAC_free(x->mac);
	memset(x, 0, sizeof(*x));
}

/* Drops a K_hash from the Poly1305 context. */
static void mac_forget(struct seal2_ctx *x, const uint8_t hash[SEAL2_HASH_LEN])
{
	if (x != NULL && x->mac_keyed && sodium_memcmp(x->mac_key, hash, SEAL2_HASH_LEN) == 0)
		mac_clear(x);
}

/* Drops a generation's keys from the contexts: its K_enc (for AES, the
 * first 16 bytes) and its K_hash. */
static void ctx_forget(struct seal2_ctx *x, const struct seal2_keys *k)
{
	if (x == NULL)
		return;
	for (unsigned i = 0; i < SEAL2_AES_CACHE; i++)
		if (x->aes[i].used && sodium_memcmp(x->aes[i].key, k->enc, AES_KEY_LEN) == 0)
			aes_slot_clear(&x->aes[i]);
	if (x->chacha_keyed && sodium_memcmp(x->chacha_key, k->enc, SEAL2_ENC_LEN) == 0)
		chacha_clear(x);
	if (x->mac_keyed && sodium_memcmp(x->mac_key, k->hash, SEAL2_HASH_LEN) == 0)
		mac_clear(x);
}

/* The ChaCha20 context keyed with key, at iv.  One context re-keyed at
 * every call: ChaCha20 has no key schedule to cache, and re-keying costs
 * less than looking a key up in a cache. */
static EVP_CIPHER_CTX *ctx_chacha(struct seal2_ctx *x, const uint8_t key[SEAL2_ENC_LEN],
				  const uint8_t iv[16])
{
	x->chacha_at_valid = 0;
	if (x->chacha_evp == NULL && (x->chacha_evp = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	/* The cipher only the first time: passing it again costs a context
	 * set-up per call. */
	if (EVP_EncryptInit_ex2(x->chacha_evp, x->chacha_keyed ? NULL : x->chacha, key, iv,
				NULL) != 1) {
		chacha_clear(x);
		return NULL;
	}
	memcpy(x->chacha_key, key, SEAL2_ENC_LEN);
	x->chacha_keyed = 1;
	return x->chacha_evp;
}

/* A cipher context keyed with key, its counter block set to iv, and the
 * slot it lives in.  *cont: the context already stands at offset off (the
 * previous use ended there), so neither the counter block nor the skip
 * into it needs setting: the common case of a stream sealed or opened in
 * order, which saves a context initialisation per segment. */
static EVP_CIPHER_CTX *ctx_aes(struct seal2_ctx *x, const uint8_t key[AES_KEY_LEN],
			       const uint8_t iv[AES_BLOCK], uint64_t off,
			       struct seal2_aes_slot **slot, bool *cont)
{
	struct seal2_aes_slot *s = NULL;

	*cont = false;
	if (x == NULL || x->cipher == NULL)
		return NULL;
	for (unsigned i = 0; i < SEAL2_AES_CACHE; i++) {
		struct seal2_aes_slot *e = &x->aes[i];

		if (e->used && sodium_memcmp(e->key, key, AES_KEY_LEN) == 0) {
			e->used = ++x->clock ? x->clock : (x->clock = 1);
			*slot = e;
			if (e->at_valid && e->at == off) {
				e->at_valid = 0;
				*cont = true;
				return e->evp;
			}
			e->at_valid = 0;
			/* Same key: only the counter block changes. */
			if (EVP_EncryptInit_ex2(e->evp, NULL, NULL, iv, NULL) != 1)
				return NULL;
			return e->evp;
		}
		if (s == NULL || e->used < s->used)
			s = e;
	}
	/* The evicted key may still be in use elsewhere, but the keystream
	 * block buffered here must not outlive the slot: wiped first. */
	aes_slot_clear(s);
	if (s->evp == NULL && (s->evp = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	/* The cipher only when the context has none yet: passing it again
	 * would set the provider's context up anew. */
	if (EVP_EncryptInit_ex2(s->evp, s->primed ? NULL : x->cipher, key, iv, NULL) != 1) {
		EVP_CIPHER_CTX_reset(s->evp);	/* whatever it took of the key */
		s->primed = 0;
		return NULL;
	}
	s->primed = 1;
	memcpy(s->key, key, AES_KEY_LEN);
	s->used = ++x->clock ? x->clock : (x->clock = 1);
	*slot = s;
	return s->evp;
}

/* ------------------------------------------------------------------------ */
/* Generation chains */

uint64_t seal2_gen(uint64_t off)
{
	return off == UINT64_MAX ? 0 : off >> SEAL2_GEN_SHIFT;
}

uint64_t seal2_tag_index(const struct seal2_hdr *h)
{
	uint64_t ack = (h->flags & TH_ACK) ? h->ack_off : 0;

	return seal2_gen(h->seq_off) + seal2_gen(ack);
}

void seal2_chain_init(struct seal2_chain *c, const uint8_t mk[SEAL2_SECRET_LEN],
		      uint8_t dir_ctx)
{
	memset(c, 0, sizeof(*c));
	hkdf_cprf(c->g_lo, SEAL2_SECRET_LEN, mk, dir_ctx);
	memcpy(c->g_cur, c->g_lo, SEAL2_SECRET_LEN);
}

static void slot_drop(struct seal2_slot *s, struct seal2_ctx *x)
{
	if (s->used)
		ctx_forget(x, &s->k);
	sodium_memzero(s, sizeof(*s));
}

/* g = CPRF(g, 0x07, 32), n times. */
static void chain_step(uint8_t g[SEAL2_SECRET_LEN], uint64_t n)
{
	uint8_t next[SEAL2_SECRET_LEN];

	for (; n > 0; n--) {
		hkdf_cprf(next, sizeof(next), g, SEAL2_CTX_NEXT);
		memcpy(g, next, sizeof(next));
	}
	sodium_memzero(next, sizeof(next));
}

const struct seal2_keys *seal2_chain_get(struct seal2_chain *c, uint64_t gen,
					 struct seal2_ctx *x)
{
	struct seal2_slot *s = NULL;
	uint8_t g[SEAL2_SECRET_LEN], k[SEAL2_ENC_LEN + SEAL2_HASH_LEN + SEAL2_PRF_LEN];

	if (gen < c->lo || gen > UINT32_MAX)
		return NULL;
	for (unsigned i = 0; i < SEAL2_CHAIN_SLOTS; i++) {
		struct seal2_slot *e = &c->slot[i];

		if (e->used && e->gen == gen) {
			e->used = ++c->clock ? c->clock : (c->clock = 1);
			return &e->k;
		}
		if (s == NULL || e->used < s->used)
			s = e;
	}
	/* Step on from where the last step stopped if that is not past gen,
	 * else from the lowest generation held. */
	if (gen >= c->cur) {
		if (gen - c->cur > SEAL2_CHAIN_MAX_STEPS)
			return NULL;
		chain_step(c->g_cur, gen - c->cur);
		c->cur = gen;
		memcpy(g, c->g_cur, sizeof(g));
	} else {
		if (gen - c->lo > SEAL2_CHAIN_MAX_STEPS)
			return NULL;
		memcpy(g, c->g_lo, sizeof(g));
		chain_step(g, gen - c->lo);
	}
	hkdf_cprf(k, sizeof(k), g, SEAL2_CTX_KEYS);
	slot_drop(s, x);
	s->gen = (uint32_t)gen;
	memcpy(s->k.enc, k, SEAL2_ENC_LEN);
	memcpy(s->k.hash, k + SEAL2_ENC_LEN, SEAL2_HASH_LEN);
	memcpy(s->k.prf, k + SEAL2_ENC_LEN + SEAL2_HASH_LEN, SEAL2_PRF_LEN);
	s->used = ++c->clock ? c->clock : (c->clock = 1);
	sodium_memzero(g, sizeof(g));
	sodium_memzero(k, sizeof(k));
	return &s->k;
}

void seal2_chain_wipe_below(struct seal2_chain *c, uint64_t gen, struct seal2_ctx *x)
{
	if (gen <= c->lo)
		return;
	for (unsigned i = 0; i < SEAL2_CHAIN_SLOTS; i++)
		if (c->slot[i].used && c->slot[i].gen < gen)
			slot_drop(&c->slot[i], x);
	/* The tail is always below lo, hence below gen. */
	if (c->has_tail)
		mac_forget(x, c->tail.hash);
	sodium_memzero(&c->tail, sizeof(c->tail));
	c->has_tail = 0;
	if (c->cur >= gen) {
		/* g[cur] already lies at or beyond gen: step g[lo] no further
		 * than needed, to g[gen]. */
		chain_step(c->g_lo, gen - c->lo);
	} else {
		chain_step(c->g_cur, gen - c->cur);
		memcpy(c->g_lo, c->g_cur, SEAL2_SECRET_LEN);
		c->cur = gen;
	}
	c->lo = gen;
}

void seal2_chain_retire_enc_below(struct seal2_chain *c, uint64_t gen, struct seal2_ctx *x)
{
	const struct seal2_keys *k;
	struct seal2_tail t;

	if (gen <= c->lo)
		return;
	/* gen - 1 >= lo: its keys can still be had. */
	k = seal2_chain_get(c, gen - 1, x);
	if (k == NULL) {
		/* More steps than a chain ever takes: keep nothing. */
		seal2_chain_wipe_below(c, gen, x);
		return;
	}
	memcpy(t.hash, k->hash, sizeof(t.hash));
	memcpy(t.prf, k->prf, sizeof(t.prf));
	seal2_chain_wipe_below(c, gen, x);
	c->tail = t;
	c->has_tail = 1;
	sodium_memzero(&t, sizeof(t));
}

void seal2_chain_wipe(struct seal2_chain *c, struct seal2_ctx *x)
{
	for (unsigned i = 0; i < SEAL2_CHAIN_SLOTS; i++)
		slot_drop(&c->slot[i], x);
	if (c->has_tail)
		mac_forget(x, c->tail.hash);
	sodium_memzero(c, sizeof(*c));
}

/* ------------------------------------------------------------------------ */
/* Keystreams */

/* libsodium's ChaCha20, for a caller without OpenSSL context. */
static void xor_chacha20_sodium(const uint8_t key[SEAL2_ENC_LEN], uint64_t off, uint8_t *buf,
				size_t len)
{
	uint64_t block = off / CHACHA_BLOCK;
	unsigned skip = (unsigned)(off % CHACHA_BLOCK);

	/* libsodium starts at byte 0 of a block: a head that starts
	 * mid-block comes from one separate block. */
	if (skip != 0) {
		uint8_t ks[CHACHA_BLOCK] = { 0 };
		size_t head = CHACHA_BLOCK - skip;

		if (head > len)
			head = len;
		crypto_stream_chacha20_xor_ic(ks, ks, sizeof(ks), zero_nonce, block, key);
		for (size_t i = 0; i < head; i++)
			buf[i] ^= ks[skip + i];
		sodium_memzero(ks, sizeof(ks));
		buf += head;
		len -= head;
		block++;
	}
	/* The 64-bit block counter carries into its high word past 2^32. */
	if (len > 0)
		crypto_stream_chacha20_xor_ic(buf, buf, len, zero_nonce, block, key);
}

/* OpenSSL's ChaCha20 takes a 32-bit block counter (state word 12) and a
 * 96-bit nonce (words 13 to 15), and only ever increments word 12.  The
 * suite's 64-bit counter is words 12 and 13 with words 14 and 15 zero: its
 * high half goes into the first nonce word.  That is exact as long as a
 * piece never crosses a multiple of 2^32 blocks; seal2_xor splits at every
 * generation, and a generation's blocks never cross one. */
_Static_assert(SEAL2_GEN_SIZE % CHACHA_BLOCK == 0 &&
	       ((uint64_t)1 << 32) % (SEAL2_GEN_SIZE / CHACHA_BLOCK) == 0,
	       "a generation's ChaCha20 blocks share the high counter word");

/* XORs buf with a counter-mode keystream whose context ctx is set to the
 * block the data starts in, skip bytes into it.  A chunk never crosses a
 * generation, so len <= 2^30 fits an int; CTR modes work in place. */
static int ctr_xor(EVP_CIPHER_CTX *ctx, unsigned skip, uint8_t *buf, size_t len)
{
	static const uint8_t zeros[CHACHA_BLOCK];	/* >= any block size here */
	uint8_t dummy[CHACHA_BLOCK];
	int outl, rc = 0;

	/* Consume the head of a block the segment starts inside. */
	if (skip != 0 && EVP_EncryptUpdate(ctx, dummy, &outl, zeros, (int)skip) != 1)
		rc = -1;
	if (rc == 0 && EVP_EncryptUpdate(ctx, buf, &outl, buf, (int)len) != 1)
		rc = -1;
	sodium_memzero(dummy, sizeof(dummy));
	return rc;
}

static int xor_chacha20(struct seal2_ctx *x, const uint8_t key[SEAL2_ENC_LEN], uint64_t off,
			uint8_t *buf, size_t len)
{
	uint8_t iv[16] = { 0 };
	uint64_t block = off / CHACHA_BLOCK;
	unsigned skip = (unsigned)(off % CHACHA_BLOCK);
	EVP_CIPHER_CTX *ctx;
	int rc;

	if (x == NULL || x->chacha == NULL) {
		xor_chacha20_sodium(key, off, buf, len);
		return 0;
	}
	/* The last block must share the first's high counter word (see
	 * above); len > 0 and off + len - 1 does not wrap. */
	if (len == 0)
		return 0;
	if (((off + (len - 1)) / CHACHA_BLOCK) >> 32 != block >> 32 || len > INT_MAX)
		return -1;
	/* Where the last use of this key ended: go on from there (see
	 * ctx_aes).  The high counter word is the same within a
	 * generation, and a key is one generation's. */
	if (x->chacha_at_valid && x->chacha_at == off &&
	    sodium_memcmp(x->chacha_key, key, SEAL2_ENC_LEN) == 0) {
		x->chacha_at_valid = 0;
		ctx = x->chacha_evp;
		skip = 0;
	} else {
		put_le32(iv, (uint32_t)block);
		put_le32(iv + 4, (uint32_t)(block >> 32));
		ctx = ctx_chacha(x, key, iv);
		if (ctx == NULL)
			return -1;
	}
	rc = ctr_xor(ctx, skip, buf, len);
	/* (2^64 - 1, the keepalive byte, is no block before offset 0) */
	if (rc == 0 && off + len > off) {
		x->chacha_at = off + len;
		x->chacha_at_valid = 1;
	}
	return rc;
}

/* iv = (C + block) mod 2^128, big-endian, C = key bytes 16..31. */
static void aes_counter(const uint8_t key[SEAL2_ENC_LEN], uint64_t block, uint8_t iv[AES_BLOCK])
{
	unsigned carry = 0;

	for (unsigned i = AES_BLOCK; i-- > 0;) {
		unsigned sum = key[AES_KEY_LEN + i] + (unsigned)(block & 0xff) + carry;

		iv[i] = (uint8_t)sum;
		carry = sum >> 8;
		block >>= 8;
	}
}

static int xor_aes(struct seal2_ctx *x, const uint8_t key[SEAL2_ENC_LEN], uint64_t off,
		   uint8_t *buf, size_t len)
{
	uint8_t iv[AES_BLOCK];
	EVP_CIPHER_CTX *ctx;
	struct seal2_aes_slot *slot = NULL;
	bool cont;
	int rc;

	aes_counter(key, off / AES_BLOCK, iv);
	ctx = ctx_aes(x, key, iv, off, &slot, &cont);
	if (ctx == NULL)
		return -1;
	rc = ctr_xor(ctx, cont ? 0 : (unsigned)(off % AES_BLOCK), buf, len);
	if (rc == 0 && off + len > off) {
		slot->at = off + len;
		slot->at_valid = 1;
	}
	return rc;
}

int seal2_xor(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c, uint64_t off,
	      uint8_t *buf, size_t len)
{
	if (suite != SEAL2_SUITE_CHACHA20 && suite != SEAL2_SUITE_AES128CTR)
		return -1;
	while (len > 0) {
		uint64_t gen = seal2_gen(off);
		size_t n = len;
		const struct seal2_keys *k;

		/* The bytes up to the end of this generation; 2^64 - 1 is a
		 * generation-0 byte of its own. */
		if (off == UINT64_MAX) {
			n = 1;
		} else {
			uint64_t end = (gen + 1) << SEAL2_GEN_SHIFT;	/* 0: 2^64 */
			uint64_t room = (end != 0 ? end : UINT64_MAX) - off;

			if (room < n)
				n = (size_t)room;
		}
		k = seal2_chain_get(c, gen, x);
		if (k == NULL)
			return -1;
		if (suite == SEAL2_SUITE_CHACHA20) {
			if (xor_chacha20(x, k->enc, off, buf, n) != 0)
				return -1;
		} else if (xor_aes(x, k->enc, off, buf, n) != 0) {
			return -1;
		}
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Tag */

void seal2_pseudo_header(const struct seal2_hdr *h, uint8_t out[SEAL2_PSEUDO_LEN])
{
	uint64_t ack = (h->flags & TH_ACK) ? h->ack_off : 0;
	uint16_t urg = (h->flags & TH_URG) ? h->urg_ptr : 0;

	out[0] = SEAL2_LAYOUT;
	out[1] = h->flags & SEAL2_FLAG_MASK;
	put_be64(out + 2, h->seq_off);
	put_be64(out + 10, ack);
	put_be16(out + 18, h->payload_len);
	put_be16(out + 20, urg);
}

void seal2_tag_keys(const struct seal2_keys *k, const struct seal2_hdr *h,
		    const uint8_t *ct, size_t ct_len, uint8_t tag[SEAL2_TAG_LEN])
{
	crypto_onetimeauth_poly1305_state st;
	uint8_t key[crypto_onetimeauth_poly1305_KEYBYTES] = { 0 };	/* K_hash | 0^16 */
	uint8_t ph[SEAL2_PSEUDO_LEN];
	uint8_t hash[crypto_onetimeauth_poly1305_BYTES];
	uint8_t out[crypto_core_hchacha20_OUTPUTBYTES];

	memcpy(key, k->hash, SEAL2_HASH_LEN);
	seal2_pseudo_header(h, ph);
	crypto_onetimeauth_poly1305_init(&st, key);
	crypto_onetimeauth_poly1305_update(&st, ph, sizeof(ph));
	crypto_onetimeauth_poly1305_update(&st, ct, ct_len);
	crypto_onetimeauth_poly1305_final(&st, hash);
	crypto_core_hchacha20(out, hash, k->prf, NULL);
	memcpy(tag, out, SEAL2_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(out, sizeof(out));
}

/* Poly1305 through OpenSSL: one context per daemon, keyed again for every
 * tag.  -1 when OpenSSL fails. */
static int poly1305_evp(struct seal2_ctx *x, const struct seal2_keys *k, const uint8_t *ph,
			const uint8_t *ct, size_t ct_len, uint8_t hash[16])
{
	uint8_t key[32] = { 0 };	/* K_hash | 0^16 */
	size_t outl;
	int ok;

	if (x->mac_ctx == NULL && (x->mac_ctx = EVP_MAC_CTX_new(x->mac)) == NULL)
		return -1;
	memcpy(key, k->hash, SEAL2_HASH_LEN);
	memcpy(x->mac_key, k->hash, SEAL2_HASH_LEN);
	x->mac_keyed = 1;
	ok = EVP_MAC_init(x->mac_ctx, key, sizeof(key), NULL) == 1 &&
	     EVP_MAC_update(x->mac_ctx, ph, SEAL2_PSEUDO_LEN) == 1 &&
	     (ct_len == 0 || EVP_MAC_update(x->mac_ctx, ct, ct_len) == 1) &&
	     EVP_MAC_final(x->mac_ctx, hash, &outl, 16) == 1 && outl == 16;
	sodium_memzero(key, sizeof(key));
	if (!ok) {
		EVP_MAC_CTX_free(x->mac_ctx);
		x->mac_ctx = NULL;
		mac_clear(x);
		return -1;
	}
	return 0;
}

/* seal2_tag_keys, with OpenSSL's Poly1305 when x has it. */
static int tag_keys(struct seal2_ctx *x, const struct seal2_keys *k, const struct seal2_hdr *h,
		    const uint8_t *ct, size_t ct_len, uint8_t tag[SEAL2_TAG_LEN])
{
	uint8_t ph[SEAL2_PSEUDO_LEN], hash[16], out[crypto_core_hchacha20_OUTPUTBYTES];

	if (x == NULL || x->mac == NULL || ct_len <= SEAL2_SHORT_TAG) {
		seal2_tag_keys(k, h, ct, ct_len, tag);
		return 0;
	}
	seal2_pseudo_header(h, ph);
	if (poly1305_evp(x, k, ph, ct, ct_len, hash) != 0)
		return -1;
	crypto_core_hchacha20(out, hash, k->prf, NULL);
	memcpy(tag, out, SEAL2_TAG_LEN);
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(out, sizeof(out));
	return 0;
}

int seal2_tag(struct seal2_chain *c, const struct seal2_hdr *h, const uint8_t *ct,
	      size_t ct_len, uint8_t tag[SEAL2_TAG_LEN], struct seal2_ctx *x)
{
	uint64_t t = seal2_tag_index(h);
	const struct seal2_keys *k;

	if (c->has_tail && t + 1 == c->lo) {
		struct seal2_keys tk;
		int rc;

		/* tag_keys reads only K_hash and K_prf. */
		memset(tk.enc, 0, sizeof(tk.enc));
		memcpy(tk.hash, c->tail.hash, sizeof(tk.hash));
		memcpy(tk.prf, c->tail.prf, sizeof(tk.prf));
		rc = tag_keys(x, &tk, h, ct, ct_len, tag);
		sodium_memzero(&tk, sizeof(tk));
		return rc;
	}
	k = seal2_chain_get(c, t, x);
	if (k == NULL)
		return -1;
	return tag_keys(x, k, h, ct, ct_len, tag);
}

bool seal2_verify(struct seal2_chain *c, const struct seal2_hdr *h, const uint8_t *ct,
		  size_t ct_len, const uint8_t tag[SEAL2_TAG_LEN], struct seal2_ctx *x)
{
	uint8_t want[SEAL2_TAG_LEN];
	bool ok;

	if (seal2_tag(c, h, ct, ct_len, want, x) != 0)
		return false;
	ok = sodium_memcmp(want, tag, SEAL2_TAG_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

int seal2_seal(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
	       const struct seal2_hdr *h, uint8_t *buf, uint8_t tag[SEAL2_TAG_LEN])
{
	if (seal2_xor(x, suite, c, h->seq_off, buf, h->payload_len) != 0)
		return -1;
	return seal2_tag(c, h, buf, h->payload_len, tag, x);
}

int seal2_decrypt_verified(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
			   const struct seal2_hdr *h, uint8_t *buf)
{
	/* Bytes below generation lo: their K_enc is gone.  The receiver's
	 * kernel has acknowledged them and discards them; the bytes from lo
	 * on (a segment straddling the boundary) still need decrypting. */
	if (h->payload_len > 0 && seal2_gen(h->seq_off) < c->lo) {
		uint64_t skip = (c->lo << SEAL2_GEN_SHIFT) - h->seq_off;

		if (h->seq_off == UINT64_MAX || skip >= h->payload_len)
			return 1;
		if (seal2_xor(x, suite, c, h->seq_off + skip, buf + skip,
			      h->payload_len - (size_t)skip) != 0)
			return -1;
		return 1;
	}
	return seal2_xor(x, suite, c, h->seq_off, buf, h->payload_len);
}

int seal2_open(struct seal2_ctx *x, uint16_t suite, struct seal2_chain *c,
	       const struct seal2_hdr *h, uint8_t *buf, const uint8_t tag[SEAL2_TAG_LEN])
{
	if (!seal2_verify(c, h, buf, h->payload_len, tag, x))
		return -1;
	return seal2_decrypt_verified(x, suite, c, h, buf);
}

bool seal2_cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes");
#elif defined(__aarch64__) && defined(HWCAP_AES)
	return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#else
	return false;
#endif
}
