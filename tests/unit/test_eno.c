/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP-ENO (RFC 8547) negotiation as used by doc/protocol.md section 3: the
 * matrix of well-formed, malformed and refused SYN / SYN-ACK options areas,
 * one test per case, on crafted bytes that mix ENO with the options Linux
 * really sends (MSS, SACK-permitted, timestamps, NOP, window scale). */
#include "unit.h"

#include "eno.h"

/* What Linux puts in a SYN and a SYN-ACK: 20 bytes each. */
#define LINUX_SYN    "02 04 05 b4  04 02  08 0a 11 22 33 44 00 00 00 00  01  03 03 07"
#define LINUX_SYNACK "02 04 05 b4  04 02  08 0a 55 66 77 88 11 22 33 44  01  03 03 07"
#define ENO_A        "45 05 a0 74 32"
#define ENO_B        "45 06 01 a0 74 32"
/* A resumption offer and its acceptance (data "t2" | R | n, 15 bytes), as
 * in the vectors of tests/vectors/protocol-v2.json. */
#define RESUME_RN    "f8 76 94 9e 32 50 20 e0 58 80 81 82 83"
#define RESUME_A     "45 12 a0 74 32 " RESUME_RN
#define RESUME_B     "45 13 01 a0 74 32 9c 85 10 80 93 76 42 a4 00 84 85 86 87"

/* An options area in a heap buffer of exactly its size, so that the
 * sanitizers catch any read past the end. */
struct area {
	uint8_t *buf;
	size_t len;
};

static struct area area_new(const char *hex)
{
	uint8_t tmp[256];
	struct area a;

	a.len = unit_unhex(hex, tmp, sizeof(tmp));
	a.buf = malloc(a.len ? a.len : 1);
	ck_assert_ptr_nonnull(a.buf);
	memcpy(a.buf, tmp, a.len);
	return a;
}

enum side { SYN_FROM_A, SYNACK_FROM_B };

/* Runs B's check of A's SYN or A's check of B's SYN-ACK on hex and asserts
 * the result; on ENO_OK also that the option found starts at byte off of
 * the area and has length len, otherwise that no option is handed out. */
static void expect(enum side side, const char *hex, bool payload, enum eno_result want,
		   size_t off, size_t len)
{
	struct area a = area_new(hex);
	const uint8_t *opt = (const uint8_t *)"stale";
	size_t opt_len = 12345;
	enum eno_result got;

	if (side == SYN_FROM_A)
		got = eno_check_syn(a.buf, a.len, payload, &opt, &opt_len);
	else
		got = eno_check_synack(a.buf, a.len, payload, &opt, &opt_len);
	ck_assert_msg(got == want, "%s on [%s]: got %s, want %s",
		      side == SYN_FROM_A ? "eno_check_syn" : "eno_check_synack", hex,
		      eno_result_str(got), eno_result_str(want));
	if (want == ENO_OK) {
		ck_assert_ptr_eq(opt, a.buf + off);
		ck_assert_uint_eq(opt_len, len);
	} else {
		ck_assert_ptr_null(opt);
		ck_assert_uint_eq(opt_len, 0);
	}
	free(a.buf);
}

static void syn_is(const char *hex, enum eno_result want)
{
	expect(SYN_FROM_A, hex, false, want, 0, 0);
}

static void synack_is(const char *hex, enum eno_result want)
{
	expect(SYNACK_FROM_B, hex, false, want, 0, 0);
}

static void syn_ok(const char *hex, size_t off, size_t len)
{
	expect(SYN_FROM_A, hex, false, ENO_OK, off, len);
}

static void synack_ok(const char *hex, size_t off, size_t len)
{
	expect(SYNACK_FROM_B, hex, false, ENO_OK, off, len);
}

static void present_is(const char *hex, bool want)
{
	struct area a = area_new(hex);

	ck_assert_msg(eno_present(a.buf, a.len) == want, "eno_present on [%s]", hex);
	free(a.buf);
}

static void find_is(const char *hex, int want, size_t off, size_t len)
{
	struct area a = area_new(hex);
	const uint8_t *first = (const uint8_t *)"stale";
	size_t first_len = 12345;
	int got = eno_find(a.buf, a.len, &first, &first_len);

	ck_assert_msg(got == want, "eno_find on [%s]: got %d, want %d", hex, got, want);
	if (want > 0) {
		ck_assert_ptr_eq(first, a.buf + off);
		ck_assert_uint_eq(first_len, len);
	} else {
		ck_assert_ptr_null(first);
		ck_assert_uint_eq(first_len, 0);
	}
	/* The out parameters are optional. */
	ck_assert_int_eq(eno_find(a.buf, a.len, NULL, NULL), want);
	free(a.buf);
}

static void parse_is(const char *hex, enum eno_result want, struct eno_syn_opt *out)
{
	struct area a = area_new(hex);
	enum eno_result got = eno_parse_syn_opt(a.buf, a.len, out);

	ck_assert_msg(got == want, "eno_parse_syn_opt on [%s]: got %s, want %s", hex,
		      eno_result_str(got), eno_result_str(want));
	free(a.buf);
}

/* ------------------------------------------------------------------------
 * Our own option bytes */

START_TEST(constants_exact)
{
	static const uint8_t a[] = { 0x45, 0x05, 0xa0, 0x74, 0x32 };
	static const uint8_t b[] = { 0x45, 0x06, 0x01, 0xa0, 0x74, 0x32 };
	static const uint8_t ack[] = { 0x45, 0x02 };

	ck_assert_uint_eq(sizeof(eno_syn_a), sizeof(a));
	ck_assert_uint_eq(sizeof(eno_syn_b), sizeof(b));
	ck_assert_uint_eq(sizeof(eno_ack), sizeof(ack));
	ck_assert_mem_eq(eno_syn_a, a, sizeof(a));
	ck_assert_mem_eq(eno_syn_b, b, sizeof(b));
	ck_assert_mem_eq(eno_ack, ack, sizeof(ack));
}
END_TEST

