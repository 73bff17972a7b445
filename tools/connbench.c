/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * connbench: the protocol engine's own time per connection, resumed or
 * fresh, without the kernel, the queue or the scheduler around it.
 *
 *   connbench [--conns N] [--pollute KIB] [--suite aes128|chacha20]
 *             [--fresh] [--json]
 *
 * Two engines in one process, A (the client) and B (the server), play
 * the connections of scripts/bench's conn/s figure: SYN, SYN-ACK, ACK, a
 * 100-byte request, a 100-byte response with its ACK, and both FINs with
 * their ACKs, each segment built as Linux would send it, handed to its
 * sender's engine as outgoing and to its receiver's as incoming.  Both
 * resumption tables are seeded with one shared secret first, so every
 * connection is resumed (the program fails otherwise), as with the
 * daemons once the first connection to an address has had its key
 * exchange.  With --fresh, resumption is off and every connection has
 * its key exchange: A's third segment carries Init1, and the Init2 that
 * B's engine injects and the ACK that A's engine injects in return are
 * handed to the other engine (the X25519 result is remembered, as the
 * daemon does by default).  Time moves 1 ms per connection and
 * engine_tick runs after each, so closed flows expire as in the daemon.
 *
 * Reported: the time spent in the engine calls (engine_handle and
 * engine_tick) per connection, for A and for B, median of 5 runs of N
 * connections; the clock is read around every call (about 20 ns each).
 * --pollute writes KIB KiB of other memory before every engine call, as
 * the kernel's packet path does between two segments in the daemon:
 * then the figure includes the cache misses a daemon pays, which is most
 * of what it costs there.
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
#include <time.h>

#include <sodium.h>

#include "engine.h"
#include "log.h"
#include "packet.h"
#include "resume.h"
#include "seal2.h"

#define RUNS 5
#define SEG_CAP 2048
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

struct host {
	struct engine e;
	uint8_t addr[4];
	uint64_t rng;
	uint64_t engine_ns;	/* in its engine's calls */
	uint8_t inj[SEG_CAP];	/* the last packet its engine injected */
	size_t inj_len;
	unsigned ninj;
};

static struct host A, B;
static uint64_t now = 1000000000ull;
static uint32_t next_id;
static uint8_t *pollution;
static size_t pollution_len;

/* The engine's random bytes: a counter, not a generator (no system call
 * is measured, and nothing here needs secrecy). */
static void io_random(void *ctx, uint8_t *buf, size_t len)
{
	struct host *h = ctx;

	for (size_t i = 0; i < len; i++) {
		h->rng = h->rng * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (uint8_t)(h->rng >> 56);
	}
}

static int io_inject(void *ctx, const uint8_t *pkt, size_t len)
{
	struct host *h = ctx;

	if (len > sizeof(h->inj))
		return -1;
	memcpy(h->inj, pkt, len);
	h->inj_len = len;
	h->ninj++;
	return 0;
}

static void io_release(void *ctx, uint32_t id, bool accept, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)id, (void)accept, (void)pkt, (void)len;
}

/* The monotonic clock, not the thread's CPU clock: that one is a system
 * call, which would cost more than many an engine call it timed; this one
 * is read in user space (vDSO), and the process has a core to itself. */
static uint64_t clock_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void pollute(void)
{
	/* (a write per cache line: the lines must be evicted dirty, as
	 * the kernel's skbs and stacks are) */
	for (size_t i = 0; i < pollution_len; i += 64)
		pollution[i] += 1;
}

static void die(const char *what)
{
	fprintf(stderr, "connbench: %s\n", what);
	exit(1);
}

static void v_pass(enum engine_verdict v, const char *what)
{
	if (v != EV_ACCEPT && v != EV_ACCEPT_ENCRYPTED)
		die(what);
}

/* One segment from `from` to `to`: built as from's kernel sends it, through
 * from's engine (outgoing), then to's engine (incoming).  Both must pass it. */
