/* SPDX-License-Identifier: BSD-2-Clause */
/* The protocol engine end to end: two engines (host A = client, host B =
 * server) wired together in memory.  The tests play both kernels, crafting
 * the segments Linux would send, and move every segment through
 * A outgoing -> wire -> B incoming (or the reverse), checking what reaches
 * the wire and what each kernel is handed against doc/protocol.md.
 *
 * The fake engine_io is deterministic: random bytes come from a counter
 * (different per host), injected packets and verdicts for held packets are
 * recorded, key-log lines are kept. */
#include "unit.h"

#include <sodium.h>
#include <sys/socket.h>

#include "engine.h"
#include "eno.h"
#include "kx.h"
#include "log.h"
#include "tcpopt.h"

#define US_MS  UINT64_C(1000)
#define US_SEC UINT64_C(1000000)
#define SEG_BUF 4096
#define OUT true
#define IN false

/* ------------------------------------------------------------------------ */
/* The fake world */

struct rec {
	uint32_t id;
	bool accept;
	size_t len;
	uint8_t *data;
};

struct io_log {
	uint64_t rng;			/* counter behind the "random" bytes */
	struct rec *inj;		/* packets the engine injected */
	size_t ninj;
	struct rec *rel;		/* verdicts for held packets */
	size_t nrel;
	unsigned nkeylog;
	uint8_t n_a[32], es[32];	/* the last key-log line */
	unsigned nkeylog_ss;		/* TCPCRYPT_SS lines */
	uint8_t ss_r_a[9];		/* ... the last one's R_A */
	uint16_t ss_suite;
};

struct host {
	struct engine e;
	struct io_log log;
	int family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t isn;
};

/* One segment with room for the engine's rewrites. */
struct seg {
	uint8_t buf[SEG_BUF];
	struct pkt p;
};

static struct host A, B;
static uint64_t now;
static uint64_t hop = 10 * US_MS;	/* one-way delay between the hosts */
static uint32_t next_id;

static void push(struct rec **arr, size_t *n, uint32_t id, bool accept, const uint8_t *d,
		 size_t len)
{
	struct rec *r = realloc(*arr, (*n + 1) * sizeof(**arr));

	ck_assert_ptr_nonnull(r);
	*arr = r;
	r += *n;
	r->id = id;
	r->accept = accept;
	r->len = len;
	r->data = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(r->data);
	if (len)
		memcpy(r->data, d, len);
	(*n)++;
}

static int io_inject(void *ctx, const uint8_t *pkt, size_t len)
{
	struct io_log *l = ctx;

	push(&l->inj, &l->ninj, 0, true, pkt, len);
	return 0;
}

static void io_release(void *ctx, uint32_t id, bool accept, const uint8_t *pkt, size_t len)
{
	struct io_log *l = ctx;

	push(&l->rel, &l->nrel, id, accept, pkt, accept ? len : 0);
}

static void io_random(void *ctx, uint8_t *buf, size_t len)
{
	struct io_log *l = ctx;

	for (size_t i = 0; i < len; i++) {
		l->rng = l->rng * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (uint8_t)(l->rng >> 56);
	}
}

static void io_keylog_ss(void *ctx, const uint8_t r_a[9], const uint8_t ss[32], uint16_t suite)
{
	struct io_log *l = ctx;

	(void)ss;
	memcpy(l->ss_r_a, r_a, sizeof(l->ss_r_a));
	l->ss_suite = suite;
	l->nkeylog_ss++;
}

static void io_keylog(void *ctx, const uint8_t n_a[32], const uint8_t es[32])
{
	struct io_log *l = ctx;

	memcpy(l->n_a, n_a, 32);
	memcpy(l->es, es, 32);
	l->nkeylog++;
}

static void host_init(struct host *h, int family, unsigned which, uint32_t isn,
		      const struct engine_config *cfg)
{
	struct engine_io io = {
		.ctx = &h->log, .inject = io_inject, .release = io_release,
		.random = io_random, .keylog = io_keylog, .keylog_ss = io_keylog_ss,
	};
	struct engine_config c;

	memset(h, 0, sizeof(*h));
	h->log.rng = which * 0x9e3779b97f4a7c15u;
	h->family = family;
	h->isn = isn;
	if (family == AF_INET) {
		static const uint8_t a4[2][4] = { { 192, 0, 2, 1 }, { 198, 51, 100, 2 } };
		memcpy(h->addr, a4[which], 4);
	} else {
		static const uint8_t a6[2][16] = {
			{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
			{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0xbb, [15] = 2 },
		};
		memcpy(h->addr, a6[which], 16);
	}
	h->port = which ? 80 : 40000;
	if (cfg) {
		c = *cfg;
	} else {
		/* The fresh key exchange, every time: the resumption tests
		 * ask for resumption themselves. */
		engine_config_defaults(&c);
		c.resumption = false;
	}
	ck_assert_int_eq(engine_init(&h->e, &c, &io), 0);
}

static void world_cfg(int family, uint32_t isn_a, uint32_t isn_b, const struct engine_config *cfg)
{
	now = 1000 * US_SEC;
	hop = 10 * US_MS;
	next_id = 0;
	host_init(&A, family, 0, isn_a, cfg);
	host_init(&B, family, 1, isn_b, cfg);
}

static void world(int family)
{
	world_cfg(family, 0x11223344u, 0xaabbccddu, NULL);
}

static void log_free(struct io_log *l)
{
	for (size_t i = 0; i < l->ninj; i++)
		free(l->inj[i].data);
	for (size_t i = 0; i < l->nrel; i++)
		free(l->rel[i].data);
	free(l->inj);
	free(l->rel);
}

static void teardown(void)
{
	engine_free(&A.e);
	engine_free(&B.e);
	log_free(&A.log);
	log_free(&B.log);
}

static size_t alen(const struct host *h)
{
	return h->family == AF_INET ? 4 : 16;
}

/* h's flow with peer, as engine_handle keys it (local side first). */
static struct flow *flow_of(struct host *h, const struct host *peer)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)h->family;
	k.lport = h->port;
	k.rport = peer->port;
	memcpy(k.laddr, h->addr, alen(h));
	memcpy(k.raddr, peer->addr, alen(peer));
	return flow_lookup(&h->e.flows, &k);
}

/* ------------------------------------------------------------------------ */
/* Segments */

/* Linux SYN options: MSS 1460, SACK permitted, TS, NOP, WS 7. */
static const uint8_t syn_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x00, 0x10, 0x20, 0x30, 0, 0, 0, 0, 1, 3, 3, 7,
};
static const uint8_t synack_opts[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x00, 0x50, 0x60, 0x70, 0x00, 0x10, 0x20, 0x30, 1, 3, 3, 7,
};
/* Linux non-SYN segments: NOP NOP TS. */
static const uint8_t ts_opts[12] = { 1, 1, 8, 10, 0x00, 0x10, 0x20, 0x40, 0x00, 0x50, 0x60, 0x80 };

/* A segment as from's kernel would send it to to. */
static void kseg(struct seg *s, const struct host *from, const struct host *to, uint32_t seq,
		 uint32_t ack, uint8_t flags, const uint8_t *opts, size_t olen,
		 const void *payload, size_t plen)
{
	struct pkt_build b = {
		.family = from->family, .saddr = from->addr, .daddr = to->addr,
		.sport = from->port, .dport = to->port, .seq = seq, .ack = ack,
		.flags = flags, .window = (flags & TCP_SYN) ? 64240 : 502,
		.opts = opts, .opts_len = olen, .payload = payload, .payload_len = plen,
	};

	ck_assert_uint_gt(pkt_build(s->buf, sizeof(s->buf), &b, &s->p), 0);
}

static void seg_load(struct seg *s, const uint8_t *data, size_t len)
{
	ck_assert_uint_le(len, sizeof(s->buf) - ENGINE_HEADROOM);
	memcpy(s->buf, data, len);
	ck_assert_int_eq(pkt_parse(&s->p, s->buf, len, sizeof(s->buf)), PKT_OK);
}

/* The network delivers a copy. */
static void wire(struct seg *dst, const struct seg *src)
{
	seg_load(dst, src->p.buf, src->p.len);
}

static bool passes(enum engine_verdict v)
{
	return v == EV_ACCEPT || v == EV_ACCEPT_ENCRYPTED || v == EV_ACCEPT_PLAIN;
}

static enum engine_verdict handle_ce(struct host *h, bool outgoing, bool conn_enc, struct seg *s,
				     bool *modified)
{
	bool m = false;
	enum engine_verdict v = engine_handle(&h->e, now, outgoing, conn_enc, ++next_id, &s->p, &m);

	if (modified)
		*modified = m;
	/* Whatever the engine lets through must be a well-formed packet. */
	if (passes(v))
		ck_assert(pkt_checksums_ok(&s->p));
	return v;
}

static enum engine_verdict handle(struct host *h, bool outgoing, struct seg *s, bool *modified)
{
	return handle_ce(h, outgoing, false, s, modified);
}

static struct tcpopt_info scan(const struct seg *s)
{
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(pkt_opts(&s->p), pkt_opts_len(&s->p), &info), 0);
	return info;
}

/* Position of needle in the segment's options, or -1. */
static int opt_find(const struct seg *s, const uint8_t *needle, size_t n)
{
	const uint8_t *o = pkt_opts(&s->p);
	size_t len = pkt_opts_len(&s->p);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(o + i, needle, n) == 0)
			return (int)i;
	return -1;
}

static unsigned mss_of(const struct seg *s)
{
	struct tcpopt_info info = scan(s);

	ck_assert_int_ge(info.mss, 0);
	return get_be16(pkt_opts(&s->p) + info.mss + 2);
}

static bool has_mac(const struct seg *s)
{
	return scan(s).mac >= 0;
}

static bool starts_with(const struct seg *s, uint32_t magic)
{
	return pkt_payload_len(&s->p) >= 4 && get_be32(pkt_payload(&s->p)) == magic;
}

static void inj_seg(struct seg *s, const struct host *h, size_t i)
{
	ck_assert_uint_lt(i, h->log.ninj);
	seg_load(s, h->log.inj[i].data, h->log.inj[i].len);
}

/* A's Init1 with both suites: what the engine sends by default. */
#define INIT1_LEN 77

static const uint8_t eno_a_opt[] = { 0x45, 0x05, 0xa0, 0x74, 0x32 };
static const uint8_t eno_b_opt[] = { 0x45, 0x06, 0x01, 0xa0, 0x74, 0x32 };
static const uint8_t eno_ack_opt[] = { 0x45, 0x02 };

/* ------------------------------------------------------------------------ */
/* The handshake, step by step.  T keeps every segment for inspection:
 * x = as the sending kernel made it and then the sending daemon rewrote it
 * (= on the wire), x_rx = as the receiving kernel is handed it. */

static struct {
	struct seg syn, syn_rx;
	struct seg synack, synack_rx;
	struct seg ack3, ack3_rx;	/* A's third segment: the Init1 carrier */
	struct seg init2;		/* B's injected Init2 */
	struct seg ack4, ack4_rx;	/* A's injected tagged ACK */
	enum engine_verdict v_syn_a, v_syn_b, v_synack_b, v_synack_a;
	enum engine_verdict v_ack3_a, v_ack3_b, v_init2_a, v_ack4_b;
	bool m_syn_a, m_syn_b, m_synack_b, m_synack_a, m_ack3_a, m_ack3_b;
	size_t b_inj_before_ack3, b_inj_during_ack3;
} T;

static void step_syn(void)
{
	kseg(&T.syn, &A, &B, A.isn, 0, TCP_SYN, syn_opts, sizeof(syn_opts), NULL, 0);
	T.v_syn_a = handle(&A, OUT, &T.syn, &T.m_syn_a);
	now += hop;
	wire(&T.syn_rx, &T.syn);
	T.v_syn_b = handle(&B, IN, &T.syn_rx, &T.m_syn_b);
}

static void step_synack(void)
{
	kseg(&T.synack, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	T.v_synack_b = handle(&B, OUT, &T.synack, &T.m_synack_b);
	now += hop;
	wire(&T.synack_rx, &T.synack);
	T.v_synack_a = handle(&A, IN, &T.synack_rx, &T.m_synack_a);
}

/* A's kernel completes its handshake; the daemons turn that ACK into the
 * Init1 carrier and answer with Init2. */
static void step_init1(void)
{
	kseg(&T.ack3, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0);
	T.v_ack3_a = handle(&A, OUT, &T.ack3, &T.m_ack3_a);
	now += hop;
	wire(&T.ack3_rx, &T.ack3);
	T.b_inj_before_ack3 = B.log.ninj;
	T.v_ack3_b = handle(&B, IN, &T.ack3_rx, &T.m_ack3_b);
	T.b_inj_during_ack3 = B.log.ninj - T.b_inj_before_ack3;
}

static void step_init2(void)
{
	ck_assert_uint_ge(B.log.ninj, 1);
	now += hop;
	inj_seg(&T.init2, &B, B.log.ninj - 1);
	T.v_init2_a = handle(&A, IN, &T.init2, NULL);
}

static void step_ack4(void)
{
	ck_assert_uint_ge(A.log.ninj, 1);
	now += hop;
	inj_seg(&T.ack4, &A, A.log.ninj - 1);
	wire(&T.ack4_rx, &T.ack4);
	T.v_ack4_b = handle(&B, IN, &T.ack4_rx, NULL);
}

static void handshake_to_init1(void)
{
	step_syn();
	ck_assert(passes(T.v_syn_a) && passes(T.v_syn_b));
	step_synack();
	ck_assert(passes(T.v_synack_b) && passes(T.v_synack_a));
	step_init1();
	ck_assert(passes(T.v_ack3_a) && passes(T.v_ack3_b));
	ck_assert_uint_eq(T.b_inj_during_ack3, 1);
}

static void full_handshake(void)
{
	handshake_to_init1();
	step_init2();
	ck_assert_int_eq(T.v_init2_a, EV_DROP);
	step_ack4();
	ck_assert(passes(T.v_ack4_b));
	ck_assert_ptr_nonnull(flow_of(&A, &B));
	ck_assert_ptr_nonnull(flow_of(&B, &A));
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_ENCRYPTED);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ENCRYPTED);
}

/* from's kernel sends a segment; it crosses both daemons.  on_wire (may
 * be NULL) gets the protected segment, rx what the peer's kernel sees. */
static void xfer(struct host *from, struct host *to, uint32_t seq, uint32_t ack, uint8_t flags,
		 const uint8_t *opts, size_t olen, const void *data, size_t len,
		 struct seg *on_wire, struct seg *rx)
{
	static struct seg s;
	enum engine_verdict v;

	kseg(&s, from, to, seq, ack, flags, opts, olen, data, len);
	v = handle(from, OUT, &s, NULL);
	ck_assert_msg(passes(v), "sender verdict %d", v);
	/* Every segment of an encrypted connection carries the MAC. */
	ck_assert(has_mac(&s));
	if (on_wire)
		wire(on_wire, &s);
	wire(rx, &s);
	v = handle(to, IN, rx, NULL);
	ck_assert_msg(passes(v), "receiver verdict %d", v);
}

/* Runs from's daemon timers, as the daemon's loop would, until cond holds
 * or the time limit passes. */
static void run_timers(struct host *h, uint64_t limit, bool (*cond)(void))
{
	uint64_t end = now + limit;

	for (int i = 0; i < 100000 && now <= end && !(cond && cond()); i++) {
		uint64_t next = engine_tick(&h->e, now);
		ck_assert_uint_gt(next, now);
		now = next;
	}
}

static size_t count_init_injected(const struct host *h, uint32_t magic)
{
	size_t n = 0;

	for (size_t i = 0; i < h->log.ninj; i++) {
		struct seg s;
		inj_seg(&s, h, i);
		n += starts_with(&s, magic);
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* ENO negotiation */

START_TEST(test_syn_gets_eno_and_lower_mss)
{
	world(AF_INET);
	step_syn();
	/* An ENO offer commits the connection: the conntrack mark goes on. */
	ck_assert_int_eq(T.v_syn_a, EV_ACCEPT_ENCRYPTED);
	ck_assert(T.m_syn_a);
	/* The kernel's options stay, then exactly A's ENO option. */
	ck_assert_int_eq(opt_find(&T.syn, eno_a_opt, sizeof(eno_a_opt)), 20);
	ck_assert_uint_eq(pkt_opts_len(&T.syn.p), 28);
	ck_assert_mem_eq(pkt_opts(&T.syn.p) + 4, syn_opts + 4, 16);
	ck_assert_uint_eq(scan(&T.syn).eno_count, 1);
	/* Our own kernel's MSS leaves unchanged: B's daemon lowers it. */
	ck_assert_uint_eq(mss_of(&T.syn), 1460);
	ck_assert_uint_eq(pkt_seq(&T.syn.p), A.isn);
	ck_assert_uint_eq(pkt_payload_len(&T.syn.p), 0);
	ck_assert_uint_eq(A.e.flows.count, 1);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	/* B keeps state for it and lowers the MSS its kernel sees as well. */
	ck_assert(passes(T.v_syn_b));
	ck_assert_uint_eq(B.e.flows.count, 1);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_SYN_RCVD);
	ck_assert_uint_eq(mss_of(&T.syn_rx), 1460 - 16);
}
END_TEST

START_TEST(test_synack_gets_eno)
{
	world(AF_INET);
	step_syn();
	step_synack();
	ck_assert(passes(T.v_synack_b));
	ck_assert(T.m_synack_b);
	ck_assert_int_eq(opt_find(&T.synack, eno_b_opt, sizeof(eno_b_opt)), 20);
	ck_assert_uint_eq(pkt_opts_len(&T.synack.p), 28);
	ck_assert_uint_eq(scan(&T.synack).eno_count, 1);
	ck_assert_uint_eq(mss_of(&T.synack), 1460);
	ck_assert_uint_eq(pkt_seq(&T.synack.p), B.isn);
	ck_assert_uint_eq(pkt_ack(&T.synack.p), A.isn + 1);
	/* A accepts, switches ENO on and marks the connection. */
	ck_assert_int_eq(T.v_synack_a, EV_ACCEPT_ENCRYPTED);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_KX);
	ck_assert_uint_eq(mss_of(&T.synack_rx), 1460 - 16);
}
END_TEST

