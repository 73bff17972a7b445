/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cryptobench: what the per-segment crypto of protocol version 2 costs,
 * measured on the daemon's own code (libtccore's src/core/seal2.c).
 *
 *   cryptobench [--json] [--time SEC]
 *
 * For 1460-byte segments it times
 * seal (keystream then tag) and open (verify then keystream) with suites
 * 0x7403 (AES-128-CTR through OpenSSL) and 0x7402 (ChaCha20), each also
 * with a key that is not in the per-daemon context cache (each segment from
 * another of 2 * SEAL2_AES_CACHE flows); the fixed cost in ns
 * of the tag of a pure ACK; the cost of creating, keying and freeing an
 * OpenSSL AES context per use; and the heap memory one keyed AES context
 * holds (counted through CRYPTO_set_mem_functions).
 *
 * Each case runs for --time seconds (default 0.3) after a short warm-up,
 * split into 5 rounds; the fastest round is reported (the least disturbed
 * by other load on the machine).  Printed per case: ns per byte, cycles per
 * byte (time-stamp counter cycles from __rdtsc on x86_64, "n/a" elsewhere;
 * the TSC ticks at a fixed rate, which is not the core clock when that
 * scales), MB/s (10^6 bytes) and ns per segment.  --json prints the same as
 * one JSON object instead of the table.
 *
 * The segments sit in a ring of RING slots at consecutive stream offsets
 * (slot i at offset i * size), so 1460-byte segments start mid-block as
 * they do in a real stream.  verify+decrypt needs a valid tag every time
 * without copying the ciphertext back: XOR with the same keystream is an
 * involution, so each slot alternates between two contents, ct and
 * ct ^ keystream, and the tag of each is computed beforehand.  Every
 * verification must succeed; the program fails otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "seal2.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define RING      16
#define MAX_SIZE  1460
#define ROUNDS    5
#define BATCH     64
#define WARMUP_S  0.05

enum op { OP_SEAL_7403, OP_OPEN_7403, OP_SEAL_7403_MISS, OP_OPEN_7403_MISS,
	  OP_SEAL_7402, OP_OPEN_7402, OP_SEAL_7402_MISS, OP_OPEN_7402_MISS };
static const char *const op_name[] = {
	"v2 seal 0x7403", "v2 open 0x7403", "v2 seal 0x7403 uncached", "v2 open 0x7403 uncached",
	"v2 seal 0x7402", "v2 open 0x7402", "v2 seal 0x7402 uncached", "v2 open 0x7402 uncached",
};
static const char *const op_key[] = {
	"seal_7403", "open_7403", "seal_7403_uncached", "open_7403_uncached",
	"seal_7402", "open_7402", "seal_7402_uncached", "open_7402_uncached",
};

struct slot {
	uint8_t buf[MAX_SIZE];
	uint8_t tag[2][SEAL2_TAG_LEN];	/* [0]: of ct, [1]: of ct ^ keystream */
	struct seal2_hdr hdr;
	uint64_t off;
};

struct result {
	size_t size;
	enum op op;
	double ns_per_byte;
	double cycles_per_byte;		/* < 0: not measured */
	double mb_per_s;
	double ns_per_segment;
	uint64_t segments;		/* in the fastest round */
};

static struct slot ring[RING];
/* Version 2: one chain per flow (FLOWS flows take turns in the uncached
 * cases, more than the context cache holds), one per-daemon context. */
#define FLOWS (2 * SEAL2_AES_CACHE)
static struct seal2_chain chains[FLOWS];
static struct seal2_ctx ctx2;
/* Keeps the compiler from dropping the tags of the seal loop. */
static volatile uint8_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cycles(void)
{
#if HAVE_TSC
	return __rdtsc();
#else
	return 0;
#endif
}

static bool is_open(enum op op)
{
	return op == OP_OPEN_7403 || op == OP_OPEN_7403_MISS ||
	       op == OP_OPEN_7402 || op == OP_OPEN_7402_MISS;
}

static uint16_t suite_of(enum op op)
{
	return op >= OP_SEAL_7402 ? SEAL2_SUITE_CHACHA20 : SEAL2_SUITE_AES128CTR;
}

