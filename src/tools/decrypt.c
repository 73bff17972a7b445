/* SPDX-License-Identifier: BSD-2-Clause */
/* tcpcrypt-decrypt: a packet capture and a debug key log (doc/protocol.md
 * section 10) in, the same capture out with every tcpcrypt connection's
 * payload verified and replaced by its plaintext, the MAC option and the
 * non-SYN ENO option overwritten with NOPs and the checksums fixed, so that
 * ordinary tools read plain TCP.
 *
 * Two passes over the input.  The first finds the connections (SYN,
 * SYN-ACK, the ENO options of both, Init1 and Init2 at offset 0) and
 * remembers which connection every packet belongs to; the keys are then
 * derived with the protocol core (kx_derive_from_es for a fresh exchange,
 * resume_keys for a resumed one).  The second pass verifies every tagged
 * segment with seal2_verify, decrypts it with seal2_decrypt_verified (each
 * byte under the generation of its offset) and writes the packet out.
 * Every packet keeps its length: options are overwritten, never removed,
 * and the Init messages stay in place as the first payload bytes of each
 * direction, so sequence numbers need no translation. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "bytes.h"
#include "eno.h"
#include "kx.h"
#include "packet.h"
#include "resume.h"
#include "seal2.h"
#include "seqmap.h"
#include "tcpopt.h"

#define PROG "tcpcrypt-decrypt"
/* Link types not every libpcap names. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
/* Largest IP packet we handle (IPv6 without jumbograms: 40 + 65535). */
#define PKT_MAX (IPV6_HDR_LEN + 0xffff)

static int verbose;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		msg("out of memory");
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		msg("out of memory");
		exit(2);
	}
	return p;
}

/* ------------------------------------------------------------------------
 * The key log */

struct es_line {
	uint8_t n_a[KX_NONCE_LEN];
	uint8_t es[KX_KEY_LEN];
};

struct ss_line {
	uint8_t r_a[RESUME_RH_LEN];
	uint8_t ss[RESUME_SS_LEN];
	uint16_t suite;
};

struct keylog {
	struct es_line *es;
	size_t nes;
	struct ss_line *ss;
	size_t nss;
};

