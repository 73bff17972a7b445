/* SPDX-License-Identifier: BSD-2-Clause */
/* Session resumption (doc/protocol.md section 13): the secrets and option
 * bytes against the known-answer vectors of tests/vectors/protocol-v2.json
 * (converted to v2-resume.txt by v2_to_txt.py), and the bookkeeping of
 * both hosts: single use, B's sliding window, eviction order, expiry, and
 * that whatever is dropped is wiped. */
#include "unit.h"
#include "vfile.h"

#include <sys/socket.h>
#include <sodium.h>

#include "eno.h"
#include "kx.h"
#include "resume.h"
#include "seal2.h"

#define SEC RESUME_US_PER_SEC

static struct vfile vf;

static void load(void)
{
	vfile_load(&vf, "v2-resume.txt");
	ck_assert_uint_eq(vf.ncases, 1);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static struct resume_addr addr4(uint8_t last)
{
	struct resume_addr a = { .family = AF_INET, .addr = { 198, 51, 100, last } };

	return a;
}

static struct resume_addr addr6(uint8_t last)
{
	struct resume_addr a = { .family = AF_INET6,
				 .addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = last } };

	return a;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 7 + 13 * i + 1);
}

/* ss[n] of the chain starting at ss1, computed independently of the
 * tables. */
static void nth(uint8_t out[32], const uint8_t ss1[32], unsigned n)
{
	memcpy(out, ss1, 32);
	for (unsigned i = 1; i < n; i++)
		resume_ss_next(out, out);
}

/* ------------------------------------------------------------------------ */
/* Vectors */

START_TEST(test_vec_secrets)
{
	const struct vcase *c;
	uint8_t ss1[32], ss2[32], want[32], r1[18], ra[9], rb[9], r2a[9], r2b[9];

	load();
	c = &vf.cases[0];
	vhex_n(&vf, c, "ss1", ss1, 32);
	vhex_n(&vf, c, "ss2", want, 32);
	resume_ss_next(ss2, ss1);
	CHECK_EQ(&vf, c, "ss2", ss2, want, 32);

	vhex_n(&vf, c, "r1", r1, 18);
	resume_r(ss1, ra, rb);
	CHECK_EQ(&vf, c, "R_A", ra, r1, 9);
	CHECK_EQ(&vf, c, "R_B", rb, r1 + 9, 9);
	vhex_n(&vf, c, "r_a", want, 9);
	CHECK_EQ(&vf, c, "r_a", ra, want, 9);
	vhex_n(&vf, c, "r_b", want, 9);
	CHECK_EQ(&vf, c, "r_b", rb, want, 9);
	/* Either half alone. */
	memset(ra, 0, 9);
	resume_r(ss1, ra, NULL);
	CHECK_EQ(&vf, c, "R_A alone", ra, r1, 9);
	memset(rb, 0, 9);
	resume_r(ss1, NULL, rb);
	CHECK_EQ(&vf, c, "R_B alone", rb, r1 + 9, 9);

	/* The next resumption's R: of ss[2]. */
	resume_r(ss2, r2a, r2b);
	vhex_n(&vf, c, "r2_a", want, 9);
	CHECK_EQ(&vf, c, "r2_a", r2a, want, 9);
	vhex_n(&vf, c, "r2_b", want, 9);
	CHECK_EQ(&vf, c, "r2_b", r2b, want, 9);

	/* In place. */
	resume_ss_next(ss1, ss1);
	CHECK_EQ(&vf, c, "ss2 in place", ss1, ss2, 32);
	vfile_free(&vf);
}
END_TEST

