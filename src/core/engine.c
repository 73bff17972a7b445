/* SPDX-License-Identifier: BSD-2-Clause */
/* The protocol engine: every queued segment goes through engine_handle(),
 * every timer through engine_tick().  Nothing here touches the network:
 * see struct engine_io, and doc/design.md for the core/daemon boundary.
 *
 * Reading guide, in file order (each part starts with a "----" rule):
 *   Small helpers     flow keys, names, flag tests, wire sequence numbers.
 *   Flow lifetime     flow_new/flow_destroy, handshake state (flow_hs),
 *                     linger, go_plaintext, the key pair and its renewal.
 *   Injection         inject(): segments the engine builds itself (Init
 *                     messages, ACKs, RSTs); flow_abort() (doc/protocol.md
 *                     section 4.4).
 *   Established       seal_outgoing()/open_incoming(): keystream, MAC
 *   traffic           option and tag checks (doc/protocol.md sections 6
 *                     and 7), sequence translation (doc/protocol.md
 *                     section 8).
 *   Key exchange      Init1/Init2 built, sent, received and retransmitted,
 *                     install_keys(), held segments (doc/protocol.md
 *                     sections 4, 5 and 9).
 *   Handshake (ENO)   out_syn, in_synack, in_syn, out_synack: ENO offers
 *                     and answers, MSS lowering, policy, refusals and rate
 *                     limits (doc/protocol.md section 3).
 *   Dispatch          handle_outgoing/handle_incoming by flow state, lost
 *                     connections (lost_flow_reset), engine_handle() and
 *                     engine_handle_unparsed().
 *   ICMP errors       engine_handle_icmp() (doc/protocol.md section 8).
 *   Timers            Init retransmission, expiry, engine_tick(); then
 *                     counters, engine_init*, engine_resume (flows kept
 *                     across a restart), engine_detach and engine_free. */
#include "engine.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "eno.h"
#include "icmp.h"
#include "kx.h"
#include "list.h"
#include "log.h"
#include "seal2.h"
#include "tcpopt.h"

#define US_PER_MS  1000ull
#define US_PER_SEC 1000000ull
#define KEYPAIR_LIFETIME (60 * US_PER_SEC)	/* doc/protocol.md section 4.4 */
#define KEYPAIR_RENEW_AHEAD (2 * US_PER_SEC)	/* engine_tick renews this early */
/* Init retransmission (doc/protocol.md section 9): from max(200 ms,
 * 2 RTT), doubling up to 60 s, abort 120 s after the first send. */
#define RTO_MIN (200 * US_PER_MS)
#define RTO_MAX (60 * US_PER_SEC)
#define INIT_GIVE_UP (120 * US_PER_SEC)
#define SCAN_INTERVAL (1 * US_PER_SEC)
/* A remembered stray SYN is good for this long: its SYN-ACK comes at once
 * if the kernel accepts it. */
#define SYN_MEMO_LIFETIME (3 * US_PER_SEC)
#define ENO_SYN_RETRIES_WITH_ENO 3	/* the first SYN and two retransmissions */
#define MSS_REDUCTION MAC_OPT_LEN
/* 45 02 and two NOPs: A's non-SYN ENO option, 4-byte aligned. */
#define ENO_ACK_PADDED_LEN 4
/* The protocol default MSS when a SYN has no MSS option (RFC 9293). */
#define MSS_DEFAULT_V4 536
#define MSS_DEFAULT_V6 1220

void engine_config_defaults(struct engine_config *c)
{
	c->max_flows = 65536;
	c->idle_us = 7200 * US_PER_SEC;
	c->handshake_idle_us = 150 * US_PER_SEC;
	c->linger_us = 60 * US_PER_SEC;
	c->max_held = 64;
	c->max_held_total = 1024;
	c->rst_authenticated = false;
	c->x25519_memo = true;
	c->resumption = true;
	c->resume_lifetime_us = RESUME_LIFETIME_DEFAULT;
	engine_default_suites(c);
}

void engine_default_suites(struct engine_config *c)
{
	bool aes = seal2_cpu_has_aes();

	c->suites[0] = aes ? SEAL2_SUITE_AES128CTR : SEAL2_SUITE_CHACHA20;
	c->suites[1] = aes ? SEAL2_SUITE_CHACHA20 : SEAL2_SUITE_AES128CTR;
	c->nsuites = 2;
}

/* ------------------------------------------------------------------------ */
/* Small helpers */

static void make_key(const struct pkt *p, bool outgoing, struct flow_key *k)
{
	size_t alen = pkt_addr_len(p);

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p->family;
	if (outgoing) {
		memcpy(k->laddr, pkt_saddr(p), alen);
		memcpy(k->raddr, pkt_daddr(p), alen);
		k->lport = pkt_sport(p);
		k->rport = pkt_dport(p);
	} else {
		memcpy(k->laddr, pkt_daddr(p), alen);
		memcpy(k->raddr, pkt_saddr(p), alen);
		k->lport = pkt_dport(p);
		k->rport = pkt_sport(p);
	}
}

/* "192.0.2.1:80 -> 198.51.100.1:5000" (local first) for log lines. */
static const char *flow_name(const struct flow_key *k, char *buf, size_t len)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	int fam = k->family;

	inet_ntop(fam, k->laddr, l, sizeof(l));
	inet_ntop(fam, k->raddr, r, sizeof(r));
	if (fam == AF_INET6)
		snprintf(buf, len, "[%s]:%u -> [%s]:%u", l, k->lport, r, k->rport);
	else
		snprintf(buf, len, "%s:%u -> %s:%u", l, k->lport, r, k->rport);
	return buf;
}

#define FLOW_NAME_LEN (2 * INET6_ADDRSTRLEN + 24)

/* The peer's address, as the resumption tables key it. */
static struct resume_addr resume_peer(const struct flow_key *k)
{
	struct resume_addr a = { .family = k->family };

	memcpy(a.addr, k->raddr, sizeof(a.addr));
	return a;
}

static bool is_syn(uint8_t flags)
{
	return (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
}

static bool is_synack(uint8_t flags)
{
	return (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK);
}

static uint64_t clamp_rto(uint64_t rto)
{
	return rto < RTO_MIN ? RTO_MIN : rto > RTO_MAX ? RTO_MAX : rto;
}

/* The wire sequence number just past what we have sent / received. */
static uint32_t snd_nxt_wire(const struct flow *f)
{
	return f->snd.isn + 1 + (uint32_t)f->snd.high;
}

/* What our kernel has received in order, as a wire ACK number: its last
 * ACK translated, and never less than the peer's Init.  Not rcv.high:
 * that includes out-of-order data the kernel may still be missing, and
 * acknowledging it would make the peer never send the hole again. */
static uint32_t rcv_nxt_wire(const struct flow *f)
{
	uint32_t floor = f->rcv.isn + 1 + f->rcv.init_len;
	uint32_t ack;

	if (!f->kack_valid)
		return floor;
	ack = f->have_peer_init ? seqmap_to_wire(&f->rcv, f->kack) : f->kack;
	return (int32_t)(ack - floor) < 0 ? floor : ack;
}

/* ------------------------------------------------------------------------ */
/* Flow lifetime */

static struct flow_hs *hs_new(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = calloc(1, sizeof(*hs));

	if (!hs)
		return NULL;
	hs->flow = f;
	LIST_INSERT_FIRST(hs, prev, next, e->handshakes, e->handshakes_oldest);
	f->hs = hs;
	return hs;
}

/* Drops any held segments (their kernel retransmits them if the flow goes
 * on), wipes the private key and frees the handshake state. */
static void hs_free(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = f->hs;
	unsigned i;

	if (!hs)
		return;
	for (i = 0; i < hs->nheld; i++) {
		e->io.release(e->io.ctx, hs->held[i].id, false, NULL, 0);
		free(hs->held[i].data);
	}
	e->held_total -= hs->nheld;
	free(hs->held);
	LIST_UNLINK(hs, prev, next, e->handshakes, e->handshakes_oldest);
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
	f->hs = NULL;
}

static void flow_destroy(struct engine *e, struct flow *f)
{
	hs_free(e, f);
	/* flow_remove wipes the slot; the shared contexts forget the keys. */
	if (f->keyed) {
		seal2_chain_wipe(&f->tx, &e->sx);
		seal2_chain_wipe(&f->rx, &e->sx);
	}
	flow_remove(&e->flows, f);
}

/* Generation bookkeeping around a use of a chain: cur and lo only grow. */
struct gen_mark {
	uint64_t cur, lo;
};

static struct gen_mark gen_mark(const struct seal2_chain *c)
{
	return (struct gen_mark){ c->cur, c->lo };
}

static void gen_count(struct engine *e, const struct seal2_chain *c, struct gen_mark m)
{
	e->ctr.gen_entered += c->cur - m.cur;
	e->ctr.gen_wiped += c->lo - m.lo;
}

/* The table is full.  Half-open flows go first, oldest first: a SYN flood
 * must not push out established connections (whose next segments would
 * then be dropped as lost).  f is the least recently active flow. */
static void evict_cb(void *ctx, struct flow *f)
{
	struct engine *e = ctx;
	struct flow_hs *hs = e->handshakes_oldest;
	int look = 16;

	/* Skip the few keyed flows still waiting for their Init2 to be
	 * acknowledged: they are established. */
	while (hs && hs->flow->keyed && --look > 0)
		hs = hs->prev;
	if (hs && !hs->flow->keyed)
		f = hs->flow;
	e->ctr.flows_evicted++;
	flow_destroy(e, f);
}

static struct flow *flow_new(struct engine *e, const struct flow_key *k, uint64_t now,
			     enum flow_role role, enum flow_state st)
{
	struct flow *f = flow_insert(&e->flows, k, now, evict_cb, e);

	if (!f)
		return NULL;
	f->role = (uint8_t)role;
	f->state = (uint8_t)st;
	if (!hs_new(e, f)) {
		flow_remove(&e->flows, f);
		return NULL;
	}
	return f;
}

static void linger(struct engine *e, struct flow *f, uint64_t now, enum flow_state st)
{
	f->state = (uint8_t)st;
	f->linger_until = now + e->cfg.linger_us;
	hs_free(e, f);
}

/* The connection runs in plaintext from now on: forget it, and let the
 * verdict mark it so the rules stop queueing it. */
static enum engine_verdict go_plaintext(struct engine *e, struct flow *f, const char *reason)
{
	char name[FLOW_NAME_LEN];

	e->ctr.plaintext_flows++;
	log_info("plaintext %s reason=%s", flow_name(&f->key, name, sizeof(name)), reason);
	flow_destroy(e, f);
	return EV_ACCEPT_PLAIN;
}

static void keypair_new(struct engine *e, uint64_t now)
{
	e->io.random(e->io.ctx, e->kp_priv, sizeof(e->kp_priv));
	kx_keypair_from_seed(e->kp_pub, e->kp_priv);
	e->kp_born = now ? now : 1;
	/* The remembered shared secrets belong to the old private key:
	 * wiped with it. */
	escache_reset(&e->es_memo, ++e->kp_gen);
}

/* The key pair a handshake uses: engine_tick renews it ahead of need, so
 * this only generates one when the timers ran late. */
static void keypair_refresh(struct engine *e, uint64_t now)
{
	if (!e->kp_born || now - e->kp_born >= KEYPAIR_LIFETIME)
		keypair_new(e, now);
}

/* A handshake takes a copy of the current key pair (which may be renewed
 * before the peer's Init arrives). */
static void keypair_take(struct engine *e, struct flow_hs *hs, uint64_t now)
{
	keypair_refresh(e, now);
	memcpy(hs->priv, e->kp_priv, sizeof(hs->priv));
	hs->kp_gen = e->kp_gen;
}

/* ------------------------------------------------------------------------ */
/* Injection */

/* The MAC option, alone or (A in a resumed connection, until B's first
 * tagged segment) after 45 02: the tag goes into the last option. */
static const uint8_t mac_template[ENO_ACK_PADDED_LEN + MAC_OPT_LEN] = {
	0x45, 0x02, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_EXP, MAC_OPT_LEN, 0x74, 0x63,
};

/* What a segment's tag covers besides its payload (doc/protocol.md
 * section 7): its flags, its sequence number as an offset in the stream
 * it belongs to, its acknowledgment (with ACK set) as an offset in the
 * other stream, its payload length and urgent pointer. */
static struct seal2_hdr tag_header(uint8_t flags, const struct seqdir *stream, uint32_t seq,
				   const struct seqdir *acked, uint32_t ack, size_t plen,
				   uint16_t urg_ptr)
{
	struct seal2_hdr h = {
		.flags = flags,
		.seq_off = seqmap_offset(stream, seq),
		.ack_off = (flags & TCP_ACK) ? seqmap_offset(acked, ack) : 0,
		.payload_len = (uint16_t)plen,
		.urg_ptr = urg_ptr,
	};

	return h;
}

struct inject_spec {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts;
	size_t opts_len;
	const uint8_t *payload;
	size_t payload_len;
	bool to_local;		/* spoof the peer towards our own kernel */
};

static int send_built(struct engine *e, const struct pkt_build *b)
{
	struct pkt p;
	size_t len = pkt_build(e->scratch, sizeof(e->scratch), b, &p);

	if (!len || e->io.inject(e->io.ctx, e->scratch, len) < 0) {
		e->ctr.inject_fail++;
		return -1;
	}
	e->ctr.injected++;
	return 0;
}

static int inject(struct engine *e, struct flow *f, const struct inject_spec *s,
		  bool tag_it)
{
	struct pkt_build b = {
		.family = f->key.family,
		.saddr = s->to_local ? f->key.raddr : f->key.laddr,
		.daddr = s->to_local ? f->key.laddr : f->key.raddr,
		.sport = s->to_local ? f->key.rport : f->key.lport,
		.dport = s->to_local ? f->key.lport : f->key.rport,
		.seq = s->seq, .ack = s->ack, .flags = s->flags, .window = s->window,
		.opts = s->opts, .opts_len = s->opts_len,
		.payload = s->payload, .payload_len = s->payload_len,
	};
	/* A resumed connection's A still owes B the 45 02 of RFC 8547
	 * (eno_ack_pending): in front of the MAC option. */
	uint8_t opts[sizeof(mac_template)];
	uint8_t *mac_opt = opts + ENO_ACK_PADDED_LEN;

	memcpy(opts, mac_template, sizeof(opts));
	if (tag_it) {
		/* Injected segments never carry URG: urgent pointer 0. */
		struct seal2_hdr h = tag_header(s->flags, &f->snd, s->seq, &f->rcv, s->ack,
						s->payload_len, 0);
		struct gen_mark m = gen_mark(&f->tx);
		int rc = seal2_tag(&f->tx, &h, s->payload, s->payload_len, mac_opt + 4, &e->sx);

		gen_count(e, &f->tx, m);
		if (rc != 0) {
			e->ctr.inject_fail++;
			return -1;
		}
		b.opts = f->eno_ack_pending ? opts : mac_opt;
		b.opts_len = f->eno_ack_pending ? sizeof(opts) : MAC_OPT_LEN;
	}
	return send_built(e, &b);
}

/* A's non-SYN ENO option (45 02), padded, for the segments A sends before
 * it has heard a non-SYN segment from B. */
static const uint8_t eno_ack_padded[ENO_ACK_PADDED_LEN] = { 0x45, 0x02, TCPOPT_NOP, TCPOPT_NOP };

/* Appends 45 02 to a segment's options; -1 if there is no room. */
static int add_eno_ack(struct pkt *p)
{
	uint8_t newopts[TCP_MAX_OPT_LEN];
	struct tcpopt_info info;
	int olen;

	if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) < 0)
		return -1;
	olen = tcpopt_append(newopts, pkt_opts(p), pkt_opts_len(p), &info, eno_ack_padded,
			     sizeof(eno_ack_padded), NULL);
	if (olen < 0)
		return -1;
	return pkt_set_options(p, newopts, (size_t)olen);
}