/* Exactly 2 * n lowercase hex digits followed by a space or the end. */
static bool hex_field(const char *s, uint8_t *out, size_t n, char end)
{
	size_t i;

	for (i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	if (s[2 * n] != end)
		return false;
	return sodium_hex2bin(out, n, s, 2 * n, NULL, NULL, NULL) == 0;
}

static int keylog_read(const char *path, struct keylog *kl)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned no = 0, bad = 0;

	if (!f) {
		msg("cannot open key log %s: %s", path, strerror(errno));
		return -1;
	}
	memset(kl, 0, sizeof(*kl));
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		no++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		if (!strncmp(line, "TCPCRYPT_ES ", 12)) {
			struct es_line e;

			if (hex_field(line + 12, e.n_a, KX_NONCE_LEN, ' ') &&
			    hex_field(line + 12 + 65, e.es, KX_KEY_LEN, '\0')) {
				kl->es = xrealloc(kl->es, (kl->nes + 1) * sizeof(e));
				kl->es[kl->nes++] = e;
				continue;
			}
		} else if (!strncmp(line, "TCPCRYPT_SS ", 12)) {
			struct ss_line s;
			uint8_t suite[2];

			if (hex_field(line + 12, s.r_a, RESUME_RH_LEN, ' ') &&
			    hex_field(line + 12 + 19, s.ss, RESUME_SS_LEN, ' ') &&
			    hex_field(line + 12 + 19 + 65, suite, 2, '\0')) {
				s.suite = get_be16(suite);
				kl->ss = xrealloc(kl->ss, (kl->nss + 1) * sizeof(s));
				kl->ss[kl->nss++] = s;
				continue;
			}
		}
		if (bad++ < 5)
			msg("key log %s line %u is not a TCPCRYPT_ES or TCPCRYPT_SS line: ignored",
			    path, no);
	}
	if (ferror(f)) {
		msg("reading key log %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	if (verbose)
		msg("key log %s: %zu TCPCRYPT_ES and %zu TCPCRYPT_SS lines", path, kl->nes,
		    kl->nss);
	return 0;
}

static const struct es_line *keylog_es(const struct keylog *kl, const uint8_t *n_a)
{
	size_t i;

	for (i = 0; i < kl->nes; i++)
		if (!memcmp(kl->es[i].n_a, n_a, KX_NONCE_LEN))
			return &kl->es[i];
	return NULL;
}

static const struct ss_line *keylog_ss(const struct keylog *kl, const uint8_t *r_a)
{
	size_t i;

	for (i = 0; i < kl->nss; i++)
		if (!memcmp(kl->ss[i].r_a, r_a, RESUME_RH_LEN))
			return &kl->ss[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Link layers: where the IP header starts */

/* Offset of the IP header in a frame of link type dlt, or -1 when the
 * frame carries no IPv4/IPv6 (or the link type is not supported). */
static long link_ip_offset(int dlt, const uint8_t *f, size_t caplen)
{
	size_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		off = 12;
		type = get_be16(f + off);
		/* 802.1Q / 802.1ad tags, possibly stacked */
		while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && off + 6 <= caplen) {
			off += 4;
			type = get_be16(f + off);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		type = get_be16(f + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		type = get_be16(f);
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* The address family's value differs between systems: the IP
		 * version nibble decides. */
		if (caplen < 5)
			return -1;
		return 4;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	default:
		return -1;
	}
	if (type != ETH_P_IPV4 && type != ETH_P_IPV6)
		return -1;
	return off <= caplen ? (long)off : -1;
}

static bool link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------------
 * Connections */

enum conn_state {
	CS_OPEN,	/* pass 1: collecting */
	CS_PLAIN,	/* no tcpcrypt negotiated: left as it is */
	CS_INCOMPLETE,	/* tcpcrypt negotiated, but the capture lacks what the keys need */
	CS_NOKEY,	/* no key-log line */
	CS_BADKEY,	/* a key-log line that contradicts the wire */
	CS_KEYS,	/* keys derived: decrypted in pass 2 */
};

struct conn {
	int family;
	uint8_t addr_a[16], addr_b[16];
	uint16_t port_a, port_b;
	uint32_t isn_a, isn_b;
	bool have_synack, syn_data, synack_data;
	uint8_t syn_opts[TCP_MAX_OPT_LEN], synack_opts[TCP_MAX_OPT_LEN];
	uint8_t syn_opts_len, synack_opts_len;
	uint8_t *init1, *init2;		/* first payload at offset 0 of A / of B */
	size_t init1_len, init2_len;
	bool init_truncated;
	unsigned long first_pkt;

	enum conn_state state;
	bool resumed;
	char why[160];
	uint16_t suite;
	uint32_t init_len_a, init_len_b;
	struct seal2_chain ab, ba;
	struct seqdir sa, sb;
	/* pass 2 */
	unsigned long verified, bad, untagged, init_segs, truncated;
	uint64_t app_bytes_ab, app_bytes_ba;
};

struct conns {
	struct conn **c;
	size_t n;
	/* open addressing: (src, sport, dst, dport) of either direction ->
	 * index + 1 of the latest connection with that 4-tuple */
	struct slot {
		uint8_t key[36];
		uint32_t idx;
	} *tab;
	size_t cap, used;
};

static void tuple_key(uint8_t key[36], const uint8_t *src, uint16_t sport, const uint8_t *dst,
		      uint16_t dport, size_t alen)
{
	memset(key, 0, 36);
	memcpy(key, src, alen);
	memcpy(key + 16, dst, alen);
	put_be16(key + 32, sport);
	put_be16(key + 34, dport);
}

static uint64_t key_hash(const uint8_t key[36])
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < 36; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return h;
}

static struct slot *conns_slot(struct conns *cs, const uint8_t key[36])
{
	size_t i = (size_t)key_hash(key) & (cs->cap - 1);

	while (cs->tab[i].idx && memcmp(cs->tab[i].key, key, 36))
		i = (i + 1) & (cs->cap - 1);
	return &cs->tab[i];
}

static void conns_put(struct conns *cs, const uint8_t key[36], uint32_t idx)
{
	struct slot *s;

	if (2 * (cs->used + 1) > cs->cap) {
		struct slot *old = cs->tab;
		size_t oldcap = cs->cap, i;

		cs->cap = oldcap ? 2 * oldcap : 1024;
		cs->tab = xcalloc(cs->cap, sizeof(*cs->tab));
		for (i = 0; i < oldcap; i++)
			if (old[i].idx)
				*conns_slot(cs, old[i].key) = old[i];
		free(old);
	}
	s = conns_slot(cs, key);
	if (!s->idx) {
		cs->used++;
		memcpy(s->key, key, 36);
	}
	s->idx = idx;
}

static struct conn *conns_get(struct conns *cs, const uint8_t key[36])
{
	struct slot *s;

	if (!cs->cap)
		return NULL;
	s = conns_slot(cs, key);
	return s->idx ? cs->c[s->idx - 1] : NULL;
}

static void conn_label(const struct conn *c, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr_a, a, sizeof(a));
	inet_ntop(c->family, c->addr_b, b, sizeof(b));
	if (c->family == AF_INET6)
		snprintf(out, n, "[%s]:%u>[%s]:%u", a, c->port_a, b, c->port_b);
	else
		snprintf(out, n, "%s:%u>%s:%u", a, c->port_a, b, c->port_b);
}

/* ------------------------------------------------------------------------
 * Reading packets */

struct frame {
	struct pkt p;
	bool truncated;		/* the capture holds less than the IP packet */
	size_t ip_off;		/* where buf's bytes go back into the frame */
	size_t ip_caplen;	/* IP bytes present in the frame */
};

/* The TCP segment in a frame: buf gets a copy of its IP packet (zero-filled
 * beyond what the capture holds).  false for anything else. */
static bool frame_parse(int dlt, const struct pcap_pkthdr *h, const uint8_t *data, uint8_t *buf,
			struct frame *fr)
{
	long off = link_ip_offset(dlt, data, h->caplen);
	size_t have, want;

	memset(fr, 0, sizeof(*fr));
	if (off < 0 || (size_t)off >= h->caplen)
		return false;
	have = h->caplen - (size_t)off;
	if (have > PKT_MAX)
		have = PKT_MAX;
	want = h->len > (size_t)off ? h->len - (size_t)off : have;
	if (want > PKT_MAX)
		want = PKT_MAX;
	if (want < have)
		want = have;
	memcpy(buf, data + off, have);
	memset(buf + have, 0, want - have);
	if (pkt_parse(&fr->p, buf, want, want) != PKT_OK)
		return false;
	fr->ip_off = (size_t)off;
	fr->ip_caplen = have;
	fr->truncated = fr->p.len > have;
	/* the headers themselves must be there */
	return fr->p.l3_len + fr->p.tcp_hlen <= have;
}

/* ------------------------------------------------------------------------
 * Pass 1: connections, ENO options, Init messages */

static void copy_init(uint8_t **dst, size_t *dst_len, const struct frame *fr, bool *trunc)
{
	size_t n = pkt_payload_len(&fr->p);

	if (*dst)
		return;
	if (n > KX_INIT_MAX_LEN)
		n = KX_INIT_MAX_LEN;
	*dst = xcalloc(1, n);
	memcpy(*dst, pkt_payload(&fr->p), n);
	*dst_len = n;
	if (fr->truncated)
		*trunc = true;
}

/* The connection the segment belongs to (NULL: none), after recording
 * what it tells about it. */
static struct conn *pass1_segment(struct conns *cs, const struct frame *fr, unsigned long no)
{
	const struct pkt *p = &fr->p;
	size_t alen = pkt_addr_len(p), olen = pkt_opts_len(p);
	uint8_t key[36];
	uint8_t flags = pkt_flags(p);
	struct conn *c;
	bool from_a;

	tuple_key(key, pkt_saddr(p), pkt_sport(p), pkt_daddr(p), pkt_dport(p), alen);
	c = conns_get(cs, key);
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		if (!(c && c->port_a == pkt_sport(p) && !memcmp(c->addr_a, pkt_saddr(p), alen) &&
		      c->isn_a == pkt_seq(p))) {
			uint8_t rkey[36];

			c = xcalloc(1, sizeof(*c));
			c->family = p->family;
			memcpy(c->addr_a, pkt_saddr(p), alen);
			memcpy(c->addr_b, pkt_daddr(p), alen);
			c->port_a = pkt_sport(p);
			c->port_b = pkt_dport(p);
			c->isn_a = pkt_seq(p);
			c->first_pkt = no;
			cs->c = xrealloc(cs->c, (cs->n + 1) * sizeof(*cs->c));
			cs->c[cs->n++] = c;
			tuple_key(rkey, pkt_daddr(p), pkt_dport(p), pkt_saddr(p), pkt_sport(p), alen);
			conns_put(cs, key, (uint32_t)cs->n);
			conns_put(cs, rkey, (uint32_t)cs->n);
		}
		/* B answered the last SYN before its SYN-ACK (retransmissions
		 * repeat the option bytes) */
		if (!c->have_synack) {
			memcpy(c->syn_opts, pkt_opts(p), olen);
			c->syn_opts_len = (uint8_t)olen;
			c->syn_data = pkt_payload_len(p) > 0;
		}
		return c;
	}
	if (!c)
		return NULL;
	from_a = c->port_a == pkt_sport(p) && !memcmp(c->addr_a, pkt_saddr(p), alen);
	if (flags & TCP_SYN) {
		if (from_a || pkt_ack(p) != c->isn_a + 1)
			return NULL;	/* not an answer to this connection's SYN */
		if (!c->have_synack) {
			c->have_synack = true;
			c->isn_b = pkt_seq(p);
			memcpy(c->synack_opts, pkt_opts(p), olen);
			c->synack_opts_len = (uint8_t)olen;
			c->synack_data = pkt_payload_len(p) > 0;
		}
		return c;
	}
	/* Init1 / Init2: the payload at offset 0 of each direction */
	if (pkt_payload_len(p) && c->have_synack && !(flags & TCP_RST)) {
		if (from_a && pkt_seq(p) == c->isn_a + 1)
			copy_init(&c->init1, &c->init1_len, fr, &c->init_truncated);
		else if (!from_a && pkt_seq(p) == c->isn_b + 1)
			copy_init(&c->init2, &c->init2_len, fr, &c->init_truncated);
	}
	return c;
}

