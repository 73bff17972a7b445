/*
 * cryptobench: what the per-segment crypto of suite 0x7401 costs, measured
 * on the daemon's own code (libtccore's seal_xor, seal_tag, seal_verify).
 *
 *   cryptobench [--json] [--time SEC]
 *
 * For segment payloads of 64, 512 and 1460 bytes it times
 *
 *   encrypt+MAC     seal_xor (ChaCha20 keystream at the segment's stream
 *                   offset) then seal_tag (BLAKE2b over the 22-byte pseudo
 *                   header and the ciphertext): what the sender's daemon
 *                   does to every outgoing segment;
 *   verify+decrypt  seal_verify then seal_xor: what the receiver's daemon
 *                   does to every incoming segment.
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

#include <sodium.h>

#include "seal.h"

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

static const size_t sizes[] = { 64, 512, 1460 };

enum op { OP_SEAL, OP_OPEN };
static const char *const op_name[] = { "encrypt+MAC", "verify+decrypt" };
static const char *const op_key[] = { "seal", "open" };

struct slot {
	uint8_t buf[MAX_SIZE];
	uint8_t tag[2][SEAL_TAG_LEN];	/* [0]: of ct, [1]: of ct ^ keystream */
	struct seal_hdr hdr;
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
static struct seal_key key;
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

static void ring_init(size_t size)
{
	for (unsigned i = 0; i < RING; i++) {
		struct slot *s = &ring[i];

		randombytes_buf(s->buf, size);
		s->off = (uint64_t)i * size;
		s->hdr = (struct seal_hdr){
			.flags = 0x18,	/* ACK | PSH */
			.seq_off = s->off,
			.ack_off = 4242,
			.payload_len = (uint16_t)size,
			.urg_ptr = 0,
		};
		seal_tag(&key, &s->hdr, s->buf, size, s->tag[0]);
		seal_xor(&key, s->off, s->buf, size);
		seal_tag(&key, &s->hdr, s->buf, size, s->tag[1]);
		seal_xor(&key, s->off, s->buf, size);	/* back to ct */
	}
}

/* BATCH segments of one operation.  *phase tracks, for OP_OPEN, which of
 * its two contents every slot holds (all slots flip together once the ring
 * is walked).  Returns the number of failed verifications. */
static unsigned run_batch(enum op op, size_t size, unsigned *pos, unsigned *phase)
{
	unsigned bad = 0;

	for (unsigned n = 0; n < BATCH; n++) {
		struct slot *s = &ring[*pos];

		if (op == OP_SEAL) {
			uint8_t tag[SEAL_TAG_LEN];

			seal_xor(&key, s->off, s->buf, size);
			seal_tag(&key, &s->hdr, s->buf, size, tag);
			sink ^= tag[0];
		} else {
			if (!seal_verify(&key, &s->hdr, s->buf, size, s->tag[*phase]))
				bad++;
			seal_xor(&key, s->off, s->buf, size);
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

	ring_init(size);
	t_end = now_ns() + (uint64_t)(WARMUP_S * 1e9);
	while (now_ns() < t_end)
		bad += run_batch(op, size, &pos, &phase);

	for (unsigned round = 0; round < ROUNDS; round++) {
		uint64_t segs = 0, c0, c1, t1;

		t0 = now_ns();
		c0 = cycles();
		do {
			bad += run_batch(op, size, &pos, &phase);
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

static void usage(FILE *out)
{
	fputs("usage: cryptobench [--json] [--time SEC]\n"
	      "Times encrypt+MAC and verify+decrypt of 64, 512 and 1460-byte\n"
	      "segments with tcpcryptd's own seal code; --time is per case\n"
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
	enum { NCASES = 2 * sizeof(sizes) / sizeof(sizes[0]) };
	struct result res[NCASES];
	uint8_t traffic_key[64];
	bool json = false;
	double seconds = 0.3;
	unsigned n = 0;
	int c;

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
	if (sodium_init() < 0) {
		fprintf(stderr, "cryptobench: sodium_init failed\n");
		return 1;
	}
	randombytes_buf(traffic_key, sizeof(traffic_key));
	seal_key_init(&key, traffic_key);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int op = OP_SEAL; op <= OP_OPEN; op++)
			if (measure((enum op)op, sizes[i], seconds, &res[n++]) < 0)
				return 1;
	seal_key_wipe(&key);

	if (json) {
		printf("{\"tool\": \"cryptobench\", \"suite\": \"0x7401\", \"cycles\": %s, "
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
			printf(", \"mb_per_s\": %.1f, \"ns_per_segment\": %.1f, \"segments\": %llu}",
			       r->mb_per_s, r->ns_per_segment, (unsigned long long)r->segments);
		}
		printf("\n]}\n");
		return 0;
	}
	printf("cryptobench: suite 0x7401 (ChaCha20 + BLAKE2b tag), %.2f s per case, "
	       "fastest of %d rounds\n", seconds, ROUNDS);
	printf("%6s  %-15s %9s %12s %10s %12s\n", "bytes", "operation", "ns/byte", "cycles/byte",
	       "MB/s", "ns/segment");
	for (unsigned i = 0; i < n; i++) {
		const struct result *r = &res[i];
		char cyc[32];

		if (r->cycles_per_byte >= 0)
			snprintf(cyc, sizeof(cyc), "%.2f", r->cycles_per_byte);
		else
			snprintf(cyc, sizeof(cyc), "n/a");
		printf("%6zu  %-15s %9.3f %12s %10.1f %12.1f\n", r->size, op_name[r->op],
		       r->ns_per_byte, cyc, r->mb_per_s, r->ns_per_segment);
	}
	if (HAVE_TSC)
		printf("(cycles: time-stamp counter)\n");
	return 0;
}