START_TEST(constants_parse)
{
	struct eno_syn_opt p;

	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, ENO_SYN_A_LEN, &p), ENO_OK);
	ck_assert_uint_eq(p.global, 0x00);
	ck_assert(!p.role_b);
	ck_assert_uint_eq(p.ntep, 1);
	ck_assert(p.has_ours);
	ck_assert(p.ours_last_valid);

	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_b, ENO_SYN_B_LEN, &p), ENO_OK);
	ck_assert_uint_eq(p.global, 0x01);
	ck_assert(p.role_b);
	ck_assert_uint_eq(p.ntep, 1);
	ck_assert(p.has_ours);
	ck_assert(p.ours_last_valid);
}
END_TEST

/* Our SYN-ACK answering our SYN, each seen by the other side. */
START_TEST(constants_negotiate)
{
	const uint8_t *opt;
	size_t len;

	ck_assert_int_eq(eno_check_syn(eno_syn_a, ENO_SYN_A_LEN, false, &opt, &len), ENO_OK);
	ck_assert_ptr_eq(opt, eno_syn_a);
	ck_assert_uint_eq(len, ENO_SYN_A_LEN);
	ck_assert_int_eq(eno_check_synack(eno_syn_b, ENO_SYN_B_LEN, false, &opt, &len), ENO_OK);
	ck_assert_ptr_eq(opt, eno_syn_b);
	ck_assert_uint_eq(len, ENO_SYN_B_LEN);
}
END_TEST

/* ------------------------------------------------------------------------
 * Accepted forms, ENO at various positions among Linux's options */

START_TEST(syn_exact_alone)
{
	syn_ok(ENO_A, 0, 5);
}
END_TEST

START_TEST(syn_eno_first)
{
	syn_ok(ENO_A " 01 01 01 " LINUX_SYN, 0, 5);
}
END_TEST

START_TEST(syn_eno_middle)
{
	syn_ok("02 04 05 b4 01 " ENO_A " 04 02 08 0a 11 22 33 44 00 00 00 00 01 03 03 07", 5, 5);
}
END_TEST

START_TEST(syn_eno_last)
{
	syn_ok(LINUX_SYN " 01 01 01 " ENO_A, 23, 5);
}
END_TEST

START_TEST(syn_eno_then_eol)
{
	/* Linux pads with NOPs, others with EOL: both end the scan cleanly. */
	syn_ok("02 04 05 b4 " ENO_A " 00 00 00", 4, 5);
}
END_TEST

START_TEST(synack_exact_alone)
{
	synack_ok(ENO_B, 0, 6);
}
END_TEST

START_TEST(synack_eno_first)
{
	synack_ok(ENO_B " 01 01 " LINUX_SYNACK, 0, 6);
}
END_TEST

START_TEST(synack_eno_middle)
{
	synack_ok("02 04 05 b4 01 01 " ENO_B " 08 0a 55 66 77 88 11 22 33 44 01 03 03 07", 6, 6);
}
END_TEST

START_TEST(synack_eno_last)
{
	synack_ok(LINUX_SYNACK " 01 01 " ENO_B, 22, 6);
}
END_TEST

/* ------------------------------------------------------------------------
 * Transcript */

START_TEST(transcript_constants)
{
	uint8_t out[2 * ENO_MAX_OPT_LEN];
	uint8_t want[32];
	size_t n = unit_unhex(ENO_A ENO_B, want, sizeof(want));

	ck_assert_uint_eq(eno_transcript(out, eno_syn_a, ENO_SYN_A_LEN, eno_syn_b, ENO_SYN_B_LEN), n);
	ck_assert_uint_eq(n, 11);
	ck_assert_mem_eq(out, want, n);
}
END_TEST

/* The transcript built from what the two checks hand out is A's option
 * followed by B's, kind and length bytes included, whatever surrounds them. */
START_TEST(transcript_from_checks)
{
	struct area syn = area_new(LINUX_SYN " 01 01 01 " ENO_A);
	struct area synack = area_new("02 04 05 b4 01 01 " ENO_B " 08 0a 55 66 77 88 11 22 33 44 01 03 03 07");
	const uint8_t *a, *b;
	size_t a_len, b_len;
	uint8_t out[2 * ENO_MAX_OPT_LEN];
	uint8_t want[32];
	size_t n = unit_unhex("45 05 a0 74 32 45 06 01 a0 74 32", want, sizeof(want));

	ck_assert_int_eq(eno_check_syn(syn.buf, syn.len, false, &a, &a_len), ENO_OK);
	ck_assert_int_eq(eno_check_synack(synack.buf, synack.len, false, &b, &b_len), ENO_OK);
	ck_assert_uint_eq(eno_transcript(out, a, a_len, b, b_len), n);
	ck_assert_mem_eq(out, want, n);
	free(syn.buf);
	free(synack.buf);
}
END_TEST

/* Negotiated options other than our exact forms are hashed as they were. */
START_TEST(transcript_other_forms)
{
	struct area syn = area_new("45 09 82 a1 01 02 a0 74 32");
	struct area synack = area_new("45 08 03 82 a0 74 32 21");
	const uint8_t *a, *b;
	size_t a_len, b_len;
	uint8_t out[2 * ENO_MAX_OPT_LEN];

	ck_assert_int_eq(eno_check_syn(syn.buf, syn.len, false, &a, &a_len), ENO_OK);
	ck_assert_int_eq(eno_check_synack(synack.buf, synack.len, false, &b, &b_len), ENO_OK);
	ck_assert_uint_eq(eno_transcript(out, a, a_len, b, b_len), 17);
	ck_assert_mem_eq(out, syn.buf, 9);
	ck_assert_mem_eq(out + 9, synack.buf, 8);
	free(syn.buf);
	free(synack.buf);
}
END_TEST