/* doc/protocol.md section 4.4, "Abort": RST to the peer (tagged once we have
 * keys) and RST to our own socket so the application sees ECONNRESET. */
static void flow_abort(struct engine *e, struct flow *f, uint64_t now, const char *why)
{
	char name[FLOW_NAME_LEN];
	struct inject_spec peer = {
		.seq = snd_nxt_wire(f), .ack = rcv_nxt_wire(f), .flags = TCP_RST | TCP_ACK,
	};
	struct inject_spec local = {
		.seq = seqmap_to_kernel(&f->rcv, rcv_nxt_wire(f)), .flags = TCP_RST,
		.to_local = true,
	};

	log_warn("abort %s: %s", flow_name(&f->key, name, sizeof(name)), why);
	e->ctr.aborts++;
	if (f->role == ROLE_A && !f->keyed) {
		peer.opts = eno_ack_padded;
		peer.opts_len = sizeof(eno_ack_padded);
	}
	inject(e, f, &peer, f->state == FLOW_ENCRYPTED);
	inject(e, f, &local, false);
	linger(e, f, now, FLOW_ABORTED);
}

/* An Init message we cannot accept (malformed, no common suite, a key
 * whose every shared secret is zero): counted, and the connection aborted. */
static enum engine_verdict init_reject(struct engine *e, struct flow *f, uint64_t now,
				       const char *why)
{
	e->ctr.init_bad++;
	flow_abort(e, f, now, why);
	return EV_DROP;
}

/* ------------------------------------------------------------------------ */
/* Established traffic */


/* Our kernel's segment -> the wire: translate, encrypt, tag. */
static enum engine_verdict seal_outgoing(struct engine *e, struct flow *f, struct pkt *p)
{
	uint8_t flags = pkt_flags(p);
	uint8_t *opts = pkt_opts(p);
	uint8_t newopts[TCP_MAX_OPT_LEN];
	struct tcpopt_info info;
	struct seal2_hdr h;
	struct gen_mark m;
	uint32_t seq, ack;
	size_t plen = pkt_payload_len(p);
	unsigned trimmed;
	int olen, rc;

	if (tcpopt_scan(opts, pkt_opts_len(p), &info) < 0) {
		e->ctr.malformed++;
		return EV_DROP;
	}
	seq = seqmap_to_wire(&f->snd, pkt_seq(p));
	ack = pkt_ack(p);
	if ((flags & TCP_ACK) && f->have_peer_init) {
		ack = seqmap_to_wire(&f->rcv, ack);
		tcpopt_sack_shift(opts, &info, f->rcv.init_len);
	}
	if (f->eno_ack_pending)
		olen = tcpopt_append(newopts, opts, pkt_opts_len(p), &info, mac_template,
				     sizeof(mac_template), &trimmed);
	else
		olen = tcpopt_append(newopts, opts, pkt_opts_len(p), &info,
				     mac_template + ENO_ACK_PADDED_LEN, MAC_OPT_LEN, &trimmed);
	if (olen < 0 || pkt_set_options(p, newopts, (size_t)olen) < 0) {
		e->ctr.oversize_drop++;
		return EV_DROP;
	}
	e->ctr.sack_trimmed += trimmed;
	pkt_set_seq(p, seq);
	pkt_set_ack(p, ack);

	h = tag_header(flags, &f->snd, seq, &f->rcv, ack, plen, pkt_urp(p));
	/* The MAC option is the last one we wrote; fill in its tag. */
	m = gen_mark(&f->tx);
	rc = seal2_seal(&e->sx, f->suite, &f->tx, &h, pkt_payload(p),
			pkt_opts(p) + olen - MAC_OPT_LEN + 4);
	gen_count(e, &f->tx, m);
	if (rc != 0) {
		/* A generation already wiped (the kernel resent bytes the
		 * peer had acknowledged) or a failing cipher: nothing
		 * unprotected may leave. */
		e->ctr.seal_fail++;
		return EV_DROP;
	}
	seqmap_advance(&f->snd, h.seq_off + plen + ((flags & TCP_FIN) ? 1 : 0));
	/* Receiver's wipe rule for the peer's stream: K_enc below the
	 * generation of what our kernel has acknowledged is never needed
	 * again. */
	if ((flags & TCP_ACK) && h.ack_off > f->own_acked && h.ack_off <= f->rcv.high) {
		f->own_acked = h.ack_off;
		m = gen_mark(&f->rx);
		seal2_chain_retire_enc_below(&f->rx, seal2_gen(f->own_acked), &e->sx);
		gen_count(e, &f->rx, m);
	}
	pkt_fix_checksums(p);
	f->bytes_out += plen;
	e->ctr.segments_sealed++;
	/* After an ICMP error the kernel sizes segments to the path MTU we
	 * told it (16 less than the real one), and its route would refuse
	 * them once the MAC option makes them 16 bytes longer.  The raw
	 * socket checks only the device MTU: send such segments there. */
	if (f->pmtu && p->len > (size_t)f->pmtu - MAC_OPT_LEN && p->len <= f->pmtu) {
		if (e->io.inject(e->io.ctx, p->buf, p->len) < 0) {
			e->ctr.inject_fail++;
		} else {
			e->ctr.injected++;
			e->ctr.pmtu_injected++;
		}
		return EV_DROP;
	}
	return EV_ACCEPT;
}

/* Does this incoming segment need a valid tag (doc/protocol.md section 7)? */
static bool tag_required(const struct flow *f, uint8_t flags, size_t plen)
{
	if (plen || (flags & (TCP_FIN | TCP_URG)))
		return true;
	/* A takes nothing untagged after the SYN-ACK, B nothing after A's
	 * first tag, or in a resumed connection after A's SYN. */
	if (f->role == ROLE_A || f->resumed)
		return true;
	return f->peer_tagged;
}

/* The wire -> our kernel: verify, decrypt, translate. */
static enum engine_verdict open_incoming(struct engine *e, struct flow *f, struct pkt *p,
					 uint64_t now)
{
	uint8_t flags = pkt_flags(p);
	uint8_t *opts = pkt_opts(p);
	struct tcpopt_info info;
	struct seal2_hdr h;
	struct gen_mark m;
	size_t plen = pkt_payload_len(p);
	uint32_t seq = pkt_seq(p), ack = pkt_ack(p);
	bool tagged = false, ok;

	if (tcpopt_scan(opts, pkt_opts_len(p), &info) < 0) {
		e->ctr.mac_fail++;
		return EV_DROP;
	}
	h = tag_header(flags, &f->rcv, seq, &f->snd, ack, plen, pkt_urp(p));

	m = gen_mark(&f->rx);
	ok = info.mac >= 0 &&
	     seal2_verify(&f->rx, &h, pkt_payload(p), plen, opts + info.mac + 4, &e->sx);
	gen_count(e, &f->rx, m);
	if (ok) {
		f->peer_tagged = true;
		/* B has keys and spoke: A's 45 02 has done its work. */
		f->eno_ack_pending = false;
		tagged = true;
	} else if (flags & TCP_RST) {
		/* An unauthenticated RST reaches the kernel untranslated: the
		 * kernel's own sequence checks decide (RFC 5961 challenge ACK). */
		if (e->cfg.rst_authenticated) {
			e->ctr.mac_fail++;
			return EV_DROP;
		}
		e->ctr.untagged_rst++;
		return EV_ACCEPT;
	} else if (tag_required(f, flags, plen)) {
		e->ctr.mac_fail++;
		return EV_DROP;
	} else if (!(flags & TCP_ACK) || h.seq_off != f->rcv.init_len ||
		   h.ack_off > f->snd.init_len) {
		/* B, before A's first tag: an untagged pure ACK can only be
		 * what A sends before it has keys, at its first byte after
		 * Init1 and acknowledging nothing beyond Init2.  Anyone who
		 * knows the ports can send the rest. */
		e->ctr.out_of_window++;
		return EV_DROP;
	}

	/* A retransmitted Init message lies before the application data:
	 * never hand those bytes to the kernel. */
	if (plen && h.seq_off < f->rcv.init_len) {
		e->ctr.mac_fail++;
		return EV_DROP;
	}
	if (plen) {
		int rc;

		m = gen_mark(&f->rx);
		rc = seal2_decrypt_verified(&e->sx, f->suite, &f->rx, &h, pkt_payload(p));
		gen_count(e, &f->rx, m);
		if (rc < 0) {
			e->ctr.mac_fail++;
			return EV_DROP;
		}
		/* Bytes our kernel acknowledged long ago, whose key is gone:
		 * it discards them (and its duplicate ACK tells the peer). */
		e->ctr.stale_passed += rc > 0;
	}
	/* Only an authenticated segment moves the offsets or stops a timer:
	 * an untagged one (an RST, or B's pure ACK above) says nothing an
	 * attacker could not have said. */
	if (tagged) {
		seqmap_advance(&f->rcv, h.seq_off + plen + ((flags & TCP_FIN) ? 1 : 0));
		/* Sender's wipe rule for our stream: below the generation of
		 * SND.UNA - 1 (a keepalive or window probe still needs
		 * that one), no segment of ours can need a key again. */
		if ((flags & TCP_ACK) && h.ack_off > f->peer_acked &&
		    h.ack_off <= f->snd.high + 1) {
			f->peer_acked = h.ack_off;
			m = gen_mark(&f->tx);
			seal2_chain_wipe_below(&f->tx, seal2_gen(f->peer_acked - 1), &e->sx);
			gen_count(e, &f->tx, m);
		}
	}
	pkt_set_seq(p, seqmap_to_kernel(&f->rcv, seq));
	if (flags & TCP_ACK) {
		pkt_set_ack(p, seqmap_to_kernel(&f->snd, ack));
		tcpopt_sack_unshift(opts, &info, f->snd.init_len, f->snd.isn + 1);
		/* B: A acknowledged Init2, stop retransmitting it. */
		if (tagged && f->hs && f->role == ROLE_B && h.ack_off >= f->snd.init_len &&
		    h.ack_off < f->snd.high + 1)
			hs_free(e, f);
	}
	pkt_fix_checksums(p);
	f->bytes_in += plen;
	e->ctr.segments_opened++;
	if (flags & TCP_FIN)
		f->fin_in = true;
	if (flags & TCP_RST)
		linger(e, f, now, FLOW_CLOSED);
	else if (f->fin_in && f->fin_out && f->state == FLOW_ENCRYPTED)
		f->linger_until = now + e->cfg.linger_us;
	return EV_ACCEPT;
}

