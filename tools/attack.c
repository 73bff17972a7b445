/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * attack: an active on-path attacker for the tcpcryptd system tests.
 *
 * Runs in the router between the two hosts, bound to its own NFQUEUE in the
 * FORWARD chain.  It watches the TCP connection that has --port as its server
 * port (A = the client, B = the server), performs one attack from the list
 * below --count times (default once) and passes every other packet unchanged.
 * Packets it injects leave through a raw socket with --mark set, so a queue
 * rule can skip them (they are locally generated, so FORWARD does not see
 * them anyway).
 *
 *   attack --queue N --port P --mode MODE [--count K] [--nth N]
 *          [--shift BYTES] [--mark M] [-v]
 *
 * Modes ("data segment" = A->B segment with payload and the tcpcrypt MAC
 * option, counted from 1; --nth selects which one triggers the attack):
 *   inject-data  after data segment N, inject two forged B-bound segments at
 *                the next sequence number with 100 attacker bytes: one
 *                without a MAC option, one with a random MAC option
 *   forge-fin    after data segment N, inject an untagged FIN|ACK at the
 *                exact next sequence number towards B and towards A
 *   forge-rst    the same with RST|ACK
 *   forge-rst-kernel
 *                like forge-rst, but at the sequence numbers the kernels use
 *                (wire numbers minus the Init lengths: the len fields of
 *                the Init1 and Init2 that went by, 77 and 74 until then)
 *   flip         flip one bit in the ciphertext of data segment N
 *   replay       re-send a copy of data segment N with its sequence number
 *                moved by --shift bytes (default 1000), MAC kept
 *   truncate-mac shorten the MAC option of data segment N to 10 bytes
 *                (data offset reduced by one word)
 *   dup-eno      add a second ENO option to A's SYN
 *   bad-eno      give the ENO option in A's SYN a length past the options
 *   bad-init1    corrupt the magic of Init1 (first payload byte A->B)
 *   trunc-init1  cut Init1 to 40 bytes
 *   init1-suites reverse the order of the suites A offers in Init1 (with a
 *                single suite, name the other one instead), so that B
 *                picks another suite than A would have it pick
 *   bad-init2    corrupt the magic of Init2 (first payload byte B->A)
 *   trunc-init2  cut Init2 to 40 bytes
 *   init2-suite  rewrite the suite in Init2 to 0x7401 (version 1's suite,
 *                which a version 2 host A never offers)
 *   zero-key     replace Pub_A in Init1 with 32 zero bytes
 *
 * IPv4 and IPv6 (no extension headers).  Checksums are recomputed after
 * every change.  Prints "attack: ready queue=N" on stderr once bound and
 * "attack done=N injected=N modified=N packets=N" on SIGTERM/SIGINT (exit 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <linux/netfilter.h>

#include "log.h"
#include "nfq.h"
#include "stopsig.h"

#define QUEUE_MAXLEN   4096u
#define PKT_MAX        (0xffff + 128)

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_ENO 69
#define OPT_EXP 253
#define MAC_LEN 16

/* Init lengths assumed until the connection shows its own: Init1 with two
 * suites, Init2.  Used by forge-rst-kernel. */
#define INIT1_LEN_DEFAULT 77u
#define INIT2_LEN_DEFAULT 74u
#define SUITE_V1 0x7401
#define ATTACK_BYTES 100

enum mode {
	M_INJECT_DATA, M_FORGE_FIN, M_FORGE_RST, M_FORGE_RST_KERNEL, M_FLIP, M_REPLAY,
	M_TRUNCATE_MAC, M_DUP_ENO, M_BAD_ENO, M_BAD_INIT1, M_TRUNC_INIT1, M_INIT1_SUITES,
	M_BAD_INIT2, M_TRUNC_INIT2, M_INIT2_SUITE, M_ZERO_KEY,
};

static const struct {
	const char *name;
	enum mode mode;
	unsigned default_nth;
} modes[] = {
	{ "inject-data", M_INJECT_DATA, 1 },
	{ "forge-fin", M_FORGE_FIN, 1 },
	{ "forge-rst", M_FORGE_RST, 1 },
	{ "forge-rst-kernel", M_FORGE_RST_KERNEL, 1 },
	{ "flip", M_FLIP, 3 },
	{ "replay", M_REPLAY, 2 },
	{ "truncate-mac", M_TRUNCATE_MAC, 3 },
	{ "dup-eno", M_DUP_ENO, 1 },
	{ "bad-eno", M_BAD_ENO, 1 },
	{ "bad-init1", M_BAD_INIT1, 1 },
	{ "trunc-init1", M_TRUNC_INIT1, 1 },
	{ "init1-suites", M_INIT1_SUITES, 1 },
	{ "bad-init2", M_BAD_INIT2, 1 },
	{ "trunc-init2", M_TRUNC_INIT2, 1 },
	{ "init2-suite", M_INIT2_SUITE, 1 },
	{ "zero-key", M_ZERO_KEY, 1 },
};

/* The 100 bytes an attacker tries to slip into the stream. */
static const char attack_pattern[] =
	"ATTACKER-INJECTED-BYTES-0123456789-ATTACKER-INJECTED-BYTES-0123456789-"
	"ATTACKER-INJECTED-BYTES-0123456789";

/* A parsed view of one IPv4 or IPv6 TCP packet in a writable buffer. */
struct seg {
	uint8_t *b;
	size_t len;		/* bytes in b */
	bool v6;
	size_t ipl;		/* IP header length */
	size_t tcpl;		/* TCP header length, options included */
	size_t plen;		/* payload length */
};

struct att {
	struct nfqio q;
	uint16_t queue;
	uint16_t port;
	enum mode mode;
	unsigned count, nth, shift;
	uint32_t mark;
	int verbose;
	int raw4, raw6;

	unsigned long done, injected, modified, packets, data_segs, errors;
	/* last options seen in each direction (MAC option removed) */
	uint8_t opts_a2b[40], opts_b2a[40];
	size_t opts_a2b_len, opts_b2a_len;
	/* len fields of the Init messages seen (Init1 A->B, Init2 B->A) */
	uint32_t init1_len, init2_len;
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------------ */
/* Parsing and checksums.  Our own, not the daemon's (src/core/packet.c,
 * tcpopt.c): this program looks at what the daemons put on the wire, and a
 * bug in their parser must not be able to hide itself by parsing the same
 * wrong way here. */

static int seg_parse(struct seg *s, uint8_t *b, size_t len)
{
	size_t tot;

	memset(s, 0, sizeof(*s));
	s->b = b;
	s->len = len;
	if (len < 20)
		return -1;
	if ((b[0] >> 4) == 4) {
		s->ipl = (size_t)(b[0] & 0x0f) * 4;
		tot = get16(b + 2);
		if (s->ipl < 20 || b[9] != IPPROTO_TCP || tot > len || tot < s->ipl + 20)
			return -1;
		if (get16(b + 6) & 0x3fff)	/* fragment */
			return -1;
	} else if ((b[0] >> 4) == 6) {
		s->v6 = true;
		s->ipl = 40;
		if (len < 60 || b[6] != IPPROTO_TCP)
			return -1;
		tot = 40 + (size_t)get16(b + 4);
		if (tot > len || tot < 60)
			return -1;
	} else {
		return -1;
	}
	s->len = tot;
	s->tcpl = (size_t)(b[s->ipl + 12] >> 4) * 4;
	if (s->tcpl < 20 || s->ipl + s->tcpl > tot)
		return -1;
	s->plen = tot - s->ipl - s->tcpl;
	return 0;
}

static uint8_t *tcp(const struct seg *s) { return s->b + s->ipl; }
static uint8_t *opts(const struct seg *s) { return s->b + s->ipl + 20; }
static size_t opts_len(const struct seg *s) { return s->tcpl - 20; }
static uint8_t *payload(const struct seg *s) { return s->b + s->ipl + s->tcpl; }
static uint16_t sport(const struct seg *s) { return get16(tcp(s)); }
static uint16_t dport(const struct seg *s) { return get16(tcp(s) + 2); }
static uint32_t seqno(const struct seg *s) { return get32(tcp(s) + 4); }
static uint32_t ackno(const struct seg *s) { return get32(tcp(s) + 8); }
static uint8_t flags(const struct seg *s) { return tcp(s)[13]; }

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sets the IP length fields from ipl + tcpl + plen, then both checksums. */
static void seg_fix(struct seg *s)
{
	size_t tl = s->tcpl + s->plen;
	uint32_t sum;
	uint8_t *t = tcp(s);

	s->len = s->ipl + tl;
	if (s->v6) {
		put16(s->b + 4, (uint16_t)tl);
		sum = sum16(0, s->b + 8, 32);
	} else {
		put16(s->b + 2, (uint16_t)s->len);
		put16(s->b + 10, 0);
		put16(s->b + 10, fold(sum16(0, s->b, s->ipl)));
		sum = sum16(0, s->b + 12, 8);
	}
	sum += IPPROTO_TCP + (uint32_t)tl;
	put16(t + 16, 0);
	put16(t + 16, fold(sum16(sum, t, tl)));
}

/* Walks the options; returns the offset of the first option of KIND (with
 * the tcpcrypt experiment ID when KIND is 253), -1 if none, -2 if the
 * options are malformed.  *end gets the offset where the list ends. */
static int opt_find(const uint8_t *o, size_t n, uint8_t kind, size_t *end)
{
	size_t i = 0;
	int found = -1;

	while (i < n) {
		if (o[i] == OPT_EOL)
			break;
		if (o[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return -2;
		if (found < 0 && o[i] == kind &&
		    (kind != OPT_EXP || (o[i + 1] >= 4 && o[i + 2] == 0x74 && o[i + 3] == 0x63)))
			found = (int)i;
		i += o[i + 1];
	}
	if (end)
		*end = i;
	return found;
}

/* Copies the options without the tcpcrypt MAC option, padded with EOL to a
 * multiple of 4.  Returns the new length. */
static size_t opts_without_mac(uint8_t *dst, const uint8_t *o, size_t n)
{
	size_t i = 0, k = 0;

	while (i < n && o[i] != OPT_EOL) {
		size_t l = o[i] == OPT_NOP ? 1 : (i + 1 < n ? o[i + 1] : 0);

		if (l < 1 || i + l > n)
			break;
		if (!(o[i] == OPT_EXP && l >= 4 && o[i + 2] == 0x74 && o[i + 3] == 0x63)) {
			memcpy(dst + k, o + i, l);
			k += l;
		}
		i += l;
	}
	while (k % 4)
		dst[k++] = OPT_EOL;
	return k;
}

/* Replaces the TCP options with NEW (length a multiple of 4, <= 40),
 * moving the payload.  The buffer must have room. */
static void seg_set_opts(struct seg *s, const uint8_t *nopt, size_t nlen)
{
	uint8_t *pl = payload(s);

	memmove(opts(s) + nlen, pl, s->plen);
	memcpy(opts(s), nopt, nlen);
	s->tcpl = 20 + nlen;
	tcp(s)[12] = (uint8_t)((s->tcpl / 4) << 4 | (tcp(s)[12] & 0x0f));
}

static bool has_mac(const struct seg *s)
{
	return opt_find(opts(s), opts_len(s), OPT_EXP, NULL) >= 0;
}

/* ------------------------------------------------------------------------ */
/* Injection */

/* Builds a segment with the addresses of TEMPLATE, swapped when REVERSE,
 * and sends it through the raw socket. */
static int inject(struct att *at, const struct seg *tmpl, bool reverse, uint32_t seq,
		  uint32_t ack, uint8_t fl, uint16_t win, const uint8_t *o, size_t olen,
		  const void *pl, size_t plen)
{
	static uint8_t buf[PKT_MAX];
	struct seg s;
	uint8_t *t;
	ssize_t r;

	memset(buf, 0, 128);
	s.b = buf;
	s.v6 = tmpl->v6;
	s.ipl = tmpl->v6 ? 40 : 20;
	s.tcpl = 20 + olen;
	s.plen = plen;
	if (s.v6) {
		buf[0] = 0x60;
		buf[6] = IPPROTO_TCP;
		buf[7] = 64;
		memcpy(buf + 8, tmpl->b + (reverse ? 24 : 8), 16);
		memcpy(buf + 24, tmpl->b + (reverse ? 8 : 24), 16);
	} else {
		buf[0] = 0x45;
		buf[8] = 64;
		buf[9] = IPPROTO_TCP;
		memcpy(buf + 12, tmpl->b + (reverse ? 16 : 12), 4);
		memcpy(buf + 16, tmpl->b + (reverse ? 12 : 16), 4);
	}
	t = buf + s.ipl;
	put16(t, reverse ? dport(tmpl) : sport(tmpl));
	put16(t + 2, reverse ? sport(tmpl) : dport(tmpl));
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((s.tcpl / 4) << 4);
	t[13] = fl;
	put16(t + 14, win);
	if (olen)
		memcpy(t + 20, o, olen);
	if (plen)
		memcpy(t + s.tcpl, pl, plen);
	seg_fix(&s);

	if (s.v6) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

		memcpy(&sa.sin6_addr, buf + 24, 16);
		r = sendto(at->raw6, buf, s.len, 0, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		memcpy(&sa.sin_addr, buf + 16, 4);
		r = sendto(at->raw4, buf, s.len, 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0) {
		fprintf(stderr, "attack: raw send: %s\n", strerror(errno));
		at->errors++;
		return -1;
	}
	at->injected++;
	if (at->verbose)
		fprintf(stderr, "attack: injected %s seq=%u ack=%u flags=0x%02x len=%zu\n",
			reverse ? "B->A" : "A->B", seq, ack, fl, plen);
	return 0;
}

/* Re-sends a whole (already checksummed or not) packet as it is. */
static int inject_raw(struct att *at, struct seg *s)
{
	seg_fix(s);
	if (s->v6) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

		memcpy(&sa.sin6_addr, s->b + 24, 16);
		if (sendto(at->raw6, s->b, s->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		memcpy(&sa.sin_addr, s->b + 16, 4);
		if (sendto(at->raw4, s->b, s->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	at->injected++;
	return 0;
fail:
	fprintf(stderr, "attack: raw send: %s\n", strerror(errno));
	at->errors++;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* The attacks.  Each returns true when it changed the packet in place
 * (s->len updated); injections happen in after_verdict(). */

static bool attack_syn(struct att *at, struct seg *s)
{
	uint8_t no[40];
	size_t end, n = opts_len(s);
	int eno = opt_find(opts(s), n, OPT_ENO, &end);
	size_t el, k;

	if (eno < 0)
		return false;
	el = opts(s)[eno + 1];
	if (at->mode == M_DUP_ENO) {
		/* the list as it is (without padding), the same ENO again, EOL pad */
		memcpy(no, opts(s), end);
		k = end;
		if (k + el > 40) {
			fprintf(stderr, "attack: no room for a second ENO option\n");
			at->errors++;
			return false;
		}
		memcpy(no + k, opts(s) + eno, el);
		k += el;
		while (k % 4)
			no[k++] = OPT_EOL;
		seg_set_opts(s, no, k);
	} else {
		/* a length that runs past the end of the options area */
		opts(s)[eno + 1] = (uint8_t)(n - (size_t)eno + 1);
	}
	return true;
}

static const uint8_t m1[4] = { 0x15, 0x10, 0x1a, 0x0e };	/* Init1 magic */
static const uint8_t m2[4] = { 0x09, 0x71, 0x05, 0xe0 };	/* Init2 magic */

/* Remembers the len field of an Init message going by (before any attack
 * changes it), so the kernels' sequence numbers can be computed. */
static void note_init_len(struct att *at, const struct seg *s, bool a2b)
{
	const uint8_t *p = payload(s);

	if (s->plen < 8 || (flags(s) & (F_SYN | F_RST)))
		return;
	if (a2b && memcmp(p, m1, 4) == 0)
		at->init1_len = get32(p + 4);
	else if (!a2b && memcmp(p, m2, 4) == 0)
		at->init2_len = get32(p + 4);
}

/* Init messages: A->B (Init1) or B->A (Init2) with the magic at payload 0. */
static bool attack_init(struct att *at, struct seg *s, bool a2b)
{
	bool want1 = at->mode == M_BAD_INIT1 || at->mode == M_TRUNC_INIT1 ||
		     at->mode == M_INIT1_SUITES || at->mode == M_ZERO_KEY;
	uint8_t *p = payload(s);

	if (want1 != a2b || s->plen < 4 || memcmp(p, want1 ? m1 : m2, 4) != 0)
		return false;
	switch (at->mode) {
	case M_BAD_INIT1:
	case M_BAD_INIT2:
		p[0] ^= 0xff;
		return true;
	case M_TRUNC_INIT1:
	case M_TRUNC_INIT2:
		if (s->plen <= 40)
			return false;
		s->plen = 40;
		return true;
	case M_INIT1_SUITES: {
		size_t n;

		if (s->plen < 9)
			return false;
		n = p[8];
		if (n == 0 || 9 + 2 * n > s->plen)
			return false;
		if (n == 1) {
			/* 0x7402 <-> 0x7403 */
			p[10] ^= 0x01;
			return true;
		}
		for (size_t i = 0; i < n / 2; i++) {
			uint8_t *x = p + 9 + 2 * i, *y = p + 9 + 2 * (n - 1 - i), t0 = x[0], t1 = x[1];

			x[0] = y[0];
			x[1] = y[1];
			y[0] = t0;
			y[1] = t1;
		}
		return true;
	}
	case M_INIT2_SUITE:
		if (s->plen < 10)
			return false;
		put16(p + 8, SUITE_V1);
		return true;
	case M_ZERO_KEY: {
		size_t pub;

		if (s->plen < 9)
			return false;
		pub = 9 + 2 * (size_t)p[8] + 32;
		if (pub + 32 > s->plen)
			return false;
		memset(p + pub, 0, 32);
		return true;
	}
	default:
		return false;
	}
}

static bool attack_data_inplace(struct att *at, struct seg *s)
{
	uint8_t no[40];
	size_t k;
	int mac;

	switch (at->mode) {
	case M_FLIP:
		payload(s)[s->plen / 2] ^= 0x01;
		return true;
	case M_TRUNCATE_MAC:
		mac = opt_find(opts(s), opts_len(s), OPT_EXP, NULL);
		if (mac < 0 || opts(s)[mac + 1] != MAC_LEN)
			return false;
		/* options before the MAC, the first 10 bytes of it (length
		 * byte 10), the options after it, EOL padding */
		k = 0;
		memcpy(no, opts(s), (size_t)mac);
		k = (size_t)mac;
		memcpy(no + k, opts(s) + mac, 10);
		no[k + 1] = 10;
		k += 10;
		memcpy(no + k, opts(s) + mac + MAC_LEN, opts_len(s) - (size_t)mac - MAC_LEN);
		k += opts_len(s) - (size_t)mac - MAC_LEN;
		while (k % 4)
			no[k++] = OPT_EOL;
		seg_set_opts(s, no, k);
		return true;
	default:
		return false;
	}
}

/* Injections that follow a data segment A->B (already passed on). */
static void attack_data_after(struct att *at, struct seg *s)
{
	uint8_t o[40], mo[40];
	size_t ol, ml;
	uint32_t next = seqno(s) + (uint32_t)s->plen;
	uint32_t ack = ackno(s);
	uint16_t win = get16(tcp(s) + 14);
	uint8_t fl;

	ol = opts_without_mac(o, opts(s), opts_len(s));
	switch (at->mode) {
	case M_INJECT_DATA:
		inject(at, s, false, next, ack, F_ACK | F_PSH, win, o, ol,
		       attack_pattern, ATTACK_BYTES);
		memcpy(mo, o, ol);
		ml = ol;
		if (ml + MAC_LEN <= 40) {
			mo[ml] = OPT_EXP;
			mo[ml + 1] = MAC_LEN;
			mo[ml + 2] = 0x74;
			mo[ml + 3] = 0x63;
			if (getrandom(mo + ml + 4, MAC_LEN - 4, 0) != MAC_LEN - 4)
				memset(mo + ml + 4, 0x5a, MAC_LEN - 4);
			ml += MAC_LEN;
		}
		inject(at, s, false, next, ack, F_ACK | F_PSH, win, mo, ml,
		       attack_pattern, ATTACK_BYTES);
		break;
	case M_FORGE_FIN:
	case M_FORGE_RST:
	case M_FORGE_RST_KERNEL: {
		uint32_t to_b = next, to_a = ack, ack_b = ack, ack_a = next;

		fl = at->mode == M_FORGE_FIN ? (F_FIN | F_ACK) : (F_RST | F_ACK);
		if (at->mode == M_FORGE_RST_KERNEL) {
			/* the kernels never see the Init bytes: their numbers
			 * are the wire numbers minus the Init lengths */
			to_b -= at->init1_len;
			ack_b -= at->init2_len;
			to_a -= at->init2_len;
			ack_a -= at->init1_len;
		}
		inject(at, s, false, to_b, ack_b, fl, win, o, ol, NULL, 0);
		inject(at, s, true, to_a, ack_a, fl, win, at->opts_b2a, at->opts_b2a_len, NULL, 0);
		break;
	}
	case M_REPLAY: {
		static uint8_t copy[PKT_MAX];
		struct seg c;

		memcpy(copy, s->b, s->len);
		if (seg_parse(&c, copy, s->len) < 0)
			return;
		put32(tcp(&c) + 4, seqno(&c) + at->shift);
		inject_raw(at, &c);
		break;
	}
	default:
		break;
	}
}

static bool is_data_mode(enum mode m)
{
	return m == M_INJECT_DATA || m == M_FORGE_FIN || m == M_FORGE_RST ||
	       m == M_FORGE_RST_KERNEL || m == M_FLIP || m == M_REPLAY || m == M_TRUNCATE_MAC;
}

/* Decides about one packet.  Returns true when it was modified; *after is
 * set when injections must follow the verdict. */
static bool handle(struct att *at, struct seg *s, bool *after)
{
	bool a2b, b2a;
	uint8_t fl = flags(s);

	*after = false;
	a2b = dport(s) == at->port;
	b2a = sport(s) == at->port;
	if (!a2b && !b2a)
		return false;
	note_init_len(at, s, a2b);
	if (b2a && !(fl & F_SYN))
		at->opts_b2a_len = opts_without_mac(at->opts_b2a, opts(s), opts_len(s));
	if (a2b && !(fl & F_SYN))
		at->opts_a2b_len = opts_without_mac(at->opts_a2b, opts(s), opts_len(s));
	if (at->done >= at->count)
		return false;

	switch (at->mode) {
	case M_DUP_ENO:
	case M_BAD_ENO:
		if (a2b && (fl & (F_SYN | F_ACK)) == F_SYN && attack_syn(at, s)) {
			at->done++;
			return true;
		}
		return false;
	case M_BAD_INIT1:
	case M_TRUNC_INIT1:
	case M_INIT1_SUITES:
	case M_ZERO_KEY:
	case M_BAD_INIT2:
	case M_TRUNC_INIT2:
	case M_INIT2_SUITE:
		if (!(fl & (F_SYN | F_RST)) && attack_init(at, s, a2b)) {
			at->done++;
			return true;
		}
		return false;
	default:
		break;
	}
	if (!is_data_mode(at->mode) || !a2b || s->plen == 0 || (fl & (F_SYN | F_RST)) || !has_mac(s))
		return false;
	at->data_segs++;
	if (at->data_segs < at->nth)
		return false;
	at->done++;
	if (attack_data_inplace(at, s))
		return true;
	*after = true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* The queue: the daemon's own code (src/daemon/nfq.c) */

static int raw_socket(int family)
{
	int fd = socket(family, SOCK_RAW, IPPROTO_RAW);
	int on = 1;

	if (fd < 0)
		return -1;
#ifdef IPV6_HDRINCL
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &on, sizeof(on));
#endif
	if (family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on));
	return fd;
}

static int setup(struct att *at)
{
	at->raw4 = raw_socket(AF_INET);
	at->raw6 = raw_socket(AF_INET6);
	if (at->raw4 < 0 || at->raw6 < 0) {
		fprintf(stderr, "attack: raw socket: %s\n", strerror(errno));
		return -1;
	}
	if (setsockopt(at->raw4, SOL_SOCKET, SO_MARK, &at->mark, sizeof(at->mark)) < 0 ||
	    setsockopt(at->raw6, SOL_SOCKET, SO_MARK, &at->mark, sizeof(at->mark)) < 0) {
		fprintf(stderr, "attack: SO_MARK: %s\n", strerror(errno));
		return -1;
	}
	return nfqio_open(&at->q, at->queue, QUEUE_MAXLEN);
}

/* One packet: decided, modified in a copy, passed on.  When injections
 * must follow it, its verdict (and those before it) is sent first. */
static void on_packet(void *ctx, const struct nfqio_packet *np)
{
	static uint8_t pkt[PKT_MAX];
	struct att *at = ctx;
	struct seg s;
	bool mod = false, after = false;

	at->packets++;
	if (np->len <= 0xffff) {
		memcpy(pkt, np->data, np->len);
		if (seg_parse(&s, pkt, np->len) == 0) {
			unsigned long before = at->done;

			mod = handle(at, &s, &after);
			if (mod) {
				seg_fix(&s);
				at->modified++;
			}
			if (at->done != before)
				fprintf(stderr, "attack: %s #%lu on seq=%u len=%zu\n",
					modes[at->mode].name, at->done, seqno(&s), s.plen);
		}
	}
	nfqio_verdict(&at->q, np->id, NF_ACCEPT, false, 0, mod ? pkt : NULL, mod ? s.len : 0);
	if (after) {
		nfqio_flush(&at->q);
		attack_data_after(at, &s);
	}
}

static int run(struct att *at)
{
	struct pollfd pfd = { .fd = nfqio_fd(&at->q), .events = POLLIN };
	while (!stop_requested) {
		if (nfqio_receive(&at->q, on_packet, at) < 0)
			return -1;
		nfqio_flush(&at->q);
		if (ppoll(&pfd, 1, NULL, &stop_unblocked) < 0 && errno != EINTR) {
			fprintf(stderr, "attack: ppoll: %s\n", strerror(errno));
			return -1;
		}
	}
	nfqio_flush(&at->q);
	return 0;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return (errno || end == s || *end || *out > max) ? -1 : 0;
}

static void usage(const char *argv0)
{
	size_t i;

	fprintf(stderr, "usage: %s --queue N --port P --mode MODE [--count K] [--nth N]\n"
		"       [--shift BYTES] [--mark M] [-v]\nmodes:", argv0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		fprintf(stderr, " %s", modes[i].name);
	fputc('\n', stderr);
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "nth", required_argument, NULL, 'n' },
		{ "shift", required_argument, NULL, 's' },
		{ "mark", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct att at = { .count = 1, .shift = 1000, .mark = 0x7100, .raw4 = -1, .raw6 = -1,
			  .init1_len = INIT1_LEN_DEFAULT, .init2_len = INIT2_LEN_DEFAULT };
	unsigned long v;
	bool have_q = false, have_p = false, have_m = false;
	int c, rc;
	size_t i;

	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_num(optarg, 65535, &v) < 0)
				goto bad;
			at.queue = (uint16_t)v;
			have_q = true;
			break;
		case 'p':
			if (parse_num(optarg, 65535, &v) < 0 || v == 0)
				goto bad;
			at.port = (uint16_t)v;
			have_p = true;
			break;
		case 'm':
			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(optarg, modes[i].name) == 0)
					break;
			if (i == sizeof(modes) / sizeof(modes[0]))
				goto bad;
			at.mode = modes[i].mode;
			have_m = true;
			break;
		case 'c':
			if (parse_num(optarg, 1000000, &v) < 0 || v == 0)
				goto bad;
			at.count = (unsigned)v;
			break;
		case 'n':
			if (parse_num(optarg, 1000000, &v) < 0 || v == 0)
				goto bad;
			at.nth = (unsigned)v;
			break;
		case 's':
			if (parse_num(optarg, 0x7fffffff, &v) < 0)
				goto bad;
			at.shift = (unsigned)v;
			break;
		case 'k':
			if (parse_num(optarg, 0xffffffff, &v) < 0)
				goto bad;
			at.mark = (uint32_t)v;
			break;
		case 'v':
			at.verbose++;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc || !have_q || !have_p || !have_m)
		goto bad;
	if (!at.nth)
		at.nth = modes[at.mode].default_nth;

	stop_signals_block();

	log_init(LOG_LVL_INFO);
	if (setup(&at) < 0)
		return 1;
	fprintf(stderr, "attack: mode=%s port=%u count=%u nth=%u ready queue=%u\n",
		modes[at.mode].name, at.port, at.count, at.nth, at.queue);
	rc = run(&at);
	at.errors += (unsigned long)(at.q.tx_errors + at.q.msg_errors);
	fprintf(stderr, "attack done=%lu injected=%lu modified=%lu packets=%lu errors=%lu\n",
		at.done, at.injected, at.modified, at.packets, at.errors);
	nfqio_close(&at.q);
	close(at.raw4);
	close(at.raw6);
	return rc < 0 ? 1 : 0;
bad:
	usage(argv[0]);
	return 64;
}
