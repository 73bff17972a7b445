/* SPDX-License-Identifier: BSD-2-Clause */
/* Writes the synthetic seed inputs of tests/fuzz/corpus/ (segments built
 * with pkt_build like Linux sends them, our ENO options, Init messages,
 * control lines and engine record sequences).  Not part of any build:
 *
 *   scripts/fuzz.sh --gen-corpus
 *
 * compiles and runs it; the output is committed.  Captured Linux segments
 * (corpus/packet/linux-*) come from tcpdump, not from here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "eno.h"
#include "kx.h"
#include "packet.h"
#include "seal2.h"
#include "tcpopt.h"

static const char *outdir;

static void put(const char *harness, const char *name, const void *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static const uint8_t a4[4] = { 192, 0, 2, 1 }, b4[4] = { 198, 51, 100, 2 };
static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0xbb, [15] = 2 };
static const uint8_t o_syn[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x00, 0x10, 0x20, 0x30, 0, 0, 0, 0, 1, 3, 3, 7,
};
static const uint8_t o_ts[12] = { 1, 1, 8, 10, 0x00, 0x10, 0x20, 0x40, 0x00, 0x50, 0x60, 0x80 };
/* Both suites, in the order of a host with AES instructions. */
static const uint16_t both_suites[2] = { SEAL2_SUITE_AES128CTR, SEAL2_SUITE_CHACHA20 };

static void seg(const char *name, int fam, uint8_t flags, const uint8_t *opts, size_t olen,
		const void *pl, size_t plen)
{
	uint8_t buf[2048];
	struct pkt p;
	struct pkt_build b = {
		.family = fam, .saddr = fam == AF_INET ? a4 : a6, .daddr = fam == AF_INET ? b4 : b6,
		.sport = 40000, .dport = 80, .seq = 0x11223344, .ack = (flags & TCP_ACK) ? 0xaabbccde : 0,
		.flags = flags, .window = (flags & TCP_SYN) ? 64240 : 502,
		.opts = opts, .opts_len = olen, .payload = pl, .payload_len = plen,
	};
	size_t n = pkt_build(buf, sizeof(buf), &b, &p);

	if (!n) {
		fprintf(stderr, "pkt_build failed for %s\n", name);
		exit(1);
	}
	put("packet", name, buf, n);
}

