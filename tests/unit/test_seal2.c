/* SPDX-License-Identifier: BSD-2-Clause */
/* Protocol version 2 data protection (src/core/seal2.c) against the known-answer
 * vectors of tests/vectors/protocol-v2.json (converted to v2-chains.txt and
 * v2-segments.txt by v2_to_txt.py), plus the chain's bookkeeping. */
#include "unit.h"
#include "vfile.h"

#include <sodium.h>

#include "hkdf.h"
#include "seal2.h"

#define G SEAL2_GEN_SIZE

static struct seal2_ctx ctx;

static void setup(void)
{
	ck_assert_int_eq(sodium_init() < 0, 0);
	ck_assert_int_eq(seal2_ctx_init(&ctx), 0);
}

static void teardown(void)
{
	seal2_ctx_free(&ctx);
}

static uint8_t dir_ctx(const char *d)
{
	if (strcmp(d, "ab") == 0)
		return SEAL2_CTX_AB;
	ck_assert_str_eq(d, "ba");
	return SEAL2_CTX_BA;
}

/* The mk of the chain (keys, direction) in v2-chains.txt. */
static void chain_mk(const struct vfile *chains, const char *keys, uint8_t mk[32])
{
	for (size_t i = 0; i < chains->ncases; i++) {
		const struct vcase *c = &chains->cases[i];

		if (strcmp(vget(chains, c, "keys"), keys) == 0) {
			vhex_n(chains, c, "mk", mk, 32);
			return;
		}
	}
	ck_abort_msg("no chain with keys = %s", keys);
}

/* ------------------------------------------------------------------------ */
/* Generation chains and key splits */

START_TEST(test_chain_vectors)
{
	struct vfile vf;

	vfile_load(&vf, "v2-chains.txt");
	ck_assert_uint_eq(vf.ncases, 4);
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		uint8_t mk[32], g[32], want[32], k[16];
		uint8_t dir = dir_ctx(vget(&vf, c, "direction"));
		uint64_t gens = vint(&vf, c, "gens"), splits = vint(&vf, c, "splits");
		struct seal2_chain ch;
		char name[32];

		vhex_n(&vf, c, "mk", mk, 32);
		/* g[j] step by step with the HKDF module */
		hkdf_cprf(g, 32, mk, dir);
		for (uint64_t j = 0; j < gens; j++) {
			snprintf(name, sizeof(name), "g_%llu", (unsigned long long)j);
			vhex_n(&vf, c, name, want, 32);
			if (j > 0)
				hkdf_cprf(g, 32, g, SEAL2_CTX_NEXT);
			CHECK_EQ(&vf, c, name, g, want, 32);
		}
		/* the chain's keys, and g[j] where its step stopped */
		seal2_chain_init(&ch, mk, dir);
		for (uint64_t j = 0; j < splits; j++) {
			const struct seal2_keys *sk = seal2_chain_get(&ch, j, &ctx);

			ck_assert_ptr_nonnull(sk);
			snprintf(name, sizeof(name), "k_enc_%llu", (unsigned long long)j);
			vhex_n(&vf, c, name, want, 32);
			CHECK_EQ(&vf, c, name, sk->enc, want, 32);
			snprintf(name, sizeof(name), "k_hash_%llu", (unsigned long long)j);
			vhex_n(&vf, c, name, k, 16);
			CHECK_EQ(&vf, c, name, sk->hash, k, 16);
			snprintf(name, sizeof(name), "k_prf_%llu", (unsigned long long)j);
			vhex_n(&vf, c, name, want, 32);
			CHECK_EQ(&vf, c, name, sk->prf, want, 32);
			snprintf(name, sizeof(name), "g_%llu", (unsigned long long)j);
			vhex_n(&vf, c, name, want, 32);
			CHECK_EQ(&vf, c, "g at the chain's step", ch.g_cur, want, 32);
		}
		seal2_chain_wipe(&ch, &ctx);
	}
	vfile_free(&vf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Segments */

struct seg {
	uint16_t suite;
	struct seal2_hdr h;
	uint64_t tag_index;
	uint8_t k_hash[16], k_prf[32];
	uint8_t pt[256], ks[256], ct[256], ph[SEAL2_PSEUDO_LEN], poly[16], tag[SEAL2_TAG_LEN];
	size_t len;
};

static void seg_load(const struct vfile *vf, const struct vcase *c, struct seg *s)
{
	s->suite = (uint16_t)vint(vf, c, "suite");
	s->h.flags = (uint8_t)vint(vf, c, "flags");
	s->h.seq_off = vint(vf, c, "seq_offset");
	s->h.ack_off = vint(vf, c, "ack_offset");
	s->h.urg_ptr = (uint16_t)vint(vf, c, "urgent_pointer");
	s->h.payload_len = (uint16_t)vint(vf, c, "payload_length");
	s->tag_index = vint(vf, c, "tag_index");
	vhex_n(vf, c, "k_hash", s->k_hash, 16);
	vhex_n(vf, c, "k_prf", s->k_prf, 32);
	s->len = vhex(vf, c, "plaintext", s->pt, sizeof(s->pt));
	ck_assert_uint_eq(s->len, s->h.payload_len);
	vhex_n(vf, c, "keystream", s->ks, s->len);
	vhex_n(vf, c, "ciphertext", s->ct, s->len);
	vhex_n(vf, c, "pseudo_header", s->ph, SEAL2_PSEUDO_LEN);
	vhex_n(vf, c, "poly1305_hash", s->poly, 16);
	vhex_n(vf, c, "tag", s->tag, SEAL2_TAG_LEN);
}

/* The keystream generations: each one's K_enc from the chain, and its
 * byte range given by seal2_gen. */
static void seg_check_gens(const struct vfile *vf, const struct vcase *c, const struct seg *s,
			   struct seal2_chain *ch)
{
	char list[128], *save = NULL, name[32];
	uint64_t expect_first = s->h.seq_off;

	snprintf(list, sizeof(list), "%s", vget(vf, c, "ks_gens"));
	for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		unsigned long long j = strtoull(t, NULL, 10);
		uint8_t want[32];
		uint64_t first, end;
		const struct seal2_keys *k;

		snprintf(name, sizeof(name), "k_enc_%llu", j);
		vhex_n(vf, c, name, want, 32);
		k = seal2_chain_get(ch, j, &ctx);
		ck_assert_ptr_nonnull(k);
		CHECK_EQ(vf, c, name, k->enc, want, 32);
		snprintf(name, sizeof(name), "ks_first_%llu", j);
		first = vint(vf, c, name);
		snprintf(name, sizeof(name), "ks_end_%llu", j);
		end = vint(vf, c, name);
		ck_assert_uint_eq(first, expect_first);
		ck_assert_uint_eq(seal2_gen(first), j);
		ck_assert_uint_eq(seal2_gen(end - 1), j);
		expect_first = end;
	}
	ck_assert_uint_eq(expect_first, s->h.seq_off + s->len);
}

