/* SPDX-License-Identifier: BSD-2-Clause */
#include "randpool.h"

#include <string.h>

#include <sodium.h>

void randpool_get(struct randpool *r, uint8_t *out, size_t len)
{
	if (len > sizeof(r->buf) / 4) {
		randombytes_buf(out, len);
		return;
	}
	while (len > 0) {
		size_t n, at;

		if (r->avail == 0) {
			randombytes_buf(r->buf, sizeof(r->buf));
			r->avail = sizeof(r->buf);
		}
		n = len < r->avail ? len : r->avail;
		at = sizeof(r->buf) - r->avail;
		memcpy(out, r->buf + at, n);
		sodium_memzero(r->buf + at, n);
		r->avail -= n;
		out += n;
		len -= n;
	}
}

void randpool_wipe(struct randpool *r)
{
	sodium_memzero(r, sizeof(*r));
}