static void packets(void)
{
	uint8_t o[40];
	uint8_t init1[KX_INIT1_MAX_OWN], nonce[32] = { 1 }, pub[32] = { 2 };
	size_t init1_len = kx_init1_encode(init1, both_suites, 2, nonce, pub);

	for (int v6 = 0; v6 < 2; v6++) {
		int fam = v6 ? AF_INET6 : AF_INET;
		char nm[64];
		const char *f = v6 ? "v6" : "v4";

		snprintf(nm, sizeof(nm), "syn-%s", f);
		seg(nm, fam, TCP_SYN, o_syn, sizeof(o_syn), NULL, 0);
		memcpy(o, o_syn, 20);
		memcpy(o + 20, eno_syn_a, ENO_SYN_A_LEN);
		memset(o + 25, TCPOPT_NOP, 3);
		snprintf(nm, sizeof(nm), "syn-eno-%s", f);
		seg(nm, fam, TCP_SYN, o, 28, NULL, 0);
		memcpy(o + 20, eno_syn_b, ENO_SYN_B_LEN);
		memset(o + 26, TCPOPT_NOP, 2);
		snprintf(nm, sizeof(nm), "synack-eno-%s", f);
		seg(nm, fam, TCP_SYN | TCP_ACK, o, 28, NULL, 0);
		snprintf(nm, sizeof(nm), "data-%s", f);
		seg(nm, fam, TCP_ACK | TCP_PSH, o_ts, sizeof(o_ts), "hello, world\n", 13);
		/* A sealed data segment: TS + MAC option. */
		memcpy(o, o_ts, 12);
		o[12] = TCPOPT_EXP;
		o[13] = MAC_OPT_LEN;
		o[14] = 0x74;
		o[15] = 0x63;
		memset(o + 16, 0x5a, 12);
		snprintf(nm, sizeof(nm), "data-mac-%s", f);
		seg(nm, fam, TCP_ACK | TCP_PSH, o, 28, "ciphertext", 10);
		/* SACK with three blocks + TS: fills the options area. */
		{
			uint8_t s[40] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26 };
			for (int i = 0; i < 6; i++)
				put_be32(s + 16 + 4 * i, 0xaabbd000 + 0x100 * i);
			snprintf(nm, sizeof(nm), "ack-sack-%s", f);
			seg(nm, fam, TCP_ACK, s, 40, NULL, 0);
		}
		memcpy(o, o_ts, 12);
		memcpy(o + 12, eno_ack, 2);
		o[14] = o[15] = TCPOPT_NOP;
		snprintf(nm, sizeof(nm), "init1-%s", f);
		seg(nm, fam, TCP_ACK | TCP_PSH, o, 16, init1, init1_len);
	}
	/* ICMP frag-needed quoting a segment (IPv4) and packet-too-big (IPv6). */
	{
		uint8_t q[128], buf[256];
		struct pkt p;
		struct pkt_build b = {
			.family = AF_INET, .saddr = a4, .daddr = b4, .sport = 40000, .dport = 80,
			.seq = 0x11223345, .ack = 1, .flags = TCP_ACK, .window = 502,
		};
		size_t ql = pkt_build(q, sizeof(q), &b, &p);
		memset(buf, 0, sizeof(buf));
		buf[0] = 0x45;
		put_be16(buf + 2, (uint16_t)(28 + ql));
		buf[8] = 64;
		buf[9] = 1;
		buf[12] = 203, buf[13] = 0, buf[14] = 113, buf[15] = 1;
		memcpy(buf + 16, a4, 4);
		buf[20] = 3;
		buf[21] = 4;
		put_be16(buf + 26, 1400);
		memcpy(buf + 28, q, ql);
		put("packet", "icmp-fragneeded-v4", buf, 28 + ql);

		b.family = AF_INET6;
		b.saddr = a6;
		b.daddr = b6;
		ql = pkt_build(q, sizeof(q), &b, &p);
		memset(buf, 0, sizeof(buf));
		buf[0] = 0x60;
		put_be16(buf + 4, (uint16_t)(8 + ql));
		buf[6] = 58;
		buf[7] = 64;
		buf[8] = 0x20, buf[9] = 0x01, buf[10] = 0x0d, buf[11] = 0xb8, buf[12] = 0xff,
		buf[23] = 1;
		memcpy(buf + 24, a6, 16);
		buf[40] = 2;
		put_be32(buf + 44, 1280);
		memcpy(buf + 48, q, ql);
		put("packet", "icmp-toobig-v6", buf, 48 + ql);
	}
}

static void enos(void)
{
	uint8_t o[40];

	put("eno", "syn-a", eno_syn_a, ENO_SYN_A_LEN);
	put("eno", "syn-b", eno_syn_b, ENO_SYN_B_LEN);
	put("eno", "ack", eno_ack, ENO_ACK_LEN);
	memcpy(o, o_syn, 20);
	memcpy(o + 20, eno_syn_a, ENO_SYN_A_LEN);
	memset(o + 25, TCPOPT_NOP, 3);
	put("eno", "linux-syn-with-a", o, 28);
	memcpy(o + 20, eno_syn_b, ENO_SYN_B_LEN);
	memset(o + 26, TCPOPT_NOP, 2);
	put("eno", "linux-synack-with-b", o, 28);
	{
		/* Several TEPs, ours last; a length-byte suboption; TFO. */
		static const uint8_t multi[] = { 0x45, 0x09, 0x00, 0x21, 0xa2, 0x61, 0x62, 0xa0, 0x74, 0x32, 1, 1 };
		static const uint8_t withlen[] = { 0x45, 0x0a, 0x01, 0x82, 0xa0, 0x74, 0x32, 0x22, 0xa0, 0x74, 1, 1 };
		static const uint8_t tfo[] = { 0x22, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 0x45, 0x05, 0xa0, 0x74, 0x32, 0 };
		static const uint8_t two[] = { 0x45, 0x05, 0xa0, 0x74, 0x32, 0x45, 0x02, 1 };
		/* Protocol version 1: another experiment to us. */
		static const uint8_t v1[] = { 0x45, 0x05, 0xa0, 0x74, 0x31 };
		/* A resumption offer (74 32 | R_A(9) | n_A(4)) and B's answers:
		 * accepting (R_B, n_B) and declining (the fresh form). */
		static const uint8_t resume[] = { 0x45, 0x12, 0xa0, 0x74, 0x32, 1, 2, 3, 4, 5, 6, 7, 8, 9,
						  0xa1, 0xa2, 0xa3, 0xa4 };
		static const uint8_t accept[] = { 0x45, 0x13, 0x01, 0xa0, 0x74, 0x32, 9, 8, 7, 6, 5, 4, 3, 2, 1,
						  0xb1, 0xb2, 0xb3, 0xb4 };
		put("eno", "multi-tep", multi, sizeof(multi));
		put("eno", "length-byte", withlen, sizeof(withlen));
		put("eno", "tfo", tfo, sizeof(tfo));
		put("eno", "two-eno", two, sizeof(two));
		put("eno", "v1-offer", v1, sizeof(v1));
		put("eno", "resume-offer", resume, sizeof(resume));
		put("eno", "resume-accept", accept, sizeof(accept));
	}
}