/* open must fail on h2/ct2/tag2 and leave the buffer as it was. */
static void expect_reject(const char *what, const struct vcase *c, const struct seg *s,
			  struct seal2_chain *ch, const struct seal2_hdr *h2,
			  const uint8_t *ct2, const uint8_t *tag2)
{
	uint8_t buf[256];

	memcpy(buf, ct2, h2->payload_len);
	ck_assert_msg(seal2_open(&ctx, s->suite, ch, h2, buf, tag2) == -1,
		      "line %zu: open accepts %s", c->line, what);
	ck_assert_msg(memcmp(buf, ct2, h2->payload_len) == 0,
		      "line %zu: rejected open changed the buffer (%s)", c->line, what);
}

static void expect_accept(const char *what, const struct vcase *c, const struct seg *s,
			  struct seal2_chain *ch, const struct seal2_hdr *h2)
{
	uint8_t buf[256];

	memcpy(buf, s->ct, s->len);
	ck_assert_msg(seal2_open(&ctx, s->suite, ch, h2, buf, s->tag) == 0,
		      "line %zu: open rejects %s", c->line, what);
	ck_assert_msg(memcmp(buf, s->pt, s->len) == 0, "line %zu: %s: wrong plaintext",
		      c->line, what);
}

static void seg_check_rejects(const struct vcase *c, const struct seg *s, struct seal2_chain *ch)
{
	static const uint8_t covered[] = { 0x01, 0x02, 0x04, 0x10, 0x20 };
	struct seal2_hdr h2;
	uint8_t ct2[256], tag2[SEAL2_TAG_LEN];

	for (size_t i = 0; i < s->len; i++) {
		memcpy(ct2, s->ct, s->len);
		ct2[i] ^= 0x01;
		expect_reject("a flipped ciphertext byte", c, s, ch, &s->h, ct2, s->tag);
	}
	for (size_t i = 0; i < SEAL2_TAG_LEN; i++) {
		memcpy(tag2, s->tag, SEAL2_TAG_LEN);
		tag2[i] ^= 0x80;
		expect_reject("a flipped tag byte", c, s, ch, &s->h, s->ct, tag2);
	}
	for (size_t i = 0; i < sizeof(covered); i++) {
		h2 = s->h;
		h2.flags ^= covered[i];
		/* clearing ACK or URG also drops a field: rejected either way */
		expect_reject("a flipped covered flag", c, s, ch, &h2, s->ct, s->tag);
	}
	h2 = s->h;
	h2.flags ^= 0x08 | 0x40 | 0x80;	/* PSH, ECE, CWR are not covered */
	expect_accept("PSH/ECE/CWR flipped", c, s, ch, &h2);
	h2 = s->h;
	h2.seq_off ^= 1;
	expect_reject("another seq_offset", c, s, ch, &h2, s->ct, s->tag);
	h2 = s->h;
	h2.ack_off ^= 1;
	if (s->h.flags & 0x10)
		expect_reject("another ack_offset", c, s, ch, &h2, s->ct, s->tag);
	else
		expect_accept("ack_offset without ACK", c, s, ch, &h2);
	h2 = s->h;
	h2.urg_ptr ^= 1;
	if (s->h.flags & 0x20)
		expect_reject("another urgent pointer", c, s, ch, &h2, s->ct, s->tag);
	else
		expect_accept("urgent pointer without URG", c, s, ch, &h2);
	if (s->len > 0) {
		h2 = s->h;
		h2.payload_len--;
		expect_reject("a shortened payload", c, s, ch, &h2, s->ct, s->tag);
	}
}