/* ------------------------------------------------------------------------
 * Keys */

static void conn_set(struct conn *c, enum conn_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_set(struct conn *c, enum conn_state st, const char *fmt, ...)
{
	va_list ap;

	c->state = st;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static void install_chains(struct conn *c, const struct kx_secrets *sec, uint16_t suite)
{
	c->suite = suite;
	seal2_chain_init(&c->ab, sec->mk, SEAL2_CTX_AB);
	seal2_chain_init(&c->ba, sec->mk, SEAL2_CTX_BA);
	c->sa.isn = c->isn_a;
	c->sa.init_len = c->init_len_a;
	c->sa.high = 0;
	c->sb.isn = c->isn_b;
	c->sb.init_len = c->init_len_b;
	c->sb.high = 0;
	c->state = CS_KEYS;
}

static void conn_keys(struct conn *c, const struct keylog *kl)
{
	const uint8_t *a_opt, *b_opt;
	size_t a_len, b_len, t_len;
	uint8_t transcript[KX_TRANSCRIPT_MAX];
	struct kx_secrets sec;
	enum eno_result r;

	if (!c->have_synack) {
		conn_set(c, CS_PLAIN, "no SYN-ACK in the capture");
		return;
	}
	r = eno_check_syn(c->syn_opts, c->syn_opts_len, c->syn_data, &a_opt, &a_len);
	if (r == ENO_OK)
		r = eno_check_synack(c->synack_opts, c->synack_opts_len, c->synack_data, &b_opt,
				     &b_len);
	if (r != ENO_OK) {
		conn_set(c, CS_PLAIN, "plain TCP (ENO: %s)", eno_result_str(r));
		return;
	}
	t_len = eno_transcript(transcript, a_opt, a_len, b_opt, b_len);

	if (eno_opt_resumes(b_opt, b_len)) {
		uint8_t r_a[RESUME_RH_LEN], r_b[RESUME_RH_LEN], n[RESUME_N_LEN];
		uint8_t want_a[RESUME_RH_LEN], want_b[RESUME_RH_LEN];
		const struct ss_line *s;
		char hex[2 * RESUME_RH_LEN + 1];

		c->resumed = true;
		if (!resume_opt_parse(a_opt, a_len, r_a, n, NULL) ||
		    !resume_opt_parse(b_opt, b_len, r_b, n, NULL)) {
			conn_set(c, CS_INCOMPLETE, "B accepts a resumption that A did not offer");
			return;
		}
		sodium_bin2hex(hex, sizeof(hex), r_a, sizeof(r_a));
		s = keylog_ss(kl, r_a);
		if (!s) {
			conn_set(c, CS_NOKEY, "resumed, no TCPCRYPT_SS line for R_A %s", hex);
			return;
		}
		resume_r(s->ss, want_a, want_b);
		if (memcmp(want_a, r_a, sizeof(r_a)) || memcmp(want_b, r_b, sizeof(r_b))) {
			conn_set(c, CS_BADKEY, "the TCPCRYPT_SS line for R_A %s does not give "
				 "the R_A / R_B on the wire", hex);
			return;
		}
		if (s->suite != SEAL2_SUITE_CHACHA20 && s->suite != SEAL2_SUITE_AES128CTR) {
			conn_set(c, CS_BADKEY, "the TCPCRYPT_SS line for R_A %s names suite 0x%04x",
				 hex, s->suite);
			return;
		}
		if (!resume_keys(s->ss, transcript, t_len, &sec)) {
			conn_set(c, CS_BADKEY, "resume_keys failed");
			return;
		}
		c->init_len_a = c->init_len_b = 0;
		install_chains(c, &sec, s->suite);
	} else {
		struct kx_init1 m1;
		struct kx_init2 m2;
		enum kx_status st;
		const struct es_line *e;
		char hex[2 * KX_NONCE_LEN + 1];
		struct kx_input in;

		if (!c->init1 || !c->init2) {
			conn_set(c, CS_INCOMPLETE, "tcpcrypt negotiated, but %s not in the capture",
				 !c->init1 ? "Init1 (A's first payload)" : "Init2 (B's first payload)");
			return;
		}
		if (c->init_truncated) {
			conn_set(c, CS_INCOMPLETE, "Init1 or Init2 cut short by the snaplen");
			return;
		}
		if ((st = kx_init1_parse(c->init1, c->init1_len, &m1)) != KX_OK ||
		    (st = kx_init2_parse(c->init2, c->init2_len, &m2)) != KX_OK) {
			conn_set(c, CS_INCOMPLETE, "no valid Init1/Init2 at offset 0 (%s)",
				 kx_status_str(st));
			return;
		}
		if ((m2.suite != SEAL2_SUITE_CHACHA20 && m2.suite != SEAL2_SUITE_AES128CTR)) {
			conn_set(c, CS_INCOMPLETE, "Init2 names suite 0x%04x, which this tool "
				 "does not know", m2.suite);
			return;
		}
		{
			uint16_t offered[256];
			unsigned i;

			for (i = 0; i < m1.nciphers; i++)
				offered[i] = get_be16(m1.suites + 2 * i);
			if (!kx_suite_listed(offered, m1.nciphers, m2.suite)) {
				conn_set(c, CS_INCOMPLETE, "Init2 names suite 0x%04x, which Init1 "
					 "did not offer", m2.suite);
				return;
			}
		}
		sodium_bin2hex(hex, sizeof(hex), m1.nonce, KX_NONCE_LEN);
		e = keylog_es(kl, m1.nonce);
		if (!e) {
			conn_set(c, CS_NOKEY, "no TCPCRYPT_ES line for N_A %s", hex);
			return;
		}
		memset(&in, 0, sizeof(in));
		in.transcript = transcript;
		in.transcript_len = t_len;
		in.init1 = c->init1;
		in.init1_len = m1.len;
		in.init2 = c->init2;
		in.init2_len = m2.len;
		if (kx_derive_from_es(&in, e->es, &sec) != KX_OK) {
			conn_set(c, CS_BADKEY, "key schedule failed for N_A %s", hex);
			return;
		}
		c->init_len_a = m1.len;
		c->init_len_b = m2.len;
		install_chains(c, &sec, m2.suite);
	}
	sodium_memzero(&sec, sizeof(sec));
}

/* ------------------------------------------------------------------------
 * Pass 2: verify, decrypt, rewrite */

/* Overwrites every ENO option of a non-SYN segment with NOPs; true if one
 * was there. */
static bool nop_eno(uint8_t *opts, size_t len)
{
	const uint8_t *o;
	size_t olen;
	bool any = false;

	while (eno_find(opts, len, &o, &olen) > 0 && o) {
		memset(opts + (o - opts), TCPOPT_NOP, olen);
		any = true;
	}
	return any;
}

static unsigned long bad_total, verified_total, nokey_segments;

static void report_bad(struct conn *c, const char *what, bool from_a, uint64_t off,
		       size_t plen, unsigned long no)
{
	char label[128];
	uint32_t il = from_a ? c->init_len_a : c->init_len_b;

	conn_label(c, label, sizeof(label));
	c->bad++;
	bad_total++;
	if (off >= il && off < (UINT64_C(1) << 62))
		msg("%s: connection %s, direction %s, offset %" PRIu64 " (application byte %"
		    PRIu64 "), %zu bytes, packet %lu: left as captured", what, label,
		    from_a ? "A->B" : "B->A", off, off - il, plen, no);
	else
		msg("%s: connection %s, direction %s, offset %" PRIu64 ", %zu bytes, packet %lu: "
		    "left as captured", what, label, from_a ? "A->B" : "B->A", off, plen, no);
}

/* Returns true when buf (the IP packet) was changed. */
static bool pass2_segment(struct conn *c, struct frame *fr, struct seal2_ctx *sx,
			  unsigned long no)
{
	struct pkt *p = &fr->p;
	size_t alen = pkt_addr_len(p), plen = pkt_payload_len(p);
	uint8_t flags = pkt_flags(p), *opts = pkt_opts(p);
	bool from_a = c->port_a == pkt_sport(p) && !memcmp(c->addr_a, pkt_saddr(p), alen);
	struct seqdir *own = from_a ? &c->sa : &c->sb, *peer = from_a ? &c->sb : &c->sa;
	struct seal2_chain *ch = from_a ? &c->ab : &c->ba;
	struct tcpopt_info info;
	struct seal2_hdr h;
	const uint8_t *tag;

	if (flags & TCP_SYN)
		return false;
	if (tcpopt_scan(opts, pkt_opts_len(p), &info) < 0)
		info.mac = -1;
	h.flags = flags;
	h.seq_off = seqmap_offset(own, pkt_seq(p));
	h.ack_off = (flags & TCP_ACK) ? seqmap_offset(peer, pkt_ack(p)) : 0;
	h.payload_len = (uint16_t)plen;
	h.urg_ptr = pkt_urp(p);

	if (fr->truncated) {
		/* What is not in the capture can be neither verified nor
		 * decrypted (and the checksums not recomputed). */
		if (info.mac >= 0 || plen) {
			char label[128];

			conn_label(c, label, sizeof(label));
			c->truncated++;
			bad_total++;
			msg("cut short by the snaplen: connection %s, direction %s, offset %" PRIu64
			    ", packet %lu: cannot verify, left as captured", label,
			    from_a ? "A->B" : "B->A", h.seq_off, no);
		}
		return false;
	}
	if (info.mac < 0) {
		/* Untagged: the Init messages (kept, in the clear already),
		 * A's ACKs before it has keys, RSTs nobody vouches for. */
		if (plen && h.seq_off == 0 && !c->resumed) {
			c->init_segs++;
			if (verbose)
				msg("packet %lu: %s at offset 0 kept as payload", no,
				    from_a ? "Init1" : "Init2");
		} else if (plen || (flags & (TCP_FIN | TCP_URG))) {
			report_bad(c, "no MAC option", from_a, h.seq_off, plen, no);
			return false;
		} else {
			c->untagged++;
		}
		if (nop_eno(opts, pkt_opts_len(p))) {
			pkt_fix_checksums(p);
			return true;
		}
		return false;
	}
	tag = opts + info.mac + 4;
	if (!seal2_verify(ch, &h, pkt_payload(p), plen, tag, sx)) {
		report_bad(c, "bad tag", from_a, h.seq_off, plen, no);
		return false;
	}
	if (plen && h.seq_off < (from_a ? c->init_len_a : c->init_len_b)) {
		report_bad(c, "tagged segment inside the Init message", from_a, h.seq_off, plen,
			   no);
		return false;
	}
	if (plen && seal2_decrypt_verified(sx, c->suite, ch, &h, pkt_payload(p)) != 0) {
		report_bad(c, "cannot decrypt", from_a, h.seq_off, plen, no);
		return false;
	}
	c->verified++;
	verified_total++;
	if (from_a)
		c->app_bytes_ab += plen;
	else
		c->app_bytes_ba += plen;
	seqmap_advance(own, h.seq_off + plen + ((flags & TCP_FIN) ? 1 : 0));
	memset(opts + info.mac, TCPOPT_NOP, MAC_OPT_LEN);
	nop_eno(opts, pkt_opts_len(p));
	pkt_fix_checksums(p);
	return true;
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " -k KEYLOG [-o OUT] [-v] IN\n"
		"  IN         pcap or pcapng capture of tcpcrypt connections\n"
		"  -k KEYLOG  the key log written by tcpcryptd --keylog (TCPCRYPT_ES/SS lines)\n"
		"  -o OUT     write the decrypted capture (pcap) to OUT ('-': stdout);\n"
		"             without -o the capture is only verified\n"
		"  -v         describe every connection and the Init segments\n"
		"exit status: 0 every tagged segment verified, 1 a segment failed,\n"
		"2 usage or I/O error; see tcpcrypt-decrypt(1)\n");
}

static pcap_t *open_in(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, err);

	if (!in)
		msg("cannot read %s: %s", path, err);
	return in;
}

