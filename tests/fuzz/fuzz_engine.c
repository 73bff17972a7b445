/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the protocol engine (src/core/engine.c) fed a sequence of
 * segments, ICMP errors and timer ticks, as one daemon would see them.
 *
 * The harness plays both the local kernel and the remote peer (a second
 * tcpcryptd).  So that the fuzzer reaches the encrypted states without
 * inventing checksums, X25519 keys and MAC tags, most records are
 * templates: the harness builds the segment with pkt_build, fills in
 * sequence numbers that follow the connection, captures the engine's ENO
 * options and Init message, answers with a real Init message from a fixed
 * peer key pair, derives the peer's master key with kx_derive and both
 * directions' key chains from it (seal2_chain_init), and seals the peer's
 * segments with them in the suite the Init2 names.  Raw records hand
 * arbitrary bytes to the engine as well.
 *
 * Input: byte 0 configures the engine, then records until the input ends:
 *
 *   op (1 byte):  bits 0-2 kind, bit 3 outgoing (local kernel -> engine),
 *                 bit 4 seal (peer segments: valid MAC option),
 *                 bit 5 conn_encrypted (the firewall's connmark),
 *                 bits 6-7 time advance before the record
 *                 (none, 1 ms, 300 ms, 10 s)
 *   kind 0 RAW:   len (2, big endian), len bytes: an IP packet (anything)
 *   kind 1,6,7 TCP template:
 *                 slot, flags, seq delta (int8), ack delta (int8),
 *                 option set, payload length, [raw options], payload
 *   kind 2 INIT:  slot, variant: the peer's Init message for the slot
 *                 (variant bits 4-5: the suite the peer's Init2 names,
 *                 or the suites its Init1 offers; bit 6: Init1 offers
 *                 0x7401 of version 1 first)
 *   kind 3 TICK:  2 bytes: milliseconds to advance, then engine_tick
 *   kind 4 ICMP:  slot, mtu (2), seq delta (int8), variant
 *   kind 5 CFG:   1 byte: replaces the policy; with bit 3 of op set, a
 *                 daemon restart instead: byte bit 0 set, a crash (the
 *                 slots are copied as the state file holds them and the
 *                 old engine is freed), else a clean stop (engine_detach);
 *                 bits 1-2 the new engine's suites (as before, chacha20
 *                 first, aes128 only, chacha20 only); then a new engine on
 *                 those slots runs engine_resume
 *
 * A slot (0..7) is a connection: bit 0 IPv6, bit 1 the local port, bit 2
 * the remote port (80 or 443).  Option sets (low 3 bits): none, Linux SYN,
 * SYN + A's ENO, SYN + B's ENO, NOP NOP TS, TS + ENO ack, TS + SACK, raw
 * ((sel >> 3) % 11 * 4 bytes from the input).  Byte 0: bits 0-1 max_flows
 * (2, 3, 64, 64), bit 2 max_held 2, bit 3 rst_authenticated, bit 4 short
 * idle/linger timeouts, bits 5-7 policy rules (set_policy).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "engine.h"
#include "eno.h"
#include "fuzz_common.h"
#include "kx.h"
#include "log.h"
#include "packet.h"
#include "policy.h"
#include "seal2.h"
#include "tcpopt.h"

#define NSLOTS 8
#define MAX_RECORDS 256
#define SEG_MAX 2048
#define US_MS UINT64_C(1000)
#define US_SEC UINT64_C(1000000)

enum kind { K_RAW = 0, K_TCP = 1, K_INIT = 2, K_TICK = 3, K_ICMP = 4, K_CFG = 5 };

#define OP_OUT  0x08
#define OP_SEAL 0x10
#define OP_CE   0x20

static const uint8_t laddr4[4] = { 192, 0, 2, 1 };
static const uint8_t raddr4[4] = { 198, 51, 100, 2 };
static const uint8_t laddr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t raddr6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0xbb, [15] = 2 };

/* The peer's fixed X25519 key pair and nonce. */
static uint8_t peer_priv[KX_KEY_LEN], peer_pub[KX_KEY_LEN];
static const uint8_t peer_nonce[KX_NONCE_LEN] = { 0x4e, 0x6f, 0x6e, 0x63, 0x65 };
/* The peer's cipher contexts (the engine has its own). */
static struct seal2_ctx peer_sx;

#define AES SEAL2_SUITE_AES128CTR
#define CHA SEAL2_SUITE_CHACHA20
#define INIT_BUF 96	/* an Init message with a few suites and a trailer */