START_TEST(test_segment_vectors)
{
	static struct seg s;
	struct vfile chains, vf;
	unsigned n[2] = { 0, 0 };

	vfile_load(&chains, "v2-chains.txt");
	vfile_load(&vf, "v2-segments.txt");
	ck_assert_uint_eq(vf.ncases, 24);
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		uint8_t mk[32], buf[256], ph[SEAL2_PSEUDO_LEN], tag[SEAL2_TAG_LEN], poly[16];
		uint8_t pk[32] = { 0 };
		struct seal2_chain ch;
		const struct seal2_keys *k;
		size_t half;

		seg_load(&vf, c, &s);
		ck_assert(s.suite == SEAL2_SUITE_CHACHA20 || s.suite == SEAL2_SUITE_AES128CTR);
		n[s.suite == SEAL2_SUITE_AES128CTR]++;
		chain_mk(&chains, vget(&vf, c, "keys"), mk);
		seal2_chain_init(&ch, mk, dir_ctx(vget(&vf, c, "direction")));

		/* tag key index and keys */
		ck_assert_uint_eq(seal2_tag_index(&s.h), s.tag_index);
		k = seal2_chain_get(&ch, s.tag_index, &ctx);
		ck_assert_ptr_nonnull(k);
		CHECK_EQ(&vf, c, "k_hash", k->hash, s.k_hash, 16);
		CHECK_EQ(&vf, c, "k_prf", k->prf, s.k_prf, 32);
		seg_check_gens(&vf, c, &s, &ch);

		/* pseudo header and the Poly1305 value in between */
		seal2_pseudo_header(&s.h, ph);
		CHECK_EQ(&vf, c, "pseudo header", ph, s.ph, SEAL2_PSEUDO_LEN);
		memcpy(pk, s.k_hash, 16);
		memcpy(buf, s.ph, SEAL2_PSEUDO_LEN);
		memcpy(buf + SEAL2_PSEUDO_LEN, s.ct, s.len);
		crypto_onetimeauth_poly1305(poly, buf, SEAL2_PSEUDO_LEN + s.len, pk);
		CHECK_EQ(&vf, c, "poly1305 hash", poly, s.poly, 16);

		/* keystream */
		memset(buf, 0, s.len);
		ck_assert_int_eq(seal2_xor(&ctx, s.suite, &ch, s.h.seq_off, buf, s.len), 0);
		CHECK_EQ(&vf, c, "keystream", buf, s.ks, s.len);

		/* seal */
		memcpy(buf, s.pt, s.len);
		ck_assert_int_eq(seal2_seal(&ctx, s.suite, &ch, &s.h, buf, tag), 0);
		CHECK_EQ(&vf, c, "ciphertext", buf, s.ct, s.len);
		CHECK_EQ(&vf, c, "tag", tag, s.tag, SEAL2_TAG_LEN);

		/* the same bytes cut at another place (a retransmission) */
		half = s.len / 3;
		memcpy(buf, s.pt, s.len);
		ck_assert_int_eq(seal2_xor(&ctx, s.suite, &ch, s.h.seq_off, buf, half), 0);
		ck_assert_int_eq(seal2_xor(&ctx, s.suite, &ch, s.h.seq_off + half, buf + half,
					   s.len - half), 0);
		CHECK_EQ(&vf, c, "ciphertext in two pieces", buf, s.ct, s.len);

		/* open, on a fresh chain too (nothing cached) */
		expect_accept("the vector", c, &s, &ch, &s.h);
		seal2_chain_wipe(&ch, &ctx);
		seal2_chain_init(&ch, mk, dir_ctx(vget(&vf, c, "direction")));
		expect_accept("the vector on a fresh chain", c, &s, &ch, &s.h);
		/* ChaCha20 needs no OpenSSL context */
		if (s.suite == SEAL2_SUITE_CHACHA20) {
			memcpy(buf, s.ct, s.len);
			ck_assert_int_eq(seal2_open(NULL, s.suite, &ch, &s.h, buf, s.tag), 0);
			CHECK_EQ(&vf, c, "plaintext without context", buf, s.pt, s.len);
		}
		seg_check_rejects(c, &s, &ch);
		seal2_chain_wipe(&ch, &ctx);
	}
	ck_assert_uint_eq(n[0], 12);
	ck_assert_uint_eq(n[1], 12);
	vfile_free(&vf);
	vfile_free(&chains);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The rules around the vectors */

