/* SPDX-License-Identifier: BSD-2-Clause */
/* Stream offsets and kernel<->wire sequence translation (doc/protocol.md
 * sections 6.1 and 8).  Offsets key the keystream and the tag, so an error
 * of one here means garbage or dropped data on the other side. */
#include "unit.h"

#include "seqmap.h"

#define TWO32 (UINT64_C(1) << 32)
#define TWO31 (UINT64_C(1) << 31)
#define TWO40 (UINT64_C(1) << 40)

static struct seqdir dir(uint32_t isn, uint32_t init_len, uint64_t high)
{
	struct seqdir d = { .isn = isn, .init_len = init_len, .high = high };
	return d;
}

/* The wire sequence number of stream offset off (the inverse of
 * seqmap_offset modulo 2^32). */
static uint32_t seq_of(const struct seqdir *d, uint64_t off)
{
	return d->isn + 1 + (uint32_t)off;
}

/* ------------------------------------------------------------------------ */
/* Offsets */

START_TEST(test_offset_start)
{
	struct seqdir d = dir(1000, 0, 0);

	ck_assert_uint_eq(seqmap_offset(&d, 1001), 0);
	ck_assert_uint_eq(seqmap_offset(&d, 1001 + 75), 75);
	ck_assert_uint_eq(seqmap_offset(&d, 1001 + 1448), 1448);
}
END_TEST

/* The SYN occupies the sequence number before offset 0. */
START_TEST(test_offset_syn)
{
	struct seqdir d = dir(1000, 75, 0);

	ck_assert_uint_eq(seqmap_offset(&d, 1000), UINT64_MAX);
}
END_TEST

START_TEST(test_advance)
{
	struct seqdir d = dir(1000, 0, 0);

	seqmap_advance(&d, 500);
	ck_assert_uint_eq(d.high, 500);
	/* A retransmission ending earlier must not pull high back. */
	seqmap_advance(&d, 100);
	ck_assert_uint_eq(d.high, 500);
	/* The SYN's -1 (and anything that huge) is never a stream position. */
	seqmap_advance(&d, UINT64_MAX);
	ck_assert_uint_eq(d.high, 500);
	seqmap_advance(&d, UINT64_C(1) << 63);
	ck_assert_uint_eq(d.high, 500);
	seqmap_advance(&d, TWO40);
	ck_assert_uint_eq(d.high, TWO40);
}
END_TEST

/* The 32-bit sequence space wraps while the offset keeps counting. */
START_TEST(test_offset_32bit_wrap_of_seq)
{
	struct seqdir d = dir(0xfffffff0u, 0, 0);

	ck_assert_uint_eq(seqmap_offset(&d, 0xfffffff1u), 0);
	ck_assert_uint_eq(seqmap_offset(&d, 0xffffffffu), 14);
	ck_assert_uint_eq(seqmap_offset(&d, 0x00000000u), 15);
	ck_assert_uint_eq(seqmap_offset(&d, 0x00000010u), 31);
}
END_TEST

START_TEST(test_offset_extends_past_2_32)
{
	struct seqdir d = dir(12345, 75, TWO32 - 100);

	/* Just before and after the offset wraps: nearest to high. */
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 - 1)), TWO32 - 1);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32)), TWO32);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 + 1448)), TWO32 + 1448);
	/* A large forward jump (less than 2^31) still maps forward. */
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 - 100 + TWO31 - 1)),
			  TWO32 - 100 + TWO31 - 1);
}
END_TEST

START_TEST(test_offset_beyond_2_40)
{
	struct seqdir d = dir(0x89abcdefu, 74, TWO40 + 123);

	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO40 + 123)), TWO40 + 123);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO40 + 200)), TWO40 + 200);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO40 + 100)), TWO40 + 100);
	/* Only the low 32 bits travel: 5 * 2^40 + 7 looks like 2^40 + 7. */
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, 5 * TWO40 + 7)), TWO40 + 7);
}
END_TEST

/* Retransmissions sit slightly behind high and must map to the lower
 * 64-bit value, not 2^32 further on. */
START_TEST(test_offset_retransmission_behind_high)
{
	struct seqdir d = dir(7, 75, TWO32 + 10);

	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 - 20)), TWO32 - 20);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 + 9)), TWO32 + 9);
	/* Up to 2^31 behind is still "behind". */
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, TWO32 + 10 - TWO31)),
			  TWO32 + 10 - TWO31);
	/* Plain case without a wrap: a resent segment of the first kilobyte. */
	d = dir(7, 75, 5000);
	ck_assert_uint_eq(seqmap_offset(&d, seq_of(&d, 3000)), 3000);
}
END_TEST

