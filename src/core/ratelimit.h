/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate limits for what a remote host can make the daemon do on its own
 * initiative: write a log line, inject an RST.  Pure code: the caller
 * passes the time (microseconds, monotonic) and a random hash key.
 *
 * Each class has a fixed table of token buckets keyed by a keyed hash
 * (SipHash) of the remote address, so the memory is bounded whatever the
 * number of sources; sources whose hashes collide share a bucket, and the
 * key keeps an attacker from choosing addresses that collide with a
 * victim's.  A global bucket per class caps the total over all sources
 * (spoofed addresses are free).  An event passes only when both its
 * source's bucket and the global one have a token; a refused event takes
 * none.
 *
 * The buckets are kept as "theoretical arrival times" (GCRA): one 64-bit
 * word each, equivalent to a token bucket of the same burst and rate. */
#ifndef TC_RATELIMIT_H
#define TC_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_LEN 16
#define RATELIMIT_SLOTS 256	/* buckets per class */

enum ratelimit_class {
	RL_LOG,		/* log lines about a remote host's segments */
	RL_RST,		/* RSTs answering a refused SYN */
	RL_LOST,	/* rounds of RSTs ending a connection without state */
	RL_CLASSES
};

struct ratelimit_rate {
	uint32_t burst;		/* events allowed at once */
	uint64_t interval_us;	/* then one per interval */
};

/* The limits per class: per source, and over all sources. */
extern const struct ratelimit_rate ratelimit_per_source[RL_CLASSES];
extern const struct ratelimit_rate ratelimit_global[RL_CLASSES];

struct ratelimit {
	uint8_t key[RATELIMIT_KEY_LEN];
	bool keyed;			/* ratelimit_init was called */
	uint64_t source[RL_CLASSES][RATELIMIT_SLOTS];
	uint64_t global[RL_CLASSES];
};

/* Empties every bucket and installs the hash key (random bytes). */
void ratelimit_init(struct ratelimit *rl, const uint8_t key[RATELIMIT_KEY_LEN]);
/* Whether one more event of class c from addr (4 or 16 bytes) may happen
 * at now; if so, it is counted. */
bool ratelimit_allow(struct ratelimit *rl, enum ratelimit_class c, uint64_t now,
		     const uint8_t *addr, size_t addr_len);

#endif