static void segment(struct host *from, struct host *to, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, size_t plen)
{
	/* Linux's options: MSS, SACK permitted, TS, NOP, WS on a SYN; NOP
	 * NOP TS on the rest. */
	static const uint8_t syn_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					      0, 0, 0, 0, 1, 3, 3, 7 };
	static const uint8_t ts_opts[12] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 3 };
	static const uint8_t payload[100] = { 'q' };
	static uint8_t buf[SEG_CAP], copy[SEG_CAP];
	struct pkt_build b = {
		.family = AF_INET, .saddr = from->addr, .daddr = to->addr, .sport = sport,
		.dport = dport, .seq = seq, .ack = ack, .flags = flags,
		.window = (flags & TH_SYN) ? 64240 : 502,
		.opts = (flags & TH_SYN) ? syn_opts : ts_opts,
		.opts_len = (flags & TH_SYN) ? sizeof(syn_opts) : sizeof(ts_opts),
		.payload = payload, .payload_len = plen,
	};
	struct pkt p;
	bool modified;
	enum engine_verdict v;
	uint64_t t0;

	if (pkt_build(buf, sizeof(buf) - ENGINE_HEADROOM, &b, &p) == 0)
		die("pkt_build failed");
	p.cap = sizeof(buf);
	pollute();
	t0 = clock_ns();
	v = engine_handle(&from->e, now, true, false, ++next_id, &p, &modified);
	from->engine_ns += clock_ns() - t0;
	v_pass(v, "a sender's engine did not pass a segment");
	memcpy(copy, p.buf, p.len);
	if (pkt_parse(&p, copy, p.len, sizeof(copy)) != PKT_OK)
		die("a sealed segment does not parse");
	pollute();
	t0 = clock_ns();
	v = engine_handle(&to->e, now, false, false, ++next_id, &p, &modified);
	to->engine_ns += clock_ns() - t0;
	v_pass(v, "a receiver's engine did not pass a segment");
}

/* The packet from's engine injected last, as to's engine receives it;
 * returns the verdict. */
static enum engine_verdict deliver_injected(struct host *from, struct host *to, unsigned ninj)
{
	static uint8_t buf[SEG_CAP];
	struct pkt p;
	bool modified;
	enum engine_verdict v;
	uint64_t t0;

	if (from->ninj != ninj + 1)
		die("an engine did not inject its Init message or ACK");
	memcpy(buf, from->inj, from->inj_len);
	if (pkt_parse(&p, buf, from->inj_len, sizeof(buf)) != PKT_OK)
		die("an injected packet does not parse");
	pollute();
	t0 = clock_ns();
	v = engine_handle(&to->e, now, false, false, ++next_id, &p, &modified);
	to->engine_ns += clock_ns() - t0;
	return v;
}

/* One request/response connection from A's port sport to B's port 80. */
static void connection(uint16_t sport, bool fresh)
{
	const uint32_t a = 0x10000000u + sport * 7919u, b = 0x80000000u - sport * 104729u;
	uint64_t t0;

	segment(&A, &B, sport, 80, a, 0, TH_SYN, 0);
	segment(&B, &A, 80, sport, b, a + 1, TH_SYN | TH_ACK, 0);
	if (fresh) {
		unsigned na = A.ninj, nb = B.ninj;

		/* A's engine puts Init1 on its kernel's ACK; B's answers with
		 * Init2, which A's engine takes (it never reaches A's kernel)
		 * and acknowledges with a tagged ACK of its own. */
		segment(&A, &B, sport, 80, a + 1, b + 1, TH_ACK, 0);
		if (deliver_injected(&B, &A, nb) != EV_DROP)
			die("A's engine did not take Init2");
		v_pass(deliver_injected(&A, &B, na), "B's engine refused A's ACK of Init2");
	} else {
		segment(&A, &B, sport, 80, a + 1, b + 1, TH_ACK, 0);
	}
	segment(&A, &B, sport, 80, a + 1, b + 1, TH_PSH | TH_ACK, 100);
	segment(&B, &A, 80, sport, b + 1, a + 101, TH_ACK, 0);
	segment(&B, &A, 80, sport, b + 1, a + 101, TH_PSH | TH_ACK, 100);
	segment(&A, &B, sport, 80, a + 101, b + 101, TH_ACK, 0);
	segment(&A, &B, sport, 80, a + 101, b + 101, TH_FIN | TH_ACK, 0);
	segment(&B, &A, 80, sport, b + 101, a + 102, TH_FIN | TH_ACK, 0);
	segment(&A, &B, sport, 80, a + 102, b + 102, TH_ACK, 0);
	now += 1000;
	for (struct host *h = &A; h; h = h == &A ? &B : NULL) {
		pollute();
		t0 = clock_ns();
		engine_tick(&h->e, now);
		h->engine_ns += clock_ns() - t0;
	}
}