/* ------------------------------------------------------------------------ */
/* Key exchange */

/* Our Init message just left for the first time. */
static void start_rtx_timer(struct flow_hs *hs, uint64_t now)
{
	uint64_t rtt = now > hs->syn_time ? now - hs->syn_time : 0;

	hs->rto = clamp_rto(2 * rtt);
	hs->rtx_tries = 0;
	hs->first_send = now;
	hs->rtx_deadline = now + hs->rto;
}

static void log_encrypted(const struct flow *f)
{
	char name[FLOW_NAME_LEN];
	char sid[2 * KX_SESSID_LEN + 1];

	sodium_bin2hex(sid, sizeof(sid), f->session_id, sizeof(f->session_id));
	log_info("encrypted %s role=%c suite=%s kx=%s sid=%s",
		 flow_name(&f->key, name, sizeof(name)), f->role == ROLE_A ? 'A' : 'B',
		 f->suite == SEAL2_SUITE_AES128CTR ? "aes128" : "chacha20",
		 f->resumed ? "resumed" : "fresh", sid);
}

/* The session ID and the traffic-key chains of suite from sec: the flow
 * is encrypted from here on. */
static void install_chains(struct engine *e, struct flow *f, const struct kx_secrets *sec,
			   uint16_t suite)
{
	memcpy(f->session_id, sec->session_id, sizeof(f->session_id));
	/* A sends with the A -> B chain, B with the B -> A chain. */
	seal2_chain_init(&f->tx, sec->mk, f->role == ROLE_A ? SEAL2_CTX_AB : SEAL2_CTX_BA);
	seal2_chain_init(&f->rx, sec->mk, f->role == ROLE_A ? SEAL2_CTX_BA : SEAL2_CTX_AB);
	f->suite = suite;
	if (suite == SEAL2_SUITE_AES128CTR)
		e->ctr.suite_aes128++;
	else
		e->ctr.suite_chacha20++;
	f->state = FLOW_ENCRYPTED;
	f->keyed = true;
	e->ctr.encrypted_flows++;
}

/* A fresh key exchange's ss[1] starts a resumption chain with this peer
 * (doc/protocol.md section 13): A keeps it as its entry for B's address,
 * B as a new window for A's. */
static void resume_remember(struct engine *e, const struct flow *f, const uint8_t ss1[32],
			    uint64_t now)
{
	struct resume_addr peer = resume_peer(&f->key);

	if (!e->cfg.resumption)
		return;
	if (f->role == ROLE_A)
		resume_a_store(&e->resume_a, &peer, ss1, f->suite, now);
	else
		resume_b_store(&e->resume_b, &peer, ss1, f->suite, now);
}

/* Runs the key schedule and installs the traffic-key chains of suite. */
static int install_keys(struct engine *e, struct flow *f, uint16_t suite, const uint8_t *peer_pub,
			const uint8_t *init1, size_t init1_len,
			const uint8_t *init2, size_t init2_len, uint64_t now)
{
	struct flow_hs *hs = f->hs;
	struct kx_secrets sec;
	uint8_t es[KX_KEY_LEN];
	struct kx_input in = {
		.own_priv = hs->priv, .peer_pub = peer_pub,
		.transcript = hs->transcript,
		.transcript_len = (size_t)hs->a_opt_len + hs->b_opt_len,
		.init1 = init1, .init1_len = init1_len,
		.init2 = init2, .init2_len = init2_len,
	};
	bool reused;

	/* Generation 0 is never the memo's: computed, not kept. */
	if (escache_shared_secret(&e->es_memo, e->cfg.x25519_memo ? hs->kp_gen : 0, hs->priv,
				  peer_pub, es, &reused) != KX_OK)
		return -1;
	if (reused)
		e->ctr.es_reused++;
	if (kx_derive_from_es(&in, es, &sec) != KX_OK) {
		sodium_memzero(es, sizeof(es));
		return -1;
	}
	if (e->io.keylog)
		e->io.keylog(e->io.ctx, init1 + 9 + 2 * (size_t)init1[8], es);
	sodium_memzero(es, sizeof(es));
	install_chains(e, f, &sec, suite);
	resume_remember(e, f, sec.ss1, now);
	sodium_memzero(&sec, sizeof(sec));
	sodium_memzero(hs->priv, sizeof(hs->priv));
	/* (the caller logs it, once the segments waiting for the keys
	 * are on their way) */
	return 0;
}

/* A resumed connection's keys from ss[i] and its transcript (doc/protocol.md
 * section 13); the caller wipes ss.  r_a names the chain in the key log. */
static int install_resumed_keys(struct engine *e, struct flow *f, const uint8_t ss[RESUME_SS_LEN],
				const uint8_t r_a[RESUME_RH_LEN], uint16_t suite)
{
	struct flow_hs *hs = f->hs;
	struct kx_secrets sec;

	if (!resume_keys(ss, hs->transcript, (size_t)hs->a_opt_len + hs->b_opt_len, &sec))
		return -1;
	/* Before the first tagged segment, as doc/protocol.md section 10
	 * requires. */
	if (e->io.keylog_ss)
		e->io.keylog_ss(e->io.ctx, r_a, ss, suite);
	install_chains(e, f, &sec, suite);
	sodium_memzero(&sec, sizeof(sec));
	/* No Init messages: offsets start at 0 and nothing is shifted. */
	f->resumed = true;
	f->have_peer_init = true;
	e->ctr.resume_accepted++;
	return 0;
}

/* A: (re)sends Init1 as its own segment (retransmission). */
static void a_inject_init1(struct engine *e, struct flow *f)
{
	struct inject_spec s = {
		.seq = f->snd.isn + 1, .ack = f->rcv.isn + 1,
		.flags = TCP_ACK | TCP_PSH, .window = f->window,
		.opts = eno_ack_padded, .opts_len = sizeof(eno_ack_padded),
		.payload = f->hs->own_init, .payload_len = f->hs->own_init_len,
	};
	inject(e, f, &s, false);
}

/* B: (re)sends Init2. */
static void b_inject_init2(struct engine *e, struct flow *f)
{
	struct inject_spec s = {
		.seq = f->snd.isn + 1, .ack = f->rcv.isn + 1 + f->rcv.init_len,
		.flags = TCP_ACK | TCP_PSH, .window = f->window,
		.payload = f->hs->own_init, .payload_len = f->hs->own_init_len,
	};
	inject(e, f, &s, false);
}

/* A: a tagged pure ACK, so B learns Init2 arrived even when we have no
 * data to send. */
static void a_inject_ack(struct engine *e, struct flow *f)
{
	struct inject_spec s = {
		.seq = snd_nxt_wire(f), .ack = rcv_nxt_wire(f),
		.flags = TCP_ACK, .window = f->window,
	};
	inject(e, f, &s, true);
}

/* A: builds Init1 the first time it is needed; every later send of it is
 * byte-identical. */
static void a_make_init1(struct engine *e, struct flow *f, uint64_t now)
{
	struct flow_hs *hs = f->hs;
	uint8_t nonce[KX_NONCE_LEN];

	if (hs->own_init_len)
		return;
	keypair_take(e, hs, now);
	e->io.random(e->io.ctx, nonce, sizeof(nonce));
	hs->own_init_len = (uint8_t)kx_init1_encode(hs->own_init, e->cfg.suites, e->cfg.nsuites,
						    nonce, e->kp_pub);
	f->snd.init_len = hs->own_init_len;
	seqmap_advance(&f->snd, hs->own_init_len);
	start_rtx_timer(hs, now);
}

/* A: our kernel's final handshake ACK becomes the Init1 carrier. */
static enum engine_verdict a_send_init1(struct engine *e, struct flow *f, struct pkt *p,
					uint64_t now)
{
	struct flow_hs *hs = f->hs;

	a_make_init1(e, f, now);
	if (add_eno_ack(p) < 0 || pkt_set_payload(p, hs->own_init, hs->own_init_len) < 0) {
		/* Cannot happen with a kernel ACK; the timer resends Init1. */
		e->ctr.oversize_drop++;
		return EV_DROP;
	}
	pkt_set_flags(p, pkt_flags(p) | TCP_PSH);
	pkt_fix_checksums(p);
	return EV_ACCEPT;
}

/* Seals and releases the segments held while A waited for Init2. */
static void release_held(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = f->hs;
	unsigned i;

	for (i = 0; i < hs->nheld; i++) {
		struct held_pkt *h = &hs->held[i];
		size_t cap = (size_t)h->len + ENGINE_HEADROOM;
		uint8_t *buf = realloc(h->data, cap);
		struct pkt p;
		enum engine_verdict v = EV_DROP;

		if (buf) {
			h->data = buf;
			if (pkt_parse(&p, buf, h->len, cap) == PKT_OK)
				v = seal_outgoing(e, f, &p);
		}
		e->io.release(e->io.ctx, h->id, v == EV_ACCEPT, buf, v == EV_ACCEPT ? p.len : 0);
		free(h->data);
	}
	e->held_total -= hs->nheld;
	free(hs->held);
	hs->held = NULL;
	hs->nheld = 0;
}

static enum engine_verdict hold(struct engine *e, struct flow *f, uint32_t id, struct pkt *p)
{
	struct flow_hs *hs = f->hs;
	struct held_pkt *n;

	if (hs->nheld >= e->cfg.max_held) {
		e->ctr.held_overflow++;
		return EV_DROP;
	}
	/* Each held segment occupies a slot of the kernel's queue.  However
	 * many handshakes stall, they must leave the queue room for every
	 * other connection of the host (the kernel retransmits what we drop
	 * here). */
	if (e->held_total >= e->cfg.max_held_total) {
		e->ctr.held_total_overflow++;
		return EV_DROP;
	}
	n = realloc(hs->held, (hs->nheld + 1) * sizeof(*n));
	if (!n) {
		e->ctr.held_overflow++;
		return EV_DROP;
	}
	hs->held = n;
	n = &hs->held[hs->nheld];
	n->data = malloc(p->len);
	if (!n->data) {
		e->ctr.held_overflow++;
		return EV_DROP;
	}
	memcpy(n->data, p->buf, p->len);
	n->len = (uint16_t)p->len;
	n->id = id;
	hs->nheld++;
	e->held_total++;
	e->ctr.held++;
	return EV_HOLD;
}