/* What the harness knows of a connection, as the peer and the kernel. */
struct slot {
	bool local_is_a;		/* the engine opened it */
	uint32_t l_isn, p_isn;		/* wire ISNs, local and peer */
	uint32_t l_sent, p_sent;	/* stream bytes after the ISN (kernel view) */
	uint8_t a_opt[ENO_MAX_OPT_LEN], a_len;
	uint8_t b_opt[ENO_MAX_OPT_LEN], b_len;
	uint8_t l_init[INIT_BUF], l_init_len;	/* the engine's Init */
	uint8_t p_init[INIT_BUF], p_init_len;	/* ours (the peer's) */
	bool keyed;
	uint16_t suite;				/* named in Init2 */
	struct seal2_chain p_tx, p_rx;		/* the peer's chains */
};

static struct {
	struct engine e;
	struct slot s[NSLOTS];
	uint64_t rng;
	uint64_t now;
	uint32_t id;
	struct policy pol;
	unsigned n_checked_in, n_checked_out;	/* oracle hits, for FUZZ_ENGINE_LOG */
} W;

/* ------------------------------------------------------------------------ */
/* The fake engine_io */

static void slot_addrs(unsigned i, int *fam, const uint8_t **l, const uint8_t **r, uint16_t *lp,
		       uint16_t *rp)
{
	*fam = (i & 1) ? AF_INET6 : AF_INET;
	*l = (i & 1) ? laddr6 : laddr4;
	*r = (i & 1) ? raddr6 : raddr4;
	*lp = (uint16_t)(40000 + ((i >> 1) & 1));
	*rp = (i & 4) ? 443 : 80;
}

/* The slot of a segment sent by the engine (local -> peer), or -1. */
static int slot_of_out(const struct pkt *p)
{
	for (unsigned i = 0; i < NSLOTS; i++) {
		int fam;
		const uint8_t *l, *r;
		uint16_t lp, rp;

		slot_addrs(i, &fam, &l, &r, &lp, &rp);
		if (p->family == fam && pkt_sport(p) == lp && pkt_dport(p) == rp &&
		    memcmp(pkt_saddr(p), l, pkt_addr_len(p)) == 0 &&
		    memcmp(pkt_daddr(p), r, pkt_addr_len(p)) == 0)
			return (int)i;
	}
	return -1;
}

static void try_derive(struct slot *s)
{
	struct kx_secrets sec;
	uint8_t transcript[KX_TRANSCRIPT_MAX];
	const uint8_t *own, *theirs;
	size_t own_len, theirs_len;
	const uint8_t *engine_pub;
	struct kx_init1 i1;
	struct kx_init2 i2;

	if (s->keyed || !s->l_init_len || !s->p_init_len || !s->a_len || !s->b_len)
		return;
	own = s->p_init;
	own_len = s->p_init_len;
	theirs = s->l_init;
	theirs_len = s->l_init_len;
	/* The engine's key, and the suite from the Init2 (the peer's when the
	 * engine is A, the engine's when it is B). */
	if (s->local_is_a) {
		if (kx_init1_parse(theirs, theirs_len, &i1) != KX_OK ||
		    kx_init2_parse(own, own_len, &i2) != KX_OK)
			return;
		engine_pub = i1.pub;
	} else {
		if (kx_init2_parse(theirs, theirs_len, &i2) != KX_OK)
			return;
		engine_pub = i2.pub;
	}
	if (i2.suite != AES && i2.suite != CHA)
		return;
	memcpy(transcript, s->a_opt, s->a_len);
	memcpy(transcript + s->a_len, s->b_opt, s->b_len);
	struct kx_input in = {
		.own_priv = peer_priv, .peer_pub = engine_pub,
		.transcript = transcript, .transcript_len = (size_t)s->a_len + s->b_len,
		.init1 = s->local_is_a ? theirs : own,
		.init1_len = s->local_is_a ? theirs_len : own_len,
		.init2 = s->local_is_a ? own : theirs,
		.init2_len = s->local_is_a ? own_len : theirs_len,
	};
	if (kx_derive(&in, &sec, NULL) != KX_OK)
		return;
	/* The peer is B when the engine is A: it sends with B -> A's chain. */
	seal2_chain_init(&s->p_tx, sec.mk, s->local_is_a ? SEAL2_CTX_BA : SEAL2_CTX_AB);
	seal2_chain_init(&s->p_rx, sec.mk, s->local_is_a ? SEAL2_CTX_AB : SEAL2_CTX_BA);
	sodium_memzero(&sec, sizeof(sec));
	s->suite = i2.suite;
	s->keyed = true;
}

/* Remembers the engine's Init message if p carries one for a slot. */
static void capture_init(const struct pkt *p)
{
	int i = slot_of_out(p);
	uint32_t magic;
	struct slot *s;
	size_t plen = pkt_payload_len(p);

	if (i < 0 || plen < 8)
		return;
	s = &W.s[i];
	magic = get_be32(pkt_payload(p));
	if (magic != (s->local_is_a ? KX_INIT1_MAGIC : KX_INIT2_MAGIC))
		return;
	if (plen > sizeof(s->l_init) || s->l_init_len)
		return;
	memcpy(s->l_init, pkt_payload(p), plen);
	s->l_init_len = (uint8_t)plen;
	try_derive(s);
}