static void kxs(void)
{
	uint8_t m[KX_INIT1_MAX_OWN + 8], nonce[32], pub[32];

	for (int i = 0; i < 32; i++) {
		nonce[i] = (uint8_t)i;
		pub[i] = (uint8_t)(0x80 + i);
	}
	put("kx", "init1", m, kx_init1_encode(m, both_suites, 2, nonce, pub));
	put("kx", "init1-chacha20", m, kx_init1_encode(m, both_suites + 1, 1, nonce, pub));
	put("kx", "init2", m, kx_init2_encode(m, SEAL2_SUITE_AES128CTR, nonce, pub));
	/* Init1 offering three suites: one unknown, the retired version 1
	 * suite, then one of ours. */
	{
		uint8_t x[128];
		size_t n = 0;
		put_be32(x, KX_INIT1_MAGIC);
		x[8] = 3;
		put_be16(x + 9, 0x0100);
		put_be16(x + 11, 0x7401);
		put_be16(x + 13, SEAL2_SUITE_CHACHA20);
		n = 15;
		memcpy(x + n, nonce, 32);
		n += 32;
		memcpy(x + n, pub, 32);
		n += 32;
		x[n++] = 0xee;	/* a trailing byte covered by len */
		put_be32(x + 4, (uint32_t)n);
		put("kx", "init1-3suites", x, n);
	}
}

static void ctls(void)
{
	static const char lines[] =
		"list\n"
		"lookup local=192.0.2.1:1 remote=[2001:db8::1]:2\n"
		"counters\n";
	static const char more[] =
		"version\n"
		"reload\n"
		"lookup local=[::ffff:192.0.2.1]:443 remote=198.51.100.7:50000\r\n"
		"ok records=2\n"
		"flow local=192.0.2.1:40000 remote=198.51.100.2:80 state=encrypted\n"
		"error code=bad-request msg=missing-local\n";
	static const char rules[] =
		"private port 22\n"
		"clear addr 192.0.2.0/24\n"
		"private-or-clear addr 2001:db8::/32 port 8000-8100\n";

	put("ctl", "requests", lines, sizeof(lines) - 1);
	put("ctl", "more", more, sizeof(more) - 1);
	put("ctl", "rules", rules, sizeof(rules) - 1);
}

/* Engine record sequences, in the format of fuzz_engine.c. */
#define OUT 0x08
#define SEAL 0x10
#define T1MS 0x40
#define CE 0x20	/* conn_encrypted: the connmark says encrypted */
#define T300 0x80
enum { K_RAW = 0, K_TCP = 1, K_INIT = 2, K_TICK = 3, K_ICMP = 4, K_CFG = 5 };

struct rec {
	uint8_t b[4096];
	size_t n;
};