static const uint8_t mk_test[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

START_TEST(test_tag_index)
{
	struct seal2_hdr h = { .flags = 0x10, .seq_off = 3 * G - 1, .ack_off = 2 * G };

	ck_assert_uint_eq(seal2_tag_index(&h), 2 + 2);
	h.flags = 0x18;
	ck_assert_uint_eq(seal2_tag_index(&h), 2 + 2);
	h.flags = 0x08;			/* no ACK: ack_off counts as 0 */
	ck_assert_uint_eq(seal2_tag_index(&h), 2);
	h.flags = 0x11;
	h.seq_off = UINT64_MAX;		/* S = ISN: generation 0 */
	ck_assert_uint_eq(seal2_tag_index(&h), 0 + 2);
	h.seq_off = UINT64_MAX - 1;	/* an ordinary offset in the last generation */
	ck_assert_uint_eq(seal2_tag_index(&h), (UINT64_MAX >> 30) + 2);
	h.seq_off = G;
	h.ack_off = UINT64_MAX;
	ck_assert_uint_eq(seal2_tag_index(&h), 1);
	ck_assert_uint_eq(seal2_gen(G - 1), 0);
	ck_assert_uint_eq(seal2_gen(G), 1);
	ck_assert_uint_eq(seal2_gen(UINT64_MAX), 0);
}
END_TEST

/* A byte at offset 2^64 - 1 (a keepalive's garbage byte at S = ISN) uses
 * generation 0's keystream, block floor((2^64 - 1) / 64) resp. 16, and the
 * next byte is offset 0. */
START_TEST(test_keepalive_byte)
{
	struct seal2_chain ch;
	const struct seal2_keys *k;
	uint8_t enc[32], buf[2] = { 0, 0 }, ks[64] = { 0 }, zero8[8] = { 0 };

	seal2_chain_init(&ch, mk_test, SEAL2_CTX_AB);
	k = seal2_chain_get(&ch, 0, &ctx);
	memcpy(enc, k->enc, 32);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &ch, UINT64_MAX, buf, 2), 0);
	crypto_stream_chacha20_xor_ic(ks, ks, 64, zero8, UINT64_MAX / 64, enc);
	ck_assert_uint_eq(buf[0], ks[63]);
	memset(ks, 0, sizeof(ks));
	crypto_stream_chacha20_xor_ic(ks, ks, 64, zero8, 0, enc);
	ck_assert_uint_eq(buf[1], ks[0]);
	/* and the generation's keys stay the ones in use: nothing else derived */
	ck_assert_uint_eq(ch.cur, 0);
	seal2_chain_wipe(&ch, &ctx);
}
END_TEST

/* ChaCha20 block 2^32 in the original layout (64-bit counter in words
 * 12-13, zero nonce) equals the IETF layout's block 0 with nonce word 13 =
 * 1: an independent check that the counter carries into its high word.
 * Block 2^32 starts at offset 2^38 = 256 * G, so it is the first block of
 * generation 256 and block 2^32 - 1 the last of generation 255. */