START_TEST(test_third_segment_carries_init1)
{
	const uint8_t *pl;

	world(AF_INET);
	step_syn();
	step_synack();
	step_init1();
	ck_assert(passes(T.v_ack3_a));
	ck_assert(T.m_ack3_a);
	ck_assert_int_ge(opt_find(&T.ack3, eno_ack_opt, sizeof(eno_ack_opt)), 12);
	ck_assert_uint_eq(scan(&T.ack3).eno_count, 1);
	ck_assert_mem_eq(pkt_opts(&T.ack3.p), ts_opts, sizeof(ts_opts));
	ck_assert_uint_eq(pkt_opts_len(&T.ack3.p) % 4, 0);
	ck_assert_uint_eq(pkt_flags(&T.ack3.p), TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(pkt_seq(&T.ack3.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&T.ack3.p), B.isn + 1);
	ck_assert_uint_eq(pkt_payload_len(&T.ack3.p), KX_INIT1_MAX_OWN);
	pl = pkt_payload(&T.ack3.p);
	ck_assert_uint_eq(get_be32(pl), KX_INIT1_MAGIC);
	ck_assert_uint_eq(get_be32(pl + 4), 77);
	/* Both suites, in the configured order of preference. */
	ck_assert_uint_eq(pl[8], 2);
	ck_assert_uint_eq(get_be16(pl + 9), A.e.cfg.suites[0]);
	ck_assert_uint_eq(get_be16(pl + 11), A.e.cfg.suites[1]);
	/* Init1 carriers are never tagged. */
	ck_assert(!has_mac(&T.ack3));
}
END_TEST

/* A's kernel puts data on its third segment (it never sent a bare ACK):
 * Init1 goes in a segment of its own, the data is held, and once Init2
 * is in the data leaves sealed. */
START_TEST(test_data_on_third_segment)
{
	struct seg data, init1, rx;

	world(AF_INET);
	step_syn();
	step_synack();
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "first", 5);
	ck_assert_int_eq(handle(&A, OUT, &data, NULL), EV_HOLD);
	ck_assert_uint_eq(A.log.ninj, 1);
	inj_seg(&init1, &A, 0);
	ck_assert_uint_eq(pkt_payload_len(&init1.p), INIT1_LEN);
	ck_assert_uint_eq(get_be32(pkt_payload(&init1.p)), KX_INIT1_MAGIC);
	ck_assert_uint_eq(pkt_seq(&init1.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&init1.p), B.isn + 1);
	ck_assert_int_ge(opt_find(&init1, eno_ack_opt, 2), 0);
	now += hop;
	ck_assert(passes(handle(&B, IN, &init1, NULL)));
	step_init2();
	ck_assert(flow_of(&A, &B)->keyed);
	ck_assert_uint_eq(A.log.nrel, 1);
	ck_assert(A.log.rel[0].accept);
	seg_load(&rx, A.log.rel[0].data, A.log.rel[0].len);
	ck_assert(has_mac(&rx));
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1 + INIT1_LEN);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_mem_eq(pkt_payload(&rx.p), "first", 5);
}
END_TEST

START_TEST(test_b_injects_init2_before_passing_ack)
{
	struct seg init2;

	world(AF_INET);
	handshake_to_init1();
	/* Init2 went out while B handled the Init1 carrier, i.e. before the
	 * verdict let B's kernel complete its handshake. */
	ck_assert_uint_eq(T.b_inj_during_ack3, 1);
	inj_seg(&init2, &B, 0);
	ck_assert_mem_eq(pkt_saddr(&init2.p), B.addr, alen(&B));
	ck_assert_mem_eq(pkt_daddr(&init2.p), A.addr, alen(&A));
	ck_assert_uint_eq(pkt_sport(&init2.p), 80);
	ck_assert_uint_eq(pkt_dport(&init2.p), 40000);
	ck_assert_uint_eq(pkt_seq(&init2.p), B.isn + 1);
	ck_assert_uint_eq(pkt_ack(&init2.p), A.isn + 1 + INIT1_LEN);
	ck_assert_uint_eq(pkt_flags(&init2.p), TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(pkt_payload_len(&init2.p), KX_INIT2_LEN);
	ck_assert_uint_eq(get_be32(pkt_payload(&init2.p)), KX_INIT2_MAGIC);
	ck_assert_uint_eq(get_be32(pkt_payload(&init2.p) + 4), 74);
	ck_assert(!has_mac(&init2));
	ck_assert(pkt_checksums_ok(&init2.p));
	/* B's kernel gets the bare handshake ACK in its own sequence space. */
	ck_assert_int_eq(T.v_ack3_b, EV_ACCEPT_ENCRYPTED);
	ck_assert(T.m_ack3_b);
	ck_assert_uint_eq(pkt_payload_len(&T.ack3_rx.p), 0);
	ck_assert_uint_eq(pkt_seq(&T.ack3_rx.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&T.ack3_rx.p), B.isn + 1);
	ck_assert_uint_eq(pkt_flags(&T.ack3_rx.p) & (TCP_SYN | TCP_RST | TCP_FIN | TCP_ACK),
			  TCP_ACK);
}
END_TEST

START_TEST(test_init2_dropped_and_keys_agree)
{
	struct flow *fa, *fb;

	world(AF_INET);
	handshake_to_init1();
	ck_assert_uint_eq(A.log.nkeylog, 0);
	ck_assert_uint_eq(B.log.nkeylog, 1);
	step_init2();
	/* A's kernel never sees Init2. */
	ck_assert_int_eq(T.v_init2_a, EV_DROP);
	fa = flow_of(&A, &B);
	fb = flow_of(&B, &A);
	ck_assert_ptr_nonnull(fa);
	ck_assert_ptr_nonnull(fb);
	ck_assert(fa->keyed && fb->keyed);
	ck_assert_int_eq(fa->state, FLOW_ENCRYPTED);
	ck_assert_uint_eq(fa->session_id[0], 0xa0);
	ck_assert_mem_eq(fa->session_id, fb->session_id, KX_SESSID_LEN);
	/* The key log agrees on both sides; N_A is Init1's nonce. */
	ck_assert_uint_eq(A.log.nkeylog, 1);
	ck_assert_mem_eq(A.log.n_a, B.log.n_a, 32);
	ck_assert_mem_eq(A.log.es, B.log.es, 32);
	ck_assert_mem_eq(A.log.n_a, pkt_payload(&T.ack3.p) + 13, 32);
	ck_assert_uint_eq(A.e.ctr.encrypted_flows, 1);
	ck_assert_uint_eq(B.e.ctr.encrypted_flows, 1);
	/* Nothing was held, so A acknowledges Init2 with a tagged pure ACK. */
	ck_assert_uint_eq(A.log.ninj, 1);
	step_ack4();
	ck_assert(has_mac(&T.ack4));
	ck_assert_uint_eq(pkt_payload_len(&T.ack4.p), 0);
	ck_assert_uint_eq(pkt_seq(&T.ack4.p), A.isn + 1 + INIT1_LEN);
	ck_assert_uint_eq(pkt_ack(&T.ack4.p), B.isn + 1 + 74);
	ck_assert(passes(T.v_ack4_b));
	ck_assert_uint_eq(pkt_seq(&T.ack4_rx.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&T.ack4_rx.p), B.isn + 1);
	ck_assert(fb->peer_tagged);
	/* Init2 is acknowledged: B stops retransmitting it. */
	ck_assert_ptr_null(fb->hs);
	now += 10 * US_SEC;
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.log.ninj, 1);
}
END_TEST

START_TEST(test_data_held_until_init2)
{
	static const char msg[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	struct seg data, rx;
	enum engine_verdict v;
	uint32_t id;

	world(AF_INET);
	handshake_to_init1();
	/* A's kernel sends data before Init2 has arrived. */
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg,
	     sizeof(msg));
	v = handle(&A, OUT, &data, NULL);
	id = next_id;
	ck_assert_int_eq(v, EV_HOLD);
	ck_assert_uint_eq(A.e.ctr.held, 1);
	ck_assert_uint_eq(A.log.nrel, 0);
	step_init2();
	ck_assert_int_eq(T.v_init2_a, EV_DROP);
	/* Released, sealed; and then no separate ACK is needed. */
	ck_assert_uint_eq(A.log.nrel, 1);
	ck_assert_uint_eq(A.log.rel[0].id, id);
	ck_assert(A.log.rel[0].accept);
	ck_assert_uint_eq(A.log.ninj, 0);
	seg_load(&data, A.log.rel[0].data, A.log.rel[0].len);
	ck_assert(has_mac(&data));
	ck_assert(pkt_checksums_ok(&data.p));
	ck_assert_uint_eq(pkt_seq(&data.p), A.isn + 1 + INIT1_LEN);
	ck_assert_uint_eq(pkt_ack(&data.p), B.isn + 1 + 74);
	ck_assert_uint_eq(pkt_payload_len(&data.p), sizeof(msg));
	ck_assert(memcmp(pkt_payload(&data.p), msg, sizeof(msg)) != 0);
	/* B decrypts it into its kernel's sequence space. */
	wire(&rx, &data);
	v = handle(&B, IN, &rx, NULL);
	ck_assert(passes(v));
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&rx.p), B.isn + 1);
	ck_assert_uint_eq(pkt_payload_len(&rx.p), sizeof(msg));
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
	ck_assert_ptr_null(flow_of(&B, &A)->hs);	/* it acknowledged Init2 */
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Established traffic */

/* _i = 0: IPv4, 1: IPv6. */
START_TEST(test_data_round_trip)
{
	static uint8_t a2b[3000], b2a[5000];
	struct seg w, rx;
	uint32_t a_nxt, b_nxt;

	world(_i ? AF_INET6 : AF_INET);
	full_handshake();
	for (size_t i = 0; i < sizeof(a2b); i++)
		a2b[i] = (uint8_t)(i * 3);
	for (size_t i = 0; i < sizeof(b2a); i++)
		b2a[i] = (uint8_t)(i * 5 + 1);
	a_nxt = A.isn + 1;
	b_nxt = B.isn + 1;
	for (size_t off = 0; off < sizeof(a2b); off += 1000) {
		xfer(&A, &B, a_nxt, b_nxt, TCP_ACK | TCP_PSH, ts_opts, 12, a2b + off, 1000, &w, &rx);
		ck_assert_uint_eq(pkt_seq(&w.p), a_nxt + INIT1_LEN);
		ck_assert_uint_eq(pkt_ack(&w.p), b_nxt + 74);
		ck_assert(memcmp(pkt_payload(&w.p), a2b + off, 1000) != 0);
		ck_assert_uint_eq(pkt_seq(&rx.p), a_nxt);
		ck_assert_uint_eq(pkt_ack(&rx.p), b_nxt);
		ck_assert_uint_eq(pkt_payload_len(&rx.p), 1000);
		ck_assert_mem_eq(pkt_payload(&rx.p), a2b + off, 1000);
		a_nxt += 1000;
	}
	for (size_t off = 0; off < sizeof(b2a); off += 1250) {
		xfer(&B, &A, b_nxt, a_nxt, TCP_ACK | TCP_PSH, ts_opts, 12, b2a + off, 1250, &w, &rx);
		ck_assert_uint_eq(pkt_seq(&w.p), b_nxt + 74);
		ck_assert_uint_eq(pkt_ack(&w.p), a_nxt + INIT1_LEN);
		ck_assert_uint_eq(pkt_seq(&rx.p), b_nxt);
		ck_assert_uint_eq(pkt_ack(&rx.p), a_nxt);
		ck_assert_mem_eq(pkt_payload(&rx.p), b2a + off, 1250);
		b_nxt += 1250;
	}
	ck_assert_uint_eq(A.e.ctr.segments_sealed, 3);
	ck_assert_uint_eq(B.e.ctr.segments_opened, 3 + 1);	/* + A's tagged ACK */
	ck_assert_uint_eq(B.e.ctr.segments_sealed, 4);
	ck_assert_uint_eq(A.e.ctr.segments_opened, 4);
	ck_assert_uint_eq(flow_of(&A, &B)->bytes_out, sizeof(a2b));
	ck_assert_uint_eq(flow_of(&B, &A)->bytes_in, sizeof(a2b));
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 0);
}
END_TEST

/* A retransmission cut at other boundaries carries the same ciphertext
 * and still verifies (ciphertext depends only on the offset). */
START_TEST(test_retransmission_resegmented)
{
	static uint8_t data[2000];
	struct seg w1, w2, rx;

	world(AF_INET);
	full_handshake();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, data, 2000, &w1, &rx);
	xfer(&A, &B, A.isn + 1 + 500, B.isn + 1, TCP_ACK, ts_opts, 12, data + 500, 700, &w2, &rx);
	ck_assert_mem_eq(pkt_payload(&w2.p), pkt_payload(&w1.p) + 500, 700);
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1 + 500);
	ck_assert_mem_eq(pkt_payload(&rx.p), data + 500, 700);
}
END_TEST

/* _i selects the tampering: every one must be dropped and counted, and
 * the untouched segment must still pass afterwards. */
START_TEST(test_tampered_segment_dropped)
{
	static const char msg[] = "attack at dawn";
	struct seg s, bad;
	struct tcpopt_info info;
	enum engine_verdict v;

	world(AF_INET);
	full_handshake();
	kseg(&s, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg));
	ck_assert(passes(handle(&A, OUT, &s, NULL)));
	info = scan(&s);
	ck_assert_int_ge(info.mac, 0);
	wire(&bad, &s);
	switch (_i) {
	case 0:		/* flipped ciphertext bit */
		pkt_payload(&bad.p)[3] ^= 0x10;
		break;
	case 1:		/* flipped tag bit */
		pkt_opts(&bad.p)[info.mac + 4 + 11] ^= 0x01;
		break;
	case 2:		/* moved in the stream */
		pkt_set_seq(&bad.p, pkt_seq(&bad.p) + 1);
		break;
	case 3:		/* different acknowledgment */
		pkt_set_ack(&bad.p, pkt_ack(&bad.p) + 1000);
		break;
	case 4:		/* FIN added */
		pkt_set_flags(&bad.p, pkt_flags(&bad.p) | TCP_FIN);
		break;
	case 5:		/* truncated by a byte */
		ck_assert_int_eq(pkt_set_payload(&bad.p, pkt_payload(&bad.p), sizeof(msg) - 1), 0);
		break;
	default:	/* the MAC option removed: untagged data */
		ck_assert_int_eq(pkt_set_options(&bad.p, ts_opts, 12), 0);
		break;
	}
	pkt_fix_checksums(&bad.p);
	v = handle(&B, IN, &bad, NULL);
	ck_assert_int_eq(v, EV_DROP);
	ck_assert_uint_eq(B.e.ctr.mac_fail, 1);
	ck_assert_uint_eq(B.e.ctr.segments_opened, 1);	/* only A's ACK */
	wire(&bad, &s);
	ck_assert(passes(handle(&B, IN, &bad, NULL)));
	ck_assert_mem_eq(pkt_payload(&bad.p), msg, sizeof(msg));
}
END_TEST

/* B takes A's untagged pure ACKs until the first tagged segment from A;
 * afterwards it needs a tag on everything. */