/* A: B's Init2 arrived (payload starts at B's offset 0). */
static enum engine_verdict a_on_init2(struct engine *e, struct flow *f, struct pkt *p,
				      uint64_t now)
{
	struct kx_init2 m;
	enum kx_status st;
	size_t plen = pkt_payload_len(p);

	st = kx_init2_parse(pkt_payload(p), plen, &m);
	if (st == KX_OK && m.len != plen)
		st = KX_ERR_LENGTH;	/* Init2 plus more: we refuse split or joined ones */
	if (st == KX_OK && !kx_suite_listed(e->cfg.suites, e->cfg.nsuites, m.suite))
		st = KX_ERR_BAD_SUITE;	/* our Init1 offered exactly these */
	if (st != KX_OK)
		return init_reject(e, f, now, kx_status_str(st));
	f->rcv.init_len = m.len;
	f->have_peer_init = true;
	seqmap_advance(&f->rcv, m.len);
	if (install_keys(e, f, m.suite, m.pub, f->hs->own_init, f->hs->own_init_len,
			 pkt_payload(p), m.len, now) < 0)
		return init_reject(e, f, now, "all-zero X25519 result");
	if (f->hs->nheld)
		release_held(e, f);
	else
		a_inject_ack(e, f);
	log_encrypted(f);
	hs_free(e, f);
	/* Our kernel never sees Init2: nothing in it concerns the kernel. */
	return EV_DROP;
}

/* B: A's Init1 arrived on A's third segment (or a retransmission). */
static enum engine_verdict b_on_init1(struct engine *e, struct flow *f, struct pkt *p,
				      uint64_t now)
{
	struct flow_hs *hs = f->hs;
	struct kx_init1 m;
	enum kx_status st;
	uint8_t nonce[KX_NONCE_LEN];
	size_t plen = pkt_payload_len(p);
	uint16_t suite = 0;

	st = kx_init1_parse(pkt_payload(p), plen, &m);
	if (st == KX_OK && m.len != plen)
		st = KX_ERR_LENGTH;
	if (st == KX_OK) {
		suite = kx_choose_suite(&m, e->cfg.suites, e->cfg.nsuites);
		if (!suite) {
			e->ctr.no_common_suite++;
			st = KX_ERR_NO_SUITE;
		}
	}
	if (st != KX_OK)
		return init_reject(e, f, now, kx_status_str(st));
	f->rcv.init_len = m.len;
	f->have_peer_init = true;
	seqmap_advance(&f->rcv, m.len);
	if (kx_pub_has_small_order(m.pub)) {
		/* Every shared secret with this key is all zeros.  Init2 is
		 * not sent: the abort RST must not count it. */
		return init_reject(e, f, now, "all-zero X25519 result");
	}
	keypair_take(e, hs, now);
	e->io.random(e->io.ctx, nonce, sizeof(nonce));
	hs->own_init_len = (uint8_t)kx_init2_encode(hs->own_init, suite, nonce, e->kp_pub);
	f->snd.init_len = hs->own_init_len;
	seqmap_advance(&f->snd, hs->own_init_len);
	/* Init2 goes out first, before our kernel completes its handshake
	 * and before the X25519 below: A's daemon receives it and runs its
	 * own X25519 while ours runs, which takes one of the two off the
	 * connection's critical path.  Init2 does not depend on the keys. */
	b_inject_init2(e, f);
	start_rtx_timer(hs, now);
	if (install_keys(e, f, suite, m.pub, pkt_payload(p), m.len, hs->own_init,
			 hs->own_init_len, now) < 0) {
		/* Cannot happen after the check above; fail closed anyway. */
		return init_reject(e, f, now, "all-zero X25519 result");
	}
	if (hs->nheld)
		release_held(e, f);
	log_encrypted(f);
	/* The kernel gets the handshake ACK without the Init1 bytes. */
	pkt_set_payload(p, NULL, 0);
	pkt_set_seq(p, seqmap_to_kernel(&f->rcv, pkt_seq(p)));
	pkt_set_ack(p, seqmap_to_kernel(&f->snd, pkt_ack(p)));
	pkt_fix_checksums(p);
	return EV_ACCEPT;
}

static bool starts_with_magic(const struct pkt *p, uint32_t magic)
{
	return pkt_payload_len(p) >= 4 && get_be32(pkt_payload(p)) == magic;
}

/* ------------------------------------------------------------------------ */
/* Handshake (ENO) */

/* Appends our ENO option to our kernel's SYN or SYN-ACK.  Its MSS stays:
 * the peer's daemon lowers it (peer_mss_lower).  Returns -1 when there is
 * no room (the caller falls back to plaintext). */
static int syn_add_eno(struct pkt *p, const uint8_t *eno, size_t eno_len)
{
	uint8_t newopts[TCP_MAX_OPT_LEN];
	struct tcpopt_info info;
	int olen;

	if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) < 0)
		return -1;
	olen = tcpopt_append(newopts, pkt_opts(p), pkt_opts_len(p), &info, eno, eno_len, NULL);
	if (olen < 0 || pkt_set_options(p, newopts, (size_t)olen) < 0)
		return -1;
	pkt_fix_checksums(p);
	return 0;
}

/* The peer's SYN or SYN-ACK carrying a valid offer or answer of our TEP,
 * before our kernel sees it (doc/protocol.md section 3.5): its MSS becomes
 * min(MSS, route MTU - 40 (IPv6 60)) - reduction, so that our kernel's
 * segments still fit the path once they carry the MAC option (reduction
 * MSS_REDUCTION; MSS_REDUCTION + ENO_ACK_PADDED_LEN on an accepting SYN-ACK
 * at A, whose first segments also carry 45 02).  A SYN without an MSS option
 * gets one, from the protocol default.  Returns 0 when the segment was
 * rewritten. */
static int peer_mss_lower_by(struct engine *e, const struct flow_key *k, struct pkt *p,
			     unsigned reduction)
{
	uint8_t newopts[TCP_MAX_OPT_LEN];
	struct tcpopt_info info;
	unsigned hdrs = k->family == AF_INET6 ? 60 : 40;
	unsigned mtu = e->io.route_mtu ? e->io.route_mtu(e->io.ctx, k) : 0;
	unsigned mss, target;
	int olen;

	if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) < 0)
		return -1;
	if (info.mss >= 0)
		mss = get_be16(pkt_opts(p) + info.mss + 2);
	else
		mss = k->family == AF_INET6 ? MSS_DEFAULT_V6 : MSS_DEFAULT_V4;
	if (mtu > hdrs && mtu - hdrs < mss)
		mss = mtu - hdrs;
	/* tcpopt_lower_mss keeps 64 as the floor, so do we. */
	target = mss > 64 + reduction ? mss - reduction : 64;
	if (info.mss >= 0) {
		unsigned cur = get_be16(pkt_opts(p) + info.mss + 2);

		if (cur <= target)
			return -1;
		tcpopt_lower_mss(pkt_opts(p), &info, (uint16_t)(cur - target));
	} else {
		const uint8_t opt[4] = { TCPOPT_MSS, 4, (uint8_t)(target >> 8), (uint8_t)target };

		olen = tcpopt_append(newopts, pkt_opts(p), pkt_opts_len(p), &info, opt,
				     sizeof(opt), NULL);
		if (olen < 0 || pkt_set_options(p, newopts, (size_t)olen) < 0)
			return -1;
	}
	pkt_fix_checksums(p);
	return 0;
}

static int peer_mss_lower(struct engine *e, const struct flow_key *k, struct pkt *p)
{
	return peer_mss_lower_by(e, k, p, MSS_REDUCTION);
}

/* The window our kernel advertised in its SYN(-ACK), in the scaled units
 * later segments use. */
static uint16_t scaled_window(const struct pkt *p)
{
	struct tcpopt_info info;
	unsigned shift = 0;

	if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) == 0 && info.wscale >= 0)
		shift = pkt_opts(p)[info.wscale + 2] & 0x0f;
	return shift > 14 ? 1 : (uint16_t)(pkt_window(p) >> shift);
}

static enum policy_action decide_policy(const struct engine *e, const struct flow_key *k,
					 bool active)
{
	if (!e->policy)
		return POLICY_PRIVATE_OR_CLEAR;
	/* The service port: the peer's for connections we open, ours for
	 * connections we accept. */
	return policy_decide(e->policy, k->family, k->raddr, active ? k->rport : k->lport);
}

/* A: B's SYN-ACK must not reach our kernel.  It gets an RST instead that
 * fails connect() with ECONNREFUSED, and B's half-open connection gets one
 * too; the flow goes. */
static enum engine_verdict reset_synack(struct engine *e, struct flow *f, struct pkt *p)
{
	struct inject_spec peer = {
		.seq = f->snd.isn + 1, .flags = TCP_RST,
	};
	struct inject_spec local = {
		.seq = pkt_seq(p) + 1, .ack = f->snd.isn + 1, .flags = TCP_RST | TCP_ACK,
		.to_local = true,
	};

	inject(e, f, &peer, false);
	inject(e, f, &local, false);
	flow_destroy(e, f);
	return EV_DROP;
}

/* A under "private": B's SYN-ACK did not negotiate. */
static enum engine_verdict refuse_active(struct engine *e, struct flow *f, struct pkt *p,
					 const char *why)
{
	char name[FLOW_NAME_LEN];

	log_warn("refused %s: peer did not negotiate encryption (%s), policy private",
		 flow_name(&f->key, name, sizeof(name)), why);
	e->ctr.policy_refused++;
	return reset_synack(e, f, p);
}

/* Whether the remote host of k may cause one more event of class c now
 * (ratelimit.h).  The hash key is drawn the first time. */
static bool within_limit(struct engine *e, enum ratelimit_class c, const struct flow_key *k,
			 uint64_t now)
{
	if (!e->limits.keyed) {
		uint8_t key[RATELIMIT_KEY_LEN];

		e->io.random(e->io.ctx, key, sizeof(key));
		ratelimit_init(&e->limits, key);
	}
	return ratelimit_allow(&e->limits, c, now, k->raddr, k->family == AF_INET ? 4 : 16);
}

/* B under "private": a SYN that does not negotiate is answered with an RST
 * and never reaches our kernel.  Source addresses of SYNs are easily
 * spoofed: the log line and the RST are rate-limited per source and in
 * all; the SYN is dropped either way. */
static enum engine_verdict refuse_passive(struct engine *e, const struct flow_key *k,
					  struct pkt *p, const char *why, uint64_t now)
{
	char name[FLOW_NAME_LEN];
	struct flow tmp = { .key = *k };
	struct inject_spec rst = {
		.ack = pkt_seq(p) + 1 + (uint32_t)pkt_payload_len(p),
		.flags = TCP_RST | TCP_ACK,
	};

	if (within_limit(e, RL_LOG, k, now))
		log_warn("refused %s: peer did not offer encryption (%s), policy private",
			 flow_name(k, name, sizeof(name)), why);
	else
		e->ctr.log_suppressed++;
	e->ctr.policy_refused++;
	if (within_limit(e, RL_RST, k, now))
		inject(e, &tmp, &rst, false);
	else
		e->ctr.rst_suppressed++;
	return EV_DROP;
}

void engine_set_policy(struct engine *e, const struct policy *p)
{
	e->policy = p;
}

/* Whether len more option bytes fit into p's options. */
static bool syn_has_room(const struct pkt *p, size_t len)
{
	uint8_t out[TCP_MAX_OPT_LEN], filler[TCP_MAX_OPT_LEN] = { 0 };
	struct tcpopt_info info;

	return len <= sizeof(filler) && tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) == 0 &&
	       tcpopt_append(out, pkt_opts(p), pkt_opts_len(p), &info, filler, len, NULL) >= 0;
}

/* A, first SYN of a connection: offer resumption when we hold an entry for
 * the peer and the offer fits (doc/protocol.md section 13).  Otherwise the
 * SYN gets the fresh form and the entry stays for a later connection.  The
 * secret taken is this connection's alone: it goes with the handshake
 * state, whichever way that ends. */