START_TEST(transcript_refuses_oversize)
{
	uint8_t big[ENO_MAX_OPT_LEN + 1] = { 0 };
	uint8_t out[2 * ENO_MAX_OPT_LEN];

	ck_assert_uint_eq(eno_transcript(out, big, sizeof(big), eno_syn_b, ENO_SYN_B_LEN), 0);
	ck_assert_uint_eq(eno_transcript(out, eno_syn_a, ENO_SYN_A_LEN, big, sizeof(big)), 0);
	ck_assert_uint_eq(eno_transcript(NULL, eno_syn_a, ENO_SYN_A_LEN, eno_syn_b, ENO_SYN_B_LEN), 0);
	ck_assert_uint_eq(eno_transcript(out, NULL, 5, eno_syn_b, ENO_SYN_B_LEN), 0);
	/* The largest legal transcript fills the buffer exactly. */
	memset(big, 0x45, sizeof(big));
	ck_assert_uint_eq(eno_transcript(out, big, ENO_MAX_OPT_LEN, big, ENO_MAX_OPT_LEN),
			  2 * ENO_MAX_OPT_LEN);
}
END_TEST

/* ------------------------------------------------------------------------
 * Global suboption: implicit and explicit */

START_TEST(global_implicit)
{
	struct eno_syn_opt p;

	parse_is(ENO_A, ENO_OK, &p);
	ck_assert_uint_eq(p.global, 0x00);
	ck_assert(!p.role_b);
}
END_TEST

START_TEST(global_explicit_zero_syn)
{
	syn_ok("45 06 00 a0 74 32", 0, 6);
}
END_TEST

/* The a bit (application-aware) does not change the negotiation. */
START_TEST(global_app_aware_syn)
{
	struct eno_syn_opt p;

	parse_is("45 06 02 a0 74 32", ENO_OK, &p);
	ck_assert_uint_eq(p.global, 0x02);
	ck_assert(!p.role_b);
	syn_ok(LINUX_SYN " 45 06 02 a0 74 32", 20, 6);
}
END_TEST

START_TEST(global_app_aware_synack)
{
	synack_ok("45 06 03 a0 74 32", 0, 6);
}
END_TEST

/* Reserved global bits are ignored: only b decides the role. */
START_TEST(global_reserved_bits_ignored)
{
	struct eno_syn_opt p;

	parse_is("45 06 1c a0 74 32", ENO_OK, &p);
	ck_assert_uint_eq(p.global, 0x1c);
	ck_assert(!p.role_b);
	syn_ok("45 06 1c a0 74 32", 0, 6);
	synack_ok("45 06 1d a0 74 32", 0, 6);
}
END_TEST

/* Our reading: a global byte anywhere but first makes the option malformed. */
START_TEST(global_second_is_malformed)
{
	syn_is("45 07 00 00 a0 74 32", ENO_MALFORMED);
	synack_is("45 07 01 01 a0 74 32", ENO_MALFORMED);
}
END_TEST