/* Everything one run holds, released by run_free on every path: the tool
 * is also driven in a loop by its fuzz harness (tests/fuzz/fuzz_decrypt.c),
 * where a leak on an error path would add up. */
struct run {
	struct keylog kl;
	struct conns cs;
	struct conn **pkt_conn;		/* per packet: its connection or NULL */
	unsigned long npkts;
	pcap_t *in;
	pcap_dumper_t *out;
	struct seal2_ctx sx;
	bool sx_ready;
};

static void run_free(struct run *r)
{
	size_t i;

	if (r->out)
		pcap_dump_close(r->out);
	if (r->in)
		pcap_close(r->in);
	for (i = 0; i < r->cs.n; i++) {
		free(r->cs.c[i]->init1);
		free(r->cs.c[i]->init2);
		sodium_memzero(r->cs.c[i], sizeof(*r->cs.c[i]));
		free(r->cs.c[i]);
	}
	free(r->cs.c);
	free(r->cs.tab);
	free(r->pkt_conn);
	if (r->sx_ready)
		seal2_ctx_free(&r->sx);
	if (r->kl.es)
		sodium_memzero(r->kl.es, r->kl.nes * sizeof(*r->kl.es));
	if (r->kl.ss)
		sodium_memzero(r->kl.ss, r->kl.nss * sizeof(*r->kl.ss));
	free(r->kl.es);
	free(r->kl.ss);
	memset(r, 0, sizeof(*r));
}