START_TEST(test_untagged_pure_ack_at_b)
{
	struct seg ack, rx;
	enum engine_verdict v;
	bool mod;

	world(AF_INET);
	handshake_to_init1();
	kseg(&ack, &A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1, TCP_ACK, ts_opts, 12, NULL, 0);
	wire(&rx, &ack);
	v = handle(&B, IN, &rx, &mod);
	ck_assert(passes(v));
	ck_assert(mod);
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1);	/* translated */
	ck_assert_uint_eq(B.e.ctr.mac_fail, 0);
	/* Untagged data is never fine. */
	kseg(&rx, &A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1, TCP_ACK, ts_opts, 12, "x", 1);
	ck_assert_int_eq(handle(&B, IN, &rx, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.mac_fail, 1);
	step_init2();
	step_ack4();
	ck_assert(passes(T.v_ack4_b));
	ck_assert(flow_of(&B, &A)->peer_tagged);
	wire(&rx, &ack);
	ck_assert_int_eq(handle(&B, IN, &rx, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.mac_fail, 2);
}
END_TEST

/* A requires a tag on every segment from B once it has keys. */
START_TEST(test_untagged_pure_ack_at_a)
{
	struct seg ack;

	world(AF_INET);
	full_handshake();
	kseg(&ack, &B, &A, B.isn + 1 + 74, A.isn + 1 + INIT1_LEN, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(handle(&A, IN, &ack, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.mac_fail, 1);
}
END_TEST

START_TEST(test_untagged_rst_passes_by_default)
{
	struct seg rst, orig;
	enum engine_verdict v;

	world(AF_INET);
	full_handshake();
	/* The kernel judges it as the peer sent it: not translated (the
	 * modified flag may be set; the bytes are what counts). */
	kseg(&rst, &B, &A, B.isn + 1 + 74, 0, TCP_RST, NULL, 0, NULL, 0);
	wire(&orig, &rst);
	v = handle(&A, IN, &rst, NULL);
	ck_assert(passes(v));
	ck_assert_uint_eq(rst.p.len, orig.p.len);
	ck_assert_mem_eq(rst.p.buf, orig.p.buf, orig.p.len);
	ck_assert_uint_eq(A.e.ctr.untagged_rst, 1);
	/* The same at B. */
	kseg(&rst, &A, &B, A.isn + 1 + INIT1_LEN, 0, TCP_RST, NULL, 0, NULL, 0);
	wire(&orig, &rst);
	ck_assert(passes(handle(&B, IN, &rst, NULL)));
	ck_assert_mem_eq(rst.p.buf, orig.p.buf, orig.p.len);
	ck_assert_uint_eq(B.e.ctr.untagged_rst, 1);
}
END_TEST

START_TEST(test_untagged_rst_dropped_when_authenticated)
{
	struct engine_config c;
	struct seg rst, rx;

	engine_config_defaults(&c);
	c.rst_authenticated = true;
	world_cfg(AF_INET, 0x11223344u, 0xaabbccddu, &c);
	full_handshake();
	kseg(&rst, &B, &A, B.isn + 1 + 74, 0, TCP_RST, NULL, 0, NULL, 0);
	ck_assert_int_eq(handle(&A, IN, &rst, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.mac_fail, 1);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_ENCRYPTED);
	/* A tagged RST from B's kernel is honoured. */
	xfer(&B, &A, B.isn + 1, A.isn + 1, TCP_RST | TCP_ACK, NULL, 0, NULL, 0, NULL, &rx);
	ck_assert_uint_eq(pkt_seq(&rx.p), B.isn + 1);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_CLOSED);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_CLOSED);
}
END_TEST

/* Segments of a connection whose keys were lost must not pass. */
START_TEST(test_lost_flow_dropped)
{
	struct seg s;

	world(AF_INET);
	full_handshake();
	kseg(&s, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, "abc", 3);
	ck_assert(passes(handle(&A, OUT, &s, NULL)));
	/* B restarted: no flow, but the MAC option gives it away. */
	engine_free(&B.e);
	log_free(&B.log);
	host_init(&B, AF_INET, 1, B.isn, NULL);
	ck_assert_int_eq(handle(&B, IN, &s, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.lost_flow_drop, 1);
	/* Its kernel's segments: the connmark says encrypted. */
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK, ts_opts, 12, "abc", 3);
	ck_assert_int_eq(handle_ce(&B, OUT, true, &s, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.lost_flow_drop, 2);
}
END_TEST

/* The shell's own counts show among the engine's counters, as totals:
 * a second note replaces the first, nothing else moves. */
START_TEST(test_shell_counts_noted)
{
	struct counters before;
	const struct counters *c;

	world(AF_INET);
	full_handshake();
	before = *engine_counters(&A.e);
	engine_note_queue_enobufs(&A.e, 3);
	engine_note_conntrack(&A.e, 5, 2);
	engine_note_queue_enobufs(&A.e, 4);
	c = engine_counters(&A.e);
	ck_assert_uint_eq(c->queue_enobufs, 4);
	ck_assert_uint_eq(c->ct_liberal_set, 5);
	ck_assert_uint_eq(c->ct_liberal_fail, 2);
	before.queue_enobufs = 4;
	before.ct_liberal_set = 5;
	before.ct_liberal_fail = 2;
	ck_assert_mem_eq(c, &before, sizeof(before));
}
END_TEST

/* The connection cannot go on: both kernels get RSTs, and at least one of
 * them carries exactly the number that kernel expects. */
START_TEST(test_lost_flow_reset)
{
	struct seg s, r;
	uint32_t a_nxt = A.isn + 1, b_nxt = B.isn + 1;
	bool exact_for_a = false;
	size_t i;

	world(AF_INET);
	full_handshake();
	a_nxt = A.isn + 1;
	b_nxt = B.isn + 1;
	engine_free(&A.e);
	log_free(&A.log);
	host_init(&A, AF_INET, 0, A.isn, NULL);

	/* A's kernel retransmits: its numbers are kernel numbers. */
	kseg(&s, &A, &B, a_nxt, b_nxt, TCP_ACK | TCP_PSH, ts_opts, 12, "abc", 3);
	ck_assert_int_eq(handle_ce(&A, OUT, true, &s, NULL), EV_DROP);
	ck_assert_uint_eq(A.log.ninj, 2 + 15);
	ck_assert_uint_eq(A.e.ctr.lost_flow_reset, 17);
	/* First: to A's own socket, at the number it acknowledged. */
	inj_seg(&r, &A, 0);
	ck_assert_uint_eq(pkt_flags(&r.p), TCP_RST);
	ck_assert_uint_eq(pkt_seq(&r.p), b_nxt);
	ck_assert_mem_eq(pkt_tcp(&r.p), pkt_tcp(&s.p) + 2, 2);	/* from B's port */
	/* Then to B: one exact (B's kernel has everything A's kernel sent),
	 * the others ahead of it; B's daemon passes them (untagged RSTs). */
	for (i = 1; i < A.log.ninj; i++) {
		inj_seg(&r, &A, i);
		ck_assert_uint_eq(pkt_flags(&r.p), TCP_RST);
		ck_assert_uint_eq(pkt_seq(&r.p), a_nxt + (i == 1 ? 0 : 1u << (i + 8)));
		ck_assert(passes(handle(&B, IN, &r, NULL)));
		exact_for_a |= pkt_seq(&r.p) == a_nxt;
	}
	ck_assert(exact_for_a);
	/* Without the connmark's word, nothing is sent. */
	kseg(&s, &A, &B, a_nxt, b_nxt, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(handle_ce(&A, OUT, false, &s, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(A.log.ninj, 17);

	/* B's segment reaches the restarted A: wire numbers.  A was role A,
	 * so the RST at ack - 77 is exact for B's kernel. */
	kseg(&s, &B, &A, b_nxt, a_nxt, TCP_ACK, ts_opts, 12, "xyz", 3);
	ck_assert(passes(handle(&B, OUT, &s, NULL)));
	wire(&r, &s);
	ck_assert_int_eq(handle_ce(&A, IN, true, &r, NULL), EV_DROP);
	/* RSTs at ack - 77, - 75, - 74 and - 0, and the duplicate ACK. */
	ck_assert_uint_eq(A.log.ninj, 17 + 5);
	inj_seg(&r, &A, 17);
	ck_assert_uint_eq(pkt_flags(&r.p), TCP_RST);
	ck_assert_uint_eq(pkt_seq(&r.p), a_nxt);
	/* The guesses for an Init1 with one suite, and for an Init2. */
	inj_seg(&r, &A, 18);
	ck_assert_uint_eq(pkt_seq(&r.p), a_nxt + 2);
	inj_seg(&r, &A, 19);
	ck_assert_uint_eq(pkt_seq(&r.p), a_nxt + 3);
	/* ... and for a resumed connection (no Init at all). */
	inj_seg(&r, &A, 20);
	ck_assert_uint_eq(pkt_flags(&r.p), TCP_RST);
	ck_assert_uint_eq(pkt_seq(&r.p), a_nxt + 77);
	/* Towards A's kernel: an old duplicate ACK to make it speak. */
	inj_seg(&r, &A, 21);
	ck_assert_uint_eq(pkt_flags(&r.p), TCP_ACK);
	ck_assert_uint_eq(pkt_seq(&r.p), b_nxt + 74 - 0x40000000u);
	/* An RST from A's kernel itself starts nothing. */
	kseg(&s, &A, &B, a_nxt, b_nxt, TCP_RST | TCP_ACK, NULL, 0, NULL, 0);
	ck_assert_int_eq(handle_ce(&A, OUT, true, &s, NULL), EV_DROP);
	ck_assert_uint_eq(A.log.ninj, 22);
}
END_TEST

/* The key pair is renewed by the timer shortly before it may no longer be
 * used (60 s), not in the middle of a connection's handshake. */
START_TEST(test_keypair_renewed_ahead)
{
	uint8_t pub[32];
	uint64_t born, due;

	world(AF_INET);
	due = engine_tick(&B.e, now);
	born = B.e.kp_born;
	ck_assert_uint_eq(born, now);
	ck_assert_uint_le(due, born + 58 * US_SEC);
	memcpy(pub, B.e.kp_pub, sizeof(pub));
	now += 57 * US_SEC;
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.e.kp_born, born);
	now += 1500 * US_MS;
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.e.kp_born, now);
	ck_assert(memcmp(pub, B.e.kp_pub, sizeof(pub)) != 0);
	/* A handshake now uses that pair as it is. */
	born = B.e.kp_born;
	now += 1500 * US_MS;
	full_handshake();
	ck_assert_uint_eq(B.e.kp_born, born);
}
END_TEST

/* A second connection while both key pairs are the same reuses the
 * remembered X25519 result on both hosts: the same ES, yet its own nonces,
 * session ID and keys.  Once the key pairs are renewed the memo is gone. */
START_TEST(test_es_reused_within_keypair)
{
	uint8_t es1[32], sid1[KX_SESSID_LEN];

	world(AF_INET);
	full_handshake();
	ck_assert_uint_eq(A.e.ctr.es_reused, 0);
	ck_assert_uint_eq(B.e.ctr.es_reused, 0);
	memcpy(es1, A.log.es, sizeof(es1));
	ck_assert_mem_eq(B.log.es, es1, sizeof(es1));
	memcpy(sid1, flow_of(&A, &B)->session_id, sizeof(sid1));

	A.port++;
	A.isn += 100000;
	full_handshake();
	ck_assert_uint_eq(A.e.ctr.es_reused, 1);
	ck_assert_uint_eq(B.e.ctr.es_reused, 1);
	ck_assert_mem_eq(A.log.es, es1, sizeof(es1));
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id, KX_SESSID_LEN);
	ck_assert(memcmp(flow_of(&A, &B)->session_id, sid1, KX_SESSID_LEN) != 0);
	ck_assert_mem_eq(flow_of(&A, &B)->tx.g_lo, flow_of(&B, &A)->rx.g_lo, SEAL2_SECRET_LEN);

	/* New key pairs on both sides: computed again, a different ES. */
	now += 59 * US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	A.port++;
	A.isn += 100000;
	full_handshake();
	ck_assert_uint_eq(A.e.ctr.es_reused, 1);
	ck_assert_uint_eq(B.e.ctr.es_reused, 1);
	ck_assert(memcmp(A.log.es, es1, sizeof(es1)) != 0);
	ck_assert_mem_eq(B.log.es, A.log.es, sizeof(es1));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Restart: the flow slots outlive the engine (the daemon maps them from a
 * file) and a new engine takes them over. */

#define SNAP_SLOTS 64
static struct flow snap[SNAP_SLOTS];
static uint64_t snap_used;

/* What the file holds when the daemon dies: its slots as they are. */
static void snapshot(const struct host *h)
{
	ck_assert_uint_le(*h->e.flows.slots_used, SNAP_SLOTS);
	memset(snap, 0, sizeof(snap));
	memcpy(snap, h->e.flows.slots, (size_t)*h->e.flows.slots_used * sizeof(struct flow));
	snap_used = *h->e.flows.slots_used;
}

/* A new engine for h on the snapshot, as a restarted daemon. */
static size_t restart_on_snapshot(struct host *h, size_t *discarded)
{
	struct engine_io io = h->e.io;
	struct engine_config c = h->e.cfg;

	engine_free(&h->e);
	c.max_flows = SNAP_SLOTS;
	ck_assert_int_eq(engine_init_slots(&h->e, &c, &io, snap, &snap_used), 0);
	return engine_resume(&h->e, now, discarded);
}

static void exchange_data(uint32_t *a_nxt, uint32_t *b_nxt)
{
	static uint8_t a2b[1200], b2a[900];
	struct seg w, rx;

	randombytes_buf(a2b, sizeof(a2b));
	randombytes_buf(b2a, sizeof(b2a));
	xfer(&A, &B, *a_nxt, *b_nxt, TCP_ACK | TCP_PSH, ts_opts, 12, a2b, sizeof(a2b), &w, &rx);
	ck_assert_mem_eq(pkt_payload(&rx.p), a2b, sizeof(a2b));
	*a_nxt += sizeof(a2b);
	xfer(&B, &A, *b_nxt, *a_nxt, TCP_ACK | TCP_PSH, ts_opts, 12, b2a, sizeof(b2a), &w, &rx);
	ck_assert_mem_eq(pkt_payload(&rx.p), b2a, sizeof(b2a));
	*b_nxt += sizeof(b2a);
}

START_TEST(test_resume_after_crash)
{
	uint32_t a_nxt, b_nxt;
	uint8_t sid[KX_SESSID_LEN];
	size_t discarded = 99;

	world(_i ? AF_INET6 : AF_INET);
	full_handshake();
	a_nxt = A.isn + 1;
	b_nxt = B.isn + 1;
	exchange_data(&a_nxt, &b_nxt);
	memcpy(sid, flow_of(&A, &B)->session_id, sizeof(sid));
	snapshot(&A);
	now += 2 * US_SEC;
	ck_assert_uint_eq(restart_on_snapshot(&A, &discarded), 1);
	ck_assert_uint_eq(discarded, 0);
	ck_assert_uint_eq(A.e.ctr.flows_resumed, 1);
	ck_assert_uint_eq(A.e.flows.count, 1);
	ck_assert_ptr_null(flow_of(&A, &B)->hs);
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, sid, sizeof(sid));
	/* The stream goes on where it was, both ways, every MAC good. */
	exchange_data(&a_nxt, &b_nxt);
	exchange_data(&a_nxt, &b_nxt);
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 0);
	/* The resumed flow lives in the table like any other. */
	ck_assert_uint_eq(flow_of(&A, &B)->bytes_out, 3 * 1200);
	engine_tick(&A.e, now + 2 * US_SEC);
	ck_assert_ptr_nonnull(flow_of(&A, &B));
}
END_TEST

/* A clean stop: handshakes are ended, established flows left for the next
 * daemon; the slots of flows removed before are wiped. */
START_TEST(test_resume_after_detach)
{
	uint32_t a_nxt, b_nxt;
	struct engine_io io;
	struct engine_config c;
	size_t discarded = 99;

	world(AF_INET);
	io = A.e.io;
	c = A.e.cfg;
	c.max_flows = SNAP_SLOTS;
	engine_free(&A.e);
	memset(snap, 0, sizeof(snap));
	snap_used = 0;
	ck_assert_int_eq(engine_init_slots(&A.e, &c, &io, snap, &snap_used), 0);
	full_handshake();
	a_nxt = A.isn + 1;
	b_nxt = B.isn + 1;
	exchange_data(&a_nxt, &b_nxt);
	engine_detach(&A.e);
	ck_assert_uint_eq(snap_used, 1);
	ck_assert_uint_eq(snap[0].slot_magic, FLOW_SLOT_MAGIC);
	ck_assert_int_eq(engine_init_slots(&A.e, &c, &io, snap, &snap_used), 0);
	ck_assert_uint_eq(engine_resume(&A.e, now, &discarded), 1);
	ck_assert_uint_eq(discarded, 0);
	exchange_data(&a_nxt, &b_nxt);
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 0);
	/* Removing a flow wipes its slot, keys and all, and a new flow takes
	 * that slot rather than a fresh one. */
	{
		struct flow *f = flow_of(&A, &B);
		static const struct flow zero;

		flow_remove(&A.e.flows, f);
		ck_assert_mem_eq(&snap[0], &zero, sizeof(zero));
		ck_assert_uint_eq(A.e.flows.count, 0);
	}
}
END_TEST

/* Flows in a handshake (their handshake state was in the dead process's
 * heap) and flows idle past the limit are not resumed: their slots are
 * wiped and their segments take the lost-flow path. */