START_TEST(test_chacha20_carry)
{
	struct seal2_chain ch;
	uint8_t k255[32], k256[32], buf[128] = { 0 }, want[128] = { 0 };
	uint8_t nonce[12] = { 0 };
	uint64_t off = ((uint64_t)1 << 38) - 64;	/* block 2^32 - 1 */

	ck_assert_uint_eq(seal2_gen(off), 255);
	ck_assert_uint_eq(seal2_gen(off + 64), 256);
	seal2_chain_init(&ch, mk_test, SEAL2_CTX_BA);
	memcpy(k255, seal2_chain_get(&ch, 255, &ctx)->enc, 32);
	memcpy(k256, seal2_chain_get(&ch, 256, &ctx)->enc, 32);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &ch, off, buf, sizeof(buf)), 0);
	/* block 2^32 - 1: IETF counter 0xffffffff, nonce 0 */
	crypto_stream_chacha20_ietf_xor_ic(want, want, 64, nonce, 0xffffffffu, k255);
	/* block 2^32: IETF counter 0, nonce word 13 = 1 */
	nonce[0] = 1;
	crypto_stream_chacha20_ietf_xor_ic(want + 64, want + 64, 64, nonce, 0, k256);
	ck_assert_mem_eq(buf, want, sizeof(buf));
	/* unaligned, across the carry */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &ch, off + 40, buf, 50), 0);
	ck_assert_mem_eq(buf, want + 40, 50);
	/* the next carry (block 2^33, high word 2) with generation 512 */
	off = ((uint64_t)1 << 39) + 3;
	memset(buf, 0, sizeof(buf));
	memset(want, 0, sizeof(want));
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &ch, off, buf, 61), 0);
	nonce[0] = 2;
	crypto_stream_chacha20_ietf_xor_ic(want, want, 64, nonce, 0,
					   seal2_chain_get(&ch, 512, &ctx)->enc);
	ck_assert_mem_eq(buf, want + 3, 61);
	seal2_chain_wipe(&ch, &ctx);
	sodium_memzero(k255, sizeof(k255));
	sodium_memzero(k256, sizeof(k256));
}
END_TEST

/* A range straddling j*G gives the same bytes as its two halves, each with
 * its own generation, and the two generations' keystreams differ. */
/* The contexts go on from where the last use of a key ended; whatever
 * order the pieces come in (in order, a gap, backwards, another key in
 * between), every byte gets the keystream of its offset.  The reference
 * is each piece computed with a context of its own. */
START_TEST(test_context_continues)
{
	static const struct {
		uint64_t off;
		size_t len;
	} pieces[] = {
		{ 0, 1460 }, { 1460, 100 }, { 1560, 1440 }, { 5000, 13 }, { 5013, 64 },
		{ 3000, 2000 }, { 5077, 3 }, { 5080, 1460 },
	};
	const uint16_t suites[] = { SEAL2_SUITE_AES128CTR, SEAL2_SUITE_CHACHA20 };
	struct seal2_chain c, other;
	uint8_t buf[2000], want[2000], junk[7] = { 0 };

	seal2_chain_init(&c, mk_test, SEAL2_CTX_AB);
	seal2_chain_init(&other, mk_test, SEAL2_CTX_BA);
	for (size_t si = 0; si < 2; si++) {
		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			struct seal2_ctx fresh;

			ck_assert_int_eq(seal2_ctx_init(&fresh), 0);
			memset(want, 0, pieces[i].len);
			ck_assert_int_eq(seal2_xor(&fresh, suites[si], &c, pieces[i].off, want,
						   pieces[i].len), 0);
			seal2_ctx_free(&fresh);
			memset(buf, 0, pieces[i].len);
			ck_assert_int_eq(seal2_xor(&ctx, suites[si], &c, pieces[i].off, buf,
						   pieces[i].len), 0);
			ck_assert_mem_eq(buf, want, pieces[i].len);
			/* another key in between every other piece */
			if (i % 2)
				ck_assert_int_eq(seal2_xor(&ctx, suites[si], &other, 0, junk,
							   sizeof(junk)), 0);
		}
	}
	seal2_chain_wipe(&c, &ctx);
	seal2_chain_wipe(&other, &ctx);
}
END_TEST