START_TEST(global_after_tep_is_malformed)
{
	syn_is("45 07 21 00 a0 74 32", ENO_MALFORMED);
	synack_is("45 07 21 01 a0 74 32", ENO_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------------------
 * Roles */

/* B answering with b=0 as well: both claim role A. */
START_TEST(roles_both_zero)
{
	synack_is(ENO_A, ENO_SAME_ROLE);
	synack_is("45 06 00 a0 74 32", ENO_SAME_ROLE);
}
END_TEST

/* A's SYN with b=1: both would be B. */
START_TEST(roles_a_with_b1)
{
	syn_is(ENO_B, ENO_SAME_ROLE);
	syn_is(LINUX_SYN " 45 06 03 a0 74 32", ENO_SAME_ROLE);
}
END_TEST

/* ------------------------------------------------------------------------
 * Vacuous options */

START_TEST(vacuous_empty)
{
	syn_is("45 02", ENO_VACUOUS);
	syn_is(LINUX_SYN " 01 01 45 02", ENO_VACUOUS);
}
END_TEST

START_TEST(vacuous_global_zero)
{
	syn_is("45 03 00", ENO_VACUOUS);
}
END_TEST

START_TEST(vacuous_global_b1)
{
	synack_is("45 03 01", ENO_VACUOUS);
	synack_is(LINUX_SYNACK " 01 45 03 01", ENO_VACUOUS);
}
END_TEST

/* Roles are judged before vacuity. */
START_TEST(vacuous_but_wrong_role)
{
	syn_is("45 03 01", ENO_SAME_ROLE);
	synack_is("45 02", ENO_SAME_ROLE);
	synack_is("45 03 00", ENO_SAME_ROLE);
}
END_TEST

/* ------------------------------------------------------------------------
 * TEPs that are not ours */

START_TEST(tep_foreign_one_byte)
{
	syn_is("45 03 21", ENO_NO_COMMON_TEP);
	synack_is("45 04 01 21", ENO_NO_COMMON_TEP);
}
END_TEST

START_TEST(tep_foreign_with_data)
{
	syn_is("45 05 a1 01 02", ENO_NO_COMMON_TEP);
	syn_is("45 08 82 a1 01 02 22 23", ENO_NO_COMMON_TEP);
	synack_is("45 06 01 a1 01 02", ENO_NO_COMMON_TEP);
}
END_TEST

START_TEST(tep_ours_without_data)
{
	syn_is("45 03 20", ENO_NO_COMMON_TEP);
	synack_is("45 04 01 20", ENO_NO_COMMON_TEP);
}
END_TEST

/* 0xa0 with an empty data field, to the end or length-prefixed. */
START_TEST(tep_ours_empty_data)
{
	syn_is("45 03 a0", ENO_NO_COMMON_TEP);
	syn_is("45 05 80 a0 21", ENO_NO_COMMON_TEP);
}
END_TEST

/* "t1" (protocol version 1) and any other version are another experiment
 * to us: the connection stays in plaintext. */
START_TEST(tep_ours_other_version)
{
	syn_is("45 05 a0 74 31", ENO_NO_COMMON_TEP);
	synack_is("45 06 01 a0 74 31", ENO_NO_COMMON_TEP);
	syn_is(LINUX_SYN " 01 01 01 45 05 a0 74 31", ENO_NO_COMMON_TEP);
	syn_is("45 05 a0 74 33", ENO_NO_COMMON_TEP);
	syn_is("45 05 a0 54 32", ENO_NO_COMMON_TEP);
	/* version 1 in the length of a resumption offer */
	syn_is("45 12 a0 74 31 " RESUME_RN, ENO_NO_COMMON_TEP);
	synack_is("45 13 01 a0 74 31 " RESUME_RN, ENO_NO_COMMON_TEP);
}
END_TEST

/* A SYN offering both versions negotiates ours whatever the order: after
 * "t2" the "t1" suboption is invalid for us, so ours stays the last valid
 * one. */
START_TEST(tep_ours_and_version1)
{
	syn_ok("45 09 82 a0 74 31 a0 74 32", 0, 9);
	syn_ok("45 09 82 a0 74 32 a0 74 31", 0, 9);
	synack_ok("45 0a 01 82 a0 74 31 a0 74 32", 0, 10);
}
END_TEST

/* "t2" must be the whole data (2 bytes), or start the 15 bytes of the
 * resumption form: no prefix, suffix or other length. */
START_TEST(tep_ours_wrong_length)
{
	syn_is("45 06 a0 74 32 00", ENO_NO_COMMON_TEP);
	syn_is("45 04 a0 74", ENO_NO_COMMON_TEP);
	syn_is("45 07 83 a0 00 74 32", ENO_NO_COMMON_TEP);
	/* 14 and 16 bytes: one short of and one past the resumption form */
	syn_is("45 11 a0 74 32 00 01 02 03 04 05 06 07 08 09 0a 0b", ENO_NO_COMMON_TEP);
	syn_is("45 13 a0 74 32 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d",
	       ENO_NO_COMMON_TEP);
	synack_is("45 12 01 a0 74 32 00 01 02 03 04 05 06 07 08 09 0a 0b", ENO_NO_COMMON_TEP);
	/* the same R and n behind another prefix */
	syn_is("45 12 a0 00 32 " RESUME_RN, ENO_NO_COMMON_TEP);
}
END_TEST

/* Our data under another TEP identifier is not ours. */
START_TEST(tep_our_data_other_id)
{
	syn_is("45 05 a1 74 32", ENO_NO_COMMON_TEP);
	synack_is("45 06 01 a1 74 32", ENO_NO_COMMON_TEP);
}
END_TEST

/* ------------------------------------------------------------------------
 * Ours among others: the last valid TEP is ours, as it is the only one */

START_TEST(tep_ours_after_prefixed_foreign)
{
	syn_ok("45 09 82 a1 01 02 a0 74 32", 0, 9);
	synack_ok("45 0a 01 82 a1 01 02 a0 74 32", 0, 10);
}
END_TEST

START_TEST(tep_ours_before_foreign)
{
	syn_ok("45 07 82 a0 74 32 21", 0, 7);
	synack_ok("45 08 01 82 a0 74 32 21", 0, 8);
}
END_TEST

START_TEST(tep_ours_before_foreign_to_end)
{
	syn_ok("45 0a 82 a0 74 32 a1 05 06 07", 0, 10);
	synack_ok("45 0b 01 82 a0 74 32 a1 05 06 07", 0, 11);
}
END_TEST

START_TEST(tep_ours_among_many)
{
	struct eno_syn_opt p;

	parse_is("45 0d 21 22 80 a3 82 a4 09 09 a0 74 32", ENO_OK, &p);
	ck_assert_uint_eq(p.ntep, 5);
	ck_assert(p.has_ours);
	ck_assert(p.ours_last_valid);
	syn_ok(LINUX_SYN " 45 0d 21 22 80 a3 82 a4 09 09 a0 74 32", 20, 13);
}
END_TEST

/* Ours twice is still ours. */
START_TEST(tep_ours_twice)
{
	synack_ok("45 0a 01 82 a0 74 32 a0 74 32", 0, 10);
}
END_TEST

/* ------------------------------------------------------------------------
 * The resumption form: valid ENO, which this implementation declines (as
 * B) or aborts on (as A); either way the negotiation itself succeeds. */

static bool resumes(const char *hex)
{
	struct area a = area_new(hex);
	bool r = eno_opt_resumes(a.buf, a.len);

	free(a.buf);
	return r;
}

START_TEST(resume_offer_is_ours)
{
	struct eno_syn_opt p;

	parse_is(RESUME_A, ENO_OK, &p);
	ck_assert(!p.role_b);
	ck_assert_uint_eq(p.ntep, 1);
	ck_assert(p.has_ours);
	ck_assert(p.ours_last_valid);
	ck_assert(p.ours_resume);
	syn_ok(RESUME_A, 0, 18);
	/* 38 bytes with Linux's options: still fits */
	syn_ok(LINUX_SYN " " RESUME_A, 20, 18);
	ck_assert(resumes(RESUME_A));
}
END_TEST

START_TEST(resume_answer_is_ours)
{
	struct eno_syn_opt p;

	parse_is(RESUME_B, ENO_OK, &p);
	ck_assert(p.role_b);
	ck_assert(p.ours_resume);
	synack_ok(RESUME_B, 0, 19);
	ck_assert(resumes(RESUME_B));
}
END_TEST

/* The fresh forms, ours included, are not resumptions. */
START_TEST(resume_fresh_forms)
{
	struct eno_syn_opt p;

	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, ENO_SYN_A_LEN, &p), ENO_OK);
	ck_assert(!p.ours_resume);
	ck_assert(!eno_opt_resumes(eno_syn_a, ENO_SYN_A_LEN));
	ck_assert(!eno_opt_resumes(eno_syn_b, ENO_SYN_B_LEN));
	ck_assert(!resumes("45 09 82 a0 74 32 a0 74 31"));
	ck_assert(!resumes("45 07 82 a0 74 32 21"));
}
END_TEST

/* Length-prefixed and followed by another TEP; of two of ours, the later
 * decides. */
