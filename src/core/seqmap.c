/* SPDX-License-Identifier: BSD-2-Clause */
#include "seqmap.h"

uint64_t seqmap_offset(const struct seqdir *d, uint32_t seq)
{
	uint32_t rel = seq - d->isn - 1;
	int32_t diff = (int32_t)(rel - (uint32_t)d->high);

	return d->high + (uint64_t)(int64_t)diff;
}

void seqmap_advance(struct seqdir *d, uint64_t end)
{
	/* Offsets near 2^64 are the SYN's -1: never a stream position. */
	if (end > d->high && end < (UINT64_C(1) << 62))
		d->high = end;
}

uint32_t seqmap_to_wire(const struct seqdir *d, uint32_t kernel_seq)
{
	/* No special case for the SYN's own number: callers never translate
	 * SYNs, and after 4 GiB the number comes round again as data. */
	return kernel_seq + d->init_len;
}

uint32_t seqmap_to_kernel(const struct seqdir *d, uint32_t wire_seq)
{
	uint32_t rel = wire_seq - d->isn - 1;

	/* rel counts from the first byte after the SYN; once the stream has
	 * wrapped it is meaningless as a distance, but a number inside the Init
	 * message can only occur at the start, where rel is exact. */
	if (rel < d->init_len && d->high < (UINT64_C(1) << 31))
		return d->isn + 1;
	return wire_seq - d->init_len;
}