START_TEST(test_straddle)
{
	struct seal2_chain ch;
	uint8_t whole[64] = { 0 }, parts[64] = { 0 }, other[32] = { 0 };

	for (int suite = SEAL2_SUITE_CHACHA20; suite <= SEAL2_SUITE_AES128CTR; suite++) {
		seal2_chain_init(&ch, mk_test, SEAL2_CTX_AB);
		memset(whole, 0, sizeof(whole));
		memset(parts, 0, sizeof(parts));
		memset(other, 0, sizeof(other));
		ck_assert_int_eq(seal2_xor(&ctx, (uint16_t)suite, &ch, 5 * G - 21, whole, 64), 0);
		ck_assert_int_eq(seal2_xor(&ctx, (uint16_t)suite, &ch, 5 * G - 21, parts, 21), 0);
		ck_assert_int_eq(seal2_xor(&ctx, (uint16_t)suite, &ch, 5 * G, parts + 21, 43), 0);
		ck_assert_mem_eq(whole, parts, 64);
		ck_assert_ptr_nonnull(seal2_chain_get(&ch, 5, &ctx));
		ck_assert_ptr_nonnull(seal2_chain_get(&ch, 4, &ctx));
		seal2_chain_wipe(&ch, &ctx);
		/* only generation 4's key: the bytes above the boundary differ */
		seal2_chain_init(&ch, mk_test, SEAL2_CTX_AB);
		{
			const struct seal2_keys *k4 = seal2_chain_get(&ch, 4, &ctx);
			struct seal2_keys k4copy = *k4;
			const struct seal2_keys *k5 = seal2_chain_get(&ch, 5, &ctx);

			ck_assert(memcmp(k4copy.enc, k5->enc, 32) != 0);
			sodium_memzero(&k4copy, sizeof(k4copy));
		}
		ck_assert_int_eq(seal2_xor(&ctx, (uint16_t)suite, &ch, 5 * G + 11, other, 32), 0);
		ck_assert_mem_eq(other, whole + 32, 32);	/* 5G + 11 = whole[32] */
		seal2_chain_wipe(&ch, &ctx);
	}
}
END_TEST

START_TEST(test_chain_wipe)
{
	struct seal2_chain ch, ref;
	const struct seal2_keys *k;
	struct seal2_keys want[6];
	static const uint8_t zero[sizeof(struct seal2_slot)];

	ck_assert_uint_le(sizeof(struct seal2_chain), 400);
	seal2_chain_init(&ref, mk_test, SEAL2_CTX_AB);
	for (uint64_t j = 0; j < 6; j++)
		want[j] = *seal2_chain_get(&ref, j, &ctx);

	/* any order, evictions included, gives the same keys */
	seal2_chain_init(&ch, mk_test, SEAL2_CTX_AB);
	static const uint64_t order[] = { 5, 0, 3, 1, 4, 2, 0, 5, 1 };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		k = seal2_chain_get(&ch, order[i], &ctx);
		ck_assert_ptr_nonnull(k);
		ck_assert_mem_eq(k, &want[order[i]], sizeof(*k));
	}
	/* wiping below 3: 0..2 are gone for good, 3.. still there */
	seal2_chain_wipe_below(&ch, 3, &ctx);
	ck_assert_uint_eq(ch.lo, 3);
	for (unsigned i = 0; i < SEAL2_CHAIN_SLOTS; i++)
		if (ch.slot[i].gen < 3)
			ck_assert_mem_eq(&ch.slot[i], zero, sizeof(zero));
	for (uint64_t j = 0; j < 3; j++)
		ck_assert_ptr_null(seal2_chain_get(&ch, j, &ctx));
	for (uint64_t j = 3; j < 6; j++) {
		k = seal2_chain_get(&ch, j, &ctx);
		ck_assert_ptr_nonnull(k);
		ck_assert_mem_eq(k, &want[j], sizeof(*k));
	}
	/* encryption and tags below lo fail rather than use other keys */
	{
		uint8_t b[4] = { 0 }, tag[SEAL2_TAG_LEN];
		struct seal2_hdr h = { .flags = 0x10, .seq_off = 2 * G, .payload_len = 0 };

		ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &ch, 3 * G - 2, b, 4), -1);
		ck_assert_int_eq(seal2_tag(&ch, &h, b, 0, tag, &ctx), -1);
		ck_assert(!seal2_verify(&ch, &h, b, 0, tag, &ctx));
	}
	/* the receiver's rule at 5: K_enc below 5 gone, generation 4 keeps
	 * only its tag keys */
	{
		uint8_t b[4] = { 1, 2, 3, 4 }, tag[SEAL2_TAG_LEN], want_tag[SEAL2_TAG_LEN];
		struct seal2_hdr h = { .flags = 0x18, .seq_off = 4 * G + 10, .payload_len = 4 };

		seal2_tag_keys(&want[4], &h, b, 4, want_tag);
		seal2_chain_retire_enc_below(&ch, 5, &ctx);
		ck_assert_uint_eq(ch.lo, 5);
		ck_assert(ch.has_tail);
		ck_assert_ptr_null(seal2_chain_get(&ch, 4, &ctx));
		ck_assert_int_eq(seal2_tag(&ch, &h, b, 4, tag, &ctx), 0);
		ck_assert_mem_eq(tag, want_tag, sizeof(tag));
		ck_assert(seal2_verify(&ch, &h, b, 4, want_tag, &ctx));
		/* verified, but left as it is: its K_enc is gone */
		ck_assert_int_eq(seal2_open(&ctx, SEAL2_SUITE_AES128CTR, &ch, &h, b, want_tag), 1);
		ck_assert_uint_eq(b[0], 1);
		ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &ch, 4 * G, b, 4), -1);
		/* a segment straddling into generation 5 gets its upper part
		 * decrypted */
		{
			uint8_t s8[8] = { 0 }, ks[4] = { 0 };
			struct seal2_hdr hs = { .flags = 0x18, .seq_off = 5 * G - 4,
						.payload_len = 8 };

			ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &ref, 5 * G, ks, 4),
					 0);
			ck_assert_int_eq(seal2_decrypt_verified(&ctx, SEAL2_SUITE_AES128CTR, &ch,
								&hs, s8), 1);
			ck_assert_mem_eq(s8, zero, 4);
			ck_assert_mem_eq(s8 + 4, ks, 4);
		}
		/* the next wipe takes the tail too */
		seal2_chain_retire_enc_below(&ch, 6, &ctx);
		ck_assert_int_eq(seal2_tag(&ch, &h, b, 4, tag, &ctx), -1);
	}
	/* wiping beyond what was derived: the chain steps on, and g[lo] is g[8] */
	seal2_chain_wipe_below(&ch, 8, &ctx);
	ck_assert_uint_eq(ch.lo, 8);
	ck_assert_mem_eq(seal2_chain_get(&ch, 8, &ctx), seal2_chain_get(&ref, 8, &ctx),
			 sizeof(struct seal2_keys));
	/* too far ahead in one request */
	ck_assert_ptr_null(seal2_chain_get(&ch, 8 + SEAL2_CHAIN_MAX_STEPS + 1, &ctx));
	seal2_chain_wipe(&ch, &ctx);
	seal2_chain_wipe(&ref, &ctx);
	sodium_memzero(want, sizeof(want));
}
END_TEST