static void a_prepare_offer(struct engine *e, struct flow *f, const struct pkt *p, uint64_t now)
{
	struct flow_hs *hs = f->hs;
	struct resume_addr peer = resume_peer(&f->key);
	uint8_t n_a[RESUME_N_LEN];

	if (!e->cfg.resumption || !syn_has_room(p, RESUME_OFFER_LEN) ||
	    !resume_a_take(&e->resume_a, &peer, now, &hs->offer))
		return;
	e->io.random(e->io.ctx, n_a, sizeof(n_a));
	resume_offer_build(hs->offer_opt, hs->offer.r_a, n_a);
	hs->offering = true;
	e->ctr.resume_offered++;
}

/* A: our kernel opens a connection. */
static enum engine_verdict out_syn(struct engine *e, struct flow *f, const struct flow_key *k,
				   struct pkt *p, uint64_t now, bool *modified)
{
	struct tcpopt_info info;
	const uint8_t *eno;
	size_t eno_len;
	bool with_eno;

	if (f && f->state == FLOW_SYN_SENT && f->snd.isn == pkt_seq(p)) {
		f->hs->syn_count++;
	} else {
		if (f)
			flow_destroy(e, f);
		f = flow_new(e, k, now, ROLE_A, FLOW_SYN_SENT);
		if (!f)
			return EV_DROP;	/* out of memory: the kernel retries */
		f->snd.isn = pkt_seq(p);
		f->hs->syn_count = 1;
		f->policy = (uint8_t)decide_policy(e, k, true);
		if (f->policy == POLICY_CLEAR)
			return go_plaintext(e, f, "policy-clear");
		if (tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) < 0 || info.tfo ||
		    info.mptcp || pkt_payload_len(p)) {
			/* A SYN with TFO, MPTCP or data gets no ENO.  Under
			 * "private" it must not leave: drop it, the kernel
			 * retries with a plain SYN (MPTCP falls back to TCP
			 * after unanswered SYNs). */
			if (f->policy == POLICY_PRIVATE) {
				e->ctr.policy_refused++;
				flow_destroy(e, f);
				return EV_DROP;
			}
			return go_plaintext(e, f, info.tfo ? "tfo" : info.mptcp ? "mptcp" : "syn-data");
		}
		a_prepare_offer(e, f, p, now);
	}
	f->hs->syn_time = now;
	/* doc/protocol.md section 9: after two unanswered retransmissions, try
	 * without ENO in case a middlebox drops unknown options -- unless the
	 * policy requires encryption. */
	with_eno = f->policy == POLICY_PRIVATE || f->hs->syn_count <= ENO_SYN_RETRIES_WITH_ENO;
	if (!with_eno)
		e->ctr.eno_syn_without++;
	/* Every SYN of the connection that carries ENO carries the same
	 * bytes: the offer's R_A and n_A too. */
	eno = f->hs->offering ? f->hs->offer_opt : eno_syn_a;
	eno_len = f->hs->offering ? RESUME_OFFER_LEN : ENO_SYN_A_LEN;
	if (with_eno && syn_add_eno(p, eno, eno_len) < 0) {
		if (f->policy == POLICY_PRIVATE) {
			e->ctr.policy_refused++;
			flow_destroy(e, f);
			return EV_DROP;
		}
		return go_plaintext(e, f, "no-option-space");
	}
	f->hs->last_syn_eno = with_eno;
	if (with_eno && !f->hs->sent_eno) {
		memcpy(f->hs->transcript, eno, eno_len);
		f->hs->a_opt_len = (uint8_t)eno_len;
		f->hs->sent_eno = true;
	}
	*modified = with_eno;
	return EV_ACCEPT;
}

/* A: B's SYN-ACK accepts a resumption (doc/protocol.md section 13).  It
 * must answer our offer with the R_B of that same secret; anything else
 * (no offer made, another R_B) aborts: ENO has switched on, so never
 * plaintext. */
static enum engine_verdict a_on_acceptance(struct engine *e, struct flow *f, struct pkt *p,
					   const uint8_t *b_opt, size_t b_len, bool *modified)
{
	struct flow_hs *hs = f->hs;
	uint8_t r_b[RESUME_RH_LEN], n_b[RESUME_N_LEN];
	char name[FLOW_NAME_LEN];
	bool role_b = false;

	if (!hs->offering || !resume_opt_parse(b_opt, b_len, r_b, n_b, &role_b) || !role_b ||
	    sodium_memcmp(r_b, hs->offer.r_b, RESUME_RH_LEN) != 0) {
		log_warn("abort %s: peer accepted a resumption %s",
			 flow_name(&f->key, name, sizeof(name)),
			 hs->offering ? "with the wrong R_B" : "we did not offer");
		e->ctr.aborts++;
		e->ctr.resume_aborted++;
		return reset_synack(e, f, p);
	}
	memcpy(hs->transcript + hs->a_opt_len, b_opt, b_len);
	hs->b_opt_len = (uint8_t)b_len;
	f->rcv.isn = pkt_seq(p);
	if (install_resumed_keys(e, f, hs->offer.ss, hs->offer.r_a, hs->offer.suite) < 0) {
		/* Cannot happen: the transcript's two options fit. */
		e->ctr.resume_aborted++;
		return reset_synack(e, f, p);
	}
	/* Until B's first tagged segment our segments carry 45 02 as well
	 * as the MAC option: our kernel must leave room for both. */
	f->eno_ack_pending = true;
	if (peer_mss_lower_by(e, &f->key, p, MSS_REDUCTION + ENO_ACK_PADDED_LEN) == 0)
		*modified = true;
	log_encrypted(f);
	/* The handshake state goes, and the secret with it (SYN-ACK
	 * repetitions need nothing from it). */
	hs_free(e, f);
	return EV_ACCEPT;
}

/* A: the peer's SYN-ACK. */
static enum engine_verdict in_synack(struct engine *e, struct flow *f, struct pkt *p,
				     bool *modified)
{
	const uint8_t *b_opt;
	size_t b_len;
	enum eno_result r;

	/* A SYN-ACK counts only if it acknowledges our SYN, as the kernel
	 * checks; one that does not is dropped here, before the kernel would
	 * answer it with an RST: a blind forgery (its sender knows the ports,
	 * not our ISN) changes nothing, neither here nor in the kernel.  Once
	 * B's ISN is known, a repetition must carry it too. */
	if (pkt_ack(p) != f->snd.isn + 1 ||
	    ((f->state == FLOW_KX || f->keyed) && pkt_seq(p) != f->rcv.isn)) {
		e->ctr.out_of_window++;
		return EV_DROP;
	}
	if (f->state == FLOW_KX) {
		/* A retransmitted SYN-ACK: the kernel will answer with an ACK
		 * that becomes another Init1 carrier. */
		if (peer_mss_lower(e, &f->key, p) == 0)
			*modified = true;
		return EV_ACCEPT;
	}
	if (f->state != FLOW_SYN_SENT)
		return EV_ACCEPT;
	r = eno_check_synack(pkt_opts(p), pkt_opts_len(p), pkt_payload_len(p) > 0, &b_opt, &b_len);
	if (r == ENO_OK && !f->hs->sent_eno)
		r = ENO_ABSENT;		/* cannot happen: B answers ENO only to ENO */
	if (r != ENO_OK) {
		e->ctr.eno_fallback++;
		if (f->policy == POLICY_PRIVATE)
			return refuse_active(e, f, p, eno_result_str(r));
		return go_plaintext(e, f, eno_result_str(r));
	}
	if (eno_opt_resumes(b_opt, b_len))
		return a_on_acceptance(e, f, p, b_opt, b_len, modified);
	if (f->hs->offering) {
		/* Declined: B no longer holds that chain (it restarted, the
		 * window moved on, or it does not resume).  The fresh
		 * exchange that follows gives us a new entry; the old one
		 * goes, unless a newer exchange has replaced it already. */
		struct resume_addr peer = resume_peer(&f->key);

		e->ctr.resume_declined++;
		resume_a_decline(&e->resume_a, &peer, f->hs->offer.chain);
		sodium_memzero(&f->hs->offer, sizeof(f->hs->offer));
		f->hs->offering = false;
	}
	memcpy(f->hs->transcript + f->hs->a_opt_len, b_opt, b_len);
	f->hs->b_opt_len = (uint8_t)b_len;
	f->rcv.isn = pkt_seq(p);
	f->state = FLOW_KX;
	if (e->io.conntrack_liberal)
		e->io.conntrack_liberal(e->io.ctx, &f->key, true);
	if (peer_mss_lower(e, &f->key, p) == 0)
		*modified = true;
	return EV_ACCEPT;
}

/* B: looks at A's resumption offer (doc/protocol.md section 13).  A secret
 * of one of A's windows whose R_A matches is taken now (it is spent
 * whether or not our SYN-ACK then has room to accept it); anything else
 * is declined, and the connection goes on with a fresh exchange. */
static void b_consider_offer(struct engine *e, struct flow *f, const uint8_t *a_opt,
			     size_t a_len, uint64_t now)
{
	struct flow_hs *hs = f->hs;
	struct resume_addr peer = resume_peer(&f->key);
	uint8_t n_a[RESUME_N_LEN], n_b[RESUME_N_LEN];
	bool role_b = true;

	if (!e->cfg.resumption || !resume_opt_parse(a_opt, a_len, hs->offer.r_a, n_a, &role_b) ||
	    role_b || !resume_b_take(&e->resume_b, &peer, hs->offer.r_a, now, &hs->accept)) {
		sodium_memzero(&hs->offer, sizeof(hs->offer));
		e->ctr.resume_declined++;
		return;
	}
	e->io.random(e->io.ctx, n_b, sizeof(n_b));
	resume_accept_build(hs->accept_opt, hs->accept.r_b, n_b);
	hs->accepting = true;
}

/* B: a new flow for A's SYN with sequence number isn, offering ENO with
 * a_opt (the transcript keeps it as it came). */
static struct flow *b_flow_new(struct engine *e, const struct flow_key *k, uint64_t now,
			       enum policy_action pol, uint32_t isn, const uint8_t *a_opt,
			       size_t a_len)
{
	struct flow *f = flow_new(e, k, now, ROLE_B, FLOW_SYN_RCVD);

	if (!f)
		return NULL;
	f->policy = (uint8_t)pol;
	f->rcv.isn = isn;
	memcpy(f->hs->transcript, a_opt, a_len);
	f->hs->a_opt_len = (uint8_t)a_len;
	if (eno_opt_resumes(a_opt, a_len))
		b_consider_offer(e, f, a_opt, a_len, now);
	return f;
}

/* A SYN for a 4-tuple that has a flow, other than that flow's own SYN
 * again.  Anyone who knows the addresses and ports can send one, so it
 * never ends, re-roles or downgrades the flow; the kernel's own rules say
 * what it is:
 *   - while our SYN with ENO is out (A, SYN_SENT) the kernel would take any
 *     SYN as a simultaneous open, which ENO cannot resolve (both ends
 *     b=0): dropped.  Without ENO on our latest SYN the connection was
 *     going to run in plaintext anyway (unless "private": dropped too);
 *   - otherwise the kernel decides: a live connection answers with a
 *     challenge ACK (RFC 5961), which our flow protects as any segment; a
 *     finished one may accept it as a new connection, and then our kernel
 *     answers with a SYN-ACK: out_synack() retires the old flow at that
 *     moment and the peer's retransmitted SYN starts the new one.  An ENO
 *     offer gets its MSS lowered on the way, as a new connection's would;
 *     under "private" a SYN without ENO is refused here. */
static void syn_memo_put(struct engine *e, const struct flow_key *k, uint32_t isn,
			 const uint8_t *opt, size_t opt_len, enum policy_action pol, uint64_t now)
{
	struct syn_memo *m = &e->syn_memo[e->syn_memo_next++ % ENGINE_SYN_MEMO];

	m->key = *k;
	m->when = now ? now : 1;
	m->isn = isn;
	m->policy = (uint8_t)pol;
	m->opt_len = opt && opt_len <= sizeof(m->opt) ? (uint8_t)opt_len : 0;
	if (m->opt_len)
		memcpy(m->opt, opt, m->opt_len);
}

/* The remembered SYN of k with sequence number isn, at most a SYN
 * timeout's worth of retransmissions old; NULL if there is none.  The
 * caller empties it. */
