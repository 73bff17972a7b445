/* SPDX-License-Identifier: BSD-2-Clause */
#include "ratelimit.h"

#include <sodium.h>
#include <string.h>

#define SEC 1000000u

/* A refused SYN gets a log line and an RST: a client that retries with
 * the kernel's backoff never reaches the limit, a flood gets ten of each
 * and then one a second.  A connection that lost its state takes one round
 * of RSTs (up to 17 segments) per segment of it: a few connections to the
 * same peer all end within seconds. */
const struct ratelimit_rate ratelimit_per_source[RL_CLASSES] = {
	[RL_LOG] = { .burst = 10, .interval_us = SEC },
	[RL_RST] = { .burst = 10, .interval_us = SEC },
	[RL_LOST] = { .burst = 20, .interval_us = SEC / 5 },
};

const struct ratelimit_rate ratelimit_global[RL_CLASSES] = {
	[RL_LOG] = { .burst = 100, .interval_us = SEC / 20 },
	[RL_RST] = { .burst = 100, .interval_us = SEC / 50 },
	[RL_LOST] = { .burst = 100, .interval_us = SEC / 50 },
};

void ratelimit_init(struct ratelimit *rl, const uint8_t key[RATELIMIT_KEY_LEN])
{
	memset(rl, 0, sizeof(*rl));
	memcpy(rl->key, key, RATELIMIT_KEY_LEN);
	rl->keyed = true;
}

/* GCRA: *tat is when the bucket would be full again.  An event fits when
 * that lies at most (burst - 1) intervals ahead of now; it moves *tat one
 * interval on.  Returns the new value, or 0 when the event does not fit. */
static uint64_t conform(uint64_t tat, const struct ratelimit_rate *r, uint64_t now)
{
	uint64_t base = tat > now ? tat : now;

	if (base - now > (uint64_t)(r->burst - 1) * r->interval_us)
		return 0;
	return base + r->interval_us;
}

bool ratelimit_allow(struct ratelimit *rl, enum ratelimit_class c, uint64_t now,
		     const uint8_t *addr, size_t addr_len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t *src, new_src, new_all;
	size_t slot;

	if ((unsigned)c >= RL_CLASSES)
		return false;
	crypto_shorthash(h, addr, addr_len, rl->key);
	slot = ((size_t)h[0] | (size_t)h[1] << 8) % RATELIMIT_SLOTS;
	src = &rl->source[c][slot];
	new_src = conform(*src, &ratelimit_per_source[c], now);
	if (!new_src)
		return false;
	new_all = conform(rl->global[c], &ratelimit_global[c], now);
	if (!new_all)
		return false;
	*src = new_src;
	rl->global[c] = new_all;
	return true;
}