START_TEST(test_offset_isn_near_top)
{
	struct seqdir d = dir(0xffffffffu, 75, 0);

	/* ISN + 1 is 0: offset 0. */
	ck_assert_uint_eq(seqmap_offset(&d, 0), 0);
	ck_assert_uint_eq(seqmap_offset(&d, 75), 75);
	ck_assert_uint_eq(seqmap_offset(&d, 0xffffffffu), UINT64_MAX);
	d.high = 75;
	ck_assert_uint_eq(seqmap_offset(&d, 74), 74);
	ck_assert_uint_eq(seqmap_offset(&d, 1075), 1075);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Translation */

START_TEST(test_to_wire_init1)
{
	struct seqdir d = dir(1000, 75, 75);

	ck_assert_uint_eq(seqmap_to_wire(&d, 1001), 1076);
	ck_assert_uint_eq(seqmap_to_wire(&d, 1001 + 1448), 1076 + 1448);
}
END_TEST

START_TEST(test_to_wire_init2)
{
	struct seqdir d = dir(0x80000000u, 74, 74);

	ck_assert_uint_eq(seqmap_to_wire(&d, 0x80000001u), 0x80000001u + 74);
}
END_TEST

START_TEST(test_to_wire_init_len_zero)
{
	/* Before the Init is known nothing moves. */
	struct seqdir d = dir(1000, 0, 0);

	ck_assert_uint_eq(seqmap_to_wire(&d, 1001), 1001);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001), 1001);
}
END_TEST

START_TEST(test_to_kernel)
{
	struct seqdir d = dir(1000, 75, 75);

	ck_assert_uint_eq(seqmap_to_kernel(&d, 1076), 1001);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1076 + 9000), 1001 + 9000);
}
END_TEST

/* A peer acknowledging part of the Init acknowledged nothing the kernel
 * sent: every number inside [ISN+1, ISN+1+init_len) becomes ISN+1. */
START_TEST(test_to_kernel_clamps_inside_init)
{
	struct seqdir d = dir(1000, 75, 75);

	for (uint32_t i = 0; i < 75; i++)
		ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + i), 1001);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 75), 1001);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 76), 1002);
	d = dir(1000, 74, 74);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 73), 1001);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 74), 1001);
}
END_TEST

/* Once the stream is far past 2^31 a number that looks as if it were
 * inside the Init is really a wrapped one and must be shifted normally. */
START_TEST(test_to_kernel_no_clamp_after_wrap)
{
	struct seqdir d = dir(1000, 75, TWO32 + 5000);

	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 30), 1001 + 30 - 75);
	d.high = 3 * TWO31;
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1001 + 10), 1001 + 10 - 75);
}
END_TEST

START_TEST(test_isn_near_top_translation)
{
	struct seqdir d = dir(0xffffffffu, 75, 75);

	ck_assert_uint_eq(seqmap_to_wire(&d, 0), 75);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 75), 0);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 10), 0);		/* inside Init1 */
	/* Init across the wrap: ISN + 1 + 75 crosses zero. */
	d = dir(0xffffffe0u, 75, 75);
	ck_assert_uint_eq(seqmap_to_wire(&d, 0xffffffe1u), 0x2c);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 0x2c), 0xffffffe1u);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 0x02), 0xffffffe1u);
}
END_TEST

START_TEST(test_round_trip)
{
	static const uint32_t isns[] = { 0, 1, 1000, 0x7fffffffu, 0xffffff00u, 0xffffffffu };

	for (size_t i = 0; i < sizeof(isns) / sizeof(isns[0]); i++) {
		struct seqdir d = dir(isns[i], 75, 100000);
		for (uint32_t k = 1; k < 100000; k += 997) {
			uint32_t kseq = isns[i] + k;
			ck_assert_uint_eq(seqmap_to_kernel(&d, seqmap_to_wire(&d, kseq)), kseq);
		}
	}
}
END_TEST

/* After the stream has wrapped, the ISN's own number is an ordinary data or
 * ACK number (kernel byte 2^32 - 1) and moves by init_len like every other
 * one; passing it through would put data 75 bytes early on the wire and
 * reuse keystream. */
START_TEST(test_isn_after_wrap_is_not_the_syn)
{
	struct seqdir d = dir(1000, 75, TWO32 + 100);

	ck_assert_uint_eq(seqmap_to_wire(&d, 1000), 1075);
	ck_assert_uint_eq(seqmap_to_kernel(&d, 1000), 1000 - 75);
}
END_TEST

static Suite *seqmap_suite(void)
{
	Suite *s = suite_create("seqmap");
	TCase *off = tcase_create("offsets");
	TCase *tr = tcase_create("translation");

	tcase_add_test(off, test_offset_start);
	tcase_add_test(off, test_offset_syn);
	tcase_add_test(off, test_advance);
	tcase_add_test(off, test_offset_32bit_wrap_of_seq);
	tcase_add_test(off, test_offset_extends_past_2_32);
	tcase_add_test(off, test_offset_beyond_2_40);
	tcase_add_test(off, test_offset_retransmission_behind_high);
	tcase_add_test(off, test_offset_isn_near_top);
	suite_add_tcase(s, off);

	tcase_add_test(tr, test_to_wire_init1);
	tcase_add_test(tr, test_to_wire_init2);
	tcase_add_test(tr, test_to_wire_init_len_zero);
	tcase_add_test(tr, test_to_kernel);
	tcase_add_test(tr, test_to_kernel_clamps_inside_init);
	tcase_add_test(tr, test_to_kernel_no_clamp_after_wrap);
	tcase_add_test(tr, test_isn_near_top_translation);
	tcase_add_test(tr, test_round_trip);
	suite_add_tcase(s, tr);

	tcase_add_test(tr, test_isn_after_wrap_is_not_the_syn);
	return s;
}

UNIT_MAIN(seqmap_suite)