static struct syn_memo *syn_memo_find(struct engine *e, const struct flow_key *k, uint32_t isn,
				      uint64_t now)
{
	for (unsigned i = 0; i < ENGINE_SYN_MEMO; i++) {
		struct syn_memo *m = &e->syn_memo[i];

		if (m->when && m->isn == isn && now - m->when < SYN_MEMO_LIFETIME &&
		    memcmp(&m->key, k, sizeof(*k)) == 0)
			return m;
	}
	return NULL;
}

static enum engine_verdict stray_syn(struct engine *e, struct flow *f, const struct flow_key *k,
				     struct pkt *p, uint64_t now, bool *modified)
{
	enum policy_action pol;
	enum eno_result r;
	const uint8_t *a_opt = NULL;
	size_t a_len = 0;

	e->ctr.stray_syn++;
	if (f->role == ROLE_A && f->state == FLOW_SYN_SENT) {
		if (f->hs->last_syn_eno || f->policy == POLICY_PRIVATE)
			return EV_DROP;
		e->ctr.eno_fallback++;
		return go_plaintext(e, f, eno_result_str(ENO_SAME_ROLE));
	}
	pol = decide_policy(e, k, false);
	r = eno_check_syn(pkt_opts(p), pkt_opts_len(p), pkt_payload_len(p) > 0, &a_opt, &a_len);
	if (r != ENO_OK && pol == POLICY_PRIVATE)
		return EV_DROP;
	/* Before the MSS rewrite, which may move the options. */
	syn_memo_put(e, k, pkt_seq(p), r == ENO_OK ? a_opt : NULL, a_len, pol, now);
	if (r == ENO_OK && pol != POLICY_CLEAR && peer_mss_lower(e, k, p) == 0)
		*modified = true;
	return EV_ACCEPT;
}

/* B: a SYN from the network. */
static enum engine_verdict in_syn(struct engine *e, struct flow *f, const struct flow_key *k,
				  struct pkt *p, uint64_t now, bool *modified)
{
	const uint8_t *a_opt;
	size_t a_len;
	enum eno_result r;
	enum policy_action pol;

	if (f && f->role == ROLE_B && f->rcv.isn == pkt_seq(p) &&
	    (f->state == FLOW_SYN_RCVD || f->state == FLOW_KX || (f->resumed && f->hs))) {
		/* A retransmitted SYN (our SYN-ACK was lost or is late): the
		 * negotiation goes on.  Once A has shown it has our SYN-ACK
		 * (Init1, or a resumed connection's first tag), the same SYN
		 * is a duplicate or a replay: stray_syn's, and the kernel's,
		 * to judge. */
		if ((f->state == FLOW_SYN_RCVD || f->state == FLOW_KX) &&
		    peer_mss_lower(e, k, p) == 0)
			*modified = true;
		return EV_ACCEPT;
	}
	if (f)
		return stray_syn(e, f, k, p, now, modified);
	pol = decide_policy(e, k, false);
	r = eno_check_syn(pkt_opts(p), pkt_opts_len(p), pkt_payload_len(p) > 0, &a_opt, &a_len);
	/* TFO or SYN data without ENO is just a peer without ENO. */
	if (r != ENO_OK && eno_find(pkt_opts(p), pkt_opts_len(p), NULL, NULL) == 0)
		r = ENO_ABSENT;
	if (pol == POLICY_PRIVATE && r != ENO_OK)
		return refuse_passive(e, k, p, eno_result_str(r), now);
	if (pol == POLICY_CLEAR) {
		char name[FLOW_NAME_LEN];

		e->ctr.plaintext_flows++;
		/* Debug lines are for whoever asked for them; the others are
		 * rate-limited per source (SYNs are easily spoofed). */
		if (r == ENO_ABSENT || within_limit(e, RL_LOG, k, now))
			log_msg(r == ENO_ABSENT ? LOG_LVL_DEBUG : LOG_LVL_INFO,
				"plaintext %s reason=policy-clear", flow_name(k, name, sizeof(name)));
		else
			e->ctr.log_suppressed++;
		return EV_ACCEPT_PLAIN;
	}
	if (r != ENO_OK) {
		/* Most peers simply do not speak ENO: no flow state at all. */
		e->ctr.plaintext_flows++;
		if (r != ENO_ABSENT)
			e->ctr.eno_fallback++;
		/* A peer without ENO is the common case on a server: debug
		 * only.  Anything else deserves a line. */
		if (r != ENO_ABSENT && !within_limit(e, RL_LOG, k, now)) {
			e->ctr.log_suppressed++;
		} else if (r != ENO_ABSENT || log_get_level() >= LOG_LVL_DEBUG) {
			char name[FLOW_NAME_LEN];
			log_msg(r == ENO_ABSENT ? LOG_LVL_DEBUG : LOG_LVL_INFO,
				"plaintext %s reason=%s", flow_name(k, name, sizeof(name)),
				eno_result_str(r));
		}
		return EV_ACCEPT_PLAIN;
	}
	f = b_flow_new(e, k, now, pol, pkt_seq(p), a_opt, a_len);
	if (!f)
		return EV_DROP;
	if (peer_mss_lower(e, k, p) == 0)
		*modified = true;
	return EV_ACCEPT;
}

/* B: our kernel's SYN-ACK accepts A's offer (the option is in place):
 * keys from ss[m] now, data flows as soon as the kernels let it. */
static enum engine_verdict b_accept(struct engine *e, struct flow *f, struct pkt *p,
				    uint64_t now, bool *modified)
{
	struct flow_hs *hs = f->hs;
	int rc;

	memcpy(hs->transcript + hs->a_opt_len, hs->accept_opt, RESUME_ACCEPT_LEN);
	hs->b_opt_len = RESUME_ACCEPT_LEN;
	f->snd.isn = pkt_seq(p);
	f->window = scaled_window(p);
	hs->syn_time = now;
	rc = install_resumed_keys(e, f, hs->accept.ss, hs->offer.r_a, hs->accept.suite);
	/* ss[m] is spent: only the option bytes stay, for repetitions. */
	sodium_memzero(&hs->accept, sizeof(hs->accept));
	sodium_memzero(&hs->offer, sizeof(hs->offer));
	if (rc < 0) {
		/* Cannot happen: the transcript's two options fit. */
		flow_abort(e, f, now, "resumption keys");
		return EV_DROP;
	}
	log_encrypted(f);
	*modified = true;
	return EV_ACCEPT;
}

/* B: our kernel's SYN-ACK. */
static enum engine_verdict out_synack(struct engine *e, struct flow *f, struct pkt *p,
				      uint64_t now, bool *modified)
{
	if (f->role != ROLE_B || pkt_ack(p) != f->rcv.isn + 1 ||
	    (f->state != FLOW_SYN_RCVD && pkt_seq(p) != f->snd.isn)) {
		/* Our kernel accepts a SYN that is not this flow's: it has
		 * judged the old connection over (a 4-tuple reused after
		 * TIME_WAIT, or a finished connection's SYN replayed, which
		 * the kernel answers with a SYN-ACK of a new ISN).  The flow goes; this SYN-ACK, sent without our
		 * knowing the SYN's ENO option, is dropped, and the peer's
		 * retransmitted SYN starts the new connection as any other
		 * (its kernel keeps the lowered MSS it saw first). */
		enum policy_action pol = decide_policy(e, &f->key, false);
		struct flow_key k = f->key;
		char name[FLOW_NAME_LEN];
		struct syn_memo *m = syn_memo_find(e, &k, pkt_ack(p) - 1, now);
		struct flow *nf;

		e->ctr.flows_replaced++;
		log_info("replaced %s: the kernel accepted a new connection on its ports",
			 flow_name(&k, name, sizeof(name)));
		flow_destroy(e, f);
		if (pol == POLICY_CLEAR || (m && !m->opt_len && pol != POLICY_PRIVATE)) {
			/* A remembered SYN without ENO.  (Under "private" it
			 * never reached the kernel; after a reload to
			 * "private" its SYN-ACK is dropped, not sent clear.) */
			if (m)
				sodium_memzero(m, sizeof(*m));
			e->ctr.plaintext_flows++;
			return EV_ACCEPT_PLAIN;
		}
		if (!m || !m->opt_len) {
			if (m)
				sodium_memzero(m, sizeof(*m));
			return EV_DROP;
		}
		/* The SYN this answers offered ENO: negotiate now, as
		 * in_syn would have with a fresh table. */
		nf = b_flow_new(e, &k, now, (enum policy_action)m->policy, m->isn, m->opt,
				m->opt_len);
		sodium_memzero(m, sizeof(*m));
		if (!nf)
			return EV_DROP;
		return out_synack(e, nf, p, now, modified);
	}
	if (f->state != FLOW_SYN_RCVD && f->state != FLOW_KX) {
		/* The kernel repeats its SYN-ACK for a late SYN after the key
		 * exchange: the same option, so every SYN-ACK of the
		 * connection says the same thing.  A resumed connection's
		 * acceptance lives with the handshake state, until A's first
		 * tagged segment shows A has it: after that no SYN-ACK is
		 * needed, and none leaves with another option. */
		if (f->resumed) {
			if (!f->hs || syn_add_eno(p, f->hs->accept_opt, RESUME_ACCEPT_LEN) < 0)
				return EV_DROP;
			*modified = true;
		} else if (syn_add_eno(p, eno_syn_b, ENO_SYN_B_LEN) == 0) {
			*modified = true;
		}
		return EV_ACCEPT;
	}
	if (f->hs->accepting) {
		if (syn_add_eno(p, f->hs->accept_opt, RESUME_ACCEPT_LEN) == 0)
			return b_accept(e, f, p, now, modified);
		/* No room for the 19 bytes: declined after all, and the
		 * secret is spent (doc/protocol.md section 11). */
		sodium_memzero(&f->hs->accept, sizeof(f->hs->accept));
		f->hs->accepting = false;
		e->ctr.resume_declined++;
	}
	if (syn_add_eno(p, eno_syn_b, ENO_SYN_B_LEN) < 0) {
		if (f->policy == POLICY_PRIVATE) {
			f->snd.isn = pkt_seq(p);
			e->ctr.policy_refused++;
			flow_abort(e, f, now, "no room for ENO under policy private");
			return EV_DROP;
		}
		return go_plaintext(e, f, "no-option-space");
	}
	if (!f->hs->b_opt_len) {
		memcpy(f->hs->transcript + f->hs->a_opt_len, eno_syn_b, ENO_SYN_B_LEN);
		f->hs->b_opt_len = ENO_SYN_B_LEN;
	}
	f->snd.isn = pkt_seq(p);
	f->window = scaled_window(p);
	f->hs->syn_time = now;
	f->state = FLOW_KX;
	if (e->io.conntrack_liberal)
		e->io.conntrack_liberal(e->io.ctx, &f->key, false);
	*modified = true;
	return EV_ACCEPT;
}

/* ------------------------------------------------------------------------ */
/* Dispatch */

static enum engine_verdict handle_outgoing(struct engine *e, struct flow *f, uint32_t id,
					   struct pkt *p, uint64_t now, bool *modified)
{
	uint8_t flags = pkt_flags(p);
	enum engine_verdict v;

	if (is_synack(flags))
		return out_synack(e, f, p, now, modified);
	if (flags & TCP_SYN)
		return EV_DROP;		/* SYN on an existing flow other than a retry */

