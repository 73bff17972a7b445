/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * resumemem: what the session-resumption tables of src/core/resume.h cost
 * in memory when they are full.
 *
 *   resumemem [--json]
 *
 * Fills host A's table (one entry per B address) and host B's table
 * (windows of RESUME_WINDOW secrets per fresh connection) to the bounds
 * the engine uses, each with distinct peer addresses, through the same
 * resume_a_store / resume_b_store calls the engine makes, and reports per
 * table:
 *   - sizeof one entry with its index record, and the bound in bytes
 *     (max entries x that): the memory the table can ever take, since it
 *     is two arrays allocated up front;
 *   - the growth of this process's VmRSS while the table was created and
 *     filled, in total and per entry (page-granular: the array's pages
 *     count once they are written);
 *   - the VmRSS growth while as many entries again were stored into the
 *     full table: each store evicts the oldest, so it stays at the bound.
 * The program fails if a full table does not hold exactly its bound.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "engine.h"
#include "resume.h"

/* The engine's bounds when it names them, else the documented ones. */
#ifdef ENGINE_RESUME_A_MAX
#define A_MAX ENGINE_RESUME_A_MAX
#else
#define A_MAX 1024
#endif
#ifdef ENGINE_RESUME_B_MAX
#define B_MAX ENGINE_RESUME_B_MAX
#else
#define B_MAX 4096
#endif

#define NOW 1000000ull		/* any time: nothing expires meanwhile */

struct result {
	const char *name;
	unsigned max;
	size_t entry_size;
	unsigned held;
	long rss_kib;		/* growth while creating and filling */
	long rss_over_kib;	/* growth while storing max more */
};

static long vmrss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The n-th distinct IPv4 address, 10.0.0.1 on. */
static void peer_addr(struct resume_addr *a, unsigned n)
{
	uint32_t v = 0x0a000001u + n;

	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->addr[0] = (uint8_t)(v >> 24);
	a->addr[1] = (uint8_t)(v >> 16);
	a->addr[2] = (uint8_t)(v >> 8);
	a->addr[3] = (uint8_t)v;
}

/* ss1 of the n-th fresh exchange: any distinct value will do. */
static void secret(uint8_t ss[RESUME_SS_LEN], unsigned n)
{
	memset(ss, 0x5a, RESUME_SS_LEN);
	memcpy(ss, &n, sizeof(n));
}

static int fill_a(struct result *r)
{
	struct resume_a_table t;
	uint8_t ss[RESUME_SS_LEN];
	struct resume_addr peer;
	long r0, r1, r2;

	r0 = vmrss_kib();
	if (resume_a_init(&t, A_MAX, 0) < 0)
		return -1;
	for (unsigned i = 0; i < A_MAX; i++) {
		peer_addr(&peer, i);
		secret(ss, i);
		resume_a_store(&t, &peer, ss, 0x7403, NOW);
	}
	r1 = vmrss_kib();
	r->held = resume_a_count(&t);
	for (unsigned i = A_MAX; i < 2 * A_MAX; i++) {
		peer_addr(&peer, i);
		secret(ss, i);
		resume_a_store(&t, &peer, ss, 0x7403, NOW);
	}
	r2 = vmrss_kib();
	if (resume_a_count(&t) != r->held)
		r->held = 0;
	resume_a_free(&t);
	r->name = "A";
	r->max = A_MAX;
	r->entry_size = sizeof(struct resume_a_entry) + sizeof(struct resume_idx);
	r->rss_kib = r1 - r0;
	r->rss_over_kib = r2 - r1;
	return 0;
}

static int fill_b(struct result *r)
{
	struct resume_b_table t;
	uint8_t ss[RESUME_SS_LEN];
	struct resume_addr peer;
	long r0, r1, r2;

	r0 = vmrss_kib();
	if (resume_b_init(&t, B_MAX, 0) < 0)
		return -1;
	for (unsigned i = 0; i < B_MAX; i++) {
		peer_addr(&peer, i);
		secret(ss, i);
		resume_b_store(&t, &peer, ss, 0x7403, NOW);
	}
	r1 = vmrss_kib();
	r->held = resume_b_count(&t);
	for (unsigned i = B_MAX; i < 2 * B_MAX; i++) {
		peer_addr(&peer, i);
		secret(ss, i);
		resume_b_store(&t, &peer, ss, 0x7403, NOW);
	}
	r2 = vmrss_kib();
	if (resume_b_count(&t) != r->held)
		r->held = 0;
	resume_b_free(&t);
	r->name = "B";
	r->max = B_MAX;
	r->entry_size = sizeof(struct resume_b_window) + sizeof(struct resume_idx);
	r->rss_kib = r1 - r0;
	r->rss_over_kib = r2 - r1;
	return 0;
}

int main(int argc, char **argv)
{
	struct result res[2];
	uint8_t warm[RESUME_SS_LEN] = { 0 };
	bool json = false;

	if (argc == 2 && strcmp(argv[1], "--json") == 0) {
		json = true;
	} else if (argc != 1) {
		fprintf(stderr, "usage: resumemem [--json]\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "resumemem: sodium_init failed\n");
		return 1;
	}
	/* the code and data the stores touch, in the baseline */
	resume_ss_next(warm, warm);
	resume_r(warm, NULL, NULL);
	/* and the heap and stdio state that reading VmRSS sets up */
	(void)vmrss_kib();
	if (fill_a(&res[0]) < 0 || fill_b(&res[1]) < 0) {
		fprintf(stderr, "resumemem: out of memory\n");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		if (res[i].held != res[i].max) {
			fprintf(stderr, "resumemem: table %s holds %u entries, want %u\n", res[i].name,
				res[i].held, res[i].max);
			return 1;
		}
	}
	if (json) {
		printf("{\"tables\": [");
		for (int i = 0; i < 2; i++)
			printf("%s{\"host\": \"%s\", \"max_entries\": %u, \"entry_bytes\": %zu, "
			       "\"bound_bytes\": %zu, \"rss_growth_bytes\": %ld, "
			       "\"rss_per_entry_bytes\": %.1f, \"rss_growth_over_bound_bytes\": %ld}",
			       i ? ", " : "", res[i].name, res[i].max, res[i].entry_size,
			       res[i].max * res[i].entry_size, res[i].rss_kib * 1024,
			       res[i].rss_kib * 1024.0 / res[i].max, res[i].rss_over_kib * 1024);
		printf("]}\n");
		return 0;
	}
	printf("%-5s %8s %8s %12s %14s %12s %14s\n", "table", "entries", "sizeof", "bound",
	       "VmRSS growth", "per entry", "past the bound");
	for (int i = 0; i < 2; i++)
		printf("%-5s %8u %6zu B %10zu B %12ld B %10.1f B %12ld B\n", res[i].name, res[i].max,
		       res[i].entry_size, res[i].max * res[i].entry_size, res[i].rss_kib * 1024,
		       res[i].rss_kib * 1024.0 / res[i].max, res[i].rss_over_kib * 1024);
	return 0;
}