START_TEST(test_vec_options)
{
	const struct vcase *c;
	uint8_t ra[9], rb[9], na[4], nb[4], want[40], got[40], r[9], n[4];
	bool role_b = true;

	load();
	c = &vf.cases[0];
	vhex_n(&vf, c, "r_a", ra, 9);
	vhex_n(&vf, c, "r_b", rb, 9);
	vhex_n(&vf, c, "n_a", na, 4);
	vhex_n(&vf, c, "n_b", nb, 4);

	vhex_n(&vf, c, "eno_a", want, RESUME_OFFER_LEN);
	ck_assert_uint_eq(resume_offer_build(got, ra, na), RESUME_OFFER_LEN);
	CHECK_EQ(&vf, c, "eno_a", got, want, RESUME_OFFER_LEN);
	ck_assert(resume_opt_parse(want, RESUME_OFFER_LEN, r, n, &role_b));
	ck_assert(!role_b);
	ck_assert_mem_eq(r, ra, 9);
	ck_assert_mem_eq(n, na, 4);
	/* The ENO module sees the same option as a resumption offer. */
	ck_assert(eno_opt_resumes(want, RESUME_OFFER_LEN));

	vhex_n(&vf, c, "eno_b", want, RESUME_ACCEPT_LEN);
	ck_assert_uint_eq(resume_accept_build(got, rb, nb), RESUME_ACCEPT_LEN);
	CHECK_EQ(&vf, c, "eno_b", got, want, RESUME_ACCEPT_LEN);
	ck_assert(resume_opt_parse(want, RESUME_ACCEPT_LEN, r, n, &role_b));
	ck_assert(role_b);
	ck_assert_mem_eq(r, rb, 9);
	ck_assert_mem_eq(n, nb, 4);

	/* The declining answer is the fresh form: nothing to extract. */
	vhex_n(&vf, c, "eno_b_declined", want, ENO_SYN_B_LEN);
	ck_assert_mem_eq(want, eno_syn_b, ENO_SYN_B_LEN);
	ck_assert(!resume_opt_parse(want, ENO_SYN_B_LEN, r, n, NULL));
	ck_assert(!resume_opt_parse(eno_syn_a, ENO_SYN_A_LEN, r, n, NULL));
	vfile_free(&vf);
}
END_TEST

