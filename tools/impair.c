/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * impair: a deterministic network impairer for the system tests.
 *
 * There is no netem on the test machines, so loss, duplication, delay and
 * reordering are done by this NFQUEUE consumer in the router namespace R,
 * hooked into R's FORWARD chain (never at a sender's own egress: the local
 * socket would learn of the drop).
 *
 *   impair --queue N --seed S [--loss P] [--dup P] [--delay MS] [--jitter MS]
 *          [--drop SPEC]... [--stats FILE]
 *
 *   --loss P     drop each packet with probability P (0..1)
 *   --dup P      duplicate each packet that is not dropped with probability P;
 *                the copy goes out through a raw socket (IPv4 IP_HDRINCL, IPv6
 *                IPPROTO_RAW) carrying mark 0x1, so a rule with
 *                "-m mark ! --mark 0x1/0x1" never queues it again
 *   --delay MS   hold each packet that is not dropped for MS milliseconds,
 *   --jitter MS  plus or minus a uniform random MS (so packets reorder); a copy
 *                made by --dup gets its own, independent delay
 *   --drop SPEC  drop one chosen packet, exactly once.  SPEC is KIND:N[:FILTER]
 *                KIND  syn     TCP SYN without ACK
 *                      synack  TCP SYN with ACK
 *                      init1   payload starts with 15 10 1a 0e (tcpcrypt Init1)
 *                      init2   payload starts with 09 71 05 e0 (tcpcrypt Init2)
 *                      data    payload (length > 0) that is not an Init
 *                N     the Nth packet of that kind, counted from 1 in the
 *                      order the queue sees them, over every connection and
 *                      both directions (SYN/Init1 only flow client -> server,
 *                      SYN-ACK/Init2 server -> client; use a FILTER to pick a
 *                      direction or connection for data).  Retransmissions
 *                      count: "syn:2" is the first retransmitted SYN when
 *                      there is one connection.
 *                FILTER  sport=P | dport=P | port=P (TCP source, destination
 *                      or either port); only matching packets are counted.
 *                Several --drop options may be given; each counts on its own.
 *   --seed S     PRNG seed (splitmix64).  Given the seed and the order in
 *                which packets arrive, every decision is the same: each packet
 *                consumes exactly four PRNG draws (loss, dup, delay, copy
 *                delay) whatever is decided.
 *   --stats FILE write the counters there on exit (they also go to stderr)
 *
 * Order of decisions per packet: --drop specs, then --loss, then --dup, then
 * --delay.  Only IPv4/IPv6 TCP is classified for --drop; anything else the
 * rule queues is still subject to loss, dup and delay.
 *
 * Prints "ready queue=N" on stderr once bound.  On SIGTERM/SIGINT it releases
 * every held packet (accepted, copies not yet sent are discarded), prints
 * "impair NAME VALUE" lines and exits 0.
 *
 * The queue is the daemon's own code (src/daemon/nfq.c): queue maxlen 8192,
 * receive buffer sized for it, NETLINK_NO_ENOBUFS, the socket drained on
 * every wakeup, verdicts batched and flushed when nothing more can be read.
 * Held packets stay in the kernel queue (verdict later, by id); the release
 * times live in a binary heap and one timerfd is armed for the earliest.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <linux/netfilter.h>

#include "log.h"
#include "nfq.h"
#include "stopsig.h"

#define PROG           "impair"
#define QUEUE_MAXLEN   8192u
/* Never hold more than this many packets: the rest of the queue is headroom
 * for packets that arrive while we are busy. */
#define HOLD_LIMIT     (QUEUE_MAXLEN - 1024u)
#define DUP_MARK       0x1u
/* While draining, look at the clock every this many datagrams so that a
 * steady stream does not starve the release of held packets. */
#define DRAIN_CHECK    64

#define EX_USAGE 64

enum kind { K_SYN, K_SYNACK, K_INIT1, K_INIT2, K_DATA, K_COUNT };
static const char *const kind_names[K_COUNT] = { "syn", "synack", "init1", "init2", "data" };

