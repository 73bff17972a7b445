/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: IPv4/IPv6 TCP segment parsing and rewriting
 * (src/core/packet.c, src/core/tcpopt.c) and ICMP quote parsing
 * (src/core/icmp.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "icmp.h"
#include "log.h"
#include "packet.h"
#include "tcpopt.h"

#define SPARE 256
#define FRONT 40

static const uint8_t mac_like[MAC_OPT_LEN] = {
	TCPOPT_EXP, MAC_OPT_LEN, 0x74, 0x63, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static void exercise_tcp(struct pkt *p)
{
	struct tcpopt_info info;
	uint8_t out[TCP_MAX_OPT_LEN];
	uint8_t orig_opts[TCP_MAX_OPT_LEN];
	size_t olen = pkt_opts_len(p);
	size_t plen = pkt_payload_len(p);
	size_t len0 = p->len;
	unsigned dropped = 0;
	uint8_t *snapshot;
	int n;

	FUZZ_CHECK(p->l3_len + p->tcp_hlen <= p->len && p->len <= p->cap);
	FUZZ_CHECK(olen <= TCP_MAX_OPT_LEN && olen % 4 == 0);
	memcpy(orig_opts, pkt_opts(p), olen);

	/* Checksums: fixing them must make them verify. */
	pkt_fix_checksums(p);
	FUZZ_CHECK(pkt_checksums_ok(p));

	snapshot = malloc(len0);
	FUZZ_CHECK(snapshot);
	memcpy(snapshot, p->buf, len0);

	if (tcpopt_scan(pkt_opts(p), olen, &info) == 0) {
		FUZZ_CHECK(info.used <= olen);
		FUZZ_CHECK(info.mss < (int)olen && info.wscale < (int)olen);
		FUZZ_CHECK(info.sack < (int)olen && info.mac < (int)olen);
		n = tcpopt_append(out, pkt_opts(p), olen, &info, mac_like, sizeof(mac_like),
				  &dropped);
		if (n >= 0) {
			FUZZ_CHECK(n <= TCP_MAX_OPT_LEN && n % 4 == 0);
			FUZZ_CHECK((size_t)n >= sizeof(mac_like));
			if (pkt_set_options(p, out, (size_t)n) == 0) {
				FUZZ_CHECK(pkt_opts_len(p) == (size_t)n);
				FUZZ_CHECK(pkt_payload_len(p) == plen);
				FUZZ_CHECK(memcmp(pkt_opts(p), out, (size_t)n) == 0);
				FUZZ_CHECK(memcmp(pkt_payload(p), snapshot + p->l3_len + TCP_HDR_LEN + olen,
						  plen) == 0);
				pkt_fix_checksums(p);
				FUZZ_CHECK(pkt_checksums_ok(p));
				/* and back */
				FUZZ_CHECK(pkt_set_options(p, orig_opts, olen) == 0);
				pkt_fix_checksums(p);
				FUZZ_CHECK(p->len == len0);
				FUZZ_CHECK(memcmp(p->buf, snapshot, len0) == 0);
			}
		}
		/* The MSS and SACK rewrites stay inside the options. */
		{
			uint8_t *o = pkt_opts(p);
			tcpopt_lower_mss(o, &info, 16);
			tcpopt_sack_shift(o, &info, 0x12345678u);
			tcpopt_sack_unshift(o, &info, 0x12345678u, 0);
			memcpy(o, orig_opts, olen);
		}
	}

	/* Payload round trips: shrink to half, grow by 64, restore. */
	{
		uint8_t *pl = malloc(plen + 64 + 1);
		FUZZ_CHECK(pl);
		memcpy(pl, pkt_payload(p), plen);
		memset(pl + plen, 0xa5, 64);
		if (pkt_set_payload(p, pl, plen / 2) == 0) {
			FUZZ_CHECK(pkt_payload_len(p) == plen / 2);
			pkt_fix_checksums(p);
			FUZZ_CHECK(pkt_checksums_ok(p));
		}
		if (pkt_set_payload(p, pl, plen + 64) == 0) {
			FUZZ_CHECK(pkt_payload_len(p) == plen + 64);
			FUZZ_CHECK(memcmp(pkt_payload(p), pl, plen + 64) == 0);
			pkt_fix_checksums(p);
			FUZZ_CHECK(pkt_checksums_ok(p));
		}
		FUZZ_CHECK(pkt_set_payload(p, pl, plen) == 0);
		FUZZ_CHECK(p->len == len0);
		pkt_fix_checksums(p);
		FUZZ_CHECK(memcmp(p->buf, snapshot, len0) == 0);
		free(pl);
	}
	/* Re-parsing what we wrote gives the same view. */
	{
		struct pkt q;
		FUZZ_CHECK(pkt_parse(&q, p->buf, p->len, p->cap) == PKT_OK);
		FUZZ_CHECK(q.len == p->len && q.l3_len == p->l3_len && q.tcp_hlen == p->tcp_hlen);
	}
	(void)pkt_saddr(p);
	(void)pkt_daddr(p);
	free(snapshot);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	struct pkt p;
	struct icmp_quote q;

	if (size > 70000)
		return 0;
	buf = malloc(size + SPARE);
	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	if (pkt_parse(&p, buf, size, size + SPARE) == PKT_OK)
		exercise_tcp(&p);
	(void)pkt_status_str(PKT_OK);
	free(buf);

	/* Again with room in front of the packet, where pkt_set_options may
	 * move the headers instead of the payload: the same checks hold. */
	buf = malloc(FRONT + size + SPARE);
	FUZZ_CHECK(buf);
	memcpy(buf + FRONT, data, size);
	if (pkt_parse(&p, buf + FRONT, size, size + SPARE) == PKT_OK) {
		p.headroom = size % (FRONT + 1);
		exercise_tcp(&p);
		FUZZ_CHECK(p.buf >= buf && p.buf + p.cap <= buf + FRONT + size + SPARE);
	}
	free(buf);

	/* ICMP on an exact-size copy so that ASan sees any over-read. */
	buf = malloc(size ? size : 1);
	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	if (icmp_parse(&q, buf, size)) {
		FUZZ_CHECK(q.buf == buf && q.icmp_off < size);
		FUZZ_CHECK(FUZZ_INSIDE(q.q_seq, 4, buf, size));
		FUZZ_CHECK(FUZZ_INSIDE(q.q_saddr, q.family == 2 ? 4 : 16, buf, size));
		FUZZ_CHECK(FUZZ_INSIDE(q.q_daddr, q.family == 2 ? 4 : 16, buf, size));
		{
			uint32_t mtu = icmp_mtu(&q);
			icmp_set_mtu(&q, mtu > 16 ? mtu - 16 : mtu);
			icmp_fix_checksum(&q);
		}
	}
	free(buf);
	return 0;
}