/* The chain of ring slot i: one flow, or FLOWS flows in turn. */
static struct seal2_chain *chain_of(enum op op, unsigned i)
{
	return (op == OP_SEAL_7403_MISS || op == OP_OPEN_7403_MISS || op == OP_SEAL_7402_MISS ||
		op == OP_OPEN_7402_MISS) ? &chains[i % FLOWS] : &chains[0];
}

static struct seal2_hdr hdr2(const struct slot *s)
{
	return s->hdr;
}

static void ring_init2(enum op op, size_t size)
{
	uint16_t suite = suite_of(op);

	for (unsigned i = 0; i < RING; i++) {
		struct slot *s = &ring[i];
		struct seal2_chain *c = chain_of(op, i);
		struct seal2_hdr h;

		randombytes_buf(s->buf, size);
		s->off = (uint64_t)i * size;
		s->hdr = (struct seal2_hdr){ .flags = 0x18, .seq_off = s->off, .ack_off = 4242,
					    .payload_len = (uint16_t)size };
		h = hdr2(s);
		seal2_tag(c, &h, s->buf, size, s->tag[0], &ctx2);
		seal2_xor(&ctx2, suite, c, s->off, s->buf, size);
		seal2_tag(c, &h, s->buf, size, s->tag[1], &ctx2);
		seal2_xor(&ctx2, suite, c, s->off, s->buf, size);
	}
}

/* BATCH segments of one operation.  *phase tracks, for OP_OPEN, which of
 * its two contents every slot holds (all slots flip together once the ring
 * is walked).  Returns the number of failed verifications. */
static unsigned run_batch(enum op op, unsigned *pos, unsigned *phase)
{
	unsigned bad = 0;

	for (unsigned n = 0; n < BATCH; n++) {
		struct slot *s = &ring[*pos];

		struct seal2_hdr h = hdr2(s);
		struct seal2_chain *c = chain_of(op, *pos);

		if (!is_open(op)) {
			uint8_t tag[SEAL2_TAG_LEN];

			if (seal2_seal(&ctx2, suite_of(op), c, &h, s->buf, tag) != 0)
				bad++;
			sink ^= tag[0];
		} else if (seal2_open(&ctx2, suite_of(op), c, &h, s->buf, s->tag[*phase]) != 0) {
			bad++;
		}
		if (++*pos == RING) {
			*pos = 0;
			*phase ^= 1;
		}
	}
	return bad;
}

static int measure(enum op op, size_t size, double seconds, struct result *r)
{
	unsigned pos = 0, phase = 0, bad = 0;
	uint64_t round_ns = (uint64_t)(seconds / ROUNDS * 1e9);
	uint64_t t0, t_end;
	double best_ns = 0, best_cyc = 0;
	uint64_t best_segs = 0;

	ring_init2(op, size);
	t_end = now_ns() + (uint64_t)(WARMUP_S * 1e9);
	while (now_ns() < t_end)
		bad += run_batch(op, &pos, &phase);

	for (unsigned round = 0; round < ROUNDS; round++) {
		uint64_t segs = 0, c0, c1, t1;

		t0 = now_ns();
		c0 = cycles();
		do {
			bad += run_batch(op, &pos, &phase);
			segs += BATCH;
			t1 = now_ns();
		} while (t1 - t0 < round_ns);
		c1 = cycles();
		double ns = (double)(t1 - t0) / (double)segs;
		if (best_segs == 0 || ns < best_ns) {
			best_ns = ns;
			best_cyc = (double)(c1 - c0) / (double)segs;
			best_segs = segs;
		}
	}
	if (bad) {
		fprintf(stderr, "cryptobench: %u verifications failed (%s, %zu bytes)\n",
			bad, op_name[op], size);
		return -1;
	}
	r->size = size;
	r->op = op;
	r->ns_per_segment = best_ns;
	r->ns_per_byte = best_ns / (double)size;
	r->cycles_per_byte = HAVE_TSC ? best_cyc / (double)size : -1.0;
	r->mb_per_s = (double)size / best_ns * 1e3;
	r->segments = best_segs;
	return 0;
}

/* ---- version 2 fixed costs and memory ---- */

/* OpenSSL's heap, counted: each block carries its size in front. */
static size_t ossl_live;

static void *count_malloc(size_t n, const char *file, int line)
{
	size_t *p = malloc(n + 16);

	(void)file;
	(void)line;
	if (p == NULL)
		return NULL;
	*p = n;
	ossl_live += n;
	return (char *)p + 16;
}