static int io_inject(void *ctx, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint8_t *copy;

	(void)ctx;
	FUZZ_CHECK(len > 0 && len <= 0xffff + IPV6_HDR_LEN);
	/* Everything the engine injects must be a well-formed segment. */
	copy = malloc(len);
	FUZZ_CHECK(copy);
	memcpy(copy, data, len);
	FUZZ_CHECK(pkt_parse(&p, copy, len, len) == PKT_OK);
	FUZZ_CHECK(p.len == len);
	FUZZ_CHECK(pkt_checksums_ok(&p));
	capture_init(&p);
	free(copy);
	return (W.rng >> 60) == 0 ? -1 : 0;	/* sometimes the raw socket fails */
}

static void io_release(void *ctx, uint32_t id, bool accept, const uint8_t *data, size_t len)
{
	(void)ctx;
	FUZZ_CHECK(id <= W.id);
	if (accept) {
		struct pkt p;
		uint8_t *copy = malloc(len ? len : 1);

		FUZZ_CHECK(copy);
		memcpy(copy, data, len);
		FUZZ_CHECK(pkt_parse(&p, copy, len, len) == PKT_OK);
		FUZZ_CHECK(pkt_checksums_ok(&p));
		free(copy);
	}
}

static void io_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		W.rng = W.rng * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (uint8_t)(W.rng >> 56);
	}
}

static void io_keylog(void *ctx, const uint8_t n_a[32], const uint8_t es[32])
{
	(void)ctx;
	/* Touch every byte: ASan checks the pointers. */
	volatile uint8_t x = 0;
	for (int i = 0; i < 32; i++)
		x ^= n_a[i] ^ es[i];
	(void)x;
}

/* ------------------------------------------------------------------------ */
/* Input reading */

struct rd {
	const uint8_t *d;
	size_t n, off;
};

static bool rd_u8(struct rd *r, uint8_t *v)
{
	if (r->off >= r->n)
		return false;
	*v = r->d[r->off++];
	return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (r->n - r->off < 2)
		return false;
	*v = get_be16(r->d + r->off);
	r->off += 2;
	return true;
}

static const uint8_t *rd_bytes(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->n - r->off < n)
		return NULL;
	p = r->d + r->off;
	r->off += n;
	return p;
}

/* ------------------------------------------------------------------------ */
/* Handing packets to the engine */

static bool passes(enum engine_verdict v)
{
	return v == EV_ACCEPT || v == EV_ACCEPT_PLAIN || v == EV_ACCEPT_ENCRYPTED;
}

/* p lives in a heap buffer of exactly p->cap bytes. */
static enum engine_verdict feed(struct pkt *p, bool outgoing, bool ce)
{
	bool modified = true;
	enum engine_verdict v;

	v = engine_handle(&W.e, W.now, outgoing, ce, ++W.id, p, &modified);
	FUZZ_CHECK(v >= EV_ACCEPT && v <= EV_HOLD);
	/* A rewritten packet that passes must be well formed.  (modified
	 * with EV_DROP happens, e.g. an Init1 carrier without option room;
	 * the daemon ignores the bytes of a dropped packet.) */
	if (modified && passes(v)) {
		struct pkt q;

		FUZZ_CHECK(p->len <= p->cap);
		FUZZ_CHECK(pkt_parse(&q, p->buf, p->len, p->cap) == PKT_OK);
		FUZZ_CHECK(pkt_checksums_ok(p));
	}
	return v;
}

static void do_raw(struct rd *r, uint8_t op)
{
	uint16_t len;
	const uint8_t *b;
	uint8_t *buf;
	struct pkt p;

	if (!rd_u16(r, &len))
		return;
	len %= SEG_MAX;
	if (!(b = rd_bytes(r, len)))
		return;
	buf = malloc((size_t)len + ENGINE_HEADROOM);
	FUZZ_CHECK(buf);
	memcpy(buf, b, len);
	if (pkt_parse(&p, buf, len, (size_t)len + ENGINE_HEADROOM) == PKT_OK) {
		/* The daemon hands the engine the packet with the headroom. */
		feed(&p, op & OP_OUT, op & OP_CE);
	} else if (!(op & OP_OUT)) {
		bool m;
		uint8_t *exact = malloc(len ? len : 1);

		FUZZ_CHECK(exact);
		memcpy(exact, b, len);
		(void)engine_handle_icmp(&W.e, exact, len, &m);
		free(exact);
	}
	free(buf);
}

/* Linux-like option sets. */
static const uint8_t o_syn[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x00, 0x10, 0x20, 0x30, 0, 0, 0, 0, 1, 3, 3, 7,
};
static const uint8_t o_ts[12] = { 1, 1, 8, 10, 0x00, 0x10, 0x20, 0x40, 0x00, 0x50, 0x60, 0x80 };