static void host_init(struct host *h, uint8_t last, uint16_t suite, bool resumption)
{
	struct engine_io io = { .ctx = h, .inject = io_inject, .release = io_release,
				.random = io_random };
	struct engine_config c;

	memset(h, 0, sizeof(*h));
	memcpy(h->addr, (uint8_t[4]){ 192, 0, 2, last }, 4);
	h->rng = last;
	engine_config_defaults(&c);
	c.nsuites = 1;
	c.suites[0] = suite;
	c.resumption = resumption;
	if (engine_init(&h->e, &c, &io) != 0)
		die("engine_init failed");
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	unsigned conns = 2000, pollute_kib = 0;
	uint16_t suite = SEAL2_SUITE_AES128CTR;
	bool json = false, fresh = false;
	uint64_t a_ns[RUNS], b_ns[RUNS];
	uint8_t ss1[RESUME_SS_LEN];
	struct resume_addr pa = { .family = AF_INET }, pb = { .family = AF_INET };
	unsigned long long resumed;
	uint16_t port = 1024;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--conns") && i + 1 < argc)
			conns = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pollute") && i + 1 < argc)
			pollute_kib = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--suite") && i + 1 < argc)
			suite = !strcmp(argv[++i], "chacha20") ? SEAL2_SUITE_CHACHA20
							      : SEAL2_SUITE_AES128CTR;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--fresh"))
			fresh = true;
		else {
			fprintf(stderr, "usage: connbench [--conns N] [--pollute KIB] "
					"[--suite aes128|chacha20] [--fresh] [--json]\n");
			return 2;
		}
	}
	if (conns < 1 || conns > 60000 || sodium_init() < 0)
		die("bad --conns, or libsodium failed");
	log_init(LOG_LVL_WARN);	/* no line per connection on stderr */
	pollution_len = (size_t)pollute_kib * 1024;
	if (pollution_len && (pollution = calloc(1, pollution_len)) == NULL)
		die("out of memory");
	host_init(&A, 1, suite, !fresh);
	host_init(&B, 2, suite, !fresh);
	if (!fresh) {
		/* One shared secret, as a fresh exchange would leave it. */
		randombytes_buf(ss1, sizeof(ss1));
		memcpy(pa.addr, A.addr, 4);
		memcpy(pb.addr, B.addr, 4);
		resume_a_store(&A.e.resume_a, &pb, ss1, suite, now);
		resume_b_store(&B.e.resume_b, &pa, ss1, suite, now);
		sodium_memzero(ss1, sizeof(ss1));
	}
	/* A first run warms up allocations and tables; it is not counted. */
	for (int r = -1; r < RUNS; r++) {
		A.engine_ns = B.engine_ns = 0;
		for (unsigned i = 0; i < conns; i++) {
			connection(port, fresh);
			port = port == 65535 ? 1024 : port + 1;
		}
		if (r >= 0) {
			a_ns[r] = A.engine_ns / conns;
			b_ns[r] = B.engine_ns / conns;
		}
	}
	resumed = A.e.ctr.resume_accepted;
	if (resumed != (fresh ? 0 : (unsigned long long)conns * (RUNS + 1)))
		die(fresh ? "a connection was resumed" : "not every connection was resumed");
	if (A.e.ctr.encrypted_flows != (unsigned long long)conns * (RUNS + 1))
		die("not every connection was encrypted");
	qsort(a_ns, RUNS, sizeof(a_ns[0]), cmp_u64);
	qsort(b_ns, RUNS, sizeof(b_ns[0]), cmp_u64);
	if (json)
		printf("{\"kx\": \"%s\", \"conns\": %u, \"pollute_kib\": %u, \"suite\": \"0x%04x\", "
		       "\"a_ns\": %llu, \"b_ns\": %llu}\n", fresh ? "fresh" : "resumed", conns,
		       pollute_kib, suite,
		       (unsigned long long)a_ns[RUNS / 2], (unsigned long long)b_ns[RUNS / 2]);
	else
		printf("%s connections: %u x %d runs, suite 0x%04x, %u KiB polluted "
		       "per call\nengine time per connection (median): A %.2f us, B %.2f us\n",
		       fresh ? "fresh" : "resumed", conns, RUNS, suite, pollute_kib,
		       a_ns[RUNS / 2] / 1e3, b_ns[RUNS / 2] / 1e3);
	engine_free(&A.e);
	engine_free(&B.e);
	free(pollution);
	return 0;
}