static void count_free(void *q, const char *file, int line)
{
	size_t *p;

	(void)file;
	(void)line;
	if (q == NULL)
		return;
	p = (size_t *)(void *)((char *)q - 16);
	ossl_live -= *p;
	free(p);
}

static void *count_realloc(void *q, size_t n, const char *file, int line)
{
	void *r;
	size_t old;

	if (q == NULL)
		return count_malloc(n, file, line);
	if (n == 0) {
		count_free(q, file, line);
		return NULL;
	}
	old = *(size_t *)(void *)((char *)q - 16);
	r = count_malloc(n, file, line);
	if (r == NULL)
		return NULL;
	memcpy(r, q, old < n ? old : n);
	count_free(q, file, line);
	return r;
}

/* Fastest of ROUNDS rounds of fn, in ns per call. */
static double measure_fixed(void (*fn)(void), double seconds)
{
	uint64_t round_ns = (uint64_t)(seconds / ROUNDS * 1e9), t_end;
	double best = 0;

	t_end = now_ns() + (uint64_t)(WARMUP_S * 1e9);
	while (now_ns() < t_end)
		fn();
	for (unsigned round = 0; round < ROUNDS; round++) {
		uint64_t calls = 0, t0 = now_ns(), t1;

		do {
			for (unsigned i = 0; i < BATCH; i++)
				fn();
			calls += BATCH;
			t1 = now_ns();
		} while (t1 - t0 < round_ns);
		if (best == 0 || (double)(t1 - t0) / (double)calls < best)
			best = (double)(t1 - t0) / (double)calls;
	}
	return best;
}

/* The tag of a pure ACK (no payload) with the chain's keys at hand. */
static void fixed_tag_ack(void)
{
	static uint64_t ack = 4242;
	struct seal2_hdr h = { .flags = 0x10, .seq_off = 77, .ack_off = ack++ };
	uint8_t tag[SEAL2_TAG_LEN];

	seal2_tag(&chains[0], &h, NULL, 0, tag, &ctx2);
	sink ^= tag[0];
}

/* An AES context created, keyed, used for one block and freed. */
static EVP_CIPHER *aes_cipher;
static uint8_t aes_key[16], aes_iv[16];

static void fixed_ctx_per_use(void)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t blk[16] = { 0 };
	int outl;

	if (c == NULL || EVP_EncryptInit_ex2(c, aes_cipher, aes_key, aes_iv, NULL) != 1 ||
	    EVP_EncryptUpdate(c, blk, &outl, blk, sizeof(blk)) != 1)
		abort();
	sink ^= blk[0];
	EVP_CIPHER_CTX_free(c);
}

/* Heap bytes one keyed AES-128-CTR context holds. */
static long aes_ctx_bytes(void)
{
	size_t before = ossl_live;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	long n;

	if (c == NULL || EVP_EncryptInit_ex2(c, aes_cipher, aes_key, aes_iv, NULL) != 1)
		abort();
	n = (long)(ossl_live - before);
	EVP_CIPHER_CTX_free(c);
	return n;
}

