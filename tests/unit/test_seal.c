/* Suite 0x7401 data protection (PROTOCOL.md section 4). */
#include "unit.h"

#include <sodium.h>

#include "seal.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

#define BIG 4096

static void make_key(struct seal_key *k, uint8_t seed)
{
	uint8_t tk[64];

	for (size_t i = 0; i < sizeof(tk); i++)
		tk[i] = (uint8_t)(seed ^ (i * 29));
	seal_key_init(k, tk);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* The definition, one byte at a time: byte o%64 of block o/64.  Slow and
 * obviously right, to check the block-wise code against. */
static void ref_xor(const struct seal_key *k, uint64_t off, uint8_t *buf, size_t len)
{
	static const uint8_t nonce[8];

	for (size_t i = 0; i < len; i++) {
		uint8_t ks[64] = { 0 };
		uint64_t o = off + i;

		crypto_stream_chacha20_xor_ic(ks, ks, sizeof(ks), nonce, o / 64, k->enc);
		buf[i] ^= ks[o % 64];
	}
}

/* Offsets worth testing: aligned and not, the 32-bit sequence wrap (2^32),
 * the 32-bit block counter wrap (2^38), beyond 2^40, near 2^64. */
static const uint64_t offsets[] = {
	0, 1, 63, 64, 65, 74, 75, 1000,
	(1ull << 32) - 5, (1ull << 32) - 64, (1ull << 32) + 1,
	(1ull << 38) - 5, (1ull << 38) - 64, (1ull << 38),
	(1ull << 40) + 17, (1ull << 63) - 7, UINT64_MAX - BIG,
};
#define N_OFFSETS (sizeof(offsets) / sizeof(offsets[0]))

/* ------------------------------------------------------------------------ */
/* Keystream */

START_TEST(test_key_init)
{
	uint8_t tk[64];
	struct seal_key k;

	fill(tk, sizeof(tk), 3);
	seal_key_init(&k, tk);
	ck_assert_mem_eq(k.enc, tk, 32);
	ck_assert_mem_eq(k.mac, tk + 32, 32);
	seal_key_wipe(&k);
	for (size_t i = 0; i < sizeof(k.enc); i++) {
		ck_assert_uint_eq(k.enc[i], 0);
		ck_assert_uint_eq(k.mac[i], 0);
	}
}
END_TEST

START_TEST(test_xor_twice)
{
	static uint8_t buf[BIG], orig[BIG];
	struct seal_key k;
	uint64_t off = offsets[_i];

	make_key(&k, 1);
	fill(orig, sizeof(orig), 9);
	memcpy(buf, orig, sizeof(buf));
	seal_xor(&k, off, buf, sizeof(buf));
	ck_assert(memcmp(buf, orig, sizeof(buf)) != 0);
	seal_xor(&k, off, buf, sizeof(buf));
	ck_assert_mem_eq(buf, orig, sizeof(buf));
}
END_TEST

START_TEST(test_xor_len0)
{
	uint8_t b = 0x42;
	struct seal_key k;

	make_key(&k, 1);
	seal_xor(&k, 77, &b, 0);
	ck_assert_uint_eq(b, 0x42);
}
END_TEST

START_TEST(test_xor_matches_reference)
{
	static const size_t lens[] = { 1, 2, 63, 64, 65, 127, 128, 129, 1459, 1500 };
	static uint8_t a[1500], b[1500];
	struct seal_key k;
	uint64_t off = offsets[_i];

	make_key(&k, 2);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		fill(a, lens[l], (uint8_t)l);
		memcpy(b, a, lens[l]);
		seal_xor(&k, off, a, lens[l]);
		ref_xor(&k, off, b, lens[l]);
		ck_assert_msg(memcmp(a, b, lens[l]) == 0,
			      "offset %llu length %zu differs from the definition",
			      (unsigned long long)off, lens[l]);
	}
}
END_TEST

/* With a zero buffer at a block boundary, seal_xor yields libsodium's own
 * keystream from that block on. */
START_TEST(test_xor_is_chacha20_stream)
{
	static const uint8_t nonce[8];
	static uint8_t a[1000], b[1000];
	struct seal_key k;

	make_key(&k, 4);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	seal_xor(&k, 64 * 5, a, sizeof(a));
	crypto_stream_chacha20_xor_ic(b, b, sizeof(b), nonce, 5, k.enc);
	ck_assert_mem_eq(a, b, sizeof(a));
}
END_TEST

/* A retransmission cut at other boundaries encrypts to the same bytes. */
START_TEST(test_xor_split)
{
	static const size_t pieces[][8] = {
		{ 1, 63, 64, 65, 1459, 0 },
		{ 63, 1, 1, 1, 1459, 65, 64, 0 },
		{ 1459, 1459, 0 },
		{ 64, 64, 64, 64, 0 },
		{ 7, 120, 1, 200, 3, 0 },
		{ 1460, 1, 2, 3, 0 },
	};
	static uint8_t whole[BIG], cut[BIG];
	struct seal_key k;
	uint64_t off = offsets[_i];

	make_key(&k, 5);
	fill(whole, sizeof(whole), 1);
	memcpy(cut, whole, sizeof(cut));
	seal_xor(&k, off, whole, sizeof(whole));
	for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		size_t pos = 0;

		fill(cut, sizeof(cut), 1);
		for (size_t j = 0; j < 8 && pieces[p][j] != 0; j++) {
			seal_xor(&k, off + pos, cut + pos, pieces[p][j]);
			pos += pieces[p][j];
		}
		ck_assert_uint_le(pos, sizeof(cut));
		ck_assert_msg(memcmp(whole, cut, pos) == 0,
			      "split %zu at offset %llu differs", p, (unsigned long long)off);
	}
}
END_TEST