enum pfilter { F_NONE, F_SPORT, F_DPORT, F_PORT };

struct drop_spec {
	char name[64];          /* counter name: drop_KIND_N[_FILTER_P] */
	enum kind kind;
	unsigned long n;
	enum pfilter filter;
	uint16_t port;
	unsigned long seen;     /* matching packets so far */
	unsigned long matched;  /* 1 once the Nth was dropped */
};

/* A packet held back: either an original (verdict later, by id) or a copy
 * made by --dup (bytes kept, sent through the raw socket later). */
struct held {
	uint64_t due_ns;
	uint64_t order;         /* tie-break: equal times leave in arrival order */
	uint32_t id;
	uint16_t len;
	uint8_t is_copy;
	uint8_t family;
	unsigned char *data;
};

struct counters {
	unsigned long seen, ipv4, ipv6, other;
	unsigned long passed, dropped, lost, spec_dropped;
	unsigned long duplicated, dup_sent, dup_errors, dup_discarded;
	unsigned long delayed, delay_overflow, held_max, released_at_exit;
};

struct imp {
	/* configuration */
	uint16_t queue;
	uint64_t seed;
	double loss, dup;
	int64_t delay_us, jitter_us;
	struct drop_spec *specs;
	size_t nspecs;
	const char *stats_file;

	/* state */
	uint64_t rng;
	struct nfqio q;
	int tfd, raw4, raw6;
	struct held *heap;
	size_t nheld, cap;
	uint64_t order;
	struct counters c;
};

/* ------------------------------------------------------------------------ */
/* PRNG: splitmix64, our own, so the decisions do not depend on libc. */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) with 53 bits */
static double rng_unit(uint64_t r)
{
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Heap of held packets, earliest first. */

static bool held_before(const struct held *a, const struct held *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->order < b->order);
}

static int heap_push(struct imp *im, const struct held *h)
{
	size_t i;

	if (im->nheld == im->cap) {
		size_t ncap = im->cap ? im->cap * 2 : 1024;
		struct held *n = realloc(im->heap, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		im->heap = n;
		im->cap = ncap;
	}
	i = im->nheld++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!held_before(h, &im->heap[p]))
			break;
		im->heap[i] = im->heap[p];
		i = p;
	}
	im->heap[i] = *h;
	if (im->nheld > im->c.held_max)
		im->c.held_max = im->nheld;
	return 0;
}

static struct held heap_pop(struct imp *im)
{
	struct held top = im->heap[0], last = im->heap[--im->nheld];
	size_t i = 0, n = im->nheld;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m;

		if (l >= n)
			break;
		m = (r < n && held_before(&im->heap[r], &im->heap[l])) ? r : l;
		if (!held_before(&im->heap[m], &last))
			break;
		im->heap[i] = im->heap[m];
		i = m;
	}
	if (n > 0)
		im->heap[i] = last;
	return top;
}

/* ------------------------------------------------------------------------ */
/* Sockets. */