START_TEST(test_no_resume_mid_handshake_or_idle)
{
	size_t discarded = 0;
	static const struct flow zero;

	world(AF_INET);
	handshake_to_init1();
	/* B has keys but waits for A to acknowledge Init2. */
	ck_assert(flow_of(&B, &A)->keyed);
	ck_assert_ptr_nonnull(flow_of(&B, &A)->hs);
	snapshot(&B);
	ck_assert_uint_eq(restart_on_snapshot(&B, &discarded), 0);
	ck_assert_uint_eq(discarded, 1);
	ck_assert_mem_eq(&snap[0], &zero, sizeof(zero));
	teardown();

	world(AF_INET);
	full_handshake();
	snapshot(&A);
	now += A.e.cfg.idle_us + US_SEC;
	ck_assert_uint_eq(restart_on_snapshot(&A, &discarded), 0);
	ck_assert_uint_eq(discarded, 1);
}
END_TEST

START_TEST(test_sack_translated)
{
	struct seg w, rx;
	uint8_t sack[24];
	uint32_t l, r;

	world(AF_INET);
	full_handshake();
	/* B's kernel got A's kernel bytes [0,1000) and [2000,3000): it
	 * acknowledges 1000 and SACKs the second range. */
	l = A.isn + 1 + 2000;
	r = A.isn + 1 + 3000;
	memcpy(sack, ts_opts, 12);
	sack[12] = 1;
	sack[13] = 1;
	sack[14] = 5;
	sack[15] = 10;
	put_be32(sack + 16, l);
	put_be32(sack + 20, r);
	xfer(&B, &A, B.isn + 1, A.isn + 1 + 1000, TCP_ACK, sack, 24, NULL, 0, &w, &rx);
	ck_assert_uint_eq(pkt_ack(&w.p), A.isn + 1 + 1000 + INIT1_LEN);
	ck_assert_int_eq(scan(&w).sack, 14);
	ck_assert_uint_eq(get_be32(pkt_opts(&w.p) + 16), l + INIT1_LEN);
	ck_assert_uint_eq(get_be32(pkt_opts(&w.p) + 20), r + INIT1_LEN);
	ck_assert_uint_eq(pkt_opts_len(&w.p), 40);
	ck_assert_uint_eq(pkt_ack(&rx.p), A.isn + 1 + 1000);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + 16), l);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + 20), r);
	/* And the other way: A's kernel SACKs B's data. */
	l = B.isn + 1 + 500;
	r = B.isn + 1 + 900;
	put_be32(sack + 16, l);
	put_be32(sack + 20, r);
	xfer(&A, &B, A.isn + 1, B.isn + 1 + 100, TCP_ACK, sack, 24, NULL, 0, &w, &rx);
	ck_assert_uint_eq(pkt_ack(&w.p), B.isn + 1 + 100 + 74);
	ck_assert_uint_eq(get_be32(pkt_opts(&w.p) + 16), l + 74);
	ck_assert_uint_eq(get_be32(pkt_opts(&w.p) + 20), r + 74);
	ck_assert_uint_eq(pkt_ack(&rx.p), B.isn + 1 + 100);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + 16), l);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + 20), r);
}
END_TEST

/* TS + two SACK blocks + MAC do not fit: the older block goes. */
START_TEST(test_sack_trimmed_for_mac)
{
	struct seg w, rx;
	uint8_t sack[32];
	struct tcpopt_info info;

	world(AF_INET);
	full_handshake();
	memcpy(sack, ts_opts, 12);
	sack[12] = 1;
	sack[13] = 1;
	sack[14] = 5;
	sack[15] = 18;
	put_be32(sack + 16, A.isn + 1 + 5000);	/* newest block first */
	put_be32(sack + 20, A.isn + 1 + 6000);
	put_be32(sack + 24, A.isn + 1 + 2000);
	put_be32(sack + 28, A.isn + 1 + 3000);
	xfer(&B, &A, B.isn + 1, A.isn + 1 + 1000, TCP_ACK, sack, 32, NULL, 0, &w, &rx);
	ck_assert_uint_eq(B.e.ctr.sack_trimmed, 1);
	ck_assert_uint_eq(pkt_opts_len(&w.p), 40);
	info = scan(&rx);
	ck_assert_int_ge(info.sack, 0);
	ck_assert_uint_eq(pkt_opts(&rx.p)[info.sack + 1], 10);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + info.sack + 2), A.isn + 1 + 5000);
	ck_assert_uint_eq(get_be32(pkt_opts(&rx.p) + info.sack + 6), A.isn + 1 + 6000);
}
END_TEST

/* Both ISNs just below 2^32: the Init messages themselves straddle the
 * wrap, then 1 MB flows A -> B and 256 kB back. */
START_TEST(test_sequence_wrap_1mb)
{
	static uint8_t buf[1448];
	struct seg rx;
	uint32_t a_nxt, b_nxt;
	uint64_t total = 0;

	world_cfg(AF_INET, 0xffffffe0u, 0xfffffff0u, NULL);
	full_handshake();
	a_nxt = A.isn + 1;
	b_nxt = B.isn + 1;
	while (total < (1u << 20)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)((total + i) * 7 + ((total + i) >> 11));
		xfer(&A, &B, a_nxt, b_nxt, TCP_ACK, ts_opts, 12, buf, sizeof(buf), NULL, &rx);
		ck_assert_uint_eq(pkt_seq(&rx.p), a_nxt);
		ck_assert_uint_eq(pkt_ack(&rx.p), b_nxt);
		ck_assert_mem_eq(pkt_payload(&rx.p), buf, sizeof(buf));
		a_nxt += sizeof(buf);
		total += sizeof(buf);
	}
	for (total = 0; total < (1u << 18); total += sizeof(buf)) {
		memset(buf, (int)(total >> 10), sizeof(buf));
		xfer(&B, &A, b_nxt, a_nxt, TCP_ACK, ts_opts, 12, buf, sizeof(buf), NULL, &rx);
		ck_assert_uint_eq(pkt_seq(&rx.p), b_nxt);
		ck_assert_uint_eq(pkt_ack(&rx.p), a_nxt);
		ck_assert_mem_eq(pkt_payload(&rx.p), buf, sizeof(buf));
		b_nxt += sizeof(buf);
	}
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 0);
}
END_TEST

/* A retransmitted Init message is recognised by its 64-bit stream offset,
 * not by its 32-bit sequence number: after 2^32 bytes the stream comes back
 * to ISN + 1 (offset 2^32), and data starting there must be delivered.
 * The 4 GB are simulated by advancing both ends' stream positions.
 * _i = 0: A -> B, 1: B -> A. */
START_TEST(test_data_at_offset_2_32_delivered)
{
	static const char msg[] = "bytes at stream offset 2^32";
	struct host *from = _i ? &B : &A, *to = _i ? &A : &B;
	uint32_t own_init = _i ? 74 : INIT1_LEN;
	struct seg w, rx;
	uint64_t pos = (UINT64_C(1) << 32) - 1000;

	world(AF_INET);
	full_handshake();
	flow_of(from, to)->snd.high = pos;
	flow_of(to, from)->rcv.high = pos;
	/* The kernel sequence number of wire offset 2^32 is ISN + 1 - Init. */
	kseg(&w, from, to, from->isn + 1 - own_init, to->isn + 1, TCP_ACK, ts_opts, 12, msg,
	     sizeof(msg));
	ck_assert(passes(handle(from, OUT, &w, NULL)));
	ck_assert_uint_eq(pkt_seq(&w.p), from->isn + 1);
	wire(&rx, &w);
	ck_assert_msg(passes(handle(to, IN, &rx, NULL)), "data at offset 2^32 dropped");
	ck_assert_uint_eq(pkt_seq(&rx.p), from->isn + 1 - own_init);
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
}
END_TEST

/* After 2^32 bytes the kernel's sequence number of its byte 2^32 - 1
 * equals the ISN again.  It must still be translated: left alone, the
 * segment would go out 77 bytes early, encrypted under stream offset
 * 2^32 - 1 instead of 2^32 + 74, reusing keystream (a two-time pad). */
START_TEST(test_kernel_seq_equal_to_isn_after_wrap)
{
	static const char msg[] = "kernel byte 2^32 - 1 and on";
	struct seg w, rx;
	uint64_t pos = (UINT64_C(1) << 32) - 1000;

	world(AF_INET);
	full_handshake();
	flow_of(&A, &B)->snd.high = pos;
	flow_of(&B, &A)->rcv.high = pos;
	kseg(&w, &A, &B, A.isn, B.isn + 1, TCP_ACK, ts_opts, 12, msg, sizeof(msg));
	ck_assert(passes(handle(&A, OUT, &w, NULL)));
	wire(&rx, &w);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
	ck_assert_msg(pkt_seq(&w.p) == A.isn + INIT1_LEN,
		      "kernel seq ISN sent as wire seq %#x, expected ISN + INIT1_LEN = %#x",
		      pkt_seq(&w.p), A.isn + INIT1_LEN);
}
END_TEST

/* An RST before keys exist cannot be authenticated: the kernel judges it
 * unchanged, and the flow keeps its state, so a forged one the kernel
 * ignores cannot switch encryption off. */
START_TEST(test_rst_before_keys_keeps_flow)
{
	struct seg rst, orig;

	world(AF_INET);
	handshake_to_init1();
	kseg(&rst, &B, &A, B.isn + 1 + 4000, 0, TCP_RST, NULL, 0, NULL, 0);
	wire(&orig, &rst);
	ck_assert(passes(handle(&A, IN, &rst, NULL)));
	ck_assert_mem_eq(rst.p.buf, orig.p.buf, orig.p.len);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_KX);
	step_init2();
	ck_assert(flow_of(&A, &B)->keyed);
	/* Plaintext from A's kernel still cannot leave unprotected. */
	kseg(&rst, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, "secret", 6);
	ck_assert(passes(handle(&A, OUT, &rst, NULL)));
	ck_assert(has_mac(&rst));
	ck_assert(memcmp(pkt_payload(&rst.p), "secret", 6) != 0);
}
END_TEST

/* A's application resets during the key exchange: the RST is shifted
 * past Init1, carries 45 02, and afterwards nothing leaves in the clear. */
START_TEST(test_kernel_rst_during_kx)
{
	struct seg rst, data;

	world(AF_INET);
	handshake_to_init1();
	kseg(&rst, &A, &B, A.isn + 1, B.isn + 1, TCP_RST | TCP_ACK, NULL, 0, NULL, 0);
	ck_assert(passes(handle(&A, OUT, &rst, NULL)));
	ck_assert_uint_eq(pkt_seq(&rst.p), A.isn + 1 + INIT1_LEN);
	ck_assert_int_ge(opt_find(&rst, eno_ack_opt, 2), 0);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_CLOSED);
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "late", 4);
	ck_assert_int_eq(handle(&A, OUT, &data, NULL), EV_DROP);
}
END_TEST

/* B's sealed data overtakes Init2: A has no keys yet and drops it (B's
 * kernel retransmits). */
START_TEST(test_data_before_keys_dropped_at_a)
{
	struct seg s;

	world(AF_INET);
	handshake_to_init1();
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "early", 5);
	ck_assert(passes(handle(&B, OUT, &s, NULL)));
	ck_assert(has_mac(&s));
	ck_assert_uint_eq(pkt_seq(&s.p), B.isn + 1 + 74);
	ck_assert_int_eq(handle(&A, IN, &s, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.no_keys_drop, 1);
	step_init2();
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "early", 5);
	ck_assert(passes(handle(&B, OUT, &s, NULL)));
	ck_assert(passes(handle(&A, IN, &s, NULL)));
	ck_assert_mem_eq(pkt_payload(&s.p), "early", 5);
	ck_assert_uint_eq(pkt_seq(&s.p), B.isn + 1);
}
END_TEST

/* A flow holds at most max_held segments (_i = 0), and all flows together
 * at most max_held_total (_i = 1): beyond that they are dropped and the
 * kernel retransmits them. */
START_TEST(test_hold_limit)
{
	struct engine_config c;
	struct seg s;

	engine_config_defaults(&c);
	if (_i)
		c.max_held_total = 2;
	else
		c.max_held = 2;
	world_cfg(AF_INET, 0x11223344u, 0xaabbccddu, &c);
	handshake_to_init1();
	for (uint32_t i = 0; i < 3; i++) {
		kseg(&s, &A, &B, A.isn + 1 + 10 * i, B.isn + 1, TCP_ACK, ts_opts, 12, "0123456789",
		     10);
		ck_assert_int_eq(handle(&A, OUT, &s, NULL), i < 2 ? EV_HOLD : EV_DROP);
	}
	ck_assert_uint_eq(A.e.ctr.held, 2);
	ck_assert_uint_eq(A.e.held_total, 2);
	ck_assert_uint_eq(_i ? A.e.ctr.held_total_overflow : A.e.ctr.held_overflow, 1);
	step_init2();
	ck_assert_uint_eq(A.e.held_total, 0);
	ck_assert_uint_eq(A.log.nrel, 2);
	ck_assert(A.log.rel[0].accept && A.log.rel[1].accept);
}
END_TEST

/* Simultaneous open: both ends are b=0, which ENO cannot resolve.  While
 * A's SYN with ENO is out, a SYN for the same ports (which anyone can send)
 * is dropped and A's flow stays as it was. */
START_TEST(test_simultaneous_open_refused)
{
	struct seg syn;

	world(AF_INET);
	step_syn();
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	/* B's kernel also sends a SYN (with ENO from B's daemon as A-role). */
	kseg(&syn, &B, &A, B.isn, 0, TCP_SYN, syn_opts, 20, NULL, 0);
	ck_assert(passes(handle(&B, OUT, &syn, NULL)));
	ck_assert_int_eq(handle(&A, IN, &syn, NULL), EV_DROP);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	ck_assert_uint_eq(A.e.ctr.stray_syn, 1);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fallback to plaintext */

START_TEST(test_synack_without_eno)
{
	struct seg synack, data;
	bool mod;

	world(AF_INET);
	step_syn();
	/* B runs no daemon: its kernel's SYN-ACK reaches A unchanged. */
	kseg(&synack, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts, 20, NULL, 0);
	ck_assert_int_eq(handle(&A, IN, &synack, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_ptr_null(flow_of(&A, &B));
	ck_assert_uint_eq(A.e.ctr.eno_fallback, 1);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows, 1);
	/* Later segments pass untouched, without state. */
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, "plain", 5);
	ck_assert_int_eq(handle(&A, OUT, &data, &mod), EV_ACCEPT_PLAIN);
	ck_assert(!mod);
	ck_assert_mem_eq(pkt_payload(&data.p), "plain", 5);
}
END_TEST

START_TEST(test_syn_without_eno_at_b)
{
	struct seg syn, orig;
	bool mod = true;

	world(AF_INET);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, syn_opts, 20, NULL, 0);
	wire(&orig, &syn);
	ck_assert_int_eq(handle(&B, IN, &syn, &mod), EV_ACCEPT_PLAIN);
	ck_assert(!mod);
	ck_assert_mem_eq(syn.p.buf, orig.p.buf, orig.p.len);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(B.e.ctr.plaintext_flows, 1);
	/* A peer without ENO is no failure of ENO. */
	ck_assert_uint_eq(B.e.ctr.eno_fallback, 0);
}
END_TEST

START_TEST(test_syn_with_tfo_plaintext)
{
	/* Linux SYN with a Fast Open cookie (kind 34). */
	static const uint8_t tfo_syn[32] = {
		2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 1, 2, 3, 0, 0, 0, 0, 1, 3, 3, 7,
		34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1,
	};
	static const uint8_t exp_tfo[8] = { 254, 6, 0xf9, 0x89, 1, 1, 1, 1 };
	uint8_t opts[40];
	struct seg syn, orig;
	bool mod = true;

	world(AF_INET);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, tfo_syn, sizeof(tfo_syn), NULL, 0);
	wire(&orig, &syn);
	ck_assert_int_eq(handle(&A, OUT, &syn, &mod), EV_ACCEPT_PLAIN);
	ck_assert(!mod);
	ck_assert_mem_eq(syn.p.buf, orig.p.buf, orig.p.len);
	ck_assert_uint_eq(A.e.flows.count, 0);
	/* At B: a SYN with ENO and the experimental TFO option. */
	memcpy(opts, eno_a_opt, 5);
	opts[5] = 1;
	opts[6] = 1;
	opts[7] = 1;
	memcpy(opts + 8, exp_tfo, 8);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, opts, 16, NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &syn, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(B.e.ctr.eno_fallback, 1);
}
END_TEST