START_TEST(test_xor_depends_on_key_and_offset)
{
	uint8_t a[100] = { 0 }, b[100] = { 0 };
	struct seal_key k1, k2;

	make_key(&k1, 6);
	make_key(&k2, 7);
	seal_xor(&k1, 1000, a, sizeof(a));
	seal_xor(&k2, 1000, b, sizeof(b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	memset(b, 0, sizeof(b));
	seal_xor(&k1, 1001, b, sizeof(b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert_mem_eq(a + 1, b, sizeof(a) - 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Pseudo header and tag */

START_TEST(test_pseudo_header_bytes)
{
	static const uint8_t want_all[SEAL_PSEUDO_LEN] = {
		0x01, 0x37,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x21, 0x22,
		0x31, 0x32,
	};
	static const uint8_t want_psh[SEAL_PSEUDO_LEN] = {
		0x01, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x21, 0x22,
		0, 0,
	};
	struct seal_hdr h = {
		.flags = 0xff,
		.seq_off = 0x0102030405060708ull,
		.ack_off = 0x1112131415161718ull,
		.payload_len = 0x2122,
		.urg_ptr = 0x3132,
	};
	uint8_t out[SEAL_PSEUDO_LEN];

	seal_pseudo_header(&h, out);
	ck_assert_mem_eq(out, want_all, sizeof(out));
	h.flags = TH_PSH | TH_ECE | TH_CWR;
	seal_pseudo_header(&h, out);
	ck_assert_mem_eq(out, want_psh, sizeof(out));
}
END_TEST

static const uint8_t payload[] = "length-preserving";
#define PLEN ((uint16_t)(sizeof(payload) - 1))

static struct seal_hdr base_hdr(void)
{
	struct seal_hdr h = {
		.flags = TH_ACK | TH_URG | TH_PSH,
		.seq_off = 75 + 1000,
		.ack_off = 74 + 2000,
		.payload_len = PLEN,
		.urg_ptr = 3,
	};
	return h;
}

static void tag_of(const struct seal_hdr *h, uint8_t tag[SEAL_TAG_LEN])
{
	struct seal_key k;

	make_key(&k, 8);
	seal_tag(&k, h, payload, PLEN, tag);
}

/* Manual BLAKE2b over the serialised header, to pin down what is hashed. */
START_TEST(test_tag_definition)
{
	struct seal_hdr h = base_hdr();
	struct seal_key k;
	uint8_t msg[SEAL_PSEUDO_LEN + sizeof(payload)], full[16], tag[SEAL_TAG_LEN];

	make_key(&k, 8);
	seal_pseudo_header(&h, msg);
	memcpy(msg + SEAL_PSEUDO_LEN, payload, PLEN);
	crypto_generichash(full, sizeof(full), msg, SEAL_PSEUDO_LEN + PLEN, k.mac, 32);
	seal_tag(&k, &h, payload, PLEN, tag);
	ck_assert_mem_eq(tag, full, SEAL_TAG_LEN);
}
END_TEST

/* Every covered field changes the tag. */
START_TEST(test_tag_covers_fields)
{
	static const uint8_t covered_flags[] = { TH_FIN, TH_SYN, TH_RST, TH_ACK, TH_URG };
	struct seal_hdr h;
	uint8_t t0[SEAL_TAG_LEN], t[SEAL_TAG_LEN];

	h = base_hdr();
	tag_of(&h, t0);
	for (size_t i = 0; i < sizeof(covered_flags); i++) {
		h = base_hdr();
		h.flags ^= covered_flags[i];
		tag_of(&h, t);
		ck_assert_msg(memcmp(t, t0, SEAL_TAG_LEN) != 0, "flag 0x%02x not covered",
			      covered_flags[i]);
	}
	h = base_hdr();
	h.seq_off ^= 1ull << 40;
	tag_of(&h, t);
	ck_assert(memcmp(t, t0, SEAL_TAG_LEN) != 0);
	h = base_hdr();
	h.ack_off += 1;
	tag_of(&h, t);
	ck_assert(memcmp(t, t0, SEAL_TAG_LEN) != 0);
	h = base_hdr();
	h.payload_len -= 1;
	tag_of(&h, t);
	ck_assert(memcmp(t, t0, SEAL_TAG_LEN) != 0);
	h = base_hdr();
	h.urg_ptr = 4;
	tag_of(&h, t);
	ck_assert(memcmp(t, t0, SEAL_TAG_LEN) != 0);
}
END_TEST

/* PSH, ECE and CWR are not covered; neither is ack_off without ACK nor
 * urg_ptr without URG. */
START_TEST(test_tag_ignores_fields)
{
	static const uint8_t free_flags[] = {
		TH_PSH, TH_ECE, TH_CWR, TH_PSH | TH_ECE | TH_CWR,
	};
	struct seal_hdr h;
	uint8_t t0[SEAL_TAG_LEN], t[SEAL_TAG_LEN];

	h = base_hdr();
	tag_of(&h, t0);
	for (size_t i = 0; i < sizeof(free_flags); i++) {
		h = base_hdr();
		h.flags ^= free_flags[i];
		tag_of(&h, t);
		ck_assert_mem_eq(t, t0, SEAL_TAG_LEN);
	}

	h = base_hdr();
	h.flags &= (uint8_t)~TH_ACK;
	tag_of(&h, t0);
	h.ack_off = 0;
	tag_of(&h, t);
	ck_assert_mem_eq(t, t0, SEAL_TAG_LEN);
	h.ack_off = UINT64_MAX;
	tag_of(&h, t);
	ck_assert_mem_eq(t, t0, SEAL_TAG_LEN);

	h = base_hdr();
	h.flags &= (uint8_t)~TH_URG;
	tag_of(&h, t0);
	h.urg_ptr = 0;
	tag_of(&h, t);
	ck_assert_mem_eq(t, t0, SEAL_TAG_LEN);
	h.urg_ptr = 0xffff;
	tag_of(&h, t);
	ck_assert_mem_eq(t, t0, SEAL_TAG_LEN);
}
END_TEST

START_TEST(test_tag_empty_payload)
{
	struct seal_hdr h = base_hdr();
	struct seal_key k;
	uint8_t t1[SEAL_TAG_LEN], t2[SEAL_TAG_LEN];

	make_key(&k, 8);
	h.payload_len = 0;
	seal_tag(&k, &h, NULL, 0, t1);
	seal_tag(&k, &h, payload, 0, t2);
	ck_assert_mem_eq(t1, t2, SEAL_TAG_LEN);
	ck_assert(seal_verify(&k, &h, NULL, 0, t1));
}
END_TEST

START_TEST(test_verify)
{
	struct seal_hdr h = base_hdr();
	struct seal_key k, other;
	uint8_t ct[sizeof(payload)], tag[SEAL_TAG_LEN];

	make_key(&k, 8);
	make_key(&other, 9);
	memcpy(ct, payload, PLEN);
	seal_tag(&k, &h, ct, PLEN, tag);
	ck_assert(seal_verify(&k, &h, ct, PLEN, tag));
	ck_assert(!seal_verify(&other, &h, ct, PLEN, tag));

	for (size_t bit = 0; bit < 8 * SEAL_TAG_LEN; bit++) {
		tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert(!seal_verify(&k, &h, ct, PLEN, tag));
		tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8u * PLEN; bit++) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert(!seal_verify(&k, &h, ct, PLEN, tag));
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (unsigned bit = 0; bit < 64; bit++) {
		h.seq_off ^= 1ull << bit;
		ck_assert(!seal_verify(&k, &h, ct, PLEN, tag));
		h.seq_off ^= 1ull << bit;
	}
	ck_assert(seal_verify(&k, &h, ct, PLEN, tag));
}
END_TEST

/* A payload_len that does not describe the checked bytes never verifies. */
START_TEST(test_verify_length_mismatch)
{
	struct seal_hdr h = base_hdr();
	struct seal_key k;
	uint8_t tag[SEAL_TAG_LEN];

	make_key(&k, 8);
	h.payload_len = PLEN - 1;
	seal_tag(&k, &h, payload, PLEN - 1, tag);
	ck_assert(seal_verify(&k, &h, payload, PLEN - 1, tag));
	ck_assert(!seal_verify(&k, &h, payload, PLEN, tag));
}
END_TEST

static Suite *seal_suite(void)
{
	Suite *s = suite_create("seal");
	TCase *ks = tcase_create("keystream");
	TCase *mac = tcase_create("mac");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(ks, test_key_init);
	tcase_add_loop_test(ks, test_xor_twice, 0, (int)N_OFFSETS);
	tcase_add_test(ks, test_xor_len0);
	tcase_add_loop_test(ks, test_xor_matches_reference, 0, (int)N_OFFSETS);
	tcase_add_test(ks, test_xor_is_chacha20_stream);
	tcase_add_loop_test(ks, test_xor_split, 0, (int)N_OFFSETS);
	tcase_add_test(ks, test_xor_depends_on_key_and_offset);
	suite_add_tcase(s, ks);

	tcase_add_test(mac, test_pseudo_header_bytes);
	tcase_add_test(mac, test_tag_definition);
	tcase_add_test(mac, test_tag_covers_fields);
	tcase_add_test(mac, test_tag_ignores_fields);
	tcase_add_test(mac, test_tag_empty_payload);
	tcase_add_test(mac, test_verify);
	tcase_add_test(mac, test_verify_length_mismatch);
	suite_add_tcase(s, mac);
	return s;
}

UNIT_MAIN(seal_suite)