/* Builds the option set sel into out; returns its length (multiple of 4). */
static size_t build_opts(uint8_t out[TCP_MAX_OPT_LEN], uint8_t sel, struct rd *r, uint32_t ack)
{
	size_t n = 0;

	switch (sel & 7) {
	case 0:
		return 0;
	case 1:
		memcpy(out, o_syn, sizeof(o_syn));
		return sizeof(o_syn);
	case 2:	/* SYN + A's ENO */
		memcpy(out, o_syn, sizeof(o_syn));
		memcpy(out + 20, eno_syn_a, ENO_SYN_A_LEN);
		n = 20 + ENO_SYN_A_LEN;
		break;
	case 3:	/* SYN-ACK + B's ENO */
		memcpy(out, o_syn, sizeof(o_syn));
		memcpy(out + 20, eno_syn_b, ENO_SYN_B_LEN);
		n = 20 + ENO_SYN_B_LEN;
		break;
	case 4:
		memcpy(out, o_ts, sizeof(o_ts));
		return sizeof(o_ts);
	case 5:	/* TS + ENO ack */
		memcpy(out, o_ts, sizeof(o_ts));
		memcpy(out + 12, eno_ack, ENO_ACK_LEN);
		n = 12 + ENO_ACK_LEN;
		break;
	case 6: {	/* TS + SACK with two blocks above ack */
		uint32_t base = ack + 100u * ((sel >> 3) & 7);
		memcpy(out, o_ts, sizeof(o_ts));
		out[12] = 1;
		out[13] = 1;
		out[14] = TCPOPT_SACK;
		out[15] = 18;
		put_be32(out + 16, base + 1000);
		put_be32(out + 20, base + 2000);
		put_be32(out + 24, base + 100);
		put_be32(out + 28, base + 500);
		return 32;
	}
	case 7: {	/* raw bytes from the input */
		size_t len = (size_t)((sel >> 3) % 11) * 4;
		const uint8_t *b = rd_bytes(r, len);
		if (!b)
			return 0;
		memcpy(out, b, len);
		return len;
	}
	}
	while (n % 4)
		out[n++] = TCPOPT_NOP;
	return n;
}

/* Records what a SYN or SYN-ACK the harness sent or the engine let out
 * tells about the ENO options. */
static void note_opt(uint8_t *dst, uint8_t *dst_len, const struct pkt *p)
{
	const uint8_t *o = NULL;
	size_t olen = 0;

	if (eno_find(pkt_opts(p), pkt_opts_len(p), &o, &olen) >= 1 && olen <= ENO_MAX_OPT_LEN) {
		FUZZ_CHECK(FUZZ_INSIDE(o, olen, pkt_opts(p), pkt_opts_len(p)));
		memcpy(dst, o, olen);
		*dst_len = (uint8_t)olen;
	}
}

static void reset_slot(struct slot *s)
{
	if (s->keyed) {
		seal2_chain_wipe(&s->p_tx, &peer_sx);
		seal2_chain_wipe(&s->p_rx, &peer_sx);
	}
	memset(s, 0, sizeof(*s));
}

/* A stream offset as the engine extends a 32-bit one (seqmap_offset): the
 * harness's streams stay far below 2^31, so the offset is the distance
 * from the first byte after the SYN, negative ones (the SYN's own number)
 * wrapping to just below 2^64. */
static uint64_t off64(uint32_t rel)
{
	return (uint64_t)(int64_t)(int32_t)rel;
}

/* The engine sealed p (local -> peer): if its tag verifies with the
 * peer's receive key, the payload must decrypt to what the kernel sent. */
static void check_sealed(struct slot *s, const struct pkt *p, const uint8_t *plain, size_t plen)
{
	struct tcpopt_info info;
	uint8_t flags = pkt_flags(p);
	uint64_t seq_off = off64(pkt_seq(p) - s->l_isn - 1);
	uint64_t ack_off = off64(pkt_ack(p) - s->p_isn - 1);
	uint8_t ct[256];

	if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) < 0 || info.mac < 0)
		return;
	struct seal2_hdr h = {
		.flags = flags, .seq_off = seq_off,
		.ack_off = (flags & TCP_ACK) ? ack_off : 0,
		.payload_len = (uint16_t)plen, .urg_ptr = pkt_urp(p),
	};
	memcpy(ct, pkt_payload(p), plen);
	/* open: the tag over the ciphertext, then the decryption */
	if (seal2_open(&peer_sx, s->suite, &s->p_rx, &h, ct, pkt_opts(p) + info.mac + 4) != 0)
		return;
	FUZZ_CHECK(memcmp(ct, plain, plen) == 0);
	W.n_checked_out++;
}