	f->window = pkt_window(p);
	if (flags & TCP_ACK) {
		f->kack = pkt_ack(p);
		f->kack_valid = true;
	}
	switch (f->state) {
	case FLOW_SYN_SENT:
	case FLOW_SYN_RCVD:
		/* Our kernel answers before ENO was decided.  Its RST answers
		 * something that came in, which may have been forged (an RST
		 * to a SYN-ACK that does not acknowledge our SYN): the flow
		 * stays, and expires if nothing follows.  A kernel in these
		 * states sends no data and no FIN. */
		if (pkt_payload_len(p) || (flags & TCP_FIN))
			return EV_DROP;
		return EV_ACCEPT;
	case FLOW_KX:
		if (flags & TCP_RST) {
			/* The application gave up: pass its reset and forget. */
			pkt_set_seq(p, seqmap_to_wire(&f->snd, pkt_seq(p)));
			if (f->role == ROLE_A)
				(void)add_eno_ack(p);	/* no room: the RST matters more */
			pkt_fix_checksums(p);
			*modified = true;
			linger(e, f, now, FLOW_CLOSED);
			return EV_ACCEPT;
		}
		if (f->role == ROLE_A && !pkt_payload_len(p) && !(flags & TCP_FIN) &&
		    pkt_seq(p) == f->snd.isn + 1) {
			*modified = true;
			return a_send_init1(e, f, p, now);
		}
		/* A's kernel put data (or a FIN) on its third segment: Init1
		 * goes in a segment of its own with that ACK, and the data
		 * waits for the keys like any other. */
		if (f->role == ROLE_A && !f->hs->own_init_len && (flags & TCP_ACK)) {
			a_make_init1(e, f, now);
			a_inject_init1(e, f);
		}
		return hold(e, f, id, p);
	case FLOW_ENCRYPTED:
		if (flags & TCP_FIN)
			f->fin_out = true;
		v = seal_outgoing(e, f, p);
		*modified = v == EV_ACCEPT;
		if ((flags & TCP_RST) && v == EV_ACCEPT)
			linger(e, f, now, FLOW_CLOSED);
		else if (f->fin_in && f->fin_out)
			f->linger_until = now + e->cfg.linger_us;
		return v;
	case FLOW_CLOSED:
		/* Stragglers of a finished connection still need protection.
		 * Closed before keys existed: our kernel reset it, and nothing
		 * of it may leave unprotected. */
		if (!f->keyed)
			return (flags & TCP_RST) ? EV_ACCEPT : EV_DROP;
		v = seal_outgoing(e, f, p);
		*modified = v == EV_ACCEPT;
		return v;
	case FLOW_ABORTED:
	default:
		return EV_DROP;
	}
}

static enum engine_verdict handle_incoming(struct engine *e, struct flow *f, struct pkt *p,
					   uint64_t now, bool *modified)
{
	uint8_t flags = pkt_flags(p);
	size_t plen = pkt_payload_len(p);
	enum engine_verdict v;

	if (is_synack(flags) && f->role == ROLE_A)
		return in_synack(e, f, p, modified);
	if (flags & TCP_SYN)
		return EV_DROP;

	/* An RST before keys exist cannot be authenticated.  The kernel
	 * judges it (unchanged, untranslated); the flow keeps its state, so a
	 * forged RST that the kernel ignores cannot switch encryption off.  A
	 * real one ends the socket and the flow expires. */
	if ((flags & TCP_RST) && !f->keyed)
		return (e->cfg.rst_authenticated && f->state == FLOW_KX) ? EV_DROP : EV_ACCEPT;
	switch (f->state) {
	case FLOW_SYN_SENT:
	case FLOW_SYN_RCVD:
		/* Nothing but the handshake (and RSTs, above) can come before
		 * our SYN-ACK or the peer's: refuse data we cannot judge. */
		return plen ? EV_DROP : EV_ACCEPT;
	case FLOW_KX:
		if (f->role == ROLE_A) {
			if (pkt_seq(p) == f->rcv.isn + 1 && starts_with_magic(p, KX_INIT2_MAGIC))
				return a_on_init2(e, f, p, now);
			e->ctr.no_keys_drop++;
			return EV_DROP;
		}
		/* B: A's first non-SYN segment must carry ENO (RFC 8547).
		 * Only a segment the kernel would take as that first ACK
		 * counts: it acknowledges our SYN-ACK and sits at A's first
		 * byte.  Anything else cannot switch the connection to
		 * plaintext (or abort it): dropped. */
		if (!(flags & TCP_ACK) || pkt_seq(p) != f->rcv.isn + 1 ||
		    pkt_ack(p) != f->snd.isn + 1) {
			e->ctr.out_of_window++;
			return EV_DROP;
		}
		if (!eno_present(pkt_opts(p), pkt_opts_len(p))) {
			if (f->hs->eno_confirmed) {
				/* A confirmed ENO already: not from A's daemon. */
				e->ctr.no_keys_drop++;
				return EV_DROP;
			}
			e->ctr.eno_fallback++;
			if (f->policy == POLICY_PRIVATE) {
				e->ctr.policy_refused++;
				flow_abort(e, f, now, "peer did not confirm ENO (policy private)");
				return EV_DROP;
			}
			return go_plaintext(e, f, "no-eno-on-ack");
		}
		f->hs->eno_confirmed = true;
		if (plen) {
			v = b_on_init1(e, f, p, now);
			*modified = v == EV_ACCEPT;
			return v;
		}
		/* A bare ACK before Init1 (A's daemon turns its kernel's ACK
		 * into the Init1 carrier, so this one is a duplicate or a
		 * forgery).  Passed on, it would complete our kernel's
		 * handshake, and everything the application then sent would
		 * wait in the queue for keys that may never come: it waits for
		 * the Init1 carrier instead (A retransmits it). */
		e->ctr.no_keys_drop++;
		return EV_DROP;
	case FLOW_CLOSED:
		if (!f->keyed)
			return EV_DROP;
		/* fall through */
	case FLOW_ENCRYPTED:
		/* The 64-bit offset, not the 32-bit number: after 4 GiB data
		 * comes round to ISN + 1 again. */
		if (plen && !f->resumed && seqmap_offset(&f->rcv, pkt_seq(p)) == 0) {
			/* A retransmitted Init message: the peer missed our
			 * answer.  Answer again with identical bytes. */
			if (f->role == ROLE_B && f->hs && starts_with_magic(p, KX_INIT1_MAGIC)) {
				e->ctr.init_retransmit++;
				b_inject_init2(e, f);
			} else if (f->role == ROLE_A && starts_with_magic(p, KX_INIT2_MAGIC)) {
				a_inject_ack(e, f);
			}
			return EV_DROP;
		}
		v = open_incoming(e, f, p, now);
		*modified = v == EV_ACCEPT;
		return v;
	case FLOW_ABORTED:
	default:
		return EV_DROP;
	}
}

/* A segment of a connection that negotiated encryption, for which we have
 * no state (the daemon restarted without resuming it, or it expired or was
 * evicted).  It can never go on, so end it: doc/protocol.md section 4.4 wants an
 * abort to reach both applications, never silence.  Without keys our RSTs
 * are untagged, which the peer's daemon passes to its kernel unchanged (and
 * the peer's daemon drops anything else untagged), and without the Init
 * lengths we do not know how far kernel and wire numbers lie apart.  So:
 *   - our kernel's segment carries kernel numbers.  Its ACK number is the
 *     RST that resets our socket.  The peer's kernel expects a number between
 *     our kernel's oldest unacknowledged byte (this segment, if it is a
 *     retransmission) and what it sent last; that distance is at most what
 *     the peer's window allowed in flight, so RSTs at seq + 0 and seq + 2^k
 *     (k = 10..24) put one inside the peer's window: it is either exact (a
 *     reset) or earns a challenge ACK (RFC 5961), which comes back to us;
 *   - the peer's segment carries wire numbers: its ACK number minus our Init
 *     length is exact for the peer's kernel, and our Init length is 77 or
 *     75 (we were A, offering two suites or one), 74 (we were B) or 0 (a
 *     resumed connection), so all four are sent.  Towards our kernel we
 *     send an old duplicate ACK, which it answers with an ACK carrying its
 *     own numbers: that segment takes the first path.
 * A wrong number is at worst a challenge ACK or ignored.  Only for
 * connections the connmark vouches for, so a spoofed segment cannot make
 * us send RSTs, and our kernel stops sending once its socket is reset. */
static void lost_flow_reset(struct engine *e, const struct flow_key *k, const struct pkt *p,
			    bool outgoing, uint64_t now)
{
	/* Our Init1 with two suites or one, our Init2, or none (resumed). */
	static const uint32_t init_lens[] = { KX_INIT1_FIXED + 4, KX_INIT1_FIXED + 2,
					      KX_INIT2_LEN, 0 };
	const size_t n_lens = sizeof(init_lens) / sizeof(init_lens[0]);
	uint8_t flags = pkt_flags(p);
	struct pkt_build to_peer = {
		.family = k->family, .saddr = k->laddr, .daddr = k->raddr,
		.sport = k->lport, .dport = k->rport, .flags = TCP_RST,
	};
	struct pkt_build to_local = {
		.family = k->family, .saddr = k->raddr, .daddr = k->laddr,
		.sport = k->rport, .dport = k->lport, .flags = TCP_RST,
	};
	size_t i;

	if ((flags & TCP_RST) || !(flags & TCP_ACK))
		return;
	/* One round per segment, at most so many rounds per peer and in all:
	 * the kernel's retransmissions bring the next. */
	if (!within_limit(e, RL_LOST, k, now)) {
		e->ctr.rst_suppressed += outgoing ? 17 : n_lens + 1;
		return;
	}
	if (outgoing) {
		unsigned shift;

		to_local.seq = pkt_ack(p);
		e->ctr.lost_flow_reset += send_built(e, &to_local) == 0;
		to_peer.seq = pkt_seq(p);
		e->ctr.lost_flow_reset += send_built(e, &to_peer) == 0;
		for (shift = 10; shift <= 24; shift++) {
			to_peer.seq = pkt_seq(p) + (1u << shift);
			e->ctr.lost_flow_reset += send_built(e, &to_peer) == 0;
		}
		return;
	}
	for (i = 0; i < n_lens; i++) {
		to_peer.seq = pkt_ack(p) - init_lens[i];
		e->ctr.lost_flow_reset += send_built(e, &to_peer) == 0;
	}
	to_local.flags = TCP_ACK;
	to_local.seq = pkt_seq(p) - 0x40000000u;
	to_local.ack = pkt_ack(p) - KX_INIT1_MAX_OWN;
	to_local.window = pkt_window(p);
	send_built(e, &to_local);
}

/* Whether the connection is committed to encryption, so that its
 * connection-tracking entry should remember it: from A's SYN that offers
 * ENO and from B's sight of ENO confirmed in A's first ACK.  Should the
 * daemon lose the flow after that (restart, eviction, expiry), the mark
 * makes its segments take the lost-flow path instead of passing in clear.
 * (A's offer may still be declined: go_plaintext's verdict then takes the
 * mark off the connection again.) */
static bool committed(const struct flow *f)
{
	if (f->keyed)
		return true;
	switch (f->state) {
	case FLOW_SYN_SENT:
		return f->hs && f->hs->last_syn_eno;
	case FLOW_KX:
		return f->role == ROLE_A || (f->hs && f->hs->eno_confirmed);
	default:
		return false;
	}
}

/* No state for this connection and nothing says it was encrypted: is it
 * one the policy calls private?  Without the flow we do not know which end
 * opened it, so both readings of the service port count (our local port
 * for a connection we accepted, the peer's for one we opened). */
static bool private_without_state(const struct engine *e, const struct flow_key *k)
{
	return decide_policy(e, k, true) == POLICY_PRIVATE ||
	       decide_policy(e, k, false) == POLICY_PRIVATE;
}

/* Upgrades an accept to "accept and remember encryption" when f (which a
 * handler may have removed: its slot is then wiped, magic included, and
 * cannot have been reused since no handler inserts after removing) is
 * committed. */
static enum engine_verdict mark_committed(enum engine_verdict v, const struct flow *f)
{
	if (v == EV_ACCEPT && f && f->slot_magic == FLOW_SLOT_MAGIC && committed(f))
		return EV_ACCEPT_ENCRYPTED;
	return v;
}

