/* Checks the C code against the known-answer files in tests/vectors/,
 * which an independent Python implementation (gen_vectors.py) wrote from
 * PROTOCOL.md alone. */
#include "unit.h"
#include "vfile.h"

#include <sodium.h>

#include "hkdf.h"
#include "kx.h"
#include "seal.h"

/* ------------------------------------------------------------------------ */
/* Key schedule */

struct kx_vec {
	uint8_t priv_a[32], priv_b[32], pub_a[32], pub_b[32], n_a[32], n_b[32];
	uint8_t transcript[KX_TRANSCRIPT_MAX], init1[KX_INIT_MAX_LEN], init2[KX_INIT_MAX_LEN];
	size_t transcript_len, init1_len, init2_len;
	uint8_t es[32], prk[32], mk[32], ss1[32];
	uint8_t session_id[KX_SESSID_LEN], k_ab[64], k_ba[64];
};

static void kx_vec_load(const struct vfile *vf, const struct vcase *c, struct kx_vec *v)
{
	vhex_n(vf, c, "priv_a", v->priv_a, 32);
	vhex_n(vf, c, "priv_b", v->priv_b, 32);
	vhex_n(vf, c, "pub_a", v->pub_a, 32);
	vhex_n(vf, c, "pub_b", v->pub_b, 32);
	vhex_n(vf, c, "n_a", v->n_a, 32);
	vhex_n(vf, c, "n_b", v->n_b, 32);
	v->transcript_len = vhex(vf, c, "transcript", v->transcript, sizeof(v->transcript));
	v->init1_len = vhex(vf, c, "init1", v->init1, sizeof(v->init1));
	v->init2_len = vhex(vf, c, "init2", v->init2, sizeof(v->init2));
	vhex_n(vf, c, "es", v->es, 32);
	vhex_n(vf, c, "prk", v->prk, 32);
	vhex_n(vf, c, "mk", v->mk, 32);
	vhex_n(vf, c, "ss1", v->ss1, 32);
	vhex_n(vf, c, "session_id", v->session_id, KX_SESSID_LEN);
	vhex_n(vf, c, "k_ab", v->k_ab, 64);
	vhex_n(vf, c, "k_ba", v->k_ba, 64);
}

/* Our encoders must produce the vector's messages byte for byte; a peer's
 * Init1 (other suites, trailer) must at least parse to the same values. */
static void kx_check_messages(const struct vfile *vf, const struct vcase *c,
			      const struct kx_vec *v)
{
	uint8_t m1[KX_INIT1_LEN], m2[KX_INIT2_LEN];
	struct kx_init1 i1;
	struct kx_init2 i2;
	const char *variant = vget(vf, c, "variant");

	ck_assert_int_eq(kx_init1_parse(v->init1, v->init1_len, &i1), KX_OK);
	ck_assert_uint_eq(i1.len, v->init1_len);
	CHECK_EQ(vf, c, "parsed N_A", i1.nonce, v->n_a, 32);
	CHECK_EQ(vf, c, "parsed Pub_A", i1.pub, v->pub_a, 32);
	ck_assert_int_eq(kx_init2_parse(v->init2, v->init2_len, &i2), KX_OK);
	ck_assert_uint_eq(i2.len, v->init2_len);
	CHECK_EQ(vf, c, "parsed N_B", i2.nonce, v->n_b, 32);
	CHECK_EQ(vf, c, "parsed Pub_B", i2.pub, v->pub_b, 32);

	kx_init2_encode(m2, v->n_b, v->pub_b);
	ck_assert_uint_eq(v->init2_len, KX_INIT2_LEN);
	CHECK_EQ(vf, c, "Init2 encoding", m2, v->init2, KX_INIT2_LEN);
	if (strcmp(variant, "standard") == 0) {
		kx_init1_encode(m1, v->n_a, v->pub_a);
		ck_assert_uint_eq(v->init1_len, KX_INIT1_LEN);
		CHECK_EQ(vf, c, "Init1 encoding", m1, v->init1, KX_INIT1_LEN);
	} else {
		ck_assert_msg(strcmp(variant, "peer-init1") == 0, "%s:%zu: unknown variant '%s'",
			      vf->path, c->line, variant);
	}
}

/* PRK and mk are internal to kx_derive; recompute them with the HKDF module
 * so that a mismatch points at the step that is wrong. */
static void kx_check_intermediates(const struct vfile *vf, const struct vcase *c,
				   const struct kx_vec *v)
{
	struct hkdf_extract x;
	uint8_t prk[32], mk[32];

	hkdf_extract_init(&x, v->n_a, 32);
	hkdf_extract_update(&x, v->transcript, v->transcript_len);
	hkdf_extract_update(&x, v->init1, v->init1_len);
	hkdf_extract_update(&x, v->init2, v->init2_len);
	hkdf_extract_update(&x, v->es, 32);
	hkdf_extract_final(&x, prk);
	CHECK_EQ(vf, c, "PRK", prk, v->prk, 32);
	hkdf_cprf(mk, 32, prk, 0x03);
	CHECK_EQ(vf, c, "mk", mk, v->mk, 32);
}