START_TEST(test_vec_keys)
{
	const struct vcase *c;
	uint8_t ss1[32], t[KX_TRANSCRIPT_MAX], want[40], ea[18], eb[19];
	size_t tlen;
	struct kx_secrets k;
	struct seal2_chain ch;

	load();
	c = &vf.cases[0];
	vhex_n(&vf, c, "ss1", ss1, 32);
	tlen = vhex(&vf, c, "transcript", t, sizeof(t));
	ck_assert_uint_eq(tlen, RESUME_OFFER_LEN + RESUME_ACCEPT_LEN);
	/* The transcript is the two options, as eno_transcript builds it. */
	vhex_n(&vf, c, "eno_a", ea, 18);
	vhex_n(&vf, c, "eno_b", eb, 19);
	{
		uint8_t t2[2 * ENO_MAX_OPT_LEN];

		ck_assert_uint_eq(eno_transcript(t2, ea, 18, eb, 19), tlen);
		ck_assert_mem_eq(t2, t, tlen);
	}

	memset(&k, 0xee, sizeof(k));
	ck_assert(resume_keys(ss1, t, tlen, &k));
	vhex_n(&vf, c, "session_id", want, KX_SESSID_LEN);
	CHECK_EQ(&vf, c, "session_id", k.session_id, want, KX_SESSID_LEN);
	vhex_n(&vf, c, "mk", want, KX_MK_LEN);
	CHECK_EQ(&vf, c, "mk", k.mk, want, KX_MK_LEN);
	ck_assert(all_zero(k.ss1, sizeof(k.ss1)));

	seal2_chain_init(&ch, k.mk, SEAL2_CTX_AB);
	vhex_n(&vf, c, "g_ab_0", want, 32);
	CHECK_EQ(&vf, c, "g_ab[0]", ch.g_lo, want, 32);
	seal2_chain_init(&ch, k.mk, SEAL2_CTX_BA);
	vhex_n(&vf, c, "g_ba_0", want, 32);
	CHECK_EQ(&vf, c, "g_ba[0]", ch.g_lo, want, 32);
	sodium_memzero(&ch, sizeof(ch));

	/* The transcript matters: one bit less, other keys. */
	{
		struct kx_secrets k2;

		t[tlen - 1] ^= 1;
		ck_assert(resume_keys(ss1, t, tlen, &k2));
		ck_assert(memcmp(k2.mk, k.mk, KX_MK_LEN) != 0);
		ck_assert(memcmp(k2.session_id, k.session_id, KX_SESSID_LEN) != 0);
	}
	/* A transcript longer than two options is refused. */
	memset(&k, 0xee, sizeof(k));
	ck_assert(!resume_keys(ss1, t, KX_TRANSCRIPT_MAX + 1, &k));
	ck_assert(all_zero(&k, sizeof(k)));
	vfile_free(&vf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Option parsing beyond the vectors */

START_TEST(test_parse_forms)
{
	uint8_t r[9], n[4], ra[9], na[4], opt[40];
	bool role_b = true;

	fill(ra, 9, 1);
	fill(na, 4, 2);
	/* Our offer behind another TEP (0x21, no data): still ours as the
	 * last valid one. */
	opt[0] = ENO_KIND;
	opt[1] = 19;
	opt[2] = 0x21;
	opt[3] = 0xa0;
	opt[4] = 0x74;
	opt[5] = 0x32;
	memcpy(opt + 6, ra, 9);
	memcpy(opt + 15, na, 4);
	ck_assert(resume_opt_parse(opt, 19, r, n, &role_b));
	ck_assert(!role_b);
	ck_assert_mem_eq(r, ra, 9);
	ck_assert_mem_eq(n, na, 4);

	/* With a length byte (0x8f: 15 data bytes) and a TEP we do not
	 * know after it. */
	opt[1] = 20;
	opt[2] = 0x8f;
	opt[19] = 0x22;
	ck_assert(resume_opt_parse(opt, 20, r, n, NULL));
	ck_assert_mem_eq(r, ra, 9);
	ck_assert_mem_eq(n, na, 4);

	/* ... and with the fresh form of ours after it: the later one
	 * counts, there is no R to take. */
	opt[1] = 22;
	opt[19] = 0xa0;
	opt[20] = 0x74;
	opt[21] = 0x32;
	ck_assert(!resume_opt_parse(opt, 22, r, n, NULL));

	/* Data of another length, or "t1": not ours in resumption form. */
	resume_offer_build(opt, ra, na);
	ck_assert(!resume_opt_parse(opt, 17, r, n, NULL));	/* its length byte says 18 */
	opt[1] = 17;
	ck_assert(!resume_opt_parse(opt, 17, r, n, NULL));
	resume_offer_build(opt, ra, na);
	opt[4] = 0x31;
	ck_assert(!resume_opt_parse(opt, 18, r, n, NULL));
	/* Not ENO at all, or nothing. */
	resume_offer_build(opt, ra, na);
	opt[0] = 70;
	ck_assert(!resume_opt_parse(opt, 18, r, n, NULL));
	ck_assert(!resume_opt_parse(NULL, 0, r, n, NULL));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Host A */

START_TEST(test_a_take_chain)
{
	struct resume_a_table t;
	struct resume_addr b = addr4(1), other = addr4(2);
	struct resume_offer o;
	uint8_t ss1[32], want[32], ra[9], rb[9];

	fill(ss1, 32, 3);
	ck_assert_int_eq(resume_a_init(&t, 4, 0), 0);
	ck_assert_uint_eq(t.lifetime, 600 * SEC);
	ck_assert(!resume_a_take(&t, &b, 0, &o));
	resume_a_store(&t, &b, ss1, SEAL2_SUITE_AES128CTR, 1000);
	ck_assert_uint_eq(resume_a_count(&t), 1);
	ck_assert(!resume_a_take(&t, &other, 1000, &o));
	ck_assert(all_zero(&o, sizeof(o)));

	/* Each take hands out the next ss, never the same one twice. */
	for (unsigned i = 1; i <= 6; i++) {
		ck_assert(resume_a_take(&t, &b, 2000, &o));
		nth(want, ss1, i);
		ck_assert_mem_eq(o.ss, want, 32);
		resume_r(want, ra, rb);
		ck_assert_mem_eq(o.r_a, ra, 9);
		ck_assert_mem_eq(o.r_b, rb, 9);
		ck_assert_uint_eq(o.index, i);
		ck_assert_uint_eq(o.suite, SEAL2_SUITE_AES128CTR);
		/* The entry no longer holds what it handed out. */
		ck_assert(memcmp(t.e[0].ss, o.ss, 32) != 0);
	}
	ck_assert_uint_eq(resume_a_count(&t), 1);
	resume_a_free(&t);
}
END_TEST

START_TEST(test_a_replace_decline)
{
	struct resume_a_table t;
	struct resume_addr b = addr6(1);
	struct resume_offer o1, o2;
	uint8_t ss1[32], ss1b[32];

	fill(ss1, 32, 4);
	fill(ss1b, 32, 5);
	ck_assert_int_eq(resume_a_init(&t, 4, 10 * SEC), 0);
	resume_a_store(&t, &b, ss1, SEAL2_SUITE_CHACHA20, 0);
	ck_assert(resume_a_take(&t, &b, 1, &o1));
	/* A newer fresh exchange with the same B replaces the entry ... */
	resume_a_store(&t, &b, ss1b, SEAL2_SUITE_AES128CTR, 2);
	ck_assert_uint_eq(resume_a_count(&t), 1);
	/* ... so the decline of the older offer leaves it alone. */
	resume_a_decline(&t, &b, o1.chain);
	ck_assert_uint_eq(resume_a_count(&t), 1);
	ck_assert(resume_a_take(&t, &b, 3, &o2));
	ck_assert_mem_eq(o2.ss, ss1b, 32);
	ck_assert_uint_eq(o2.index, 1);
	ck_assert_uint_eq(o2.suite, SEAL2_SUITE_AES128CTR);
	/* Its own decline drops it, and wipes it. */
	resume_a_decline(&t, &b, o2.chain);
	ck_assert_uint_eq(resume_a_count(&t), 0);
	ck_assert(all_zero(t.e, t.max * sizeof(*t.e)));
	ck_assert(!resume_a_take(&t, &b, 4, &o2));
	resume_a_free(&t);
}
END_TEST

START_TEST(test_a_expiry)
{
	struct resume_a_table t;
	struct resume_addr b1 = addr4(1), b2 = addr4(2);
	struct resume_offer o;
	uint8_t ss[32];

	fill(ss, 32, 6);
	ck_assert_int_eq(resume_a_init(&t, 4, 600 * SEC), 0);
	resume_a_store(&t, &b1, ss, 1, 100 * SEC);
	resume_a_store(&t, &b2, ss, 1, 200 * SEC);
	/* Taking does not extend the lifetime. */
	ck_assert(resume_a_take(&t, &b1, 699 * SEC, &o));
	ck_assert(!resume_a_take(&t, &b1, 700 * SEC, &o));
	ck_assert_uint_eq(resume_a_count(&t), 1);	/* the take dropped it */
	ck_assert_uint_eq(resume_a_expire(&t, 800 * SEC - 1), 0);
	ck_assert_uint_eq(resume_a_expire(&t, 800 * SEC), 1);
	ck_assert_uint_eq(resume_a_count(&t), 0);
	ck_assert(all_zero(t.e, t.max * sizeof(*t.e)));
	/* A lifetime near the end of time does not wrap. */
	resume_a_store(&t, &b1, ss, 1, UINT64_MAX - 5);
	ck_assert(resume_a_take(&t, &b1, UINT64_MAX - 4, &o));
	resume_a_free(&t);
}
END_TEST

START_TEST(test_a_eviction)
{
	struct resume_a_table t;
	struct resume_offer o;
	uint8_t ss[32];

	fill(ss, 32, 7);
	ck_assert_int_eq(resume_a_init(&t, 3, 0), 0);
	for (uint8_t i = 1; i <= 3; i++) {
		struct resume_addr b = addr4(i);

		resume_a_store(&t, &b, ss, 1, i);
	}
	/* Refreshing B 1 makes B 2 the oldest. */
	{
		struct resume_addr b = addr4(1);

		resume_a_store(&t, &b, ss, 1, 4);
	}
	for (uint8_t i = 4; i <= 5; i++) {
		struct resume_addr b = addr4(i);

		resume_a_store(&t, &b, ss, 1, i + 1);
		ck_assert_uint_eq(resume_a_count(&t), 3);
	}
	{
		struct resume_addr gone2 = addr4(2), gone3 = addr4(3), kept = addr4(1);
		struct resume_addr k4 = addr4(4), k5 = addr4(5);

		ck_assert(!resume_a_take(&t, &gone2, 10, &o));
		ck_assert(!resume_a_take(&t, &gone3, 10, &o));
		ck_assert(resume_a_take(&t, &kept, 10, &o));
		ck_assert(resume_a_take(&t, &k4, 10, &o));
		ck_assert(resume_a_take(&t, &k5, 10, &o));
	}
	/* Same address bytes, other family: another B. */
	{
		struct resume_addr b = addr4(1);

		b.family = AF_INET6;
		ck_assert(!resume_a_take(&t, &b, 10, &o));
	}
	resume_a_clear(&t);
	ck_assert_uint_eq(resume_a_count(&t), 0);
	ck_assert(all_zero(t.e, t.max * sizeof(*t.e)));
	resume_a_free(&t);
	ck_assert_ptr_null(t.e);
	ck_assert_int_eq(resume_a_init(&t, 0, 0), -1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Host B */

START_TEST(test_b_accept_once)
{
	struct resume_b_table t;
	struct resume_addr a = addr4(9), other = addr4(10);
	struct resume_accept acc;
	uint8_t ss1[32], s[32], ra[9], rb[9];

	fill(ss1, 32, 8);
	ck_assert_int_eq(resume_b_init(&t, 16, 0), 0);
	resume_b_store(&t, &a, ss1, SEAL2_SUITE_CHACHA20, 0);
	resume_r(ss1, ra, rb);
	/* Only from the address that was A. */
	ck_assert(!resume_b_take(&t, &other, ra, 1, &acc));
	ck_assert(all_zero(&acc, sizeof(acc)));
	ck_assert(resume_b_take(&t, &a, ra, 1, &acc));
	ck_assert_mem_eq(acc.ss, ss1, 32);
	ck_assert_mem_eq(acc.r_b, rb, 9);
	ck_assert_uint_eq(acc.index, 1);
	ck_assert_uint_eq(acc.suite, SEAL2_SUITE_CHACHA20);
	/* The same R_A again (a replayed SYN): refused. */
	ck_assert(!resume_b_take(&t, &a, ra, 2, &acc));
	/* The next in line is ss[2]. */
	nth(s, ss1, 2);
	resume_r(s, ra, rb);
	ck_assert(resume_b_take(&t, &a, ra, 3, &acc));
	ck_assert_uint_eq(acc.index, 2);
	ck_assert_mem_eq(acc.ss, s, 32);
	ck_assert_mem_eq(acc.r_b, rb, 9);
	resume_b_free(&t);
}
END_TEST

/* What the window of w holds: the indices of its valid slots must be
 * exactly k+1 .. k+4, each with the right secret and R_A. */
static void check_window(const struct resume_b_window *w, const uint8_t ss1[32])
{
	for (uint32_t j = w->k + 1; j <= w->k + RESUME_WINDOW; j++) {
		const struct resume_b_slot *sl = &w->slot[j % RESUME_WINDOW];
		uint8_t s[32], ra[9];

		nth(s, ss1, j);
		resume_r(s, ra, NULL);
		ck_assert(sl->valid);
		ck_assert_mem_eq(sl->ss, s, 32);
		ck_assert_mem_eq(sl->r_a, ra, 9);
	}
}

START_TEST(test_b_window_slides)
{
	struct resume_b_table t;
	struct resume_addr a = addr6(9);
	struct resume_accept acc;
	uint8_t ss1[32], s[32], ra[9];

	fill(ss1, 32, 9);
	ck_assert_int_eq(resume_b_init(&t, 4, 0), 0);
	resume_b_store(&t, &a, ss1, 1, 0);
	ck_assert_uint_eq(t.w[0].k, 0);
	check_window(&t.w[0], ss1);

	/* Beyond the window: ss[5] is not known yet. */
	nth(s, ss1, 5);
	resume_r(s, ra, NULL);
	ck_assert(!resume_b_take(&t, &a, ra, 1, &acc));

	/* A's attempts with ss[1..2] got lost; it offers ss[3]. */
	nth(s, ss1, 3);
	resume_r(s, ra, NULL);
	ck_assert(resume_b_take(&t, &a, ra, 1, &acc));
	ck_assert_uint_eq(acc.index, 3);
	ck_assert_uint_eq(t.w[0].k, 3);
	check_window(&t.w[0], ss1);	/* ss[4..7] */
	/* ss[1..3] are gone for good. */
	for (unsigned j = 1; j <= 3; j++) {
		nth(s, ss1, j);
		resume_r(s, ra, NULL);
		ck_assert(!resume_b_take(&t, &a, ra, 2, &acc));
	}
	/* Now ss[5] is in, and the top of the window (ss[7]). */
	nth(s, ss1, 7);
	resume_r(s, ra, NULL);
	ck_assert(resume_b_take(&t, &a, ra, 3, &acc));
	ck_assert_uint_eq(acc.index, 7);
	ck_assert_mem_eq(acc.ss, s, 32);
	check_window(&t.w[0], ss1);	/* ss[8..11] */
	/* One step at a time for a while. */
	for (unsigned j = 8; j <= 20; j++) {
		nth(s, ss1, j);
		resume_r(s, ra, NULL);
		ck_assert(resume_b_take(&t, &a, ra, 4, &acc));
		ck_assert_uint_eq(acc.index, j);
		check_window(&t.w[0], ss1);
	}
	resume_b_free(&t);
}
END_TEST

/* R_A of ss[1] of the chain seeded with seed. */
static void first_ra(uint8_t seed, uint8_t ss1[32], uint8_t ra[9])
{
	fill(ss1, 32, seed);
	resume_r(ss1, ra, NULL);
}

START_TEST(test_b_per_peer_limit)
{
	struct resume_b_table t;
	struct resume_addr a = addr4(20), a2 = addr4(21);
	struct resume_accept acc;
	uint8_t ss1[32], ra[9];

	ck_assert_int_eq(resume_b_init(&t, 32, 0), 0);
	for (uint8_t i = 0; i < RESUME_B_PER_PEER + 2; i++) {
		first_ra((uint8_t)(50 + i), ss1, ra);
		resume_b_store(&t, &a, ss1, 1, i);
	}
	first_ra(90, ss1, ra);
	resume_b_store(&t, &a2, ss1, 1, 0);
	ck_assert_uint_eq(resume_b_count(&t), RESUME_B_PER_PEER + 1);
	/* The two oldest of this A went, the others (and A2's) stay. */
	for (uint8_t i = 0; i < RESUME_B_PER_PEER + 2; i++) {
		first_ra((uint8_t)(50 + i), ss1, ra);
		ck_assert_int_eq(resume_b_take(&t, &a, ra, 20, &acc), i >= 2);
	}
	first_ra(90, ss1, ra);
	ck_assert(resume_b_take(&t, &a2, ra, 20, &acc));
	resume_b_free(&t);
}
END_TEST

START_TEST(test_b_global_eviction)
{
	struct resume_b_table t;
	struct resume_accept acc;
	uint8_t ss1[32], ra[9];

	ck_assert_int_eq(resume_b_init(&t, 3, 0), 0);
	for (uint8_t i = 0; i < 5; i++) {
		struct resume_addr a = addr4((uint8_t)(30 + i));

		first_ra((uint8_t)(60 + i), ss1, ra);
		resume_b_store(&t, &a, ss1, 1, i);
		ck_assert_uint_le(resume_b_count(&t), 3);
	}
	for (uint8_t i = 0; i < 5; i++) {
		struct resume_addr a = addr4((uint8_t)(30 + i));

		first_ra((uint8_t)(60 + i), ss1, ra);
		ck_assert_int_eq(resume_b_take(&t, &a, ra, 9, &acc), i >= 2);
	}
	resume_b_free(&t);
}
END_TEST

START_TEST(test_b_expiry_wipe)
{
	struct resume_b_table t;
	struct resume_addr a = addr4(40), a2 = addr4(41);
	struct resume_accept acc;
	uint8_t ss1[32], ra[9];

	ck_assert_int_eq(resume_b_init(&t, 4, 60 * SEC), 0);
	first_ra(70, ss1, ra);
	resume_b_store(&t, &a, ss1, 1, 10 * SEC);
	resume_b_store(&t, &a2, ss1, 1, 20 * SEC);
	/* Accepting does not extend the lifetime. */
	ck_assert(resume_b_take(&t, &a, ra, 69 * SEC, &acc));
	{
		uint8_t s[32];

		nth(s, ss1, 2);
		resume_r(s, ra, NULL);
	}
	ck_assert(!resume_b_take(&t, &a, ra, 70 * SEC, &acc));
	ck_assert_uint_eq(resume_b_count(&t), 1);
	ck_assert_uint_eq(resume_b_expire(&t, 80 * SEC - 1), 0);
	ck_assert_uint_eq(resume_b_expire(&t, 80 * SEC), 1);
	ck_assert(all_zero(t.w, t.max * sizeof(*t.w)));

	resume_b_store(&t, &a, ss1, 1, 0);
	resume_b_store(&t, &a2, ss1, 1, 0);
	ck_assert(!all_zero(t.w, t.max * sizeof(*t.w)));
	resume_b_clear(&t);
	ck_assert_uint_eq(resume_b_count(&t), 0);
	ck_assert(all_zero(t.w, t.max * sizeof(*t.w)));
	resume_b_free(&t);
	ck_assert_ptr_null(t.w);
	ck_assert_int_eq(resume_b_init(&t, 0, 0), -1);
}
END_TEST

/* A and B in step: A's offers are B's acceptances, and both derive the
 * same keys from the options on the wire. */
START_TEST(test_a_b_together)
{
	struct resume_a_table at;
	struct resume_b_table bt;
	struct resume_addr a = addr4(1), b = addr4(2);
	uint8_t ss1[32], n[4] = { 1, 2, 3, 4 };

	fill(ss1, 32, 11);
	ck_assert_int_eq(resume_a_init(&at, 8, 0), 0);
	ck_assert_int_eq(resume_b_init(&bt, 8, 0), 0);
	resume_a_store(&at, &b, ss1, SEAL2_SUITE_AES128CTR, 0);
	resume_b_store(&bt, &a, ss1, SEAL2_SUITE_AES128CTR, 0);
	for (unsigned round = 0; round < 12; round++) {
		struct resume_offer o;
		struct resume_accept acc;
		struct kx_secrets ka, kb;
		uint8_t syn[RESUME_OFFER_LEN], synack[RESUME_ACCEPT_LEN], r[9], nn[4];
		uint8_t tr[2 * ENO_MAX_OPT_LEN];
		size_t tl;

		ck_assert(resume_a_take(&at, &b, 1, &o));
		resume_offer_build(syn, o.r_a, n);
		/* Every third SYN is lost: B never sees it. */
		if (round % 3 == 2) {
			sodium_memzero(&o, sizeof(o));
			continue;
		}
		ck_assert(resume_opt_parse(syn, sizeof(syn), r, nn, NULL));
		ck_assert(resume_b_take(&bt, &a, r, 1, &acc));
		ck_assert_uint_eq(acc.index, o.index);
		resume_accept_build(synack, acc.r_b, n);
		ck_assert(resume_opt_parse(synack, sizeof(synack), r, nn, NULL));
		ck_assert_mem_eq(r, o.r_b, 9);
		tl = eno_transcript(tr, syn, sizeof(syn), synack, sizeof(synack));
		ck_assert(resume_keys(o.ss, tr, tl, &ka));
		ck_assert(resume_keys(acc.ss, tr, tl, &kb));
		ck_assert_mem_eq(ka.mk, kb.mk, KX_MK_LEN);
		ck_assert_mem_eq(ka.session_id, kb.session_id, KX_SESSID_LEN);
		sodium_memzero(&o, sizeof(o));
		sodium_memzero(&acc, sizeof(acc));
	}
	resume_a_free(&at);
	resume_b_free(&bt);
}
END_TEST

START_TEST(test_sizes)
{
	/* The figures doc and reviewers quote; a change should be seen. */
	printf("resume: %zu bytes per A entry, %zu bytes per B window\n",
	       sizeof(struct resume_a_entry), sizeof(struct resume_b_window));
	ck_assert_uint_le(sizeof(struct resume_a_entry), 96);
	ck_assert_uint_le(sizeof(struct resume_b_window), 224);
}
END_TEST

static Suite *resume_suite(void)
{
	Suite *s = suite_create("resume");
	TCase *vec = tcase_create("vectors");
	TCase *opt = tcase_create("options");
	TCase *ta = tcase_create("host_a");
	TCase *tb = tcase_create("host_b");

	tcase_add_test(vec, test_vec_secrets);
	tcase_add_test(vec, test_vec_options);
	tcase_add_test(vec, test_vec_keys);
	tcase_add_test(opt, test_parse_forms);
	tcase_add_test(ta, test_a_take_chain);
	tcase_add_test(ta, test_a_replace_decline);
	tcase_add_test(ta, test_a_expiry);
	tcase_add_test(ta, test_a_eviction);
	tcase_add_test(tb, test_b_accept_once);
	tcase_add_test(tb, test_b_window_slides);
	tcase_add_test(tb, test_b_per_peer_limit);
	tcase_add_test(tb, test_b_global_eviction);
	tcase_add_test(tb, test_b_expiry_wipe);
	tcase_add_test(tb, test_a_b_together);
	tcase_add_test(tb, test_sizes);
	suite_add_tcase(s, vec);
	suite_add_tcase(s, opt);
	suite_add_tcase(s, ta);
	suite_add_tcase(s, tb);
	return s;
}

UNIT_MAIN(resume_suite)