enum engine_verdict engine_handle(struct engine *e, uint64_t now, bool outgoing,
				  bool conn_encrypted, uint32_t id, struct pkt *p, bool *modified)
{
	enum engine_verdict v;
	uint8_t flags = pkt_flags(p);
	struct flow_key k;
	struct flow *f;

	*modified = false;
	if (outgoing)
		e->ctr.packets_out++;
	else
		e->ctr.packets_in++;
	make_key(p, outgoing, &k);
	f = flow_lookup(&e->flows, &k);

	if (is_syn(flags)) {
		/* These may replace or create the flow: look again. */
		if (outgoing)
			v = out_syn(e, f, &k, p, now, modified);
		else
			v = in_syn(e, f, &k, p, now, modified);
		return mark_committed(v, flow_lookup(&e->flows, &k));
	}
	if (!f) {
		struct tcpopt_info info;

		/* Not a connection we know.  If it negotiated encryption once
		 * (the connmark says so, or the peer's segment carries a MAC
		 * option or ENO's non-SYN option, which only a peer that saw
		 * ENO switch on sends), we lost its state: nothing of it may
		 * pass in either direction. */
		if (conn_encrypted ||
		    (!outgoing && tcpopt_scan(pkt_opts(p), pkt_opts_len(p), &info) == 0 &&
		     (info.mac >= 0 || info.eno_count > 0))) {
			e->ctr.lost_flow_drop++;
			/* A SYN-ACK without a flow answers a SYN: our kernel
			 * accepted one we passed for a flow that is gone, or
			 * the peer answers our kernel's SYN after a restart.
			 * No RST: the SYN's retransmission starts a flow. */
			if (conn_encrypted && !(flags & TCP_SYN))
				lost_flow_reset(e, &k, p, outgoing, now);
			return EV_DROP;
		}
		/* Under "private" a connection never runs in clear, state or
		 * no state. */
		if (private_without_state(e, &k)) {
			e->ctr.policy_lost_drop++;
			return EV_DROP;
		}
		return EV_ACCEPT_PLAIN;
	}
	/* Only our own kernel's segments keep a flow alive: anyone who knows
	 * the ports can send segments from the network, and they must not
	 * hold off a flow's idle expiry.  A live connection's kernel answers
	 * what it receives, so its flow stays fresh all the same. */
	if (outgoing) {
		flow_touch(&e->flows, f, now);
		v = handle_outgoing(e, f, id, p, now, modified);
		/* Our kernel's SYN-ACK may have replaced the flow. */
		if (is_synack(flags))
			f = flow_lookup(&e->flows, &k);
	} else {
		v = handle_incoming(e, f, p, now, modified);
	}
	return mark_committed(v, f);
}

enum engine_verdict engine_handle_unparsed(struct engine *e, bool outgoing, bool conn_encrypted,
					   const struct flow_key *k, bool have_ports)
{
	struct flow *f;

	(void)outgoing;
	e->ctr.malformed++;
	if (!k || conn_encrypted)
		return EV_DROP;
	if (!have_ports)
		return e->policy && policy_may_be_private(e->policy, k->family, k->raddr) ?
			       EV_DROP : EV_ACCEPT;
	f = flow_lookup(&e->flows, k);
	if (f && (committed(f) || f->policy == POLICY_PRIVATE))
		return EV_DROP;
	return private_without_state(e, k) ? EV_DROP : EV_ACCEPT;
}

/* ------------------------------------------------------------------------ */
/* ICMP errors (doc/protocol.md section 8) */

enum engine_verdict engine_handle_icmp(struct engine *e, uint8_t *buf, size_t len,
				       bool *modified)
{
	struct icmp_quote q;
	struct flow_key k;
	struct flow *f;
	size_t alen;

	*modified = false;
	if (!icmp_parse(&q, buf, len))
		return EV_ACCEPT;
	/* The quote is a segment we sent: its source is our side. */
	alen = q.family == AF_INET ? 4 : 16;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)q.family;
	memcpy(k.laddr, q.q_saddr, alen);
	memcpy(k.raddr, q.q_daddr, alen);
	k.lport = q.q_sport;
	k.rport = q.q_dport;
	f = flow_lookup(&e->flows, &k);
	if (!f)
		return EV_ACCEPT;
	/* The kernel checks that the quoted sequence number is one it sent. */
	put_be32(q.q_seq, seqmap_to_kernel(&f->snd, get_be32(q.q_seq)));
	if (q.too_big) {
		/* Leave room for the MAC option.  IPv6 cannot go below 1280:
		 * a narrower path needs the MSS lowered at the handshake. */
		uint32_t mtu = icmp_mtu(&q), floor = q.family == AF_INET ? 68 : 1280;

		if (mtu >= floor && mtu <= 0xffff && (!f->pmtu || mtu < f->pmtu))
			f->pmtu = (uint16_t)mtu;
		icmp_set_mtu(&q, mtu >= floor + MAC_OPT_LEN ? mtu - MAC_OPT_LEN : floor);
	}
	icmp_fix_checksum(&q);
	e->ctr.icmp_translated++;
	*modified = true;
	return EV_ACCEPT;
}

/* ------------------------------------------------------------------------ */
/* Timers */

static void rtx_fire(struct engine *e, struct flow *f, uint64_t now)
{
	struct flow_hs *hs = f->hs;
	uint64_t give_up = hs->first_send + INIT_GIVE_UP;

	if (now >= give_up) {
		flow_abort(e, f, now, "Init message not acknowledged");
		return;
	}
	if (hs->rtx_tries < UINT8_MAX)
		hs->rtx_tries++;
	hs->rto = clamp_rto(2 * hs->rto);
	/* The last timer fires at the give-up time itself, to abort. */
	hs->rtx_deadline = now + hs->rto < give_up ? now + hs->rto : give_up;
	e->ctr.init_retransmit++;
	if (f->role == ROLE_A)
		a_inject_init1(e, f);
	else
		b_inject_init2(e, f);
}

static bool flow_expired(const struct engine *e, const struct flow *f, uint64_t now)
{
	switch (f->state) {
	case FLOW_CLOSED:
	case FLOW_ABORTED:
		return now >= f->linger_until;
	case FLOW_ENCRYPTED:
		if (f->linger_until && now >= f->linger_until)
			return true;
		/* B's resumed connection that A never answered (no tagged
		 * segment yet) is still a handshake, and expires like one. */
		if (f->resumed && f->hs)
			return now - f->last_seen > e->cfg.handshake_idle_us;
		return now - f->last_seen > e->cfg.idle_us;
	default:
		/* A running Init timer ends in an abort with RSTs: let it. */
		if (f->hs && f->hs->rtx_deadline)
			return false;
		return now - f->last_seen > e->cfg.handshake_idle_us;
	}
}

uint64_t engine_tick(struct engine *e, uint64_t now)
{
	struct flow_hs *hs, *next;
	uint64_t next_deadline;

	/* A new key pair costs an X25519 base-point multiplication: do it
	 * here, a little before the old one may no longer be used, rather
	 * than in the middle of some connection's handshake. */
	if (!e->kp_born || now - e->kp_born >= KEYPAIR_LIFETIME - KEYPAIR_RENEW_AHEAD)
		keypair_new(e, now);
	next_deadline = e->next_scan;

	for (hs = e->handshakes; hs; hs = next) {
		next = hs->next;
		if (hs->rtx_deadline && now >= hs->rtx_deadline)
			rtx_fire(e, hs->flow, now);
	}
	if (now >= e->next_scan) {
		struct flow *f = e->flows.oldest, *fn;

		for (; f; f = fn) {
			fn = f->newer;
			if (flow_expired(e, f, now)) {
				/* Only idle flows count; finished ones just ended. */
				e->ctr.flows_expired += f->state != FLOW_CLOSED &&
							f->state != FLOW_ABORTED && !f->linger_until;
				flow_destroy(e, f);
			}
		}
		/* Resumption secrets past their lifetime are wiped. */
		if (e->cfg.resumption) {
			resume_a_expire(&e->resume_a, now);
			resume_b_expire(&e->resume_b, now);
		}
		e->next_scan = now + SCAN_INTERVAL;
		next_deadline = e->next_scan;
	}
	for (hs = e->handshakes; hs; hs = hs->next)
		if (hs->rtx_deadline && hs->rtx_deadline < next_deadline)
			next_deadline = hs->rtx_deadline;
	if (e->kp_born + KEYPAIR_LIFETIME - KEYPAIR_RENEW_AHEAD < next_deadline)
		next_deadline = e->kp_born + KEYPAIR_LIFETIME - KEYPAIR_RENEW_AHEAD;
	return next_deadline;
}

const struct counters *engine_counters(struct engine *e)
{
	/* The gauge is the table's own count, taken when someone looks
	 * rather than copied on every packet. */
	e->ctr.flows_active = e->flows.count;
	e->ctr.resume_entries = e->cfg.resumption ? resume_a_count(&e->resume_a) +
						    resume_b_count(&e->resume_b) : 0;
	return &e->ctr;
}

void engine_note_queue_enobufs(struct engine *e, uint64_t total)
{
	e->ctr.queue_enobufs = total;
}

void engine_note_conntrack(struct engine *e, uint64_t set, uint64_t failed)
{
	e->ctr.ct_liberal_set = set;
	e->ctr.ct_liberal_fail = failed;
}

int engine_init(struct engine *e, const struct engine_config *cfg, const struct engine_io *io)
{
	return engine_init_slots(e, cfg, io, NULL, NULL);
}

int engine_init_slots(struct engine *e, const struct engine_config *cfg,
		      const struct engine_io *io, struct flow *slots, uint64_t *slots_used)
{
	uint8_t hash_key[16];

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->io = *io;
	if (cfg->nsuites == 0 || cfg->nsuites > KX_MAX_SUITES)
		return -1;
	for (unsigned i = 0; i < cfg->nsuites; i++)
		if (cfg->suites[i] != SEAL2_SUITE_AES128CTR &&
		    cfg->suites[i] != SEAL2_SUITE_CHACHA20)
			return -1;
	if (seal2_ctx_init(&e->sx) != 0) {
		seal2_ctx_free(&e->sx);
		return -1;
	}
	if (cfg->resumption &&
	    (resume_a_init(&e->resume_a, ENGINE_RESUME_A_MAX, cfg->resume_lifetime_us) != 0 ||
	     resume_b_init(&e->resume_b, ENGINE_RESUME_B_MAX, cfg->resume_lifetime_us) != 0)) {
		resume_a_free(&e->resume_a);
		seal2_ctx_free(&e->sx);
		return -1;
	}
	e->io.random(e->io.ctx, hash_key, sizeof(hash_key));
	if (flow_table_init(&e->flows, cfg->max_flows, hash_key, slots, slots_used) != 0) {
		resume_a_free(&e->resume_a);
		resume_b_free(&e->resume_b);
		seal2_ctx_free(&e->sx);
		return -1;
	}
	return 0;
}

struct resume_ctx {
	const struct engine *e;
	uint64_t now;
};

/* Which flows a previous daemon left can go on: only keyed ones whose
 * handshake was over (a handshake's state lived in the old process's heap;
 * f->hs is that process's pointer and only says whether there was one),
 * and only while they would not have expired anyway. */
static bool resumable(void *ctx, const struct flow *f)
{
	const struct resume_ctx *rc = ctx;
	uint64_t now = rc->now;

	if ((f->key.family != AF_INET && f->key.family != AF_INET6) || f->role > ROLE_B ||
	    !f->keyed || f->hs || f->last_seen > now ||
	    (f->suite != SEAL2_SUITE_AES128CTR && f->suite != SEAL2_SUITE_CHACHA20))
		return false;
	switch (f->state) {
	case FLOW_ENCRYPTED:
		if (f->linger_until && now >= f->linger_until)
			return false;
		return now - f->last_seen <= rc->e->cfg.idle_us;
	case FLOW_CLOSED:
	case FLOW_ABORTED:
		return now < f->linger_until;
	default:
		return false;
	}
}

size_t engine_resume(struct engine *e, uint64_t now, size_t *discarded)
{
	struct resume_ctx rc = { .e = e, .now = now };
	size_t n = flow_table_adopt(&e->flows, resumable, &rc, discarded);

	e->ctr.flows_resumed += n;
	return n;
}

void engine_detach(struct engine *e)
{
	/* Handshakes cannot be resumed (their state is not in the slots):
	 * end them here, which also releases their held segments. */
	while (e->handshakes)
		flow_destroy(e, e->handshakes->flow);
	flow_table_detach(&e->flows);
	/* Resumption secrets never outlive the process (doc/protocol.md
	 * section 13): the next daemon starts without them. */
	resume_a_free(&e->resume_a);
	resume_b_free(&e->resume_b);
	sodium_memzero(e->kp_priv, sizeof(e->kp_priv));
	escache_reset(&e->es_memo, 0);
	seal2_ctx_free(&e->sx);
}

void engine_free(struct engine *e)
{
	while (e->flows.oldest)
		flow_destroy(e, e->flows.oldest);
	flow_table_free(&e->flows);
	resume_a_free(&e->resume_a);
	resume_b_free(&e->resume_b);
	sodium_memzero(e->kp_priv, sizeof(e->kp_priv));
	escache_reset(&e->es_memo, 0);
	seal2_ctx_free(&e->sx);
}