static void r_tcp(struct rec *r, uint8_t op, uint8_t slot, uint8_t flags, uint8_t sel,
		  const char *payload)
{
	size_t pl = payload ? strlen(payload) : 0;
	uint8_t h[] = { (uint8_t)(op | K_TCP), slot, flags, 0, 0, sel, (uint8_t)pl };

	memcpy(r->b + r->n, h, sizeof(h));
	r->n += sizeof(h);
	if (pl)
		memcpy(r->b + r->n, payload, pl);
	r->n += pl;
}

static void r_bytes(struct rec *r, const uint8_t *b, size_t n)
{
	memcpy(r->b + r->n, b, n);
	r->n += n;
}

static void engines(void)
{
	struct rec r;

	for (int slot = 0; slot < 2; slot++) {
		char nm[64];

		/* The engine as A: a full handshake, data both ways, FINs. */
		r.n = 0;
		r.b[r.n++] = 0x02;	/* 64 flows, defaults, no policy */
		r_tcp(&r, OUT, (uint8_t)slot, TCP_SYN, 1, NULL);
		r_tcp(&r, T1MS, (uint8_t)slot, TCP_SYN | TCP_ACK, 3, NULL);
		r_tcp(&r, OUT, (uint8_t)slot, TCP_ACK, 4, NULL);
		r_bytes(&r, (const uint8_t[]){ T1MS | K_INIT, (uint8_t)slot, 0 }, 3);
		r_tcp(&r, OUT, (uint8_t)slot, TCP_ACK | TCP_PSH, 4, "GET / HTTP/1.0\r\n\r\n");
		r_tcp(&r, T1MS | SEAL, (uint8_t)slot, TCP_ACK | TCP_PSH, 4, "HTTP/1.0 200 OK\r\n\r\nhi");
		r_tcp(&r, OUT, (uint8_t)slot, TCP_ACK | TCP_FIN, 4, NULL);
		r_tcp(&r, T1MS | SEAL, (uint8_t)slot, TCP_ACK | TCP_FIN, 4, NULL);
		r_tcp(&r, OUT, (uint8_t)slot, TCP_ACK, 4, NULL);
		r_bytes(&r, (const uint8_t[]){ K_TICK, 0xea, 0x60 }, 3);
		snprintf(nm, sizeof(nm), "a-handshake-data-%s", slot ? "v6" : "v4");
		put("engine", nm, r.b, r.n);

		/* The engine as B. */
		r.n = 0;
		r.b[r.n++] = 0x02;
		r_tcp(&r, 0, (uint8_t)(slot | 4), TCP_SYN, 2, NULL);
		r_tcp(&r, OUT, (uint8_t)(slot | 4), TCP_SYN | TCP_ACK, 1, NULL);
		r_bytes(&r, (const uint8_t[]){ T1MS | K_INIT, (uint8_t)(slot | 4), 0 }, 3);
		r_tcp(&r, T1MS | SEAL, (uint8_t)(slot | 4), TCP_ACK, 4, NULL);
		r_tcp(&r, T1MS | SEAL, (uint8_t)(slot | 4), TCP_ACK | TCP_PSH, 6, "request");
		r_tcp(&r, OUT, (uint8_t)(slot | 4), TCP_ACK | TCP_PSH, 6, "response");
		r_bytes(&r, (const uint8_t[]){ K_ICMP, (uint8_t)(slot | 4), 0x05, 0x00, 0, 1 }, 6);
		r_tcp(&r, OUT, (uint8_t)(slot | 4), TCP_ACK | TCP_PSH, 4, "more");
		r_tcp(&r, SEAL, (uint8_t)(slot | 4), TCP_ACK | TCP_RST, 4, NULL);
		r_bytes(&r, (const uint8_t[]){ K_TICK, 0xff, 0xff }, 3);
		snprintf(nm, sizeof(nm), "b-handshake-data-%s", slot ? "v6" : "v4");
		put("engine", nm, r.b, r.n);
	}
	/* A with Init2 lost: retransmissions by the timer, held data. */
	r.n = 0;
	r.b[r.n++] = 0x06;
	r_tcp(&r, OUT, 2, TCP_SYN, 1, NULL);
	r_tcp(&r, T1MS, 2, TCP_SYN | TCP_ACK, 3, NULL);
	r_tcp(&r, OUT, 2, TCP_ACK, 4, NULL);
	r_tcp(&r, OUT, 2, TCP_ACK | TCP_PSH, 4, "held one");
	r_tcp(&r, OUT, 2, TCP_ACK | TCP_PSH, 4, "held two");
	r_bytes(&r, (const uint8_t[]){ K_TICK, 0x00, 0x64, K_TICK, 0x01, 0x00 }, 6);
	r_bytes(&r, (const uint8_t[]){ T1MS | K_INIT, 2, 0 }, 3);
	r_tcp(&r, T1MS | SEAL, 2, TCP_ACK, 4, NULL);
	put("engine", "a-init2-late", r.b, r.n);

	/* Restarts: A encrypted on slot 0 and mid-handshake on slot 1, a crash
	 * (slot 0 resumed, slot 1 lost: its segments take the lost-flow path),
	 * more data, then a clean stop and start. */
	r.n = 0;
	r.b[r.n++] = 0x02;
	r_tcp(&r, OUT, 0, TCP_SYN, 1, NULL);
	r_tcp(&r, T1MS, 0, TCP_SYN | TCP_ACK, 3, NULL);
	r_tcp(&r, OUT, 0, TCP_ACK, 4, NULL);
	r_bytes(&r, (const uint8_t[]){ T1MS | K_INIT, 0, 0 }, 3);
	r_tcp(&r, OUT, 1, TCP_SYN, 1, NULL);
	r_tcp(&r, T1MS, 1, TCP_SYN | TCP_ACK, 3, NULL);
	r_tcp(&r, OUT, 1, TCP_ACK, 4, NULL);
	r_bytes(&r, (const uint8_t[]){ 8 | K_CFG, 1 }, 2);
	r_tcp(&r, OUT | CE, 0, TCP_ACK | TCP_PSH, 4, "after the crash");
	r_tcp(&r, T1MS | SEAL | CE, 0, TCP_ACK | TCP_PSH, 4, "answer");
	r_tcp(&r, OUT | CE, 1, TCP_ACK | TCP_PSH, 4, "lost");
	r_tcp(&r, CE, 1, TCP_ACK, 4, NULL);
	r_bytes(&r, (const uint8_t[]){ 8 | K_CFG, 0 }, 2);
	r_tcp(&r, OUT | CE, 0, TCP_ACK | TCP_FIN, 4, NULL);
	put("engine", "restart", r.b, r.n);

	/* Plaintext peers and a policy: private port 443 + clear 198.51.100/24:80. */
	r.n = 0;
	r.b[r.n++] = 0x62;
	r_tcp(&r, OUT, 0, TCP_SYN, 1, NULL);
	r_tcp(&r, OUT, 4, TCP_SYN, 1, NULL);
	r_tcp(&r, T1MS, 4, TCP_SYN | TCP_ACK, 1, NULL);
	r_tcp(&r, 0, 5, TCP_SYN, 1, NULL);
	r_tcp(&r, OUT, 5, TCP_SYN | TCP_ACK, 1, NULL);
	r_tcp(&r, 0, 5, TCP_ACK, 4, NULL);
	put("engine", "policy-plaintext", r.b, r.n);

	/* B under "private port 40000": a SYN without ENO is refused, a SYN
	 * with ENO whose third segment lacks the ENO option is aborted. */
	r.n = 0;
	r.b[r.n++] = 0x02;
	r_bytes(&r, (const uint8_t[]){ K_CFG, 0x10 }, 2);
	r_tcp(&r, 0, 0, TCP_SYN, 1, NULL);
	r_tcp(&r, 0, 4, TCP_SYN, 2, NULL);
	r_tcp(&r, OUT, 4, TCP_SYN | TCP_ACK, 1, NULL);
	r_tcp(&r, T1MS, 4, TCP_ACK, 4, NULL);
	put("engine", "b-policy-private", r.b, r.n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	packets();
	enos();
	kxs();
	ctls();
	engines();
	return 0;
}