/* The per-daemon AES contexts hold only keys some chain still holds. */
START_TEST(test_ctx_forgets)
{
	struct seal2_chain a, b;
	uint8_t buf[SEAL2_SHORT_TAG + 40] = { 0 }, again[100] = { 0 };

	seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
	seal2_chain_init(&b, mk_test, SEAL2_CTX_BA);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &a, 7, buf, 100), 0);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &b, 7, buf, 100), 0);
	/* both keys cached; re-using one gives the same keystream */
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &b, 7, buf, 100), 0);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &a, 7, again, 100), 0);
	ck_assert_mem_eq(buf, again, 100);
	seal2_chain_wipe(&a, &ctx);
	seal2_chain_wipe(&b, &ctx);
	for (unsigned i = 0; i < SEAL2_AES_CACHE; i++)
		ck_assert_uint_eq(ctx.aes[i].used, 0);
	/* a context that forgot a key and takes it again (keyed anew, not
	 * set up anew) gives the same keystream */
	{
		uint8_t k1[100] = { 0 }, k2[100] = { 0 };

		seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
		ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &a, 7, k1, 100), 0);
		seal2_chain_wipe(&a, &ctx);
		seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
		ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &a, 7, k2, 100), 0);
		ck_assert_mem_eq(k1, k2, 100);
		seal2_chain_wipe(&a, &ctx);
	}
	/* a chain evicting a slot makes the context forget its key */
	seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
	for (uint64_t j = 0; j <= SEAL2_CHAIN_SLOTS; j++)
		ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_AES128CTR, &a, j * G, buf, 16), 0);
	{
		unsigned held = 0;

		for (unsigned i = 0; i < SEAL2_AES_CACHE; i++)
			held += ctx.aes[i].used != 0;
		ck_assert_uint_eq(held, SEAL2_CHAIN_SLOTS);
	}
	seal2_chain_wipe(&a, &ctx);
	/* the ChaCha20 context forgets its key with the chain's slot too */
	seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
	ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &a, 7, buf, 100), 0);
	ck_assert_uint_ne(ctx.chacha_keyed, 0);
	{
		struct seal2_hdr h = { .flags = 0x10, .seq_off = 7, .ack_off = 9 };
		uint8_t tag[SEAL2_TAG_LEN];

		/* a short tag does not key OpenSSL's context; a long one does */
		ck_assert_int_eq(seal2_tag(&a, &h, buf, SEAL2_SHORT_TAG, tag, &ctx), 0);
		ck_assert_uint_eq(ctx.mac_keyed, 0);
		h.payload_len = sizeof(buf);
		ck_assert_int_eq(seal2_tag(&a, &h, buf, sizeof(buf), tag, &ctx), 0);
		ck_assert_uint_ne(ctx.mac_keyed, 0);
	}
	seal2_chain_wipe(&a, &ctx);
	ck_assert_uint_eq(ctx.chacha_keyed, 0);
	ck_assert_uint_eq(ctx.mac_keyed, 0);
	/* the contexts stay allocated for the next keys, holding none */
	for (unsigned i = 0; i < SEAL2_AES_CACHE; i++)
		ck_assert_uint_eq(ctx.aes[i].used, 0);
	/* unknown suite */
	seal2_chain_init(&a, mk_test, SEAL2_CTX_AB);
	ck_assert_int_eq(seal2_xor(&ctx, 0x7401, &a, 0, buf, 1), -1);
	ck_assert_int_eq(seal2_xor(NULL, SEAL2_SUITE_AES128CTR, &a, 0, buf, 1), -1);
	seal2_chain_wipe(&a, &ctx);
}
END_TEST