/* Pass 1: the connections, and which one every packet belongs to.
 * Returns 0, or -1 (said) when the capture cannot be read. */
static int pass1(struct run *r, const char *in_path, int *dlt)
{
	static uint8_t buf[PKT_MAX];
	unsigned long cap_pkts = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct frame fr;
	int rc;

	if (!(r->in = open_in(in_path)))
		return -1;
	*dlt = pcap_datalink(r->in);
	if (!link_supported(*dlt)) {
		msg("%s: link type %s (%d) is not supported (Ethernet, Linux cooked v1/v2, raw IP, "
		    "BSD loopback)", in_path, pcap_datalink_val_to_name(*dlt) ?
		    pcap_datalink_val_to_name(*dlt) : "?", *dlt);
		return -1;
	}
	while ((rc = pcap_next_ex(r->in, &h, &data)) == 1) {
		struct conn *c = NULL;

		if (r->npkts == cap_pkts) {
			cap_pkts = cap_pkts ? 2 * cap_pkts : 4096;
			r->pkt_conn = xrealloc(r->pkt_conn, cap_pkts * sizeof(*r->pkt_conn));
		}
		if (frame_parse(*dlt, h, data, buf, &fr))
			c = pass1_segment(&r->cs, &fr, r->npkts + 1);
		r->pkt_conn[r->npkts++] = c;
	}
	if (rc == -1) {
		msg("reading %s: %s", in_path, pcap_geterr(r->in));
		return -1;
	}
	pcap_close(r->in);
	r->in = NULL;
	return 0;
}