static void do_tcp(struct rd *r, uint8_t op)
{
	uint8_t si, flags, sel, plen;
	int8_t sd, ad;
	uint8_t opts[TCP_MAX_OPT_LEN], opts2[TCP_MAX_OPT_LEN];
	size_t olen;
	const uint8_t *payload;
	uint8_t pbuf[256];
	bool out = op & OP_OUT, sealed = false;
	struct slot *s;
	int fam;
	const uint8_t *la, *ra;
	uint16_t lp, rp;
	uint32_t seq, ack;
	bool syn;
	size_t cap;
	uint8_t *buf;
	struct pkt p;

	if (!rd_u8(r, &si) || !rd_u8(r, &flags) || !rd_u8(r, (uint8_t *)&sd) ||
	    !rd_u8(r, (uint8_t *)&ad) || !rd_u8(r, &sel) || !rd_u8(r, &plen))
		return;
	si %= NSLOTS;
	s = &W.s[si];
	slot_addrs(si, &fam, &la, &ra, &lp, &rp);
	syn = flags & TCP_SYN;

	/* Sequence numbers that follow the connection, off by the deltas. */
	if (out) {
		if (syn && !(flags & TCP_ACK)) {
			reset_slot(s);
			s->local_is_a = true;
			s->l_isn = 0x11223344u + (uint32_t)sd * 0x10000u + si;
			seq = s->l_isn;
			ack = 0;
		} else if (syn) {
			s->l_isn = 0x55667788u + (uint32_t)sd * 0x10000u + si;
			s->l_sent = 0;
			seq = s->l_isn;
			ack = s->p_isn + 1 + (uint32_t)ad;
		} else {
			seq = s->l_isn + 1 + s->l_sent + (uint32_t)sd;
			ack = s->p_isn + 1 + s->p_sent + (uint32_t)ad;
		}
	} else {
		if (syn && !(flags & TCP_ACK)) {
			reset_slot(s);
			s->local_is_a = false;
			s->p_isn = 0xaabbccddu + (uint32_t)sd * 0x10000u + si;
			seq = s->p_isn;
			ack = 0;
		} else if (syn) {
			s->p_isn = 0x99887766u + (uint32_t)sd * 0x10000u + si;
			s->p_sent = 0;
			seq = s->p_isn;
			ack = s->l_isn + 1 + (uint32_t)ad;
		} else {
			seq = s->p_isn + 1 + s->p_init_len + s->p_sent + (uint32_t)sd;
			ack = s->l_isn + 1 + s->l_init_len + s->l_sent + (uint32_t)ad;
		}
	}

	olen = build_opts(opts, sel, r, ack);
	payload = rd_bytes(r, plen);
	if (!payload)
		return;
	memcpy(pbuf, payload, plen);

	/* The peer's segments of an encrypted connection: encrypt and tag. */
	if (!out && (op & OP_SEAL) && s->keyed && !syn) {
		struct seal2_hdr h = {
			.flags = flags,
			.seq_off = off64(seq - s->p_isn - 1),
			.ack_off = (flags & TCP_ACK) ? off64(ack - s->l_isn - 1) : 0,
			.payload_len = plen,
			.urg_ptr = (flags & TCP_URG) ? (uint16_t)(sel << 4) : 0,
		};
		uint8_t mac[MAC_OPT_LEN] = { TCPOPT_EXP, MAC_OPT_LEN, 0x74, 0x63 };
		struct tcpopt_info info;
		unsigned dropped;
		int n;

		/* (fails, leaving the segment unprotected, for an offset whose
		 * generation the chain cannot reach) */
		sealed = seal2_seal(&peer_sx, s->suite, &s->p_tx, &h, pbuf, mac + 4) == 0;
		if (!sealed)
			memcpy(pbuf, payload, plen);
		if (sealed && tcpopt_scan(opts, olen, &info) == 0 &&
		    (n = tcpopt_append(opts2, opts, olen, &info, mac, sizeof(mac), &dropped)) >= 0) {
			memcpy(opts, opts2, (size_t)n);
			olen = (size_t)n;
		}
	}

	cap = IPV6_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN + plen + ENGINE_HEADROOM;
	buf = malloc(cap);
	FUZZ_CHECK(buf);
	struct pkt_build b = {
		.family = fam,
		.saddr = out ? la : ra, .daddr = out ? ra : la,
		.sport = out ? lp : rp, .dport = out ? rp : lp,
		.seq = seq, .ack = ack, .flags = flags,
		.window = syn ? 64240 : 502,
		.opts = opts, .opts_len = olen, .payload = pbuf, .payload_len = plen,
	};
	if (pkt_build(buf, cap, &b, &p) == 0) {
		free(buf);
		return;
	}
	if (flags & TCP_URG)
		put_be16(pkt_tcp(&p) + 18, (uint16_t)(sel << 4));
	pkt_fix_checksums(&p);

	/* The ENO options of the handshake, for the transcript. */
	if (!out && syn && !(flags & TCP_ACK))
		note_opt(s->a_opt, &s->a_len, &p);
	if (!out && syn && (flags & TCP_ACK))
		note_opt(s->b_opt, &s->b_len, &p);

	uint8_t plain[256];
	memcpy(plain, payload, plen);
	bool modified_ok;
	enum engine_verdict v = feed(&p, out, op & OP_CE);

	/* Oracles that cannot misfire when the harness's keys differ from the
	 * engine's: a segment the engine opened is handed to the kernel as the
	 * peer's plaintext; a segment the engine sealed whose tag verifies
	 * with the peer's keys decrypts to the kernel's plaintext. */
	modified_ok = passes(v) && s->keyed && !syn && plen && pkt_payload_len(&p) == plen;
	if (modified_ok && !out && sealed && memcmp(pkt_payload(&p), pbuf, plen) != 0) {
		FUZZ_CHECK(memcmp(pkt_payload(&p), plain, plen) == 0);
		W.n_checked_in++;
	}
	if (modified_ok && out)
		check_sealed(s, &p, plain, plen);

	if (out && passes(v)) {
		if (syn && !(flags & TCP_ACK))
			note_opt(s->a_opt, &s->a_len, &p);
		else if (syn)
			note_opt(s->b_opt, &s->b_len, &p);
		else
			capture_init(&p);
	}
	/* The stream moves on when the segment followed it. */
	if (!syn && sd == 0) {
		uint32_t adv = plen + ((flags & TCP_FIN) ? 1 : 0);
		if (out)
			s->l_sent += adv;
		else
			s->p_sent += adv;
	}
	free(buf);
}