START_TEST(test_third_segment_without_eno_at_b)
{
	struct seg ack;

	world(AF_INET);
	step_syn();
	step_synack();
	/* Something stripped ENO from A's third segment (or A lost state). */
	kseg(&ack, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &ack, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(B.e.ctr.eno_fallback, 1);
	ck_assert_uint_eq(B.log.ninj, 0);
}
END_TEST

/* The first SYN and two retransmissions carry ENO, the third
 * retransmission goes without (doc/protocol.md section 11 (g)); the MSS of our
 * own SYNs is never ours to lower. */
START_TEST(test_third_syn_retransmission_without_eno)
{
	struct seg syn;

	world(AF_INET);
	for (int n = 1; n <= 5; n++) {
		kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, syn_opts, 20, NULL, 0);
		ck_assert(passes(handle(&A, OUT, &syn, NULL)));
		ck_assert_uint_eq(mss_of(&syn), 1460);
		if (n <= 3)
			ck_assert_int_eq(opt_find(&syn, eno_a_opt, 5), 20);
		else
			ck_assert_uint_eq(scan(&syn).eno_count, 0);
		now += US_SEC << n;
	}
	ck_assert_uint_eq(A.e.ctr.eno_syn_without, 2);
	ck_assert_uint_eq(A.e.flows.count, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Retransmissions and aborts */

START_TEST(test_init2_lost_b_retransmits)
{
	struct seg first, again;

	world(AF_INET);
	handshake_to_init1();
	inj_seg(&first, &B, 0);
	/* Init2 is lost; B's timer (200 ms, more than twice the handshake
	 * RTT here) fires. */
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.log.ninj, 1);
	now += 200 * US_MS - 1;
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.log.ninj, 1);
	now += 1;
	engine_tick(&B.e, now);
	ck_assert_uint_eq(B.log.ninj, 2);
	ck_assert_uint_eq(B.e.ctr.init_retransmit, 1);
	inj_seg(&again, &B, 1);
	ck_assert_uint_eq(again.p.len, first.p.len);
	ck_assert_mem_eq(again.p.buf, first.p.buf, first.p.len);
	/* The retransmission completes the exchange. */
	step_init2();
	ck_assert_int_eq(T.v_init2_a, EV_DROP);
	ck_assert(flow_of(&A, &B)->keyed);
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id, KX_SESSID_LEN);
}
END_TEST

START_TEST(test_duplicate_init1_same_init2)
{
	struct seg dup, first, again;

	world(AF_INET);
	handshake_to_init1();
	inj_seg(&first, &B, 0);
	now += 5 * US_MS;
	wire(&dup, &T.ack3);
	ck_assert_int_eq(handle(&B, IN, &dup, NULL), EV_DROP);
	ck_assert_uint_eq(B.log.ninj, 2);
	inj_seg(&again, &B, 1);
	ck_assert_mem_eq(again.p.buf, first.p.buf, first.p.len);
	ck_assert_uint_eq(B.log.nkeylog, 1);	/* no second key exchange */
	ck_assert_uint_eq(B.e.ctr.aborts, 0);
}
END_TEST

START_TEST(test_init1_retransmission_identical)
{
	struct seg r1, r2, rx;

	world(AF_INET);
	step_syn();
	step_synack();
	/* A's kernel completes its handshake; the Init1 carrier is lost. */
	kseg(&T.ack3, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert(passes(handle(&A, OUT, &T.ack3, NULL)));
	ck_assert_uint_eq(pkt_payload_len(&T.ack3.p), KX_INIT1_MAX_OWN);
	ck_assert_uint_eq(A.log.ninj, 0);
	now += 200 * US_MS;
	engine_tick(&A.e, now);
	ck_assert_uint_eq(A.log.ninj, 1);
	inj_seg(&r1, &A, 0);
	ck_assert_uint_eq(pkt_seq(&r1.p), A.isn + 1);
	ck_assert_uint_eq(pkt_ack(&r1.p), B.isn + 1);
	ck_assert_uint_eq(pkt_flags(&r1.p), TCP_ACK | TCP_PSH);
	ck_assert_int_ge(opt_find(&r1, eno_ack_opt, 2), 0);
	ck_assert_uint_eq(pkt_payload_len(&r1.p), KX_INIT1_MAX_OWN);
	ck_assert_mem_eq(pkt_payload(&r1.p), pkt_payload(&T.ack3.p), KX_INIT1_MAX_OWN);
	ck_assert(pkt_checksums_ok(&r1.p));
	now += 10 * US_SEC;
	engine_tick(&A.e, now);
	ck_assert_uint_eq(A.log.ninj, 2);
	inj_seg(&r2, &A, 1);
	ck_assert_uint_eq(r2.p.len, r1.p.len);
	ck_assert_mem_eq(r2.p.buf, r1.p.buf, r1.p.len);
	ck_assert_uint_eq(A.e.ctr.init_retransmit, 2);
	/* B takes the retransmission as A's Init1 and answers. */
	wire(&rx, &r2);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_uint_eq(B.log.ninj, 1);
	step_init2();
	ck_assert(flow_of(&A, &B)->keyed);
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id, KX_SESSID_LEN);
}
END_TEST

static bool a_aborted(void)
{
	return A.e.ctr.aborts > 0 || A.e.flows.count == 0;
}

static bool b_aborted(void)
{
	return B.e.ctr.aborts > 0 || B.e.flows.count == 0;
}

/* The two RSTs of an abort: one to the peer, one to the local kernel
 * from the peer's address at the sequence number the kernel expects. */
static void check_abort_rsts(const struct host *h, const struct host *peer, uint32_t peer_seq,
			     uint32_t peer_ack, bool peer_tagged, uint32_t local_seq)
{
	struct seg to_peer, to_local;

	ck_assert_uint_ge(h->log.ninj, 2);
	inj_seg(&to_peer, h, h->log.ninj - 2);
	inj_seg(&to_local, h, h->log.ninj - 1);

	ck_assert_uint_eq(pkt_flags(&to_peer.p), TCP_RST | TCP_ACK);
	ck_assert_mem_eq(pkt_saddr(&to_peer.p), h->addr, alen(h));
	ck_assert_mem_eq(pkt_daddr(&to_peer.p), peer->addr, alen(h));
	ck_assert_uint_eq(pkt_sport(&to_peer.p), h->port);
	ck_assert_uint_eq(pkt_dport(&to_peer.p), peer->port);
	ck_assert_uint_eq(pkt_seq(&to_peer.p), peer_seq);
	ck_assert_uint_eq(pkt_ack(&to_peer.p), peer_ack);
	ck_assert(has_mac(&to_peer) == peer_tagged);
	ck_assert(pkt_checksums_ok(&to_peer.p));

	ck_assert_uint_eq(pkt_flags(&to_local.p) & TCP_RST, TCP_RST);
	ck_assert_mem_eq(pkt_saddr(&to_local.p), peer->addr, alen(h));
	ck_assert_mem_eq(pkt_daddr(&to_local.p), h->addr, alen(h));
	ck_assert_uint_eq(pkt_sport(&to_local.p), peer->port);
	ck_assert_uint_eq(pkt_dport(&to_local.p), h->port);
	ck_assert_uint_eq(pkt_seq(&to_local.p), local_seq);
	ck_assert(!has_mac(&to_local));
	ck_assert(pkt_checksums_ok(&to_local.p));
	ck_assert_uint_eq(h->e.ctr.aborts, 1);
}

/* A's Init1 is never answered: retransmissions after 0.2, 0.6, 1.4 ...
 * 102.2 s (9 of them), then the abort 120 s after the first send; data
 * held meanwhile is dropped, not leaked. */
START_TEST(test_init1_unanswered_aborts)
{
	struct seg data;

	world(AF_INET);
	handshake_to_init1();
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "hi", 2);
	ck_assert_int_eq(handle(&A, OUT, &data, NULL), EV_HOLD);
	run_timers(&A, 120 * US_SEC, a_aborted);
	ck_assert_uint_eq(A.e.ctr.aborts, 1);
	ck_assert_uint_eq(count_init_injected(&A, KX_INIT1_MAGIC), 9);
	ck_assert_uint_eq(A.e.ctr.init_retransmit, 9);
	ck_assert_uint_eq(A.log.ninj, 9 + 2);
	/* A's kernel expects B's ISN + 1 next; A has no keys: no tag. */
	check_abort_rsts(&A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1, false, B.isn + 1);
	/* Before Init2, everything A sends carries 45 02, its RST too. */
	inj_seg(&data, &A, A.log.ninj - 2);
	ck_assert_int_ge(opt_find(&data, eno_ack_opt, 2), 0);
	ck_assert_uint_eq(A.log.nrel, 1);
	ck_assert(!A.log.rel[0].accept);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_ABORTED);
	/* Stragglers of the aborted connection go nowhere. */
	kseg(&data, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, "hi", 2);
	ck_assert_int_eq(handle(&A, OUT, &data, NULL), EV_DROP);
}
END_TEST

/* B's Init2 is never acknowledged: B has keys, so its RST is tagged. */
START_TEST(test_init2_unacknowledged_aborts)
{
	world(AF_INET);
	handshake_to_init1();
	run_timers(&B, 120 * US_SEC, b_aborted);
	ck_assert_uint_eq(B.e.ctr.aborts, 1);
	ck_assert_uint_eq(count_init_injected(&B, KX_INIT2_MAGIC), 1 + 9);
	ck_assert_uint_eq(B.log.ninj, 1 + 9 + 2);
	check_abort_rsts(&B, &A, B.isn + 1 + 74, A.isn + 1 + INIT1_LEN, true, A.isn + 1);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ABORTED);
}
END_TEST

/* With a 1 s handshake RTT the retransmissions start at 2 s (2, 6, 14, 30,
 * 62 s) and the abort comes at 120 s; a timer running past the handshake
 * idle limit must still end in the abort with RSTs (doc/protocol.md
 * section 9), not in a silent expiry that leaves the application with a
 * dead connection. */
START_TEST(test_slow_path_init1_unanswered_aborts)
{
	world(AF_INET);
	hop = 500 * US_MS;		/* 1 s round trip */
	handshake_to_init1();
	ck_assert_uint_eq(A.e.flows.count, 1);
	run_timers(&A, 1000 * US_SEC, a_aborted);
	ck_assert_uint_eq(count_init_injected(&A, KX_INIT1_MAGIC), 5);
	ck_assert_msg(A.e.ctr.aborts == 1, "flow expired after %u retransmissions, no abort",
		      (unsigned)A.e.ctr.init_retransmit);
	check_abort_rsts(&A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1, false, B.isn + 1);
}
END_TEST

/* _i: 0 bad magic, 1 truncated Init1, 2 no supported suite, 3 len past the
 * segment. */
START_TEST(test_malformed_init1_aborts)
{
	struct seg bad;
	uint8_t *pl;

	world(AF_INET);
	step_syn();
	step_synack();
	kseg(&T.ack3, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert(passes(handle(&A, OUT, &T.ack3, NULL)));
	wire(&bad, &T.ack3);
	pl = pkt_payload(&bad.p);
	switch (_i) {
	case 0:
		pl[0] ^= 0xff;
		break;
	case 1:
		ck_assert_int_eq(pkt_set_payload(&bad.p, pl, 40), 0);
		break;
	case 2:
		/* Suites that exist, but not in version 2. */
		put_be16(pl + 9, 0x7401);
		put_be16(pl + 11, 0x0001);
		break;
	default:
		put_be32(pl + 4, 200);
		break;
	}
	pkt_fix_checksums(&bad.p);
	now += hop;
	ck_assert_int_eq(handle(&B, IN, &bad, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.init_bad, 1);
	ck_assert_uint_eq(B.e.ctr.no_common_suite, _i == 2);
	ck_assert_uint_eq(B.log.nkeylog, 0);
	/* Never plaintext once ENO is on: reset both ways, untagged (no keys). */
	check_abort_rsts(&B, &A, B.isn + 1, A.isn + 1, false, A.isn + 1);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ABORTED);
	ck_assert_uint_eq(B.e.ctr.plaintext_flows, 0);
}
END_TEST

/* A malformed Init2 makes A abort too. */
START_TEST(test_malformed_init2_aborts)
{
	struct seg bad;

	world(AF_INET);
	handshake_to_init1();
	inj_seg(&bad, &B, 0);
	put_be16(pkt_payload(&bad.p) + 8, 0x7401);	/* a suite A never offered */
	pkt_fix_checksums(&bad.p);
	ck_assert_int_eq(handle(&A, IN, &bad, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.init_bad, 1);
	check_abort_rsts(&A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1, false, B.isn + 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Flow lifetime */

/* A's SYN retransmission arrives late at B, after the handshake and the
 * key exchange: B keeps its keys (the kernel answers the SYN itself), and
 * so does a forged SYN with another ISN.  Data still decrypts. */
START_TEST(test_late_syn_keeps_state)
{
	static const char msg[] = "after a late SYN";
	struct seg syn, rx;

	world(AF_INET);
	full_handshake();
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, syn_opts, sizeof(syn_opts), NULL, 0);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	kseg(&syn, &A, &B, A.isn + 12345, 0, TCP_SYN, syn_opts, sizeof(syn_opts), NULL, 0);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ENCRYPTED);
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg), NULL,
	     &rx);
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1);
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
}
END_TEST

/* Before B has sent its SYN-ACK, nothing with a payload can be genuine. */
START_TEST(test_data_before_synack_dropped)
{
	static const char junk[] = "too early";
	struct seg d;

	world(AF_INET);
	step_syn();
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_SYN_RCVD);
	kseg(&d, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, junk, sizeof(junk));
	ck_assert_int_eq(handle(&B, IN, &d, NULL), EV_DROP);
}
END_TEST

/* A SYN flood fills the table: half-open flows are evicted, oldest first,
 * and the established connection survives on both hosts. */
START_TEST(test_eviction_spares_established)
{
	struct engine_config c;
	uint16_t port0;
	int i;

	engine_config_defaults(&c);
	c.max_flows = 16;
	world_cfg(AF_INET, 0x11223344u, 0xaabbccddu, &c);
	full_handshake();
	port0 = A.port;
	for (i = 0; i < 100; i++) {
		struct seg syn, rx;

		A.port = (uint16_t)(50000 + i);
		kseg(&syn, &A, &B, A.isn + (uint32_t)i, 0, TCP_SYN, syn_opts, sizeof(syn_opts),
		     NULL, 0);
		ck_assert(passes(handle(&A, OUT, &syn, NULL)));
		wire(&rx, &syn);
		ck_assert(passes(handle(&B, IN, &rx, NULL)));
		ck_assert_uint_le(A.e.flows.count, 16);
		ck_assert_uint_le(B.e.flows.count, 16);
	}
	ck_assert_uint_ge(B.e.ctr.flows_evicted, 100 + 1 - 16);
	A.port = port0;
	ck_assert_ptr_nonnull(flow_of(&A, &B));
	ck_assert_ptr_nonnull(flow_of(&B, &A));
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_ENCRYPTED);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ENCRYPTED);
	/* The newest half-open flow is still there; the oldest is gone. */
	A.port = 50099;
	ck_assert_ptr_nonnull(flow_of(&B, &A));
	A.port = 50000;
	ck_assert_ptr_null(flow_of(&B, &A));
	A.port = port0;
}
END_TEST

START_TEST(test_idle_expiry)
{
	world(AF_INET);
	full_handshake();
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	now += 3600 * US_SEC;
	engine_tick(&A.e, now);
	ck_assert_uint_eq(A.e.flows.count, 1);	/* idle, not yet too long */
	/* Segments from the network, which anyone who knows the ports can
	 * send (here an untagged ACK, dropped), do not keep the flow alive. */
	{
		struct seg junk;

		kseg(&junk, &B, &A, B.isn + 1 + 74, A.isn + 1 + INIT1_LEN, TCP_ACK, ts_opts, 12, NULL, 0);
		ck_assert_int_eq(handle(&A, IN, &junk, NULL), EV_DROP);
	}
	now += 3601 * US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(A.e.ctr.flows_expired, 1);
	ck_assert_uint_eq(B.e.ctr.flows_expired, 1);
}
END_TEST

/* A SYN that is never answered: the handshake limit applies. */
START_TEST(test_handshake_idle_expiry)
{
	world(AF_INET);
	step_syn();
	ck_assert_uint_eq(A.e.flows.count, 1);
	ck_assert_uint_eq(B.e.flows.count, 1);
	now += 151 * US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_uint_eq(B.e.flows.count, 0);
}
END_TEST

START_TEST(test_fin_linger)
{
	struct seg rx;

	world(AF_INET);
	full_handshake();
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_FIN, ts_opts, 12, "bye", 3, NULL, &rx);
	ck_assert_uint_eq(pkt_flags(&rx.p) & TCP_FIN, TCP_FIN);
	ck_assert_mem_eq(pkt_payload(&rx.p), "bye", 3);
	xfer(&B, &A, B.isn + 1, A.isn + 1 + 4, TCP_ACK | TCP_FIN, ts_opts, 12, NULL, 0, NULL, &rx);
	ck_assert_uint_eq(pkt_ack(&rx.p), A.isn + 1 + 4);
	/* A's last ACK covers B's FIN. */
	xfer(&A, &B, A.isn + 1 + 4, B.isn + 2, TCP_ACK, ts_opts, 12, NULL, 0, NULL, &rx);
	ck_assert_uint_eq(pkt_ack(&rx.p), B.isn + 2);
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(A.e.flows.count, 1);
	ck_assert_uint_eq(B.e.flows.count, 1);
	now += 61 * US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_uint_eq(B.e.flows.count, 0);
}
END_TEST