static void usage(FILE *out)
{
	fputs("usage: cryptobench [--json] [--time SEC]\n"
	      "Times protocol version 2's seal (encrypt + tag) and open (verify +\n"
	      "decrypt) of 1460-byte segments with tcpcryptd's own seal code, for\n"
	      "suites 0x7403 and 0x7402, and its fixed costs; --time is per case\n"
	      "(default 0.3 s).\n", out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum { NCASES = OP_OPEN_7402_MISS - OP_SEAL_7403 + 1 };
	struct result res[NCASES];
	bool json = false;
	double seconds = 0.3;
	unsigned n = 0;
	int c;
	double ns_tag_ack, ns_ctx_use;
	long ctx_bytes;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't': {
			char *end;

			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(seconds >= 0.01 && seconds <= 60)) {
				fprintf(stderr, "cryptobench: --time: need 0.01..60 seconds: %s\n", optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Before OpenSSL allocates anything. */
	if (CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) != 1) {
		fprintf(stderr, "cryptobench: CRYPTO_set_mem_functions failed\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "cryptobench: sodium_init failed\n");
		return 1;
	}
	if (seal2_ctx_init(&ctx2) != 0 ||
	    (aes_cipher = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL)) == NULL) {
		fprintf(stderr, "cryptobench: OpenSSL has no AES-128-CTR\n");
		return 1;
	}
	for (unsigned i = 0; i < FLOWS; i++) {
		uint8_t mk[SEAL2_SECRET_LEN];

		randombytes_buf(mk, sizeof(mk));
		seal2_chain_init(&chains[i], mk, SEAL2_CTX_AB);
		sodium_memzero(mk, sizeof(mk));
	}
	randombytes_buf(aes_key, sizeof(aes_key));
	for (int op = OP_SEAL_7403; op <= OP_OPEN_7402_MISS; op++)
		if (measure((enum op)op, MAX_SIZE, seconds, &res[n++]) < 0)
			return 1;
	ns_tag_ack = measure_fixed(fixed_tag_ack, seconds);
	ns_ctx_use = measure_fixed(fixed_ctx_per_use, seconds);
	ctx_bytes = aes_ctx_bytes();
	for (unsigned i = 0; i < FLOWS; i++)
		seal2_chain_wipe(&chains[i], &ctx2);
	seal2_ctx_free(&ctx2);
	EVP_CIPHER_free(aes_cipher);

	if (json) {
		printf("{\"tool\": \"cryptobench\", \"protocol\": 2, \"cycles\": %s, "
		       "\"seconds_per_case\": %.3f, \"rounds\": %d, \"results\": [",
		       HAVE_TSC ? "\"tsc\"" : "null", seconds, ROUNDS);
		for (unsigned i = 0; i < n; i++) {
			const struct result *r = &res[i];

			printf("%s\n  {\"size\": %zu, \"op\": \"%s\", \"name\": \"%s\", "
			       "\"ns_per_byte\": %.4f, \"cycles_per_byte\": ",
			       i ? "," : "", r->size, op_key[r->op], op_name[r->op], r->ns_per_byte);
			if (r->cycles_per_byte >= 0)
				printf("%.4f", r->cycles_per_byte);
			else
				printf("null");
			printf(", \"mb_per_s\": %.1f, \"ns_per_segment\": %.1f, \"segments\": %llu, "
			       "\"suite\": \"%s\"}",
			       r->mb_per_s, r->ns_per_segment, (unsigned long long)r->segments,
			       suite_of(r->op) == SEAL2_SUITE_CHACHA20 ? "0x7402" : "0x7403");
		}
		printf("\n], \"v2_fixed\": {\"tag_pure_ack_ns\": %.1f, \"aes_ctx_per_use_ns\": %.1f, "
		       "\"aes_ctx_bytes\": %ld, \"chain_bytes\": %zu, \"ctx_cache_bytes\": %zu}}\n",
		       ns_tag_ack, ns_ctx_use, ctx_bytes, sizeof(struct seal2_chain),
		       sizeof(struct seal2_ctx));
		return 0;
	}
	printf("cryptobench: protocol version 2 (Poly1305 + HChaCha20 tag), %.2f s per case, "
	       "fastest of %d rounds\n", seconds, ROUNDS);
	printf("%6s  %-25s %9s %12s %10s %12s\n", "bytes", "operation", "ns/byte", "cycles/byte",
	       "MB/s", "ns/segment");
	for (unsigned i = 0; i < n; i++) {
		const struct result *r = &res[i];
		char cyc[32];

		if (r->cycles_per_byte >= 0)
			snprintf(cyc, sizeof(cyc), "%.2f", r->cycles_per_byte);
		else
			snprintf(cyc, sizeof(cyc), "n/a");
		printf("%6zu  %-25s %9.3f %12s %10.1f %12.1f\n", r->size, op_name[r->op],
		       r->ns_per_byte, cyc, r->mb_per_s, r->ns_per_segment);
	}
	if (HAVE_TSC)
		printf("(cycles: time-stamp counter)\n");
	printf("v2 tag of a pure ACK: %.1f ns\n", ns_tag_ack);
	printf("v2 AES context created, keyed, used and freed per segment: %.1f ns\n", ns_ctx_use);
	printf("v2 memory: keyed AES-128-CTR context %ld B (OpenSSL heap), chain %zu B per "
	       "direction, per-daemon context %zu B + %d AES contexts, one ChaCha20 and one "
	       "Poly1305 context\n", ctx_bytes,
	       sizeof(struct seal2_chain), sizeof(struct seal2_ctx), SEAL2_AES_CACHE);
	return 0;
}