/* The suite the peer's Init2 names (var bits 4-5): what a peer supporting
 * both would choose (the first the engine offered), aes128, chacha20, or
 * 0x7401 of version 1, which the engine did not offer. */
static uint16_t peer_init2_suite(const struct slot *s, uint8_t var)
{
	struct kx_init1 i1;

	switch ((var >> 4) & 3) {
	case 1:
		return AES;
	case 2:
		return CHA;
	case 3:
		return 0x7401;
	}
	if (s->l_init_len && kx_init1_parse(s->l_init, s->l_init_len, &i1) == KX_OK) {
		static const uint16_t both[] = { AES, CHA };
		uint16_t suite = kx_choose_suite(&i1, both, 2);

		return suite ? suite : AES;
	}
	return W.e.cfg.suites[0];
}

/* The peer's Init1 (var bits 4-6: which suites it offers); returns its
 * length. */
static size_t peer_init1(uint8_t out[INIT_BUF], uint8_t var)
{
	static const uint16_t lists[4][2] = {
		{ AES, CHA }, { CHA, AES }, { CHA, 0 }, { 0x2101, 0x7401 },
	};
	unsigned which = (var >> 4) & 3, n = which == 2 ? 1 : 2;
	size_t len = 9;

	put_be32(out, KX_INIT1_MAGIC);
	if (var & 64) {		/* version 1's suite first */
		put_be16(out + len, 0x7401);
		len += 2;
	}
	for (unsigned i = 0; i < n; i++, len += 2)
		put_be16(out + len, lists[which][i]);
	out[8] = (uint8_t)((len - 9) / 2);
	memcpy(out + len, peer_nonce, KX_NONCE_LEN);
	memcpy(out + len + KX_NONCE_LEN, peer_pub, KX_KEY_LEN);
	len += KX_NONCE_LEN + KX_KEY_LEN;
	put_be32(out + 4, (uint32_t)len);
	return len;
}

/* The peer's Init message: Init1 when the engine is B, Init2 when A. */
static void do_init(struct rd *r, uint8_t op)
{
	uint8_t si, var;
	struct slot *s;
	int fam;
	const uint8_t *la, *ra;
	uint16_t lp, rp;
	uint8_t msg[INIT_BUF];
	size_t mlen;
	uint8_t opts[16];
	size_t olen;
	uint8_t *buf;
	size_t cap;
	struct pkt p;

	if (!rd_u8(r, &si) || !rd_u8(r, &var))
		return;
	si %= NSLOTS;
	s = &W.s[si];
	slot_addrs(si, &fam, &la, &ra, &lp, &rp);
	if (s->local_is_a) {
		mlen = kx_init2_encode(msg, peer_init2_suite(s, var), peer_nonce, peer_pub);
		olen = 0;
		if (var & 1) {
			memcpy(opts, o_ts, sizeof(o_ts));
			olen = sizeof(o_ts);
		}
	} else {
		mlen = peer_init1(msg, var);
		memcpy(opts, o_ts, sizeof(o_ts));
		memcpy(opts + 12, eno_ack, ENO_ACK_LEN);
		opts[14] = opts[15] = TCPOPT_NOP;
		olen = (var & 1) ? 4 : 16;
		if (var & 1)
			memcpy(opts, opts + 12, 4);
	}
	/* Variants the engine must refuse: a longer len field, trailing bytes. */
	if (var & 2) {
		msg[mlen] = 0xee;
		msg[mlen + 1] = 0xff;
		if (var & 4)
			put_be32(msg + 4, (uint32_t)mlen + 2);
		mlen += 2;
	}
	if (!s->p_init_len || (var & 8)) {
		memcpy(s->p_init, msg, mlen);
		s->p_init_len = (uint8_t)mlen;
	}
	cap = IPV6_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN + mlen + ENGINE_HEADROOM;
	buf = malloc(cap);
	FUZZ_CHECK(buf);
	struct pkt_build b = {
		.family = fam, .saddr = ra, .daddr = la, .sport = rp, .dport = lp,
		.seq = s->p_isn + 1,
		.ack = s->l_isn + 1 + (s->local_is_a ? s->l_init_len : 0),
		.flags = TCP_ACK | TCP_PSH, .window = 502,
		.opts = opts, .opts_len = olen, .payload = msg, .payload_len = mlen,
	};
	if (pkt_build(buf, cap, &b, &p)) {
		feed(&p, false, op & OP_CE);
		try_derive(s);
	}
	free(buf);
}

