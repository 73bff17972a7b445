/* SPDX-License-Identifier: BSD-2-Clause */
#include "counters.h"

#include <inttypes.h>

void counters_print(const struct counters *c, FILE *out)
{
#define TC_COUNTER_PRINT(name, desc) \
	fprintf(out, "counter %s %" PRIu64 "\n", #name, c->name);
	TC_COUNTERS(TC_COUNTER_PRINT)
#undef TC_COUNTER_PRINT
	fflush(out);
}
