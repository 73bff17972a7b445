/* SPDX-License-Identifier: BSD-2-Clause */
/* The random pool: bytes handed out are wiped from it, refills come when
 * it runs dry, large requests bypass it, and its output is not constant. */
#include "unit.h"

#include <stdbool.h>

#include "randpool.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

START_TEST(test_handed_out_bytes_are_wiped)
{
	static struct randpool r;
	uint8_t a[8], b[8];

	randpool_get(&r, a, sizeof(a));
	ck_assert_uint_eq(r.avail, RANDPOOL_SIZE - sizeof(a));
	/* the bytes given away are gone from the pool; the rest is not all
	 * zero (512 random bytes: probability 2^-4032) */
	ck_assert(all_zero(r.buf, sizeof(a)));
	ck_assert(!all_zero(r.buf + sizeof(a), RANDPOOL_SIZE - sizeof(a)));
	randpool_get(&r, b, sizeof(b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert(all_zero(r.buf, 2 * sizeof(a)));
	randpool_wipe(&r);
	ck_assert(all_zero(r.buf, RANDPOOL_SIZE));
	ck_assert_uint_eq(r.avail, 0);
}
END_TEST

/* A request that straddles the end of the pool takes the rest, then a
 * refill; every byte of the old fill was handed out exactly once. */
START_TEST(test_refill_across_the_end)
{
	static struct randpool r;
	uint8_t first[RANDPOOL_SIZE], out[100];
	size_t n = 0;

	randpool_get(&r, out, 1);
	memcpy(first, r.buf, sizeof(first));	/* byte 0 already wiped */
	while (r.avail >= 100) {
		randpool_get(&r, out, 100);
		ck_assert_mem_eq(out, first + 1 + n, 100);
		n += 100;
	}
	ck_assert_uint_eq(r.avail, RANDPOOL_SIZE - 1 - n);
	randpool_get(&r, out, 100);
	ck_assert_mem_eq(out, first + 1 + n, RANDPOOL_SIZE - 1 - n);
	ck_assert_uint_eq(r.avail, RANDPOOL_SIZE - (100 - (RANDPOOL_SIZE - 1 - n)));
	randpool_wipe(&r);
}
END_TEST

START_TEST(test_large_request_bypasses)
{
	static struct randpool r;
	uint8_t big[RANDPOOL_SIZE / 4 + 1] = { 0 };

	randpool_get(&r, big, sizeof(big));
	ck_assert_uint_eq(r.avail, 0);
	ck_assert(!all_zero(big, sizeof(big)));
	randpool_get(&r, big, 0);
	ck_assert_uint_eq(r.avail, 0);
}
END_TEST

static Suite *randpool_suite(void)
{
	Suite *s = suite_create("randpool");
	TCase *tc = tcase_create("randpool");

	tcase_add_test(tc, test_handed_out_bytes_are_wiped);
	tcase_add_test(tc, test_refill_across_the_end);
	tcase_add_test(tc, test_large_request_bypasses);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(randpool_suite)