static void kx_check_side(const struct vfile *vf, const struct vcase *c,
			  const struct kx_vec *v, bool side_a)
{
	struct kx_input in = {
		.own_priv = side_a ? v->priv_a : v->priv_b,
		.peer_pub = side_a ? v->pub_b : v->pub_a,
		.transcript = v->transcript,
		.transcript_len = v->transcript_len,
		.init1 = v->init1,
		.init1_len = v->init1_len,
		.init2 = v->init2,
		.init2_len = v->init2_len,
	};
	struct kx_secrets s;
	uint8_t es[32];

	ck_assert_int_eq(kx_derive(&in, &s, es), KX_OK);
	CHECK_EQ(vf, c, side_a ? "ES (A)" : "ES (B)", es, v->es, 32);
	CHECK_EQ(vf, c, "session_id", s.session_id, v->session_id, KX_SESSID_LEN);
	CHECK_EQ(vf, c, "k_ab", s.k_ab, v->k_ab, 64);
	CHECK_EQ(vf, c, "k_ba", s.k_ba, v->k_ba, 64);
	CHECK_EQ(vf, c, "ss1", s.ss1, v->ss1, 32);
}

START_TEST(test_kx_vectors)
{
	static struct kx_vec v;
	struct vfile vf;
	uint8_t pub[32];

	vfile_load(&vf, "kx.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];

		kx_vec_load(&vf, c, &v);
		kx_keypair_from_seed(pub, v.priv_a);
		CHECK_EQ(&vf, c, "pub_a", pub, v.pub_a, 32);
		kx_keypair_from_seed(pub, v.priv_b);
		CHECK_EQ(&vf, c, "pub_b", pub, v.pub_b, 32);
		ck_assert_uint_eq(v.session_id[0], 0xa0);
		kx_check_messages(&vf, c, &v);
		kx_check_intermediates(&vf, c, &v);
		kx_check_side(&vf, c, &v, true);
		kx_check_side(&vf, c, &v, false);
	}
	vfile_free(&vf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Keystream */

START_TEST(test_keystream_vectors)
{
	static uint8_t pt[MAX_BYTES], ct[MAX_BYTES], buf[MAX_BYTES];
	struct vfile vf;

	vfile_load(&vf, "keystream.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		struct seal_key k;
		uint64_t off = vint(&vf, c, "offset");
		size_t n = vhex(&vf, c, "plaintext", pt, sizeof(pt));
		size_t half = n / 2 + 1;

		memset(&k, 0, sizeof(k));
		vhex_n(&vf, c, "k_enc", k.enc, SEAL_KEY_LEN);
		ck_assert_uint_eq(vhex(&vf, c, "ciphertext", ct, sizeof(ct)), n);

		memcpy(buf, pt, n);
		seal_xor(&k, off, buf, n);
		CHECK_EQ(&vf, c, "ciphertext", buf, ct, n);
		seal_xor(&k, off, buf, n);
		CHECK_EQ(&vf, c, "decryption", buf, pt, n);

		/* the same bytes in two segments cut somewhere else */
		if (half > n)
			half = n;
		memcpy(buf, pt, n);
		seal_xor(&k, off, buf, half);
		seal_xor(&k, off + half, buf + half, n - half);
		CHECK_EQ(&vf, c, "ciphertext in two pieces", buf, ct, n);
	}
	vfile_free(&vf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Segment tag */

START_TEST(test_mac_vectors)
{
	static uint8_t ctext[MAX_BYTES];
	struct vfile vf;

	vfile_load(&vf, "mac.txt");
	for (size_t i = 0; i < vf.ncases; i++) {
		const struct vcase *c = &vf.cases[i];
		uint8_t ph_want[SEAL_PSEUDO_LEN], ph[SEAL_PSEUDO_LEN];
		uint8_t tag_want[SEAL_TAG_LEN], tag[SEAL_TAG_LEN];
		struct seal_key k;
		struct seal_hdr h;
		size_t n;

		memset(&k, 0, sizeof(k));
		vhex_n(&vf, c, "k_mac", k.mac, SEAL_KEY_LEN);
		h.flags = (uint8_t)vint(&vf, c, "flags");
		h.seq_off = vint(&vf, c, "seq_off");
		h.ack_off = vint(&vf, c, "ack_off");
		h.payload_len = (uint16_t)vint(&vf, c, "payload_len");
		h.urg_ptr = (uint16_t)vint(&vf, c, "urg_ptr");
		vhex_n(&vf, c, "pseudo_header", ph_want, SEAL_PSEUDO_LEN);
		vhex_n(&vf, c, "tag", tag_want, SEAL_TAG_LEN);
		n = vhex(&vf, c, "ciphertext", ctext, sizeof(ctext));
		ck_assert_uint_eq(n, h.payload_len);

		seal_pseudo_header(&h, ph);
		CHECK_EQ(&vf, c, "pseudo header", ph, ph_want, SEAL_PSEUDO_LEN);
		seal_tag(&k, &h, ctext, n, tag);
		CHECK_EQ(&vf, c, "tag", tag, tag_want, SEAL_TAG_LEN);
		ck_assert_msg(seal_verify(&k, &h, ctext, n, tag_want),
			      "%s: case at line %zu: verify rejects the vector", vf.path, c->line);
	}
	vfile_free(&vf);
}
END_TEST

static Suite *vectors_suite(void)
{
	Suite *s = suite_create("vectors");
	TCase *tc = tcase_create("known-answer");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(tc, test_kx_vectors);
	tcase_add_test(tc, test_keystream_vectors);
	tcase_add_test(tc, test_mac_vectors);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(vectors_suite)