START_TEST(test_rst_linger)
{
	struct seg rx;

	world(AF_INET);
	full_handshake();
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_RST, NULL, 0, NULL, 0, NULL, &rx);
	ck_assert_uint_eq(pkt_flags(&rx.p) & TCP_RST, TCP_RST);
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_CLOSED);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_CLOSED);
	now += 61 * US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(A.e.ctr.flows_expired + B.e.ctr.flows_expired, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Blind forgeries: the attacker knows the addresses and ports, not the
 * sequence numbers.  No such segment may end, re-role or downgrade a flow,
 * move its offsets or stop its timers. */

#include "policy.h"

static struct policy test_policy;
static const uint8_t eno_ack_padded_opt[4] = { 0x45, 0x02, TCPOPT_NOP, TCPOPT_NOP };

static void use_policy(struct host *h, const char *rule)
{
	struct policy_rule r;
	char why[160];

	ck_assert_msg(policy_parse_rule(rule, &r, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(policy_add(&test_policy, &r), 0);
	engine_set_policy(&h->e, &test_policy);
}

static void policy_teardown(void)
{
	teardown();
	policy_free(&test_policy);
	memset(&test_policy, 0, sizeof(test_policy));
}

/* from's address and ports, to to: a SYN with any ISN, with or without
 * A's ENO option. */
static void forged_syn(struct seg *s, const struct host *from, const struct host *to,
		       uint32_t isn, bool eno)
{
	uint8_t opts[28];

	memcpy(opts, syn_opts, sizeof(syn_opts));
	memcpy(opts + 20, eno_a_opt, sizeof(eno_a_opt));
	opts[25] = opts[26] = opts[27] = TCPOPT_NOP;
	kseg(s, from, to, isn, 0, TCP_SYN, opts, eno ? sizeof(opts) : sizeof(syn_opts), NULL, 0);
}

/* A's kernel sends data; it must leave sealed. */
static void expect_sealed(struct host *h, const struct host *peer, uint32_t seq, uint32_t ack)
{
	static const char secret[] = "SECRET-PLAINTEXT";
	struct seg d;
	enum engine_verdict v;

	kseg(&d, h, peer, seq, ack, TCP_ACK | TCP_PSH, ts_opts, 12, secret, sizeof(secret));
	v = handle(h, OUT, &d, NULL);
	ck_assert_msg(v == EV_ACCEPT || v == EV_ACCEPT_ENCRYPTED || v == EV_HOLD || v == EV_DROP,
		      "verdict %d", v);
	if (v != EV_HOLD && v != EV_DROP) {
		ck_assert(has_mac(&d));
		ck_assert(memcmp(pkt_payload(&d.p), secret, sizeof(secret)) != 0);
	}
}

/* Item: a SYN with ENO for an encrypted client connection used to make A
 * forget it and pass its data in clear. */
START_TEST(test_forged_syn_keeps_encrypted_flow)
{
	struct seg syn;

	world(_i ? AF_INET6 : AF_INET);
	full_handshake();
	for (int eno = 0; eno < 2; eno++) {
		forged_syn(&syn, &B, &A, 0x5a5a0000u + (uint32_t)eno, eno);
		ck_assert(passes(handle(&A, IN, &syn, NULL)));
		ck_assert_int_eq(flow_of(&A, &B)->role, ROLE_A);
		ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_ENCRYPTED);
		expect_sealed(&A, &B, A.isn + 1, B.isn + 1);
		/* The same against B, as the client. */
		forged_syn(&syn, &A, &B, 0x6b6b0000u + (uint32_t)eno, eno);
		ck_assert(passes(handle(&B, IN, &syn, NULL)));
		ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ENCRYPTED);
		expect_sealed(&B, &A, B.isn + 1, A.isn + 1);
	}
	ck_assert_uint_eq(A.e.ctr.stray_syn, 2);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows + B.e.ctr.plaintext_flows, 0);
}
END_TEST

/* The same while A waits for Init2 (its data held), and on B after both
 * FINs (its kernel may still retransmit its FIN). */
START_TEST(test_forged_syn_during_kx_and_close)
{
	static const char msg[] = "held data";
	struct seg syn, d, rx;
	uint32_t a_nxt, b_nxt;

	world(AF_INET);
	handshake_to_init1();
	kseg(&d, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg));
	ck_assert_int_eq(handle(&A, OUT, &d, NULL), EV_HOLD);
	forged_syn(&syn, &B, &A, 0x01020304u, true);
	ck_assert(passes(handle(&A, IN, &syn, NULL)));
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_KX);
	ck_assert_uint_eq(A.log.nrel, 0);
	/* A kernel retransmission is still held, not passed in clear. */
	kseg(&d, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg));
	ck_assert_int_eq(handle(&A, OUT, &d, NULL), EV_HOLD);
	step_init2();
	ck_assert_uint_eq(A.log.nrel, 2);
	ck_assert(A.log.rel[0].accept && A.log.rel[1].accept);
	seg_load(&d, A.log.rel[0].data, A.log.rel[0].len);
	ck_assert(has_mac(&d));

	/* Both FINs, then a SYN for B's ports. */
	a_nxt = A.isn + 1 + sizeof(msg);
	b_nxt = B.isn + 1;
	xfer(&A, &B, a_nxt, b_nxt, TCP_ACK | TCP_FIN, ts_opts, 12, NULL, 0, NULL, &rx);
	xfer(&B, &A, b_nxt, a_nxt + 1, TCP_ACK | TCP_FIN, ts_opts, 12, NULL, 0, NULL, &rx);
	ck_assert(flow_of(&B, &A)->fin_in && flow_of(&B, &A)->fin_out);
	forged_syn(&syn, &A, &B, 0x77777777u, true);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	ck_assert_int_eq(flow_of(&B, &A)->role, ROLE_B);
	ck_assert(flow_of(&B, &A)->keyed);
	/* B's kernel retransmits its FIN: sealed. */
	kseg(&d, &B, &A, b_nxt, a_nxt + 1, TCP_ACK | TCP_FIN, ts_opts, 12, NULL, 0);
	ck_assert(passes(handle(&B, OUT, &d, NULL)));
	ck_assert(has_mac(&d));
}
END_TEST

/* Only our kernel's SYN-ACK for another ISN shows that a SYN started a new
 * connection on the same ports: then the old flow goes, and the peer's
 * retransmitted SYN negotiates afresh. */
START_TEST(test_reused_ports_replace_flow_when_kernel_accepts)
{
	struct seg syn, synack, rx;
	uint32_t new_isn = A.isn + 0x10000000u;

	world(AF_INET);
	full_handshake();
	forged_syn(&syn, &A, &B, new_isn, true);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	ck_assert_uint_le(mss_of(&syn), 1460 - 16);
	ck_assert(flow_of(&B, &A)->keyed);
	/* B's kernel took it (its socket was in TIME_WAIT); a SYN-ACK for
	 * another ISN than the SYN remembered is dropped. */
	kseg(&synack, &B, &A, B.isn + 0x20000000u, new_isn + 2, TCP_SYN | TCP_ACK, synack_opts,
	     20, NULL, 0);
	ck_assert_int_eq(handle(&B, OUT, &synack, NULL), EV_DROP);
	ck_assert_ptr_null(flow_of(&B, &A));
	ck_assert_uint_eq(B.e.ctr.flows_replaced, 1);
	/* Its retransmission has no flow and the connmark of the old
	 * connection: dropped, no RSTs (the peer's SYN comes again). */
	kseg(&synack, &B, &A, B.isn + 0x20000000u, new_isn + 2, TCP_SYN | TCP_ACK, synack_opts,
	     20, NULL, 0);
	ck_assert_int_eq(handle_ce(&B, OUT, true, &synack, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.lost_flow_reset, 0);
	/* A's SYN again: a new connection, negotiated as any other. */
	forged_syn(&syn, &A, &B, new_isn, true);
	wire(&rx, &syn);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_SYN_RCVD);
	ck_assert_uint_eq(flow_of(&B, &A)->rcv.isn, new_isn);
}
END_TEST

/* The same, with the SYN-ACK answering the remembered SYN: the new
 * connection negotiates right away (no wait for the peer's retransmission),
 * and completes with fresh keys. */
START_TEST(test_reused_ports_negotiate_at_once)
{
	struct seg syn, synack, rx;
	uint32_t new_isn = A.isn + 0x10000000u;
	uint8_t old_sid[KX_SESSID_LEN];

	world(AF_INET);
	full_handshake();
	memcpy(old_sid, flow_of(&B, &A)->session_id, sizeof(old_sid));
	/* A's kernel reuses the ports: its daemon starts a new flow. */
	A.isn = new_isn;
	step_syn();
	ck_assert(passes(T.v_syn_b));
	ck_assert_uint_eq(B.e.ctr.stray_syn, 1);
	kseg(&synack, &B, &A, B.isn + 0x20000000u, new_isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert_int_eq(handle(&B, OUT, &synack, NULL), EV_ACCEPT);
	ck_assert_uint_eq(B.e.ctr.flows_replaced, 1);
	ck_assert_int_eq(opt_find(&synack, eno_b_opt, sizeof(eno_b_opt)), 20);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_KX);
	B.isn += 0x20000000u;
	wire(&rx, &synack);
	ck_assert_int_eq(handle(&A, IN, &rx, NULL), EV_ACCEPT_ENCRYPTED);
	step_init1();
	step_init2();
	ck_assert(flow_of(&A, &B)->keyed && flow_of(&B, &A)->keyed);
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id,
			 KX_SESSID_LEN);
	ck_assert(memcmp(flow_of(&B, &A)->session_id, old_sid, KX_SESSID_LEN) != 0);
	/* Once more, from a client without ENO: the kernel's SYN-ACK goes
	 * out at once, in plaintext. */
	forged_syn(&syn, &A, &B, new_isn + 0x10000000u, false);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	kseg(&synack, &B, &A, B.isn + 0x20000000u, new_isn + 0x10000001u, TCP_SYN | TCP_ACK,
	     synack_opts, sizeof(synack_opts), NULL, 0);
	ck_assert_int_eq(handle(&B, OUT, &synack, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(scan(&synack).eno_count, 0);
	ck_assert_ptr_null(flow_of(&B, &A));
	ck_assert_uint_eq(B.e.ctr.flows_replaced, 2);
	/* The same after a reload to "private" between the SYN and the
	 * kernel's SYN-ACK: the SYN-ACK is dropped, never sent in clear. */
	full_handshake();
	forged_syn(&syn, &A, &B, new_isn + 0x30000000u, false);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	use_policy(&B, "private port 80");
	kseg(&synack, &B, &A, B.isn + 0x40000000u, new_isn + 0x30000001u, TCP_SYN | TCP_ACK,
	     synack_opts, sizeof(synack_opts), NULL, 0);
	ck_assert_int_eq(handle(&B, OUT, &synack, NULL), EV_DROP);
	ck_assert_ptr_null(flow_of(&B, &A));
}
END_TEST

/* Under "private" (and whenever A's SYN carried ENO) a SYN during A's
 * SYN_SENT is no simultaneous open: dropped, and the real SYN-ACK still
 * negotiates. */
START_TEST(test_private_syn_sent_forged_syn)
{
	struct seg syn;

	world(AF_INET);
	use_policy(&A, "private port 80");
	step_syn();
	forged_syn(&syn, &B, &A, 0xdeadbeefu, false);
	ck_assert_int_eq(handle(&A, IN, &syn, NULL), EV_DROP);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	step_synack();
	ck_assert_int_eq(T.v_synack_a, EV_ACCEPT_ENCRYPTED);
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_KX);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows, 0);
}
END_TEST

/* A forged SYN-ACK without ENO used to make A fall back to plaintext
 * before its kernel even looked at it. */
START_TEST(test_forged_synack_ignored)
{
	struct seg synack, rst;
	static const uint32_t acks[] = { 0, 0x80000000u, 0x12345678u, 0xfffffffeu };

	world(AF_INET);
	step_syn();
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		uint32_t ack = A.isn + 0x40000000u + acks[i];

		kseg(&synack, &B, &A, 0x99999999u, ack, TCP_SYN | TCP_ACK, synack_opts, 20, NULL, 0);
		ck_assert_int_eq(handle(&A, IN, &synack, NULL), EV_DROP);
		ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	}
	ck_assert_uint_eq(A.e.ctr.out_of_window, 4);
	ck_assert_uint_eq(A.e.ctr.eno_fallback, 0);
	/* Had one reached A's kernel, its RST would not lose the flow. */
	kseg(&rst, &A, &B, 0x12345678u, 0, TCP_RST, NULL, 0, NULL, 0);
	ck_assert(passes(handle(&A, OUT, &rst, NULL)));
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_SYN_SENT);
	step_synack();
	ck_assert_int_eq(flow_of(&A, &B)->state, FLOW_KX);
	step_init1();
	step_init2();
	ck_assert(flow_of(&A, &B)->keyed);
}
END_TEST

/* B's "no ENO on the first ACK" rule, and its wait for Init1, apply only
 * to the ACK its kernel would take. */
START_TEST(test_forged_first_ack_at_b)
{
	struct seg ack;

	world(AF_INET);
	use_policy(&B, "private port 80");
	step_syn();
	step_synack();
	/* Without ENO, not acknowledging B's SYN-ACK: dropped, no abort. */
	kseg(&ack, &A, &B, A.isn + 1, B.isn + 7, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &ack, NULL), EV_DROP);
	kseg(&ack, &A, &B, A.isn + 0x80000000u, B.isn + 1, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &ack, NULL), EV_DROP);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_KX);
	ck_assert_uint_eq(B.e.ctr.aborts + B.e.ctr.eno_fallback, 0);
	ck_assert_uint_eq(B.e.ctr.out_of_window, 2);
	/* A bare ACK with ENO is not passed: B's kernel would complete its
	 * handshake and its application's data would pile up in the hold. */
	kseg(&ack, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, eno_ack_padded_opt, 4, NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &ack, NULL), EV_DROP);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_KX);
	step_init1();
	ck_assert(passes(T.v_ack3_b));
	step_init2();
	step_ack4();
	ck_assert(passes(T.v_ack4_b));
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ENCRYPTED);
}
END_TEST

/* Untagged pure ACKs before A's first tag used to move B's offsets by up
 * to 2^31 each (so that every genuine segment failed its MAC) and to stop
 * B's Init2 retransmissions. */
START_TEST(test_untagged_acks_move_nothing)
{
	struct seg ack, rx;
	struct flow *fb;
	uint64_t high;
	static const char msg[] = "still intact";

	world(AF_INET);
	handshake_to_init1();
	fb = flow_of(&B, &A);
	high = fb->rcv.high;
	for (uint32_t i = 1; i <= 4; i++) {
		kseg(&ack, &A, &B, A.isn + 1 + INIT1_LEN + i * 0x7fffffffu, B.isn + 1 + 74 + i * 0x40000000u,
		     TCP_ACK, ts_opts, 12, NULL, 0);
		ck_assert_int_eq(handle(&B, IN, &ack, NULL), EV_DROP);
	}
	ck_assert_uint_eq(fb->rcv.high, high);
	/* One that A could send (acknowledging Init2) passes, and stops
	 * nothing either. */
	kseg(&ack, &A, &B, A.isn + 1 + INIT1_LEN, B.isn + 1 + 74, TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert(passes(handle(&B, IN, &ack, NULL)));
	ck_assert_ptr_nonnull(fb->hs);
	ck_assert_uint_ne(fb->hs->rtx_deadline, 0);
	step_init2();
	step_ack4();
	ck_assert(passes(T.v_ack4_b));
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg), NULL,
	     &rx);
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
	ck_assert_uint_eq(B.e.ctr.mac_fail, 0);
}
END_TEST

/* A connection without state passes in clear only where the policy allows
 * it; one whose peer shows ENO was switched on never does. */
START_TEST(test_no_state_policy_and_eno)
{
	struct seg s;

	world(AF_INET);
	use_policy(&B, "private port 80");
	kseg(&s, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "plain", 5);
	ck_assert_int_eq(handle(&B, IN, &s, NULL), EV_DROP);
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "reply", 5);
	ck_assert_int_eq(handle(&B, OUT, &s, NULL), EV_DROP);
	ck_assert_uint_eq(B.e.ctr.policy_lost_drop, 2);
	/* A, private-or-clear: A's Init1 carrier (45 02) reaching a B that lost
	 * its flow is not data for B's application. */
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK, eno_ack_padded_opt, 4, "x", 1);
	ck_assert_int_eq(handle(&A, IN, &s, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.lost_flow_drop, 1);
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK, ts_opts, 12, "x", 1);
	ck_assert_int_eq(handle(&A, IN, &s, NULL), EV_ACCEPT_PLAIN);
}
END_TEST

/* An abandoned handshake's held segments are dropped by its Init timer,
 * and leave the engine-wide count. */
START_TEST(test_abandoned_hold_dropped)
{
	struct seg s;

	world(AF_INET);
	handshake_to_init1();
	kseg(&s, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, 12, "0123456789", 10);
	ck_assert_int_eq(handle(&A, OUT, &s, NULL), EV_HOLD);
	run_timers(&A, 600 * US_SEC, a_aborted);
	ck_assert(a_aborted());
	ck_assert_uint_eq(A.e.held_total, 0);
	ck_assert_uint_eq(A.log.nrel, 1);
	ck_assert(!A.log.rel[0].accept);
}
END_TEST

/* Packets the daemon cannot parse: dropped when they may belong to a
 * connection committed to encryption or under "private". */
