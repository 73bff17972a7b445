/* SPDX-License-Identifier: BSD-2-Clause */
/* Random bytes handed out from a buffer that one call to libsodium's
 * randombytes_buf (getrandom) fills: a connection's nonces then cost no
 * system call of their own, only every few dozen connections one. */
#ifndef TC_RANDPOOL_H
#define TC_RANDPOOL_H

#include <stddef.h>
#include <stdint.h>

#define RANDPOOL_SIZE 512

/* Zero-initialised is empty.  Not thread-safe (one per thread), and not
 * to be shared across fork(): a child would hand out its parent's bytes. */
struct randpool {
	uint8_t buf[RANDPOOL_SIZE];
	size_t avail;		/* unused bytes, at the end of buf */
};

/* len random bytes into out.  Each byte handed out is wiped from the
 * buffer, so it never holds a byte already given away; a request of more
 * than a quarter of the buffer bypasses it. */
void randpool_get(struct randpool *r, uint8_t *out, size_t len);
/* Wipes what is left (at exit). */
void randpool_wipe(struct randpool *r);

#endif