/* 0x7402 through OpenSSL (with a context) and through libsodium (without)
 * give the same keystream at every offset inside a block, for pieces up to
 * a few blocks long, next to the carries into the counter's high word
 * (blocks 2^32 and 2^33) and across generation boundaries. */
START_TEST(test_chacha20_backends)
{
	static const uint64_t base[] = { 0, 5 * G - 100, ((uint64_t)1 << 38) - 130,
					 ((uint64_t)1 << 39) - 70 };
	struct seal2_chain ch;
	uint8_t a[300], b[300];

	seal2_chain_init(&ch, mk_test, SEAL2_CTX_AB);
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		for (unsigned d = 0; d < 200; d += 7) {
			uint64_t off = base[i] + d;
			size_t len = 1 + (d * 13) % 299;

			randombytes_buf(a, len);
			memcpy(b, a, len);
			ck_assert_int_eq(seal2_xor(&ctx, SEAL2_SUITE_CHACHA20, &ch, off, a, len), 0);
			ck_assert_int_eq(seal2_xor(NULL, SEAL2_SUITE_CHACHA20, &ch, off, b, len), 0);
			ck_assert_msg(memcmp(a, b, len) == 0, "offset %llu, %zu bytes",
				      (unsigned long long)off, len);
		}
	seal2_chain_wipe(&ch, &ctx);
}
END_TEST

/* The tag through OpenSSL's Poly1305 (with a context) and libsodium's
 * (without) agree, for lengths around Poly1305's 16-byte blocks and around
 * SEAL2_SHORT_TAG, below which the context uses libsodium's too. */
START_TEST(test_tag_backends)
{
	struct seal2_chain ch;
	uint8_t ct[1460], t1[SEAL2_TAG_LEN], t2[SEAL2_TAG_LEN];

	seal2_chain_init(&ch, mk_test, SEAL2_CTX_BA);
	randombytes_buf(ct, sizeof(ct));
	for (size_t len = 0; len <= sizeof(ct); len++) {
		if (len >= 70 && len % 139 != 0 &&
		    (len + 8 < SEAL2_SHORT_TAG || len > SEAL2_SHORT_TAG + 8))
			continue;
		struct seal2_hdr h = { .flags = (uint8_t)(0x10 | (len & 0x2f)), .seq_off = G - len,
				       .ack_off = 3 * G + len, .payload_len = (uint16_t)len,
				       .urg_ptr = (uint16_t)len };

		ck_assert_int_eq(seal2_tag(&ch, &h, ct, len, t1, &ctx), 0);
		ck_assert_int_eq(seal2_tag(&ch, &h, ct, len, t2, NULL), 0);
		ck_assert_msg(memcmp(t1, t2, sizeof(t1)) == 0, "%zu bytes", len);
	}
	seal2_chain_wipe(&ch, &ctx);
}
END_TEST

static Suite *seal2_suite(void)
{
	Suite *s = suite_create("seal2");
	TCase *tc = tcase_create("seal2");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_chain_vectors);
	tcase_add_test(tc, test_segment_vectors);
	tcase_add_test(tc, test_tag_index);
	tcase_add_test(tc, test_keepalive_byte);
	tcase_add_test(tc, test_chacha20_carry);
	tcase_add_test(tc, test_chacha20_backends);
	tcase_add_test(tc, test_tag_backends);
	tcase_add_test(tc, test_straddle);
	tcase_add_test(tc, test_context_continues);
	tcase_add_test(tc, test_chain_wipe);
	tcase_add_test(tc, test_ctx_forgets);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(seal2_suite)