START_TEST(resume_among_others)
{
	syn_ok("45 14 8f a0 74 32 " RESUME_RN " 21", 0, 20);
	ck_assert(resumes("45 14 8f a0 74 32 " RESUME_RN " 21"));
	ck_assert(resumes("45 16 82 a0 74 32 a0 74 32 " RESUME_RN));
	ck_assert(!resumes("45 16 8f a0 74 32 " RESUME_RN " a0 74 32"));
	syn_ok("45 16 8f a0 74 32 " RESUME_RN " a0 74 32", 0, 22);
}
END_TEST

/* Not ours, not valid, or not an ENO option at all: no resumption. */
START_TEST(resume_invalid)
{
	struct area a = area_new(RESUME_A);

	ck_assert(!resumes("45 12 a0 74 31 " RESUME_RN));
	ck_assert(!resumes("45 12 a1 74 32 " RESUME_RN));
	ck_assert(!resumes("45 13 a0 74 32 " RESUME_RN " 00"));
	ck_assert(!resumes("45 14 8f a0 74 32 " RESUME_RN " 82"));
	ck_assert(!resumes("46 12 a0 74 32 " RESUME_RN));
	/* the length argument must match the option's length byte */
	ck_assert(!eno_opt_resumes(a.buf, a.len - 1));
	ck_assert(!eno_opt_resumes(NULL, 18));
	free(a.buf);
}
END_TEST

/* B declines a resumption offer with the fresh form; the transcript holds
 * A's 18-byte option as it was on the wire, then B's answer. */
START_TEST(resume_declined_transcript)
{
	struct area syn = area_new(LINUX_SYN " " RESUME_A);
	const uint8_t *a, *b;
	size_t a_len, b_len;
	uint8_t out[2 * ENO_MAX_OPT_LEN], want[32];
	size_t n = unit_unhex(RESUME_A " " ENO_B, want, sizeof(want));

	ck_assert_int_eq(eno_check_syn(syn.buf, syn.len, false, &a, &a_len), ENO_OK);
	ck_assert(eno_opt_resumes(a, a_len));
	ck_assert_int_eq(eno_check_synack(eno_syn_b, ENO_SYN_B_LEN, false, &b, &b_len), ENO_OK);
	ck_assert(!eno_opt_resumes(b, b_len));
	ck_assert_uint_eq(eno_transcript(out, a, a_len, b, b_len), n);
	ck_assert_uint_eq(n, 24);
	ck_assert_mem_eq(out, want, n);
	free(syn.buf);
}
END_TEST

/* ------------------------------------------------------------------------
 * Length bytes */

START_TEST(len_prefixed_ours_then_tep)
{
	struct eno_syn_opt p;

	parse_is("45 07 82 a0 74 32 22", ENO_OK, &p);
	ck_assert_uint_eq(p.ntep, 2);
	ck_assert(p.has_ours);
}
END_TEST

START_TEST(len_zero_then_ours)
{
	syn_ok("45 07 80 a1 a0 74 32", 0, 7);
}
END_TEST

START_TEST(len_max_fits)
{
	/* nnnnn = 31: the largest data a length byte can describe. */
	syn_ok("45 26 9f a1 "
	       "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f "
	       "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e "
	       "a0 74 32", 0, 38);
}
END_TEST

START_TEST(len_last_byte)
{
	syn_is("45 03 82", ENO_MALFORMED);
	syn_is("45 07 82 a0 74 32 82", ENO_MALFORMED);
	synack_is("45 08 01 82 a0 74 32 80", ENO_MALFORMED);
	/* The next option's bytes must not be taken for the TEP. */
	syn_is("45 03 82 a1 02", ENO_MALFORMED);
	synack_is("45 04 01 82 a1 02", ENO_MALFORMED);
}
END_TEST

START_TEST(len_past_end)
{
	syn_is("45 06 83 a0 74 32", ENO_MALFORMED);
	synack_is("45 07 01 83 a0 74 32", ENO_MALFORMED);
	/* Even when the option would otherwise carry ours. */
	syn_is("45 09 82 a0 74 32 85 a1 00", ENO_MALFORMED);
}
END_TEST

START_TEST(len_then_global)
{
	syn_is("45 06 82 00 74 32", ENO_MALFORMED);
	synack_is("45 07 01 82 01 74 32", ENO_MALFORMED);
}
END_TEST

START_TEST(len_then_len)
{
	syn_is("45 07 82 82 a0 74 32", ENO_MALFORMED);
	synack_is("45 08 01 80 82 a0 74 32", ENO_MALFORMED);
}
END_TEST

