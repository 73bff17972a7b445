/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared bits of the libFuzzer harnesses in tests/fuzz/.  FUZZ_CHECK is an
 * assertion that stays on in every build (libFuzzer reports the abort as a
 * crash with the failing condition on stderr). */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",       \
				__FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/* True when [p, p + n) lies inside [base, base + len). */
#define FUZZ_INSIDE(p, n, base, len)                                            \
	((const unsigned char *)(p) >= (const unsigned char *)(base) &&         \
	 (size_t)((const unsigned char *)(p) - (const unsigned char *)(base)) <= (len) && \
	 (n) <= (len) - (size_t)((const unsigned char *)(p) - (const unsigned char *)(base)))

#endif