START_TEST(test_unparsed_packets)
{
	struct flow_key k;

	world(AF_INET);
	full_handshake();
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	memcpy(k.laddr, A.addr, 4);
	memcpy(k.raddr, B.addr, 4);
	k.lport = A.port;
	k.rport = B.port;
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, true), EV_DROP);
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, true, &k, false), EV_DROP);
	k.rport = 81;
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, true), EV_ACCEPT);
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, false), EV_ACCEPT);
	use_policy(&A, "private port 81");
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, true), EV_DROP);
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, false), EV_DROP);
	k.rport = 82;
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, &k, true), EV_ACCEPT);
	ck_assert_int_eq(engine_handle_unparsed(&A.e, IN, false, NULL, false), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.malformed, 8);
}
END_TEST

/* An MPTCP SYN gets no ENO: plaintext, or under "private" dropped. */
START_TEST(test_syn_with_mptcp_plaintext)
{
	static const uint8_t mp_syn[24] = {
		2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 1, 2, 3, 0, 0, 0, 0, 1, 3, 3, 7,
		30, 4, 0x01, 0x81,
	};
	struct seg syn, orig;
	bool mod = true;

	world(AF_INET);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, mp_syn, sizeof(mp_syn), NULL, 0);
	wire(&orig, &syn);
	ck_assert_int_eq(handle(&A, OUT, &syn, &mod), EV_ACCEPT_PLAIN);
	ck_assert(!mod);
	ck_assert_mem_eq(syn.p.buf, orig.p.buf, orig.p.len);
	ck_assert_uint_eq(A.e.flows.count, 0);
	use_policy(&A, "private port 80");
	kseg(&syn, &A, &B, A.isn + 1000, 0, TCP_SYN, mp_syn, sizeof(mp_syn), NULL, 0);
	ck_assert_int_eq(handle(&A, OUT, &syn, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.policy_refused, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Version 2: suites, generations, MSS, resumption offers */

/* A offers only ChaCha20; B prefers AES-128 but takes A's list in A's
 * order.  _i = 1: B accepts only AES-128, no suite in common: B aborts
 * with RSTs both ways, never plaintext. */
START_TEST(test_suite_negotiation)
{
	struct engine_config ca, cb;
	struct seg rx;

	engine_config_defaults(&ca);
	engine_config_defaults(&cb);
	ca.suites[0] = SEAL2_SUITE_CHACHA20;
	ca.nsuites = 1;
	cb.suites[0] = SEAL2_SUITE_AES128CTR;
	cb.suites[1] = SEAL2_SUITE_CHACHA20;
	cb.nsuites = _i ? 1 : 2;
	now = 1000 * US_SEC;
	hop = 10 * US_MS;
	host_init(&A, AF_INET, 0, 0x11223344u, &ca);
	host_init(&B, AF_INET, 1, 0xaabbccddu, &cb);
	step_syn();
	step_synack();
	step_init1();
	ck_assert_uint_eq(pkt_payload_len(&T.ack3.p), 75);
	if (_i) {
		ck_assert_int_eq(T.v_ack3_b, EV_DROP);
		ck_assert_uint_eq(B.e.ctr.no_common_suite, 1);
		ck_assert_uint_eq(B.e.ctr.init_bad, 1);
		ck_assert_uint_eq(B.e.ctr.plaintext_flows, 0);
		ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_ABORTED);
		check_abort_rsts(&B, &A, B.isn + 1, A.isn + 1, false, A.isn + 1);
		return;
	}
	step_init2();
	ck_assert_uint_eq(flow_of(&A, &B)->suite, SEAL2_SUITE_CHACHA20);
	ck_assert_uint_eq(flow_of(&B, &A)->suite, SEAL2_SUITE_CHACHA20);
	ck_assert_uint_eq(A.e.ctr.suite_chacha20, 1);
	ck_assert_uint_eq(B.e.ctr.suite_chacha20, 1);
	ck_assert_uint_eq(B.e.ctr.suite_aes128, 0);
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, "chacha", 6, NULL, &rx);
	ck_assert_mem_eq(pkt_payload(&rx.p), "chacha", 6);
}
END_TEST

/* The MSS of the peer's SYN and SYN-ACK: lowered by 16 after fitting the
 * route MTU; a SYN without MSS gets the protocol default minus 16.  Our
 * own SYNs keep theirs. */
static unsigned route_mtu_1400(void *ctx, const struct flow_key *k)
{
	(void)ctx;
	(void)k;
	return 1400;
}

START_TEST(test_mss_fits_route_mtu)
{
	static const uint8_t no_mss[] = { 1, 1, 4, 2, 1, 1, 1, 0 };
	struct seg syn, rx;

	world(_i ? AF_INET6 : AF_INET);
	B.e.io.route_mtu = route_mtu_1400;
	step_syn();
	ck_assert_uint_eq(mss_of(&T.syn), 1460);
	ck_assert_uint_eq(mss_of(&T.syn_rx), 1400 - (_i ? 60 : 40) - 16);
	/* A SYN without an MSS option, on another port. */
	A.port++;
	kseg(&syn, &A, &B, A.isn + 7, 0, TCP_SYN, no_mss, sizeof(no_mss), NULL, 0);
	ck_assert(passes(handle(&A, OUT, &syn, NULL)));
	wire(&rx, &syn);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_uint_eq(mss_of(&rx), (_i ? 1220 : 536) - 16);
	ck_assert(pkt_checksums_ok(&rx.p));
}
END_TEST

/* B holds no resumption secrets: an offer (45 12 a0 74 32 | R | n) is
 * declined with the fresh form, and the transcript keeps A's 18 bytes as
 * they came, so both ends derive the same keys.  The other way round, an
 * accepting SYN-ACK to a fresh offer aborts the connection at A. */
START_TEST(test_resumption_offer_declined)
{
	static const uint8_t offer[] = {
		2, 4, 5, 0xb4, 0x45, 0x12, 0xa0, 0x74, 0x32, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		0xa, 0xb, 0xc, 0xd, 1, 0,
	};
	static const uint8_t accept[] = {
		2, 4, 5, 0xb4, 0x45, 0x13, 0x01, 0xa0, 0x74, 0x32, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		0xa, 0xb, 0xc, 0xd, 0,
	};
	struct seg syn, synack, rx;

	world(AF_INET);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, offer, sizeof(offer), NULL, 0);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	ck_assert_uint_eq(B.e.ctr.resume_declined, 1);
	ck_assert_uint_eq(flow_of(&B, &A)->hs->a_opt_len, 18);
	kseg(&synack, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert(passes(handle(&B, OUT, &synack, NULL)));
	ck_assert_int_eq(opt_find(&synack, eno_b_opt, sizeof(eno_b_opt)), 20);

	/* A's side: an accepting answer to its fresh offer. */
	teardown();
	world(AF_INET);
	step_syn();
	kseg(&synack, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, accept, sizeof(accept),
	     NULL, 0);
	ck_assert_int_eq(handle(&A, IN, &synack, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.aborts, 1);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows, 0);
	ck_assert_uint_eq(A.e.flows.count, 0);
	ck_assert_uint_eq(A.log.ninj, 2);	/* RST to B, RST to our socket */
	inj_seg(&rx, &A, 1);
	ck_assert_uint_eq(pkt_flags(&rx.p) & TCP_RST, TCP_RST);
}
END_TEST

/* A version 1 offer (74 31) is another experiment: plain TCP. */
START_TEST(test_version1_offer_is_plaintext)
{
	static const uint8_t t1[] = { 2, 4, 5, 0xb4, 0x45, 0x05, 0xa0, 0x74, 0x31, 1, 1, 0 };
	struct seg syn;

	world(AF_INET);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, t1, sizeof(t1), NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &syn, NULL), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(B.e.ctr.eno_fallback, 1);
	ck_assert_uint_eq(B.e.flows.count, 0);
	ck_assert_uint_eq(mss_of(&syn), 1460);
}
END_TEST

/* A segment straddling the 1 GiB boundary of A's stream: each byte under
 * its own generation.  Then B's kernel acknowledges it: B wipes generation
 * 0's K_enc (keeping its tag keys), and A, seeing the acknowledgement,
 * wipes all of generation 0.  A replay of the old segment still verifies
 * at B (the tail) and goes to B's kernel undecrypted: it has those bytes. */
START_TEST(test_generations_entered_and_wiped)
{
	static uint8_t msg[200];
	const uint64_t pos = (UINT64_C(1) << 30) - 100;
	struct flow *fa, *fb;
	struct seg w, rx, again, ack, ackrx;
	uint32_t kseq;

	memset(msg, 'g', sizeof(msg));
	world(AF_INET);
	full_handshake();
	fa = flow_of(&A, &B);
	fb = flow_of(&B, &A);
	fa->snd.high = pos;
	fb->rcv.high = pos;
	kseq = A.isn + 1 - INIT1_LEN + (uint32_t)pos;
	kseg(&w, &A, &B, kseq, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg));
	ck_assert(passes(handle(&A, OUT, &w, NULL)));
	ck_assert_uint_eq(fa->tx.cur, 1);
	ck_assert_uint_eq(A.e.ctr.gen_entered, 1);
	wire(&rx, &w);
	wire(&again, &w);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	ck_assert_mem_eq(pkt_payload(&rx.p), msg, sizeof(msg));
	ck_assert_uint_eq(B.e.ctr.gen_entered, 1);
	ck_assert_uint_eq(fb->rx.lo, 0);

	/* B's kernel acknowledges everything. */
	kseg(&ack, &B, &A, B.isn + 1, kseq + sizeof(msg), TCP_ACK, ts_opts, 12, NULL, 0);
	ck_assert(passes(handle(&B, OUT, &ack, NULL)));
	ck_assert_uint_eq(fb->own_acked, pos + sizeof(msg));
	ck_assert_uint_eq(fb->rx.lo, 1);
	ck_assert(fb->rx.has_tail);
	ck_assert_uint_eq(B.e.ctr.gen_wiped, 1);
	wire(&ackrx, &ack);
	ck_assert(passes(handle(&A, IN, &ackrx, NULL)));
	ck_assert_uint_eq(fa->peer_acked, pos + sizeof(msg));
	ck_assert_uint_eq(fa->tx.lo, 1);
	ck_assert_uint_eq(A.e.ctr.gen_wiped, 1);

	/* The replay: valid tag, bytes below the wiped K_enc. */
	ck_assert(passes(handle(&B, IN, &again, NULL)));
	ck_assert_uint_eq(B.e.ctr.stale_passed, 1);
	ck_assert(memcmp(pkt_payload(&again.p), msg, sizeof(msg)) != 0);
	ck_assert_uint_eq(B.e.ctr.mac_fail, 0);
	/* A's kernel resending those bytes (it never would: they are
	 * acknowledged) gets nothing out under a wiped key. */
	kseg(&w, &A, &B, kseq, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, 12, msg, sizeof(msg));
	ck_assert_int_eq(handle(&A, OUT, &w, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.seal_fail, 1);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* Session resumption (doc/protocol.md section 13) */

static const uint8_t eno_offer_head[] = { 0x45, 0x12, 0xa0, 0x74, 0x32 };
static const uint8_t eno_accept_head[] = { 0x45, 0x13, 0x01, 0xa0, 0x74, 0x32 };

/* Both hosts with resumption on; a fresh connection from port 40000. */
static void resume_world(void)
{
	struct engine_config c;

	engine_config_defaults(&c);
	c.resumption = true;
	world_cfg(AF_INET, 0x11223344u, 0xaabbccddu, &c);
	full_handshake();
	ck_assert_uint_eq(A.e.ctr.resume_offered, 0);
	ck_assert_uint_eq(engine_counters(&A.e)->resume_entries, 1);
	ck_assert_uint_eq(engine_counters(&B.e)->resume_entries, 1);
}

/* The next connection: another port and other ISNs, so a new flow. */
static void next_conn(uint16_t port)
{
	A.port = port;
	A.isn += 0x01000000u;
	B.isn += 0x02000000u;
	memset(&T, 0, sizeof(T));
}

/* The SYN and SYN-ACK of a connection that should resume. */
static void resumed_handshake(void)
{
	step_syn();
	ck_assert(passes(T.v_syn_a) && passes(T.v_syn_b));
	step_synack();
	ck_assert(passes(T.v_synack_b) && passes(T.v_synack_a));
}

START_TEST(test_resumed_connection)
{
	uint8_t sid1[KX_SESSID_LEN];
	struct seg wire_seg, rx;
	static const char up[] = "GET / HTTP/1.0\r\n\r\n", down[] = "HTTP/1.0 200 OK\r\n";
	struct flow *fa, *fb;
	unsigned mss_b;
	int pos;

	size_t a_inj, b_inj;

	resume_world();
	memcpy(sid1, flow_of(&A, &B)->session_id, sizeof(sid1));
	a_inj = A.log.ninj;
	b_inj = B.log.ninj;
	next_conn(40001);
	resumed_handshake();
	/* The offer: 18 bytes where the fresh form was, after the kernel's
	 * options; the acceptance 19. */
	pos = opt_find(&T.syn, eno_offer_head, sizeof(eno_offer_head));
	ck_assert_int_eq(pos, 20);
	ck_assert_uint_eq(pkt_opts_len(&T.syn.p), 40);
	ck_assert_int_eq(opt_find(&T.synack, eno_accept_head, sizeof(eno_accept_head)), 20);
	ck_assert_uint_eq(A.e.ctr.resume_offered, 1);
	ck_assert_uint_eq(A.e.ctr.resume_accepted, 1);
	ck_assert_uint_eq(B.e.ctr.resume_accepted, 1);
	/* B lowered A's MSS by 16 as for any offer; A lowers B's by 20. */
	mss_b = mss_of(&T.synack_rx);
	ck_assert_uint_eq(mss_b, 1460 - 20);
	fa = flow_of(&A, &B);
	fb = flow_of(&B, &A);
	ck_assert(fa->keyed && fb->keyed && fa->resumed && fb->resumed);
	ck_assert_int_eq(fa->state, FLOW_ENCRYPTED);
	ck_assert_mem_eq(fa->session_id, fb->session_id, KX_SESSID_LEN);
	ck_assert_int_ne(memcmp(fa->session_id, sid1, KX_SESSID_LEN), 0);
	ck_assert_uint_eq(fa->snd.init_len + fa->rcv.init_len + fb->snd.init_len + fb->rcv.init_len, 0);
	/* Both key logs name the chain by R_A, the secret's suite with it. */
	ck_assert_uint_eq(A.log.nkeylog_ss, 1);
	ck_assert_uint_eq(B.log.nkeylog_ss, 1);
	ck_assert_mem_eq(A.log.ss_r_a, pkt_opts(&T.syn.p) + pos + 5, 9);
	ck_assert_mem_eq(B.log.ss_r_a, A.log.ss_r_a, 9);
	ck_assert_uint_eq(A.log.ss_suite, fa->suite);
	/* No Init: A's kernel's ACK leaves with 45 02 and the MAC option,
	 * unshifted, and B takes it (tagged). */
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0, &wire_seg,
	     &rx);
	ck_assert_int_ge(opt_find(&wire_seg, eno_ack_opt, sizeof(eno_ack_opt)), 0);
	ck_assert_uint_eq(pkt_seq(&rx.p), A.isn + 1);
	ck_assert_uint_eq(A.log.ninj, a_inj);
	ck_assert_uint_eq(B.log.ninj, b_inj);
	/* Data both ways, at offsets from 0. */
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK | TCP_PSH, ts_opts, sizeof(ts_opts), up,
	     strlen(up), &wire_seg, &rx);
	ck_assert_int_ne(memcmp(pkt_payload(&wire_seg.p), up, strlen(up)), 0);
	ck_assert_mem_eq(pkt_payload(&rx.p), up, strlen(up));
	ck_assert_int_ge(opt_find(&wire_seg, eno_ack_opt, sizeof(eno_ack_opt)), 0);
	xfer(&B, &A, B.isn + 1, A.isn + 1 + (uint32_t)strlen(up), TCP_ACK | TCP_PSH, ts_opts,
	     sizeof(ts_opts), down, strlen(down), &wire_seg, &rx);
	ck_assert_mem_eq(pkt_payload(&rx.p), down, strlen(down));
	/* B's tagged segment arrived: no more 45 02. */
	xfer(&A, &B, A.isn + 1 + (uint32_t)strlen(up), B.isn + 1 + (uint32_t)strlen(down),
	     TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0, &wire_seg, &rx);
	ck_assert_int_lt(opt_find(&wire_seg, eno_ack_opt, sizeof(eno_ack_opt)), 0);
	/* The third connection resumes with the next secret: another ID. */
	memcpy(sid1, fa->session_id, sizeof(sid1));
	next_conn(40002);
	resumed_handshake();
	ck_assert_uint_eq(A.e.ctr.resume_accepted, 2);
	ck_assert_int_ne(memcmp(flow_of(&A, &B)->session_id, sid1, KX_SESSID_LEN), 0);
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id,
			 KX_SESSID_LEN);
}
END_TEST

/* B's segments of a resumed connection need tags from the start, and so
 * do A's after its SYN: no untagged pure ACK is taken, at either end. */
