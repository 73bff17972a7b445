/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared scaffolding for the Check unit tests: one suite per program. */
#ifndef TC_UNIT_H
#define TC_UNIT_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes hex (whitespace ignored) into out; returns the byte count, or
 * aborts the test on odd length, bad digits or overflow. */
static inline size_t unit_unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;
	for (; *hex; hex++) {
		int v;
		char c = *hex;
		if (c == ' ' || c == '\n' || c == '\t' || c == ':')
			continue;
		if (c >= '0' && c <= '9') v = c - '0';
		else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
		else ck_abort_msg("bad hex digit '%c'", c);
		if (hi < 0) {
			hi = v;
		} else {
			ck_assert_msg(n < max, "hex longer than %zu bytes", max);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	ck_assert_msg(hi < 0, "odd number of hex digits");
	return n;
}

#define UNIT_MAIN(make_suite)                                        \
	int main(void)                                               \
	{                                                            \
		SRunner *sr = srunner_create(make_suite());          \
		srunner_run_all(sr, CK_NORMAL);                      \
		int failed = srunner_ntests_failed(sr);              \
		srunner_free(sr);                                    \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;         \
	}

#endif