static int open_raw(int family)
{
	unsigned int mark = DUP_MARK;
	int one = 1;
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0) {
		fprintf(stderr, PROG ": raw socket (%s): %s\n",
			family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		return -1;
	}
	/* IPv4 IPPROTO_RAW implies IP_HDRINCL already; say it anyway.  IPv6
	 * IPPROTO_RAW sockets always take the full header. */
	if (family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		fprintf(stderr, PROG ": SO_MARK: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int setup(struct imp *im)
{
	if (im->dup > 0) {
		im->raw4 = open_raw(AF_INET);
		im->raw6 = open_raw(AF_INET6);
		if (im->raw4 < 0 || im->raw6 < 0)
			return -1;
	}
	im->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (im->tfd < 0) {
		fprintf(stderr, PROG ": timerfd_create: %s\n", strerror(errno));
		return -1;
	}
	if (nfqio_open(&im->q, im->queue, QUEUE_MAXLEN) < 0)
		return -1;
	/* While draining, look at the clock every DRAIN_CHECK datagrams. */
	im->q.rx_budget = DRAIN_CHECK;
	return 0;
}

/* No payload: the packet is accepted or dropped as the kernel has it. */
static void verdict(struct imp *im, uint32_t id, int v)
{
	nfqio_verdict(&im->q, id, v, false, 0, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Packets.  Classified by our own parser, not the daemon's
 * (src/core/packet.c): this program sees what the daemons put on the wire,
 * and a bug in their parser must not be able to hide itself by parsing the
 * same wrong way here. */

struct pinfo {
	int family;             /* AF_INET, AF_INET6 or 0 (not IP) */
	bool tcp;
	uint8_t flags;
	uint16_t sport, dport;
	const unsigned char *payload;
	size_t plen;
};

static void classify(const unsigned char *p, size_t len, struct pinfo *pi)
{
	size_t off;
	uint8_t proto;

	memset(pi, 0, sizeof(*pi));
	if (len < 1)
		return;
	if ((p[0] >> 4) == 4) {
		size_t ihl, tot;

		pi->family = AF_INET;
		if (len < 20)
			return;
		ihl = (size_t)(p[0] & 0x0f) * 4;
		tot = ((size_t)p[2] << 8) | p[3];
		if (ihl < 20 || tot < ihl || tot > len)
			return;
		/* a non-first fragment carries no TCP header */
		if ((((unsigned)p[6] << 8 | p[7]) & 0x1fff) != 0)
			return;
		proto = p[9];
		off = ihl;
		len = tot;
	} else if ((p[0] >> 4) == 6) {
		size_t tot;
		int hops = 0;

		pi->family = AF_INET6;
		if (len < 40)
			return;
		tot = 40 + (((size_t)p[4] << 8) | p[5]);
		if (tot > len)
			return;
		len = tot;
		proto = p[6];
		off = 40;
		/* walk the usual extension headers */
		while ((proto == 0 || proto == 43 || proto == 60 || proto == 44) && hops++ < 8) {
			if (off + 8 > len)
				return;
			if (proto == 44) {
				if ((((unsigned)p[off + 2] << 8 | p[off + 3]) & 0xfff8) != 0)
					return;
				proto = p[off];
				off += 8;
			} else {
				uint8_t next = p[off];

				off += ((size_t)p[off + 1] + 1) * 8;
				proto = next;
			}
		}
	} else {
		return;
	}
	if (proto != IPPROTO_TCP || off + 20 > len)
		return;
	{
		const unsigned char *t = p + off;
		size_t doff = (size_t)(t[12] >> 4) * 4;

		if (doff < 20 || off + doff > len)
			return;
		pi->tcp = true;
		pi->sport = (uint16_t)(t[0] << 8 | t[1]);
		pi->dport = (uint16_t)(t[2] << 8 | t[3]);
		pi->flags = t[13];
		pi->payload = t + doff;
		pi->plen = len - off - doff;
	}
}

static const unsigned char init1_magic[4] = { 0x15, 0x10, 0x1a, 0x0e };
static const unsigned char init2_magic[4] = { 0x09, 0x71, 0x05, 0xe0 };

/* The kind of a TCP segment for --drop, or -1. */
static int packet_kind(const struct pinfo *pi)
{
	const uint8_t SYN = 0x02, ACK = 0x10;

	if (!pi->tcp)
		return -1;
	if (pi->flags & SYN)
		return (pi->flags & ACK) ? K_SYNACK : K_SYN;
	if (pi->plen == 0)
		return -1;
	if (pi->plen >= 4 && memcmp(pi->payload, init1_magic, 4) == 0)
		return K_INIT1;
	if (pi->plen >= 4 && memcmp(pi->payload, init2_magic, 4) == 0)
		return K_INIT2;
	return K_DATA;
}

static bool spec_filter_ok(const struct drop_spec *s, const struct pinfo *pi)
{
	switch (s->filter) {
	case F_SPORT: return pi->sport == s->port;
	case F_DPORT: return pi->dport == s->port;
	case F_PORT:  return pi->sport == s->port || pi->dport == s->port;
	default:      return true;
	}
}

/* Count the packet against every spec; true if one of them drops it. */
static bool spec_drop(struct imp *im, const struct pinfo *pi)
{
	int k = packet_kind(pi);
	bool drop = false;
	size_t i;

	if (k < 0)
		return false;
	for (i = 0; i < im->nspecs; i++) {
		struct drop_spec *s = &im->specs[i];

		if ((int)s->kind != k || !spec_filter_ok(s, pi))
			continue;
		if (++s->seen == s->n && s->matched == 0) {
			s->matched = 1;
			drop = true;
		}
	}
	return drop;
}

static void send_copy(struct imp *im, const unsigned char *p, size_t len, int family)
{
	ssize_t n;

	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, p + 16, 4);
		n = sendto(im->raw4, p, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		memcpy(&sin6.sin6_addr, p + 24, 16);
		n = sendto(im->raw6, p, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (n == (ssize_t)len)
		im->c.dup_sent++;
	else
		im->c.dup_errors++;
}

static uint64_t sample_delay_ns(const struct imp *im, uint64_t r)
{
	int64_t us = im->delay_us;

	if (im->jitter_us > 0)
		us += (int64_t)(r % (uint64_t)(2 * im->jitter_us + 1)) - im->jitter_us;
	return us > 0 ? (uint64_t)us * 1000u : 0;
}

static void handle_packet(struct imp *im, uint32_t id, const unsigned char *p, size_t len)
{
	uint64_t r_loss = rng_next(&im->rng), r_dup = rng_next(&im->rng);
	uint64_t r_delay = rng_next(&im->rng), r_cdelay = rng_next(&im->rng);
	bool delaying = im->delay_us > 0 || im->jitter_us > 0;
	struct pinfo pi;
	uint64_t now = 0;

	im->c.seen++;
	classify(p, len, &pi);
	if (pi.family == AF_INET)
		im->c.ipv4++;
	else if (pi.family == AF_INET6)
		im->c.ipv6++;
	else
		im->c.other++;

	if (spec_drop(im, &pi)) {
		im->c.spec_dropped++;
		im->c.dropped++;
		verdict(im, id, NF_DROP);
		return;
	}
	if (im->loss > 0 && rng_unit(r_loss) < im->loss) {
		im->c.lost++;
		im->c.dropped++;
		verdict(im, id, NF_DROP);
		return;
	}
	if (delaying)
		now = now_ns();
	if (im->dup > 0 && rng_unit(r_dup) < im->dup && pi.family != 0 && len <= 0xffff) {
		im->c.duplicated++;
		if (delaying && im->nheld < HOLD_LIMIT) {
			struct held h = {
				.due_ns = now + sample_delay_ns(im, r_cdelay),
				.order = im->order++, .len = (uint16_t)len, .is_copy = 1,
				.family = (uint8_t)(pi.family == AF_INET ? 4 : 6),
			};

			h.data = malloc(len);
			if (h.data == NULL || (memcpy(h.data, p, len), heap_push(im, &h) < 0)) {
				free(h.data);
				im->c.dup_errors++;
			}
		} else {
			send_copy(im, p, len, pi.family);
		}
	}
	if (delaying) {
		if (im->nheld < HOLD_LIMIT) {
			struct held h = {
				.due_ns = now + sample_delay_ns(im, r_delay),
				.order = im->order++, .id = id,
			};

			if (heap_push(im, &h) == 0) {
				im->c.delayed++;
				return;
			}
		}
		im->c.delay_overflow++;
	}
	im->c.passed++;
	verdict(im, id, NF_ACCEPT);
}

/* Release everything that is due (all of it when at_exit). */
static void release_due(struct imp *im, bool at_exit)
{
	uint64_t now = now_ns();

	while (im->nheld > 0 && (at_exit || im->heap[0].due_ns <= now)) {
		struct held h = heap_pop(im);

		if (h.is_copy) {
			if (at_exit)
				im->c.dup_discarded++;
			else
				send_copy(im, h.data, h.len, h.family == 4 ? AF_INET : AF_INET6);
			free(h.data);
		} else {
			if (at_exit)
				im->c.released_at_exit++;
			verdict(im, h.id, NF_ACCEPT);
		}
	}
}

static void arm_timer(struct imp *im)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (im->nheld > 0) {
		uint64_t due = im->heap[0].due_ns;

		/* absolute; a time already past fires at once (0 would disarm) */
		if (due == 0)
			due = 1;
		its.it_value.tv_sec = (time_t)(due / 1000000000ULL);
		its.it_value.tv_nsec = (long)(due % 1000000000ULL);
	}
	(void)timerfd_settime(im->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_packet(void *ctx, const struct nfqio_packet *np)
{
	handle_packet(ctx, np->id, np->data, np->len);
}

static int run(struct imp *im)
{
	struct pollfd pfd[2] = { { .fd = nfqio_fd(&im->q), .events = POLLIN },
				 { .fd = im->tfd, .events = POLLIN } };
	while (!stop_requested) {
		int n = nfqio_receive(&im->q, on_packet, im);

		if (n < 0)
			return -1;
		release_due(im, false);
		if ((unsigned)n >= im->q.rx_budget)
			continue;	/* there may be more to read */
		/* Drained: send the verdicts, sleep. */
		nfqio_flush(&im->q);
		arm_timer(im);
		if (ppoll(pfd, 2, NULL, &stop_unblocked) < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": ppoll: %s\n", strerror(errno));
			return -1;
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t ticks;

			(void)!read(im->tfd, &ticks, sizeof(ticks));
		}
	}
	release_due(im, true);
	nfqio_flush(&im->q);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Options and counters. */

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --queue N --seed S [--loss P] [--dup P] [--delay MS] [--jitter MS]\n"
		   "              [--drop KIND:N[:sport=P|dport=P|port=P]]... [--stats FILE]\n"
		   "KIND: syn synack init1 init2 data\n");
}

static int parse_prob(const char *s, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

static int parse_ms(const char *s, int64_t *us)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 600000.0))
		return -1;
	*us = (int64_t)(v * 1000.0 + 0.5);
	return 0;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (*s == '-' || *s == '\0')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_spec(const char *arg, struct drop_spec *s)
{
	char tmp[64], *kind, *num, *filt;
	unsigned long v;
	int k;

	memset(s, 0, sizeof(*s));
	if (strlen(arg) >= sizeof(tmp))
		return -1;
	strcpy(tmp, arg);
	kind = tmp;
	num = strchr(kind, ':');
	if (num == NULL)
		return -1;
	*num++ = '\0';
	filt = strchr(num, ':');
	if (filt != NULL)
		*filt++ = '\0';
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(kind, kind_names[k]) == 0)
			break;
	if (k == K_COUNT)
		return -1;
	s->kind = (enum kind)k;
	if (parse_ulong(num, 1000000000UL, &v) < 0 || v == 0)
		return -1;
	s->n = v;
	snprintf(s->name, sizeof(s->name), "drop_%s_%lu", kind_names[k], v);
	if (filt != NULL) {
		static const struct { const char *p; enum pfilter f; } fl[] = {
			{ "sport=", F_SPORT }, { "dport=", F_DPORT }, { "port=", F_PORT },
		};
		size_t i;

		for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
			size_t l = strlen(fl[i].p);

			if (strncmp(filt, fl[i].p, l) == 0) {
				if (parse_ulong(filt + l, 65535, &v) < 0)
					return -1;
				s->filter = fl[i].f;
				s->port = (uint16_t)v;
				snprintf(s->name + strlen(s->name), sizeof(s->name) - strlen(s->name),
					 "_%.*s_%lu", (int)(l - 1), fl[i].p, v);
				break;
			}
		}
		if (i == sizeof(fl) / sizeof(fl[0]))
			return -1;
	}
	return 0;
}

static void write_counters(const struct imp *im, FILE *f)
{
	const struct counters *c = &im->c;
	size_t i;

#define C(name) fprintf(f, PROG " %s %lu\n", #name, c->name)
	C(seen); C(ipv4); C(ipv6); C(other);
	C(passed); C(dropped); C(lost); C(spec_dropped);
	C(duplicated); C(dup_sent); C(dup_errors); C(dup_discarded);
	C(delayed); C(delay_overflow); C(held_max); C(released_at_exit);
#undef C
	/* The queue's own: receive overruns, verdict batches not sent,
	 * error messages received. */
	fprintf(f, PROG " recv_errors %llu\n", (unsigned long long)im->q.rx_enobufs);
	fprintf(f, PROG " send_errors %llu\n", (unsigned long long)im->q.tx_errors);
	fprintf(f, PROG " kernel_errors %llu\n", (unsigned long long)im->q.msg_errors);
	for (i = 0; i < im->nspecs; i++)
		fprintf(f, PROG " %s %lu\n", im->specs[i].name, im->specs[i].matched);
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 's' },
		{ "loss", required_argument, NULL, 'l' },
		{ "dup", required_argument, NULL, 'd' },
		{ "delay", required_argument, NULL, 'D' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "drop", required_argument, NULL, 'x' },
		{ "stats", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct imp im = { .raw4 = -1, .raw6 = -1, .tfd = -1 };
	bool have_queue = false, have_seed = false;
	unsigned long v;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			if (parse_ulong(optarg, 65535, &v) < 0)
				goto bad;
			im.queue = (uint16_t)v;
			have_queue = true;
			break;
		case 's': {
			char *end = NULL;

			errno = 0;
			im.seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0' || *optarg == '-')
				goto bad;
			have_seed = true;
			break;
		}
		case 'l':
			if (parse_prob(optarg, &im.loss) < 0)
				goto bad;
			break;
		case 'd':
			if (parse_prob(optarg, &im.dup) < 0)
				goto bad;
			break;
		case 'D':
			if (parse_ms(optarg, &im.delay_us) < 0)
				goto bad;
			break;
		case 'j':
			if (parse_ms(optarg, &im.jitter_us) < 0)
				goto bad;
			break;
		case 'x': {
			struct drop_spec *n = realloc(im.specs, (im.nspecs + 1) * sizeof(*n));

			if (n == NULL)
				return 1;
			im.specs = n;
			if (parse_spec(optarg, &im.specs[im.nspecs]) < 0)
				goto bad;
			im.nspecs++;
			break;
		}
		case 'o':
			im.stats_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || !have_queue || !have_seed) {
		usage(stderr);
		return EX_USAGE;
	}
	im.rng = im.seed;

	stop_signals_block();

	log_init(LOG_LVL_INFO);
	if (setup(&im) < 0)
		return 1;
	fprintf(stderr, PROG ": ready queue=%u seed=%" PRIu64 " loss=%g dup=%g delay_us=%" PRId64
		" jitter_us=%" PRId64 " drops=%zu\n", im.queue, im.seed, im.loss, im.dup,
		im.delay_us, im.jitter_us, im.nspecs);

	rc = run(&im);

	write_counters(&im, stderr);
	if (im.stats_file != NULL) {
		FILE *f = fopen(im.stats_file, "w");

		if (f == NULL || (write_counters(&im, f), fclose(f) != 0)) {
			fprintf(stderr, PROG ": cannot write %s: %s\n", im.stats_file, strerror(errno));
			rc = -1;
		}
	}
	nfqio_close(&im.q);
	free(im.heap);
	free(im.specs);
	return rc < 0 ? 1 : 0;

bad:
	fprintf(stderr, PROG ": bad option value '%s'\n", optarg);
	usage(stderr);
	return EX_USAGE;
}
