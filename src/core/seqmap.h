/* SPDX-License-Identifier: BSD-2-Clause */
/* Stream offsets and sequence translation (doc/protocol.md sections 6.1 and 8).
 *
 * Each direction of a connection has a wire ISN and the length of the Init
 * message its sender put first in the stream.  The kernels never see the
 * Init bytes, so kernel sequence numbers lag the wire by init_len. */
#ifndef TC_SEQMAP_H
#define TC_SEQMAP_H

#include <stdbool.h>
#include <stdint.h>

struct seqdir {
	uint32_t isn;		/* initial sequence number on the wire */
	uint32_t init_len;	/* 0 until the Init message is known */
	uint64_t high;		/* highest stream offset reached so far */
};

/* 64-bit stream offset of wire sequence number seq: o = seq - isn - 1,
 * extended to the value nearest d->high.  The SYN itself maps to -1 (as
 * UINT64_MAX); callers never use that. */
uint64_t seqmap_offset(const struct seqdir *d, uint32_t seq);

/* Records that the stream reached offset end (exclusive). */
void seqmap_advance(struct seqdir *d, uint64_t end);

/* Kernel -> wire: numbers move up by init_len (never used on SYNs). */
uint32_t seqmap_to_wire(const struct seqdir *d, uint32_t kernel_seq);

/* Wire -> kernel: down by init_len, but never below isn + 1 (a peer that
 * acknowledges only part of an Init message acknowledged nothing the
 * kernel sent). */
uint32_t seqmap_to_kernel(const struct seqdir *d, uint32_t wire_seq);

#endif