/* Between the passes: each connection's keys from the key log, and what
 * became of the connections that have none. */
static void find_keys(struct run *r, unsigned long *n_keys, unsigned long *n_resumed,
		      unsigned long *n_plain, unsigned long *n_nokey, unsigned long *n_incomplete,
		      unsigned long *n_badkey)
{
	size_t i;

	for (i = 0; i < r->cs.n; i++) {
		struct conn *c = r->cs.c[i];
		char label[128];

		conn_keys(c, &r->kl);
		conn_label(c, label, sizeof(label));
		switch (c->state) {
		case CS_KEYS:
			(*n_keys)++;
			*n_resumed += c->resumed;
			break;
		case CS_PLAIN:
			(*n_plain)++;
			if (verbose)
				msg("connection %s (packet %lu): %s: left as it is", label,
				    c->first_pkt, c->why);
			break;
		case CS_NOKEY:
			(*n_nokey)++;
			msg("connection %s (packet %lu): %s: left encrypted", label, c->first_pkt,
			    c->why);
			break;
		case CS_INCOMPLETE:
			(*n_incomplete)++;
			msg("connection %s (packet %lu): %s: left as it is", label, c->first_pkt,
			    c->why);
			break;
		case CS_BADKEY:
			(*n_badkey)++;
			msg("connection %s (packet %lu): %s: left encrypted", label, c->first_pkt,
			    c->why);
			break;
		case CS_OPEN:
			break;
		}
	}
}