START_TEST(len_then_tep_v0)
{
	syn_is("45 06 82 20 74 32", ENO_MALFORMED);
	syn_is("45 09 82 21 00 00 a0 74 32", ENO_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------------------
 * Option and options-area level problems */

START_TEST(duplicate_eno)
{
	syn_is(ENO_A " " ENO_A, ENO_DUPLICATE);
	syn_is("02 04 05 b4 " ENO_A " 01 01 45 02", ENO_DUPLICATE);
	synack_is(ENO_B " 01 01 " ENO_B, ENO_DUPLICATE);
}
END_TEST

/* Duplicates are judged before the contents of either option. */
START_TEST(duplicate_beats_contents)
{
	syn_is(ENO_A " 45 03 82", ENO_DUPLICATE);
	syn_is(ENO_B " " ENO_B, ENO_DUPLICATE);
}
END_TEST

START_TEST(eno_past_area)
{
	syn_is("02 04 05 b4 45 06 a0 74 32", ENO_MALFORMED);
	syn_is(LINUX_SYN " 45 05 a0 74", ENO_MALFORMED);
	synack_is(LINUX_SYNACK " 45", ENO_MALFORMED);
	find_is("02 04 05 b4 45 06 a0 74 32", -1, 0, 0);
}
END_TEST

START_TEST(eno_too_short)
{
	syn_is("45 01 a0 74 32", ENO_MALFORMED);
	syn_is("45 00", ENO_MALFORMED);
}
END_TEST

/* A broken option elsewhere in the area breaks the whole area. */
START_TEST(other_option_malformed)
{
	syn_is(ENO_A " 08 0a 00 00", ENO_MALFORMED);
	syn_is("02 00 " ENO_A, ENO_MALFORMED);
	synack_is(ENO_B " 03", ENO_MALFORMED);
}
END_TEST

START_TEST(eol_before_eno)
{
	syn_is("02 04 05 b4 00 " ENO_A, ENO_ABSENT);
	syn_is("00 " ENO_A, ENO_ABSENT);
	/* Whatever follows EOL is padding, even if it looks broken. */
	syn_ok(ENO_A " 00 45 ff 08", 0, 5);
	find_is("02 04 05 b4 00 " ENO_A, 0, 0, 0);
}
END_TEST

START_TEST(absent)
{
	syn_is(LINUX_SYN, ENO_ABSENT);
	synack_is(LINUX_SYNACK, ENO_ABSENT);
	syn_is("", ENO_ABSENT);
	ck_assert_int_eq(eno_check_syn(NULL, 0, false, NULL, NULL), ENO_ABSENT);
	ck_assert_int_eq(eno_check_synack(NULL, 0, false, NULL, NULL), ENO_ABSENT);
}
END_TEST

/* ------------------------------------------------------------------------
 * TCP Fast Open and SYN data */

START_TEST(tfo_cookie_request)
{
	syn_is(LINUX_SYN " 22 02 " ENO_A, ENO_TFO);
}
END_TEST

START_TEST(tfo_with_cookie)
{
	syn_is("02 04 05 b4 22 0a 01 02 03 04 05 06 07 08 " ENO_A, ENO_TFO);
	synack_is(ENO_B " 22 0a 01 02 03 04 05 06 07 08", ENO_TFO);
}
END_TEST

START_TEST(tfo_experimental)
{
	syn_is("02 04 05 b4 fe 04 f9 89 " ENO_A, ENO_TFO);
	syn_is("fe 0c f9 89 01 02 03 04 05 06 07 08 " ENO_A, ENO_TFO);
}
END_TEST

/* Kind 254 is shared by all experiments: only ExID 0xf989 is TFO. */
START_TEST(tfo_other_experiment)
{
	syn_ok("fe 04 12 34 " ENO_A, 4, 5);
	syn_ok("fe 04 f9 88 " ENO_A, 4, 5);
	syn_ok("fe 02 " ENO_A, 2, 5);
	/* Too short to hold an ExID: the 0xf9 0x89 after it is the next option. */
	syn_ok("fe 03 f9 89 02 " ENO_A, 5, 5);
}
END_TEST

/* TFO outranks everything about the ENO option but the area being sane. */
START_TEST(tfo_ordering)
{
	syn_is("22 02", ENO_TFO);
	syn_is("22 02 " ENO_A " " ENO_A, ENO_TFO);
	syn_is("22 02 45 03 82", ENO_TFO);
	expect(SYN_FROM_A, "22 02 " ENO_A, true, ENO_TFO, 0, 0);
	syn_is("22 02 " ENO_A " 08", ENO_MALFORMED);
}
END_TEST

/* MPTCP (kind 30, here MP_CAPABLE as Linux sends it in a SYN): no ENO,
 * in the SYN or in the SYN-ACK. */
START_TEST(mptcp_gets_no_eno)
{
	syn_is(LINUX_SYN " 1e 04 01 81 " ENO_A, ENO_MPTCP);
	synack_is(ENO_B " 1e 0c 01 81 01 02 03 04 05 06 07 08", ENO_MPTCP);
	syn_is("1e 04 01 81", ENO_MPTCP);
	ck_assert_str_eq(eno_result_str(ENO_MPTCP), "mptcp");
}
END_TEST

START_TEST(syn_data)
{
	expect(SYN_FROM_A, LINUX_SYN " 01 01 01 " ENO_A, true, ENO_SYN_DATA, 0, 0);
	expect(SYNACK_FROM_B, LINUX_SYNACK " 01 01 " ENO_B, true, ENO_SYN_DATA, 0, 0);
}
END_TEST

START_TEST(syn_data_ordering)
{
	expect(SYN_FROM_A, LINUX_SYN, true, ENO_SYN_DATA, 0, 0);
	expect(SYN_FROM_A, ENO_A " " ENO_A, true, ENO_SYN_DATA, 0, 0);
	expect(SYN_FROM_A, "45 03 82", true, ENO_SYN_DATA, 0, 0);
	expect(SYN_FROM_A, ENO_B, true, ENO_SYN_DATA, 0, 0);
	expect(SYN_FROM_A, ENO_A " 02", true, ENO_MALFORMED, 0, 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * eno_find and eno_present */

START_TEST(find_counts)
{
	find_is(ENO_A, 1, 0, 5);
	find_is(LINUX_SYN " 01 " ENO_A " 45 02 01 45 03 00", 3, 21, 5);
	find_is(LINUX_SYN, 0, 0, 0);
	find_is("", 0, 0, 0);
	find_is("01 01 01 01", 0, 0, 0);
	ck_assert_int_eq(eno_find(NULL, 0, NULL, NULL), 0);
}
END_TEST

START_TEST(find_malformed_area)
{
	find_is("02", -1, 0, 0);
	find_is("02 00 " ENO_A, -1, 0, 0);
	find_is("02 01 " ENO_A, -1, 0, 0);
	find_is(ENO_A " 08 0b 00 00 00 00 00 00 00 00", -1, 0, 0);
	ck_assert_int_eq(eno_find(NULL, 4, NULL, NULL), -1);
}
END_TEST

START_TEST(present_non_syn_form)
{
	present_is("45 02", true);
	present_is("01 01 08 0a 11 22 33 44 55 66 77 88 45 02", true);
	present_is("45 02 01 01 08 0a 11 22 33 44 55 66 77 88", true);
}
END_TEST

/* Contents are not interpreted on non-SYN segments. */
START_TEST(present_any_contents)
{
	present_is(ENO_A, true);
	present_is("45 03 82", true);
	present_is("45 02 45 02", true);
}
END_TEST

START_TEST(present_absent)
{
	present_is("", false);
	present_is("01 01 08 0a 11 22 33 44 55 66 77 88", false);
	present_is("00 45 02", false);
	ck_assert(!eno_present(NULL, 0));
	ck_assert(!eno_present(NULL, 2));
}
END_TEST

START_TEST(present_malformed_area)
{
	present_is("45 02 08 0a 00", false);
	present_is("45 03", false);
	present_is("45", false);
	present_is("45 01", false);
}
END_TEST

/* ------------------------------------------------------------------------
 * eno_parse_syn_opt on its own */

START_TEST(parse_bad_arguments)
{
	struct eno_syn_opt p;

	ck_assert_int_eq(eno_parse_syn_opt(NULL, 5, &p), ENO_MALFORMED);
	/* The length argument must be the option's own length byte. */
	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, 4, &p), ENO_MALFORMED);
	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, 1, &p), ENO_MALFORMED);
	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, 0, &p), ENO_MALFORMED);
	parse_is("46 05 a0 74 32", ENO_MALFORMED, &p);
	ck_assert_int_eq(eno_parse_syn_opt(eno_syn_a, ENO_SYN_A_LEN, NULL), ENO_OK);
}
END_TEST