START_TEST(test_resumed_untagged_dropped)
{
	struct seg s;

	resume_world();
	next_conn(40001);
	resumed_handshake();
	kseg(&s, &A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0);
	ck_assert_int_eq(handle(&B, IN, &s, NULL), EV_DROP);
	kseg(&s, &B, &A, B.isn + 1, A.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0);
	ck_assert_int_eq(handle(&A, IN, &s, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 2);
	/* A keepalive before the first byte (sequence number ISN, offset
	 * 2^64 - 1) is tagged as generation 0 and taken, both ways, and
	 * moves no offset. */
	xfer(&A, &B, A.isn, B.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0, NULL, &s);
	ck_assert_uint_eq(pkt_seq(&s.p), A.isn);
	xfer(&B, &A, B.isn, A.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0, NULL, &s);
	ck_assert_uint_eq(flow_of(&A, &B)->snd.high, 0);
	ck_assert_uint_eq(flow_of(&B, &A)->rcv.high, 0);
	ck_assert_uint_eq(A.e.ctr.mac_fail + B.e.ctr.mac_fail, 2);
}
END_TEST

/* A retransmitted SYN repeats the offer byte for byte, and B's repeated
 * SYN-ACK the acceptance; one secret is used, on both sides. */
START_TEST(test_resume_retransmissions_identical)
{
	struct seg syn2, synack2, rx;
	uint8_t opts1[TCP_MAX_OPT_LEN];
	size_t olen1;

	resume_world();
	next_conn(40001);
	step_syn();
	olen1 = pkt_opts_len(&T.syn.p);
	memcpy(opts1, pkt_opts(&T.syn.p), olen1);
	kseg(&syn2, &A, &B, A.isn, 0, TCP_SYN, syn_opts, sizeof(syn_opts), NULL, 0);
	ck_assert(passes(handle(&A, OUT, &syn2, NULL)));
	ck_assert_uint_eq(pkt_opts_len(&syn2.p), olen1);
	ck_assert_mem_eq(pkt_opts(&syn2.p), opts1, olen1);
	ck_assert_uint_eq(A.e.ctr.resume_offered, 1);
	step_synack();
	olen1 = pkt_opts_len(&T.synack.p);
	memcpy(opts1, pkt_opts(&T.synack.p), olen1);
	/* A's SYN again at B (its SYN-ACK was late): the kernel answers it. */
	wire(&rx, &syn2);
	ck_assert(passes(handle(&B, IN, &rx, NULL)));
	kseg(&synack2, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert(passes(handle(&B, OUT, &synack2, NULL)));
	ck_assert_mem_eq(pkt_opts(&synack2.p), opts1, olen1);
	wire(&rx, &synack2);
	ck_assert(passes(handle(&A, IN, &rx, NULL)));
	ck_assert_uint_eq(B.e.ctr.resume_accepted, 1);
	ck_assert_uint_eq(A.e.ctr.resume_accepted, 1);
}
END_TEST

/* B restarted: it holds nothing, declines, and the fresh exchange that
 * follows gives both a new chain, which the next connection resumes. */
START_TEST(test_resume_declined_after_restart)
{
	struct engine_config c;

	resume_world();
	engine_free(&B.e);
	log_free(&B.log);
	engine_config_defaults(&c);
	c.resumption = true;
	host_init(&B, AF_INET, 1, B.isn, &c);
	next_conn(40001);
	step_syn();
	ck_assert_int_eq(opt_find(&T.syn, eno_offer_head, sizeof(eno_offer_head)), 20);
	step_synack();
	ck_assert_int_eq(opt_find(&T.synack, eno_b_opt, sizeof(eno_b_opt)), 20);
	ck_assert_uint_eq(B.e.ctr.resume_declined, 1);
	ck_assert_uint_eq(A.e.ctr.resume_declined, 1);
	ck_assert_uint_eq(engine_counters(&A.e)->resume_entries, 0);
	step_init1();
	step_init2();
	step_ack4();
	ck_assert_mem_eq(flow_of(&A, &B)->session_id, flow_of(&B, &A)->session_id,
			 KX_SESSID_LEN);
	ck_assert(!flow_of(&A, &B)->resumed);
	next_conn(40002);
	resumed_handshake();
	ck_assert_uint_eq(A.e.ctr.resume_accepted, 1);
	ck_assert(flow_of(&B, &A)->resumed);
}
END_TEST

/* An acceptance with an R_B that is not our secret's aborts (RSTs both
 * ways), never plaintext, and the secret is gone. */
START_TEST(test_resume_wrong_rb_aborts)
{
	size_t a_inj;
	int pos;

	resume_world();
	a_inj = A.log.ninj;
	next_conn(40001);
	step_syn();
	kseg(&T.synack, &B, &A, B.isn, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert(passes(handle(&B, OUT, &T.synack, NULL)));
	wire(&T.synack_rx, &T.synack);
	pos = opt_find(&T.synack_rx, eno_accept_head, sizeof(eno_accept_head));
	ck_assert_int_ge(pos, 0);
	pkt_opts(&T.synack_rx.p)[pos + 6] ^= 1;	/* first byte of R_B */
	pkt_fix_checksums(&T.synack_rx.p);
	ck_assert_int_eq(handle(&A, IN, &T.synack_rx, NULL), EV_DROP);
	ck_assert_uint_eq(A.e.ctr.resume_aborted, 1);
	ck_assert_uint_eq(A.e.ctr.plaintext_flows, 0);
	ck_assert_ptr_null(flow_of(&A, &B));
	ck_assert_uint_eq(A.log.ninj, a_inj + 2);	/* RST to B, RST to our socket */
}
END_TEST

/* Someone sends A's offer again, from another port (its R_A seen on the
 * wire): B finds nothing to match, declines, and never accepts it twice. */
START_TEST(test_resume_replayed_offer_declined)
{
	uint8_t opts[TCP_MAX_OPT_LEN];
	struct seg syn, synack;
	size_t olen;

	resume_world();
	next_conn(40001);
	resumed_handshake();
	olen = pkt_opts_len(&T.syn.p);
	memcpy(opts, pkt_opts(&T.syn.p), olen);
	A.port = 40009;
	kseg(&syn, &A, &B, A.isn + 77, 0, TCP_SYN, opts, olen, NULL, 0);
	ck_assert(passes(handle(&B, IN, &syn, NULL)));
	ck_assert_uint_eq(B.e.ctr.resume_declined, 1);
	kseg(&synack, &B, &A, B.isn + 77, A.isn + 78, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert(passes(handle(&B, OUT, &synack, NULL)));
	ck_assert_int_eq(opt_find(&synack, eno_b_opt, sizeof(eno_b_opt)), 20);
	ck_assert_uint_eq(B.e.ctr.resume_accepted, 1);
}
END_TEST

/* The very SYN of a finished resumed connection, replayed: B's kernel
 * takes it as a new connection (a SYN-ACK with a new ISN), and B declines
 * the spent offer: the SYN-ACK carries the fresh form, never no ENO. */
START_TEST(test_resume_replayed_syn_after_close)
{
	struct seg replay, synack, w, rx;

	resume_world();
	next_conn(40001);
	resumed_handshake();
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_ACK, ts_opts, sizeof(ts_opts), NULL, 0, &w, &rx);
	xfer(&A, &B, A.isn + 1, B.isn + 1, TCP_RST | TCP_ACK, NULL, 0, NULL, 0, &w, &rx);
	ck_assert_int_eq(flow_of(&B, &A)->state, FLOW_CLOSED);
	wire(&replay, &T.syn);
	ck_assert(passes(handle(&B, IN, &replay, NULL)));
	ck_assert_uint_eq(B.e.ctr.stray_syn, 1);
	kseg(&synack, &B, &A, B.isn + 0x1000, A.isn + 1, TCP_SYN | TCP_ACK, synack_opts,
	     sizeof(synack_opts), NULL, 0);
	ck_assert(passes(handle(&B, OUT, &synack, NULL)));
	ck_assert_int_eq(opt_find(&synack, eno_b_opt, sizeof(eno_b_opt)), 20);
	ck_assert_uint_eq(B.e.ctr.flows_replaced, 1);
	ck_assert_uint_eq(B.e.ctr.resume_declined, 1);
	ck_assert_uint_eq(B.e.ctr.resume_accepted, 1);
	ck_assert(!flow_of(&B, &A)->keyed);
}
END_TEST

/* A SYN whose options leave no room for the 18 bytes gets the fresh form,
 * and the entry stays for the next connection. */
START_TEST(test_resume_no_room_fresh_form)
{
	/* 24 bytes: MSS, SACK permitted, TS, WS, and a 4-byte experiment. */
	static const uint8_t big[24] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0x10, 0x20, 0x30, 0, 0, 0, 0,
		1, 3, 3, 7, 254, 4, 0x12, 0x34,
	};
	struct seg syn;

	resume_world();
	next_conn(40001);
	kseg(&syn, &A, &B, A.isn, 0, TCP_SYN, big, sizeof(big), NULL, 0);
	ck_assert(passes(handle(&A, OUT, &syn, NULL)));
	ck_assert_int_eq(opt_find(&syn, eno_a_opt, sizeof(eno_a_opt)), 24);
	ck_assert_uint_eq(A.e.ctr.resume_offered, 0);
	ck_assert_uint_eq(engine_counters(&A.e)->resume_entries, 1);
	next_conn(40002);
	resumed_handshake();
	ck_assert_uint_eq(A.e.ctr.resume_accepted, 1);
}
END_TEST

/* B's resumed connection that A never answers is a handshake: it goes
 * after the handshake idle time, not after the established one's. */
START_TEST(test_resumed_unanswered_expires)
{
	resume_world();
	next_conn(40001);
	resumed_handshake();
	ck_assert_ptr_nonnull(flow_of(&B, &A)->hs);
	now += B.e.cfg.handshake_idle_us + 2 * US_SEC;
	engine_tick(&B.e, now);
	ck_assert_ptr_null(flow_of(&B, &A));
	ck_assert_uint_eq(B.e.ctr.flows_expired, 1);
}
END_TEST

/* Entries live resume_lifetime_us: after it the SYN is fresh again. */
START_TEST(test_resume_entry_expires)
{
	resume_world();
	now += RESUME_LIFETIME_DEFAULT + US_SEC;
	engine_tick(&A.e, now);
	engine_tick(&B.e, now);
	ck_assert_uint_eq(engine_counters(&A.e)->resume_entries, 0);
	ck_assert_uint_eq(engine_counters(&B.e)->resume_entries, 0);
	next_conn(40001);
	step_syn();
	ck_assert_int_eq(opt_find(&T.syn, eno_a_opt, sizeof(eno_a_opt)), 20);
	ck_assert_uint_eq(A.e.ctr.resume_offered, 0);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *eno = tcase_create("eno");
	TCase *data = tcase_create("data");
	TCase *fb = tcase_create("fallback");
	TCase *rtx = tcase_create("retransmit");
	TCase *life = tcase_create("lifetime");
	TCase *wrap = tcase_create("wrap");
	TCase *att = tcase_create("attacks");
	TCase *v2 = tcase_create("version2");
	TCase *res = tcase_create("resume");
	TCase *all[] = { eno, data, fb, rtx, life, wrap, v2, res };

	if (sodium_init() < 0)
		abort();
	log_init(LOG_LVL_ERR);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_checked_fixture(all[i], NULL, teardown);
		tcase_set_timeout(all[i], 60);
	}

	tcase_add_test(eno, test_syn_gets_eno_and_lower_mss);
	tcase_add_test(eno, test_synack_gets_eno);
	tcase_add_test(eno, test_third_segment_carries_init1);
	tcase_add_test(eno, test_b_injects_init2_before_passing_ack);
	tcase_add_test(eno, test_init2_dropped_and_keys_agree);
	tcase_add_test(eno, test_data_held_until_init2);
	tcase_add_test(eno, test_data_on_third_segment);
	suite_add_tcase(s, eno);

	tcase_add_loop_test(data, test_data_round_trip, 0, 2);
	tcase_add_test(data, test_retransmission_resegmented);
	tcase_add_loop_test(data, test_tampered_segment_dropped, 0, 7);
	tcase_add_test(data, test_untagged_pure_ack_at_b);
	tcase_add_test(data, test_untagged_pure_ack_at_a);
	tcase_add_test(data, test_untagged_rst_passes_by_default);
	tcase_add_test(data, test_untagged_rst_dropped_when_authenticated);
	tcase_add_test(data, test_lost_flow_dropped);
	tcase_add_test(data, test_shell_counts_noted);
	tcase_add_test(data, test_lost_flow_reset);
	tcase_add_test(data, test_sack_translated);
	tcase_add_test(data, test_sack_trimmed_for_mac);
	tcase_add_test(data, test_sequence_wrap_1mb);
	tcase_add_test(data, test_rst_before_keys_keeps_flow);
	tcase_add_test(data, test_kernel_rst_during_kx);
	tcase_add_test(data, test_data_before_keys_dropped_at_a);
	tcase_add_loop_test(data, test_hold_limit, 0, 2);
	suite_add_tcase(s, data);

	tcase_add_test(fb, test_synack_without_eno);
	tcase_add_test(fb, test_syn_without_eno_at_b);
	tcase_add_test(fb, test_syn_with_tfo_plaintext);
	tcase_add_test(fb, test_third_segment_without_eno_at_b);
	tcase_add_test(fb, test_third_syn_retransmission_without_eno);
	tcase_add_test(fb, test_simultaneous_open_refused);
	suite_add_tcase(s, fb);

	tcase_add_test(rtx, test_init2_lost_b_retransmits);
	tcase_add_test(rtx, test_duplicate_init1_same_init2);
	tcase_add_test(rtx, test_init1_retransmission_identical);
	tcase_add_test(rtx, test_init1_unanswered_aborts);
	tcase_add_test(rtx, test_init2_unacknowledged_aborts);
	tcase_add_test(rtx, test_slow_path_init1_unanswered_aborts);
	tcase_add_loop_test(rtx, test_malformed_init1_aborts, 0, 4);
	tcase_add_test(rtx, test_malformed_init2_aborts);
	suite_add_tcase(s, rtx);

	tcase_add_test(life, test_late_syn_keeps_state);
	tcase_add_test(life, test_data_before_synack_dropped);
	tcase_add_test(life, test_eviction_spares_established);
	tcase_add_test(life, test_idle_expiry);
	tcase_add_test(life, test_handshake_idle_expiry);
	tcase_add_test(life, test_fin_linger);
	tcase_add_test(life, test_rst_linger);
	tcase_add_test(life, test_keypair_renewed_ahead);
	tcase_add_test(life, test_es_reused_within_keypair);
	tcase_add_loop_test(life, test_resume_after_crash, 0, 2);
	tcase_add_test(life, test_resume_after_detach);
	tcase_add_test(life, test_no_resume_mid_handshake_or_idle);
	suite_add_tcase(s, life);

	/* Sequence numbers that come round after 4 GiB. */
	tcase_add_loop_test(wrap, test_data_at_offset_2_32_delivered, 0, 2);
	tcase_add_test(wrap, test_kernel_seq_equal_to_isn_after_wrap);
	suite_add_tcase(s, wrap);

	tcase_add_loop_test(v2, test_suite_negotiation, 0, 2);
	tcase_add_loop_test(v2, test_mss_fits_route_mtu, 0, 2);
	tcase_add_test(v2, test_resumption_offer_declined);
	tcase_add_test(v2, test_version1_offer_is_plaintext);
	tcase_add_test(v2, test_generations_entered_and_wiped);
	suite_add_tcase(s, v2);

	tcase_add_test(res, test_resumed_connection);
	tcase_add_test(res, test_resumed_untagged_dropped);
	tcase_add_test(res, test_resume_retransmissions_identical);
	tcase_add_test(res, test_resume_declined_after_restart);
	tcase_add_test(res, test_resume_wrong_rb_aborts);
	tcase_add_test(res, test_resume_replayed_offer_declined);
	tcase_add_test(res, test_resume_replayed_syn_after_close);
	tcase_add_test(res, test_resume_no_room_fresh_form);
	tcase_add_test(res, test_resume_entry_expires);
	tcase_add_test(res, test_resumed_unanswered_expires);
	suite_add_tcase(s, res);

	tcase_add_checked_fixture(att, NULL, policy_teardown);
	tcase_set_timeout(att, 60);
	tcase_add_loop_test(att, test_forged_syn_keeps_encrypted_flow, 0, 2);
	tcase_add_test(att, test_forged_syn_during_kx_and_close);
	tcase_add_test(att, test_reused_ports_replace_flow_when_kernel_accepts);
	tcase_add_test(att, test_reused_ports_negotiate_at_once);
	tcase_add_test(att, test_private_syn_sent_forged_syn);
	tcase_add_test(att, test_forged_synack_ignored);
	tcase_add_test(att, test_forged_first_ack_at_b);
	tcase_add_test(att, test_untagged_acks_move_nothing);
	tcase_add_test(att, test_no_state_policy_and_eno);
	tcase_add_test(att, test_abandoned_hold_dropped);
	tcase_add_test(att, test_unparsed_packets);
	tcase_add_test(att, test_syn_with_mptcp_plaintext);
	suite_add_tcase(s, att);
	return s;
}

UNIT_MAIN(engine_suite)