/* Pass 2: every packet verified, decrypted and written out.  Returns 0, or
 * -1 (said) on an I/O error or a capture that changed since pass 1. */
static int pass2(struct run *r, const char *in_path, const char *out_path, int dlt)
{
	static uint8_t buf[PKT_MAX], frame_buf[PKT_MAX + 256];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct frame fr;
	unsigned long no;
	int rc;

	if (seal2_ctx_init(&r->sx) < 0) {
		msg("OpenSSL provides no AES-128-CTR");
		return -1;
	}
	r->sx_ready = true;
	if (!(r->in = open_in(in_path)))
		return -1;
	if (out_path && !(r->out = pcap_dump_open(r->in, out_path))) {
		msg("cannot write %s: %s", out_path, pcap_geterr(r->in));
		return -1;
	}
	for (no = 0; (rc = pcap_next_ex(r->in, &h, &data)) == 1; no++) {
		struct conn *c = no < r->npkts ? r->pkt_conn[no] : NULL;
		const u_char *wr = data;

		if (c && c->state == CS_KEYS && frame_parse(dlt, h, data, buf, &fr) &&
		    pass2_segment(c, &fr, &r->sx, no + 1)) {
			memcpy(frame_buf, data, fr.ip_off);
			memcpy(frame_buf + fr.ip_off, buf, fr.ip_caplen);
			wr = frame_buf;
		} else if (c && (c->state == CS_NOKEY || c->state == CS_BADKEY)) {
			nokey_segments++;
		}
		if (r->out)
			pcap_dump((u_char *)r->out, h, wr);
	}
	if (rc == -1) {
		msg("reading %s (second pass): %s", in_path, pcap_geterr(r->in));
		return -1;
	}
	if (no != r->npkts) {
		msg("%s changed between the two passes (%lu packets, then %lu)", in_path,
		    r->npkts, no);
		return -1;
	}
	if (r->out) {
		pcap_dumper_t *out = r->out;

		r->out = NULL;
		if (pcap_dump_flush(out) < 0) {
			msg("writing %s failed", out_path);
			pcap_dump_close(out);
			return -1;
		}
		pcap_dump_close(out);
	}
	return 0;
}