START_TEST(parse_longer_than_area)
{
	uint8_t opt[ENO_MAX_OPT_LEN + 1];

	memset(opt, 0x21, sizeof(opt));
	opt[0] = ENO_KIND;
	opt[1] = sizeof(opt);
	ck_assert_int_eq(eno_parse_syn_opt(opt, sizeof(opt), NULL), ENO_MALFORMED);
	opt[1] = ENO_MAX_OPT_LEN;
	ck_assert_int_eq(eno_parse_syn_opt(opt, ENO_MAX_OPT_LEN, NULL), ENO_OK);
}
END_TEST

START_TEST(parse_counts)
{
	struct eno_syn_opt p;

	parse_is("45 02", ENO_OK, &p);
	ck_assert_uint_eq(p.ntep, 0);
	ck_assert(!p.has_ours);
	ck_assert(!p.ours_last_valid);
	parse_is("45 06 01 21 22 23", ENO_OK, &p);
	ck_assert_uint_eq(p.global, 0x01);
	ck_assert(p.role_b);
	ck_assert_uint_eq(p.ntep, 3);
	ck_assert(!p.has_ours);
	ck_assert(!p.ours_last_valid);
}
END_TEST

/* ------------------------------------------------------------------------
 * Result names */

START_TEST(result_names)
{
	static const char *const want[ENO_RESULT_MAX] = {
		"ok", "absent", "duplicate", "malformed", "same-role",
		"vacuous", "no-common-tep", "tfo", "syn-data", "mptcp",
	};

	for (int i = 0; i < ENO_RESULT_MAX; i++) {
		const char *s = eno_result_str((enum eno_result)i);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_eq(s, want[i]);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(s, eno_result_str((enum eno_result)j));
	}
	ck_assert_ptr_nonnull(eno_result_str(ENO_RESULT_MAX));
	ck_assert_ptr_nonnull(eno_result_str((enum eno_result)-1));
}
END_TEST

/* ------------------------------------------------------------------------
 * Never crash, whatever the bytes */

/* Parses body as the suboptions of an ENO option in a buffer of exactly
 * its size: results stay in range and ENO_OK always hands back the option
 * we gave. */
static void check_any_option(uint32_t body, size_t body_len)
{
	size_t len = body_len + 2;
	uint8_t *opt = malloc(len);
	const uint8_t *o;
	size_t ol;
	enum eno_result r;

	ck_assert_ptr_nonnull(opt);
	opt[0] = ENO_KIND;
	opt[1] = (uint8_t)len;
	for (size_t i = 0; i < body_len; i++)
		opt[2 + i] = (uint8_t)(body >> (8 * i));
	r = eno_parse_syn_opt(opt, len, NULL);
	ck_assert(r == ENO_OK || r == ENO_MALFORMED);
	r = eno_check_syn(opt, len, false, &o, &ol);
	ck_assert(r < ENO_RESULT_MAX);
	if (r == ENO_OK)
		ck_assert(o == opt && ol == len);
	r = eno_check_synack(opt, len, false, &o, &ol);
	ck_assert(r < ENO_RESULT_MAX);
	if (r == ENO_OK)
		ck_assert(o == opt && ol == len);
	free(opt);
}

/* Every ENO option with up to two suboption bytes, and a fixed sample of
 * those with three (all 2^24 would only slow the suite down). */
START_TEST(robust_exhaustive_short)
{
	check_any_option(0, 0);
	for (uint32_t v = 0; v < 1u << 8; v++)
		check_any_option(v, 1);
	for (uint32_t v = 0; v < 1u << 16; v++)
		check_any_option(v, 2);
	for (uint32_t v = 0; v < 1u << 24; v += 97)
		check_any_option(v, 3);
}
END_TEST