static void do_tick(struct rd *r)
{
	uint16_t ms;
	uint64_t next;

	if (!rd_u16(r, &ms))
		return;
	W.now += (uint64_t)ms * US_MS;
	next = engine_tick(&W.e, W.now);
	FUZZ_CHECK(next > W.now);
}

/* An ICMP error from a router about a segment the engine sent. */
static void do_icmp(struct rd *r)
{
	uint8_t si, var;
	uint16_t mtu;
	int8_t sd;
	struct slot *s;
	int fam;
	const uint8_t *la, *ra;
	uint16_t lp, rp;
	uint8_t q[IPV6_HDR_LEN + TCP_HDR_LEN + 64];
	struct pkt qp;
	uint8_t *buf;
	size_t qlen, l3, len, ql;
	const uint8_t router4[4] = { 203, 0, 113, 1 };
	const uint8_t router6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 1 };
	bool m;

	if (!rd_u8(r, &si) || !rd_u16(r, &mtu) || !rd_u8(r, (uint8_t *)&sd) || !rd_u8(r, &var))
		return;
	si %= NSLOTS;
	s = &W.s[si];
	slot_addrs(si, &fam, &la, &ra, &lp, &rp);
	struct pkt_build b = {
		.family = fam, .saddr = la, .daddr = ra, .sport = lp, .dport = rp,
		.seq = s->l_isn + 1 + s->l_init_len + s->l_sent + (uint32_t)sd,
		.ack = s->p_isn + 1, .flags = TCP_ACK, .window = 502,
	};
	qlen = pkt_build(q, sizeof(q), &b, &qp);
	FUZZ_CHECK(qlen);
	/* How much of the segment the router quotes. */
	ql = (var & 1) ? qlen : (size_t)(fam == AF_INET ? IPV4_HDR_LEN : IPV6_HDR_LEN) + 8;
	l3 = fam == AF_INET ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	len = l3 + 8 + ql;
	buf = calloc(1, len);
	FUZZ_CHECK(buf);
	if (fam == AF_INET) {
		buf[0] = 0x45;
		put_be16(buf + 2, (uint16_t)len);
		buf[8] = 64;
		buf[9] = 1;
		memcpy(buf + 12, router4, 4);
		memcpy(buf + 16, la, 4);
		buf[l3] = (var & 2) ? 11 : 3;		/* time exceeded / unreachable */
		buf[l3 + 1] = (var & 2) ? 0 : 4;	/* frag needed */
		put_be16(buf + l3 + 6, mtu);
		{
			uint16_t c = csum_fold(csum_add(0, buf, l3));
			memcpy(buf + 10, &c, 2);
		}
	} else {
		buf[0] = 0x60;
		put_be16(buf + 4, (uint16_t)(len - l3));
		buf[6] = 58;
		buf[7] = 64;
		memcpy(buf + 8, router6, 16);
		memcpy(buf + 24, la, 16);
		buf[l3] = (var & 2) ? 1 : 2;		/* unreachable / too big */
		put_be32(buf + l3 + 4, mtu);
	}
	memcpy(buf + l3 + 8, q, ql);
	(void)engine_handle_icmp(&W.e, buf, len, &m);
	free(buf);
}

static void set_policy(uint8_t v)
{
	static const char *const rules[] = {
		"private port 443",
		"clear addr 198.51.100.0/24 port 80",
		"private addr 2001:db8:0:0:bb::/80",
		"clear port 40001",
		"private port 40000",	/* B: the service port is the local one */
	};
	struct policy_rule rule;
	char err[128];

	policy_free(&W.pol);
	for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (!(v & (1u << i)))
			continue;
		FUZZ_CHECK(policy_parse_rule(rules[i], &rule, err, sizeof(err)) == 0);
		FUZZ_CHECK(policy_add(&W.pol, &rule) == 0);
	}
	engine_set_policy(&W.e, W.pol.n ? &W.pol : NULL);
}