/* The whole tool once: 0 every tagged segment verified, 1 one failed (or a
 * connection's key was wrong), 2 an I/O error. */
static int decrypt_capture(const char *in_path, const char *keylog_path, const char *out_path)
{
	struct run r;
	unsigned long n_keys = 0, n_plain = 0, n_nokey = 0, n_incomplete = 0, n_badkey = 0;
	unsigned long n_resumed = 0;
	int dlt = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	bad_total = verified_total = nokey_segments = 0;
	if (keylog_read(keylog_path, &r.kl) < 0 || pass1(&r, in_path, &dlt) < 0) {
		run_free(&r);
		return 2;
	}
	find_keys(&r, &n_keys, &n_resumed, &n_plain, &n_nokey, &n_incomplete, &n_badkey);
	if (pass2(&r, in_path, out_path, dlt) < 0) {
		run_free(&r);
		return 2;
	}
	for (i = 0; i < r.cs.n; i++) {
		struct conn *c = r.cs.c[i];
		char label[128];

		if (c->state != CS_KEYS)
			continue;
		conn_label(c, label, sizeof(label));
		if (verbose || c->bad || c->truncated)
			msg("connection %s (packet %lu): %s, suite 0x%04x: %lu segments verified, "
			    "%lu failed, %lu untagged ACKs/RSTs, %lu Init segments kept; "
			    "application bytes A->B %" PRIu64 ", B->A %" PRIu64,
			    label, c->first_pkt, c->resumed ? "resumed" : "fresh", c->suite,
			    c->verified, c->bad + c->truncated, c->untagged, c->init_segs,
			    c->app_bytes_ab, c->app_bytes_ba);
		seal2_chain_wipe(&c->ab, &r.sx);
		seal2_chain_wipe(&c->ba, &r.sx);
	}
	msg("%lu packets, %zu connections: %lu decrypted (%lu fresh, %lu resumed), %lu plain, "
	    "%lu without a key-log line, %lu incomplete, %lu with a wrong key; "
	    "%lu segments verified, %lu failed",
	    r.npkts, r.cs.n, n_keys, n_keys - n_resumed, n_resumed, n_plain, n_nokey,
	    n_incomplete, n_badkey, verified_total, bad_total);
	run_free(&r);
	return bad_total || n_badkey ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *keylog_path = NULL, *out_path = NULL;
	int opt;

	static const struct option longopts[] = {
		{"keylog", required_argument, NULL, 'k'},
		{"output", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	while ((opt = getopt_long(argc, argv, "k:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': keylog_path = optarg; break;
		case 'o': out_path = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!keylog_path || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		msg("libsodium failed to initialise");
		return 2;
	}
	return decrypt_capture(argv[optind], keylog_path, out_path);
}