static uint32_t xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random options areas built from bytes that matter to the parsers. */
START_TEST(robust_random_areas)
{
	static const uint8_t pool[] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x22, 0x45, 0xfe, 0xf9, 0x89,
		0x20, 0x21, 0x74, 0x31, 0x32, 0x80, 0x82, 0x9f, 0xa0, 0xa1, 0xff, 0x06,
	};
	uint32_t seed = 0x7463eu;

	for (int iter = 0; iter < 200000; iter++) {
		size_t len = xorshift32(&seed) % 41;
		uint8_t *opts = malloc(len ? len : 1);
		const uint8_t *o;
		size_t ol;
		enum eno_result r;

		ck_assert_ptr_nonnull(opts);
		for (size_t i = 0; i < len; i++) {
			uint32_t x = xorshift32(&seed);

			opts[i] = (x & 1) ? pool[(x >> 1) % sizeof(pool)] : (uint8_t)(x >> 8);
		}
		ck_assert_int_ge(eno_find(opts, len, &o, &ol), -1);
		(void)eno_present(opts, len);
		r = eno_check_syn(opts, len, iter & 2, &o, &ol);
		ck_assert(r < ENO_RESULT_MAX);
		if (r == ENO_OK)
			ck_assert(o >= opts && ol >= 2 && o + ol <= opts + len);
		r = eno_check_synack(opts, len, false, &o, &ol);
		ck_assert(r < ENO_RESULT_MAX);
		if (r == ENO_OK)
			ck_assert(o >= opts && ol >= 2 && o + ol <= opts + len);
		free(opts);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */

/* One test case per group; Check runs each test in its own fork. */
static TCase *group(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	/* The exhaustive test is the slow one, above all under sanitizers. */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *eno_suite(void)
{
	Suite *s = suite_create("eno");
	TCase *tc;

	tc = group(s, "constants");
	tcase_add_test(tc, constants_exact);
	tcase_add_test(tc, constants_parse);
	tcase_add_test(tc, constants_negotiate);

	tc = group(s, "accepted");
	tcase_add_test(tc, syn_exact_alone);
	tcase_add_test(tc, syn_eno_first);
	tcase_add_test(tc, syn_eno_middle);
	tcase_add_test(tc, syn_eno_last);
	tcase_add_test(tc, syn_eno_then_eol);
	tcase_add_test(tc, synack_exact_alone);
	tcase_add_test(tc, synack_eno_first);
	tcase_add_test(tc, synack_eno_middle);
	tcase_add_test(tc, synack_eno_last);

	tc = group(s, "transcript");
	tcase_add_test(tc, transcript_constants);
	tcase_add_test(tc, transcript_from_checks);
	tcase_add_test(tc, transcript_other_forms);
	tcase_add_test(tc, transcript_refuses_oversize);

	tc = group(s, "global");
	tcase_add_test(tc, global_implicit);
	tcase_add_test(tc, global_explicit_zero_syn);
	tcase_add_test(tc, global_app_aware_syn);
	tcase_add_test(tc, global_app_aware_synack);
	tcase_add_test(tc, global_reserved_bits_ignored);
	tcase_add_test(tc, global_second_is_malformed);
	tcase_add_test(tc, global_after_tep_is_malformed);

	tc = group(s, "roles");
	tcase_add_test(tc, roles_both_zero);
	tcase_add_test(tc, roles_a_with_b1);

	tc = group(s, "vacuous");
	tcase_add_test(tc, vacuous_empty);
	tcase_add_test(tc, vacuous_global_zero);
	tcase_add_test(tc, vacuous_global_b1);
	tcase_add_test(tc, vacuous_but_wrong_role);

	tc = group(s, "tep");
	tcase_add_test(tc, tep_foreign_one_byte);
	tcase_add_test(tc, tep_foreign_with_data);
	tcase_add_test(tc, tep_ours_without_data);
	tcase_add_test(tc, tep_ours_empty_data);
	tcase_add_test(tc, tep_ours_other_version);
	tcase_add_test(tc, tep_ours_and_version1);
	tcase_add_test(tc, tep_ours_wrong_length);
	tcase_add_test(tc, tep_our_data_other_id);
	tcase_add_test(tc, tep_ours_after_prefixed_foreign);
	tcase_add_test(tc, tep_ours_before_foreign);
	tcase_add_test(tc, tep_ours_before_foreign_to_end);
	tcase_add_test(tc, tep_ours_among_many);
	tcase_add_test(tc, tep_ours_twice);

	tc = group(s, "resume");
	tcase_add_test(tc, resume_offer_is_ours);
	tcase_add_test(tc, resume_answer_is_ours);
	tcase_add_test(tc, resume_fresh_forms);
	tcase_add_test(tc, resume_among_others);
	tcase_add_test(tc, resume_invalid);
	tcase_add_test(tc, resume_declined_transcript);

	tc = group(s, "length");
	tcase_add_test(tc, len_prefixed_ours_then_tep);
	tcase_add_test(tc, len_zero_then_ours);
	tcase_add_test(tc, len_max_fits);
	tcase_add_test(tc, len_last_byte);
	tcase_add_test(tc, len_past_end);
	tcase_add_test(tc, len_then_global);
	tcase_add_test(tc, len_then_len);
	tcase_add_test(tc, len_then_tep_v0);

	tc = group(s, "area");
	tcase_add_test(tc, duplicate_eno);
	tcase_add_test(tc, duplicate_beats_contents);
	tcase_add_test(tc, eno_past_area);
	tcase_add_test(tc, eno_too_short);
	tcase_add_test(tc, other_option_malformed);
	tcase_add_test(tc, eol_before_eno);
	tcase_add_test(tc, absent);

	tc = group(s, "tfo-data");
	tcase_add_test(tc, tfo_cookie_request);
	tcase_add_test(tc, tfo_with_cookie);
	tcase_add_test(tc, tfo_experimental);
	tcase_add_test(tc, tfo_other_experiment);
	tcase_add_test(tc, tfo_ordering);
	tcase_add_test(tc, mptcp_gets_no_eno);
	tcase_add_test(tc, syn_data);
	tcase_add_test(tc, syn_data_ordering);

	tc = group(s, "find-present");
	tcase_add_test(tc, find_counts);
	tcase_add_test(tc, find_malformed_area);
	tcase_add_test(tc, present_non_syn_form);
	tcase_add_test(tc, present_any_contents);
	tcase_add_test(tc, present_absent);
	tcase_add_test(tc, present_malformed_area);

	tc = group(s, "parse");
	tcase_add_test(tc, parse_bad_arguments);
	tcase_add_test(tc, parse_longer_than_area);
	tcase_add_test(tc, parse_counts);

	tc = group(s, "names");
	tcase_add_test(tc, result_names);

	tc = group(s, "robust");
	tcase_add_test(tc, robust_exhaustive_short);
	tcase_add_test(tc, robust_random_areas);
	return s;
}

UNIT_MAIN(eno_suite)