/* The flow slots, as the daemon maps them from its state file; two sets so
 * that a crash can be played as a copy.  max_flows is at most 64. */
static struct flow fz_slots[2][64];
static uint64_t fz_used[2];
static unsigned fz_cur;

static void restart(uint8_t how)
{
	static const uint16_t suites[4][KX_MAX_SUITES] = {
		{ 0 }, { CHA, AES }, { AES, 0 }, { CHA, 0 },
	};
	struct engine_config cfg = W.e.cfg;
	struct engine_io io = W.e.io;
	unsigned which = (how >> 1) & 3;

	/* The daemon restarted with another `suites` setting: its flows keep
	 * the suite they were keyed with. */
	if (which) {
		memcpy(cfg.suites, suites[which], sizeof(cfg.suites));
		cfg.nsuites = which == 1 ? 2 : 1;
	}

	if (how & 1) {
		unsigned next = 1 - fz_cur;

		memcpy(fz_slots[next], fz_slots[fz_cur], sizeof(fz_slots[next]));
		fz_used[next] = fz_used[fz_cur];
		engine_free(&W.e);
		fz_cur = next;
	} else {
		engine_detach(&W.e);
	}
	FUZZ_CHECK(engine_init_slots(&W.e, &cfg, &io, fz_slots[fz_cur], &fz_used[fz_cur]) == 0);
	(void)engine_resume(&W.e, W.now, NULL);
	engine_set_policy(&W.e, W.pol.n ? &W.pol : NULL);
}

/* ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t seed[KX_KEY_LEN] = { 0x70, 0x65, 0x65, 0x72 };

	(void)argc;
	(void)argv;
	log_init(getenv("FUZZ_ENGINE_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	FUZZ_CHECK(sodium_init() >= 0);
	memcpy(peer_priv, seed, sizeof(peer_priv));
	kx_keypair_from_seed(peer_pub, peer_priv);
	FUZZ_CHECK(seal2_ctx_init(&peer_sx) == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size, 0 };
	struct engine_config cfg;
	uint8_t c0;
	struct engine_io io = {
		.ctx = NULL, .inject = io_inject, .release = io_release,
		.random = io_random, .keylog = io_keylog,
	};
	unsigned nrec = 0;

	if (!rd_u8(&r, &c0))
		return 0;
	memset(&W, 0, sizeof(W));
	W.rng = 0x9e3779b97f4a7c15u;
	W.now = 1000 * US_SEC;
	engine_config_defaults(&cfg);
	cfg.max_flows = (c0 & 3) == 0 ? 2 : (c0 & 3) == 1 ? 3 : 64;
	cfg.max_held = (c0 & 4) ? 2 : 64;
	cfg.rst_authenticated = c0 & 8;
	if (c0 & 16) {
		cfg.idle_us = 5 * US_SEC;
		cfg.handshake_idle_us = 3 * US_SEC;
		cfg.linger_us = 2 * US_SEC;
	}
	memset(fz_slots, 0, sizeof(fz_slots));
	memset(fz_used, 0, sizeof(fz_used));
	fz_cur = 0;
	FUZZ_CHECK(engine_init_slots(&W.e, &cfg, &io, fz_slots[0], &fz_used[0]) == 0);
	set_policy(c0 >> 5);

	while (r.off < r.n && nrec++ < MAX_RECORDS) {
		uint8_t op;
		static const uint64_t adv[4] = { 0, 1 * US_MS, 300 * US_MS, 10 * US_SEC };

		if (!rd_u8(&r, &op))
			break;
		W.now += adv[op >> 6];
		switch (op & 7) {
		case K_RAW: do_raw(&r, op); break;
		case K_INIT: do_init(&r, op); break;
		case K_TICK: do_tick(&r); break;
		case K_ICMP: do_icmp(&r); break;
		case K_CFG: {
			uint8_t v;
			if (!rd_u8(&r, &v))
				break;
			if (op & 8)
				restart(v);
			else
				set_policy(v);
			break;
		}
		default: do_tcp(&r, op); break;
		}
		FUZZ_CHECK(W.e.flows.count <= cfg.max_flows);
	}
	if (getenv("FUZZ_ENGINE_LOG"))
	{
		counters_print(&W.e.ctr, stderr);
		fprintf(stderr, "oracle: %u opened, %u sealed segments checked\n",
			W.n_checked_in, W.n_checked_out);
	}
	/* Let every timer run out, then tear down: LeakSanitizer checks. */
	for (int i = 0; i < 4; i++)
		W.now = engine_tick(&W.e, W.now + 200 * US_SEC);
	engine_free(&W.e);
	policy_free(&W.pol);
	for (unsigned i = 0; i < NSLOTS; i++)
		reset_slot(&W.s[i]);
	return 0;
}
