/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4/IPv6 TCP segment parsing and rewriting.  The segments are built
 * byte by byte here (not with pkt_build) so the parser is checked against
 * the RFCs, not against itself; checksums against a plain RFC 1071 sum.
 * Malformed inputs are parsed from exact-size heap copies so that a read
 * past the end shows up under AddressSanitizer. */
#include "unit.h"

#include <sys/socket.h>

#include "icmp.h"
#include "packet.h"

#define CAP 10000

static const uint8_t v4_src[4] = { 192, 0, 2, 1 };
static const uint8_t v4_dst[4] = { 198, 51, 100, 2 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0xff, [15] = 2 };

static void w16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void w32(uint8_t *b, uint32_t v)
{
	w16(b, v >> 16);
	w16(b + 2, v & 0xffff);
}

static unsigned r16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* A TCP header (ports 40000 -> 80, seq 0x01020304, ack 0x0a0b0c0d, ACK|PSH,
 * window 502) with options and payload at b; returns its length. */
static size_t put_tcp(uint8_t *b, const uint8_t *opts, size_t olen, const uint8_t *pl,
		      size_t plen)
{
	memset(b, 0, TCP_HDR_LEN);
	w16(b, 40000);
	w16(b + 2, 80);
	w32(b + 4, 0x01020304);
	w32(b + 8, 0x0a0b0c0d);
	b[12] = (uint8_t)(((TCP_HDR_LEN + olen) / 4) << 4);
	b[13] = TCP_ACK | TCP_PSH;
	w16(b + 14, 502);
	if (olen)
		memcpy(b + TCP_HDR_LEN, opts, olen);
	if (plen)
		memcpy(b + TCP_HDR_LEN + olen, pl, plen);
	return TCP_HDR_LEN + olen + plen;
}

/* IPv4 with ihl_words header words (>5 adds NOP IP options). */
static size_t make_v4(uint8_t *b, unsigned ihl_words, const uint8_t *opts, size_t olen,
		      const uint8_t *pl, size_t plen)
{
	size_t ihl = ihl_words * 4, len;

	memset(b, 0, ihl);
	b[0] = (uint8_t)(0x40 | ihl_words);
	b[6] = 0x40;			/* DF */
	b[8] = 64;
	b[9] = 6;
	memcpy(b + 12, v4_src, 4);
	memcpy(b + 16, v4_dst, 4);
	memset(b + 20, 1, ihl - 20);	/* IP option NOPs */
	len = ihl + put_tcp(b + ihl, opts, olen, pl, plen);
	w16(b + 2, (unsigned)len);
	return len;
}

/* IPv6, optionally with a hop-by-hop and a destination options header
 * (8 bytes each, PadN inside) before TCP. */
static size_t make_v6(uint8_t *b, bool ext, const uint8_t *opts, size_t olen,
		      const uint8_t *pl, size_t plen)
{
	size_t off = IPV6_HDR_LEN, len;

	memset(b, 0, IPV6_HDR_LEN);
	b[0] = 0x60;
	b[6] = ext ? 0 : 6;
	b[7] = 64;
	memcpy(b + 8, v6_src, 16);
	memcpy(b + 24, v6_dst, 16);
	if (ext) {
		static const uint8_t hbh[8] = { 60, 0, 1, 4, 0, 0, 0, 0 };
		static const uint8_t dst[16] = { 6, 1, 1, 12 };
		memcpy(b + off, hbh, sizeof(hbh));
		off += sizeof(hbh);
		memcpy(b + off, dst, sizeof(dst));	/* 16 bytes: hdr ext len 1 */
		off += sizeof(dst);
	}
	len = off + put_tcp(b + off, opts, olen, pl, plen);
	w16(b + 4, (unsigned)(len - IPV6_HDR_LEN));
	return len;
}

static const uint8_t ts_opts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* Parses a heap copy of exactly len bytes; returns the status. */
static enum pkt_status parse_exact(const uint8_t *src, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	struct pkt p;
	enum pkt_status st;

	ck_assert_ptr_nonnull(b);
	memcpy(b, src, len);
	st = pkt_parse(&p, b, len, len);
	if (st == PKT_OK) {
		ck_assert_uint_le(p.len, len);
		ck_assert_uint_le(p.l3_len + p.tcp_hlen, p.len);
		ck_assert_uint_ge(p.tcp_hlen, TCP_HDR_LEN);
	}
	free(b);
	return st;
}

/* ------------------------------------------------------------------------ */
/* An independent RFC 1071 checksum: 16-bit big-endian words, odd byte
 * padded with zero, end-around carry, complement. */

static uint32_t ref_sum(uint32_t sum, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)b[i] << 8 | b[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)b[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum of a segment at tcp (len bytes, checksum field treated
 * as zero) with the pseudo header of RFC 793 / RFC 8200 section 8.1. */
static uint16_t ref_tcp_csum(int family, const uint8_t *src, const uint8_t *dst,
			     const uint8_t *tcp, size_t len)
{
	uint8_t ph[40];
	size_t phl;
	uint8_t *copy = malloc(len);
	uint32_t sum;

	memcpy(copy, tcp, len);
	copy[16] = copy[17] = 0;
	if (family == AF_INET) {
		memcpy(ph, src, 4);
		memcpy(ph + 4, dst, 4);
		ph[8] = 0;
		ph[9] = 6;
		w16(ph + 10, (unsigned)len);
		phl = 12;
	} else {
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		w32(ph + 32, (uint32_t)len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		phl = 40;
	}
	sum = ref_sum(ref_sum(0, ph, phl), copy, len);
	free(copy);
	return ref_fold(sum);
}

static uint16_t ref_ip_csum(const uint8_t *ip, size_t ihl)
{
	uint8_t h[60];

	memcpy(h, ip, ihl);
	h[10] = h[11] = 0;
	return ref_fold(ref_sum(0, h, ihl));
}

/* ------------------------------------------------------------------------ */
/* Parsing valid segments */

START_TEST(test_parse_ipv4)
{
	uint8_t b[CAP], pl[100];
	struct pkt p;
	size_t len;

	fill(pl, sizeof(pl), 1);
	len = make_v4(b, 5, ts_opts, sizeof(ts_opts), pl, sizeof(pl));
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.len, len);
	ck_assert_uint_eq(p.cap, CAP);
	ck_assert_uint_eq(p.l3_len, 20);
	ck_assert_uint_eq(p.tcp_hlen, 32);
	ck_assert_uint_eq(pkt_opts_len(&p), 12);
	ck_assert_uint_eq(pkt_payload_len(&p), 100);
	ck_assert_mem_eq(pkt_payload(&p), pl, 100);
	ck_assert_mem_eq(pkt_opts(&p), ts_opts, 12);
	ck_assert_uint_eq(pkt_sport(&p), 40000);
	ck_assert_uint_eq(pkt_dport(&p), 80);
	ck_assert_uint_eq(pkt_seq(&p), 0x01020304);
	ck_assert_uint_eq(pkt_ack(&p), 0x0a0b0c0d);
	ck_assert_uint_eq(pkt_flags(&p), TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(pkt_window(&p), 502);
	ck_assert_uint_eq(pkt_addr_len(&p), 4);
	ck_assert_mem_eq(pkt_saddr(&p), v4_src, 4);
	ck_assert_mem_eq(pkt_daddr(&p), v4_dst, 4);
	ck_assert_str_eq(pkt_status_str(PKT_OK), "ok");
}
END_TEST

START_TEST(test_parse_ipv4_ip_options)
{
	uint8_t b[CAP];
	struct pkt p;
	size_t len = make_v4(b, 7, NULL, 0, (const uint8_t *)"xyz", 3);

	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_uint_eq(p.l3_len, 28);
	ck_assert_uint_eq(p.tcp_hlen, 20);
	ck_assert_uint_eq(pkt_payload_len(&p), 3);
	ck_assert_mem_eq(pkt_payload(&p), "xyz", 3);
}
END_TEST

/* Link-layer padding after the IP packet is not part of it. */
START_TEST(test_parse_ipv4_trailing_bytes)
{
	uint8_t b[CAP];
	struct pkt p;
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	memset(b + len, 0xee, 6);
	ck_assert_int_eq(pkt_parse(&p, b, len + 6, CAP), PKT_OK);
	ck_assert_uint_eq(p.len, 40);
	ck_assert_uint_eq(pkt_payload_len(&p), 0);
}
END_TEST

START_TEST(test_parse_ipv6)
{
	uint8_t b[CAP], pl[33];
	struct pkt p;
	size_t len;

	fill(pl, sizeof(pl), 9);
	len = make_v6(b, false, ts_opts, sizeof(ts_opts), pl, sizeof(pl));
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_uint_eq(p.l3_len, 40);
	ck_assert_uint_eq(p.len, len);
	ck_assert_uint_eq(p.tcp_hlen, 32);
	ck_assert_uint_eq(pkt_payload_len(&p), 33);
	ck_assert_mem_eq(pkt_payload(&p), pl, 33);
	ck_assert_uint_eq(pkt_addr_len(&p), 16);
	ck_assert_mem_eq(pkt_saddr(&p), v6_src, 16);
	ck_assert_mem_eq(pkt_daddr(&p), v6_dst, 16);
	ck_assert_uint_eq(pkt_seq(&p), 0x01020304);
}
END_TEST

START_TEST(test_parse_ipv6_ext_headers)
{
	uint8_t b[CAP], pl[10];
	struct pkt p;
	size_t len;

	fill(pl, sizeof(pl), 3);
	len = make_v6(b, true, ts_opts, sizeof(ts_opts), pl, sizeof(pl));
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_uint_eq(p.l3_len, 40 + 8 + 16);
	ck_assert_uint_eq(p.tcp_hlen, 32);
	ck_assert_uint_eq(pkt_payload_len(&p), 10);
	ck_assert_mem_eq(pkt_payload(&p), pl, 10);
	ck_assert_uint_eq(pkt_sport(&p), 40000);
}
END_TEST

/* IPv6 with a routing header rh (whose first byte, next header, is set
 * here to TCP) between the IPv6 header and a small segment. */
static size_t make_v6_rh(uint8_t *b, const uint8_t *rh, size_t rhlen)
{
	size_t len;

	memset(b, 0, IPV6_HDR_LEN);
	b[0] = 0x60;
	b[6] = 43;
	b[7] = 64;
	memcpy(b + 8, v6_src, 16);
	memcpy(b + 24, v6_dst, 16);
	memcpy(b + IPV6_HDR_LEN, rh, rhlen);
	b[IPV6_HDR_LEN] = 6;
	len = IPV6_HDR_LEN + rhlen + put_tcp(b + IPV6_HDR_LEN + rhlen, ts_opts, 12,
					     (const uint8_t *)"data", 4);
	w16(b + 4, (unsigned)(len - IPV6_HDR_LEN));
	return len;
}

static const uint8_t home[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0x77 };

/* The checksum covers the final destination (RFC 8200 8.1), final. */
static void assert_final_dest(uint8_t *b, size_t len, size_t rhlen, const uint8_t *final)
{
	struct pkt p;

	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_uint_eq(p.l3_len, IPV6_HDR_LEN + rhlen);
	ck_assert_mem_eq(pkt_daddr(&p), final, 16);
	ck_assert_mem_eq(pkt_saddr(&p), v6_src, 16);
	pkt_fix_checksums(&p);
	ck_assert(pkt_checksums_ok(&p));
	ck_assert_uint_eq(r16(pkt_tcp(&p) + 16),
			  ref_tcp_csum(AF_INET6, v6_src, final, pkt_tcp(&p), p.len - p.l3_len));
	if (memcmp(final, v6_dst, 16) != 0)
		ck_assert_uint_ne(r16(pkt_tcp(&p) + 16),
				  ref_tcp_csum(AF_INET6, v6_src, v6_dst, pkt_tcp(&p),
					       p.len - p.l3_len));
}

/* Mobile IPv6 (type 2): segments left 1, the home address is final; with
 * segments left 0 it has been swapped into the header already. */
START_TEST(test_routing_type2)
{
	uint8_t b[CAP], rh[24] = { 0, 2, 2, 1 };
	size_t len;

	memcpy(rh + 8, home, 16);
	len = make_v6_rh(b, rh, sizeof(rh));
	assert_final_dest(b, len, sizeof(rh), home);
	rh[3] = 0;
	len = make_v6_rh(b, rh, sizeof(rh));
	assert_final_dest(b, len, sizeof(rh), v6_dst);
	/* Only one address, exactly: anything else cannot be type 2. */
	rh[3] = 2;
	len = make_v6_rh(b, rh, sizeof(rh));
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
	{
		uint8_t rh40[40] = { 0, 4, 2, 1 };

		len = make_v6_rh(b, rh40, sizeof(rh40));
		ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
	}
}
END_TEST

/* Segment routing (type 4): the list is stored last segment first, so
 * Segment List[0] is final whatever segments left says. */
START_TEST(test_routing_type4)
{
	/* Three segments: hdr ext len 6, last entry 2. */
	uint8_t b[CAP], rh[8 + 3 * 16] = { 0, 6, 4, 2, 2, 0, 0, 0 };
	size_t len;
	unsigned sl;

	memcpy(rh + 8, home, 16);
	memset(rh + 24, 0x11, 16);
	memcpy(rh + 40, v6_dst, 16);
	for (sl = 1; sl <= 3; sl++) {
		rh[3] = (uint8_t)sl;
		len = make_v6_rh(b, rh, sizeof(rh));
		assert_final_dest(b, len, sizeof(rh), home);
	}
	/* More segments left than listed, or a last entry beyond the
	 * header: unparseable. */
	rh[3] = 4;
	len = make_v6_rh(b, rh, sizeof(rh));
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
	rh[3] = 1;
	rh[4] = 3;
	len = make_v6_rh(b, rh, sizeof(rh));
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
}
END_TEST

/* Type 0 (deprecated, still well defined): the last address listed. */
START_TEST(test_routing_type0)
{
	uint8_t b[CAP], rh[8 + 2 * 16] = { 0, 4, 0, 1 };
	size_t len;

	memset(rh + 8, 0x22, 16);
	memcpy(rh + 24, home, 16);
	len = make_v6_rh(b, rh, sizeof(rh));
	assert_final_dest(b, len, sizeof(rh), home);
}
END_TEST

/* A routing type we do not know, still in transit: the final destination
 * cannot be told, so the packet is not parsed (never guessed).  Done with
 * (segments left 0), any type is fine; so is an ext header before it. */
START_TEST(test_routing_unknown_type)
{
	uint8_t b[CAP], rh[24] = { 0, 2, 3, 1 };
	size_t len;

	len = make_v6_rh(b, rh, sizeof(rh));
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
	ck_assert_str_eq(pkt_status_str(PKT_BAD_ROUTING), "bad-routing");
	rh[2] = 253;
	len = make_v6_rh(b, rh, sizeof(rh));
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
	rh[3] = 0;
	len = make_v6_rh(b, rh, sizeof(rh));
	assert_final_dest(b, len, sizeof(rh), v6_dst);
	/* Truncated anywhere: truncated, never read beyond the buffer. */
	rh[2] = 2;
	rh[3] = 1;
	len = make_v6_rh(b, rh, sizeof(rh));
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(parse_exact(b, cut), PKT_TRUNCATED);
}
END_TEST

/* Two routing headers both in transit: which one is final is not ours to
 * guess either. */
START_TEST(test_routing_two_in_transit)
{
	uint8_t b[CAP], rh[48] = { 43, 2, 2, 1 };
	size_t len;

	memcpy(rh + 8, home, 16);
	rh[24 + 1] = 2;
	rh[24 + 2] = 2;
	rh[24 + 3] = 1;
	len = make_v6_rh(b, rh, sizeof(rh));
	b[IPV6_HDR_LEN] = 43;
	b[IPV6_HDR_LEN + 24] = 6;
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_ROUTING);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed segments */

/* _i: 0 IPv4, 1 IPv4 with IP options, 2 IPv6, 3 IPv6 with ext headers. */
START_TEST(test_parse_truncated_everywhere)
{
	uint8_t b[CAP], pl[7];
	size_t len;

	fill(pl, sizeof(pl), 5);
	switch (_i) {
	case 0: len = make_v4(b, 5, ts_opts, 12, pl, sizeof(pl)); break;
	case 1: len = make_v4(b, 8, ts_opts, 12, pl, sizeof(pl)); break;
	case 2: len = make_v6(b, false, ts_opts, 12, pl, sizeof(pl)); break;
	default: len = make_v6(b, true, ts_opts, 12, pl, sizeof(pl)); break;
	}
	ck_assert_int_eq(parse_exact(b, len), PKT_OK);
	/* The length fields claim more than any shorter buffer holds. */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_msg(parse_exact(b, cut) == PKT_TRUNCATED,
			      "length %zu of %zu: %s", cut, len,
			      pkt_status_str(parse_exact(b, cut)));
}
END_TEST

/* The IP length field shrunk instead: TCP header or options cut off. */
START_TEST(test_parse_ip_length_too_small)
{
	uint8_t b[CAP];
	size_t len = make_v4(b, 5, ts_opts, 12, NULL, 0);

	for (unsigned total = 20; total < len; total++) {
		w16(b + 2, total);
		ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	}
	len = make_v6(b, true, ts_opts, 12, NULL, 0);
	for (unsigned plen = 0; plen < len - 40; plen++) {
		w16(b + 4, plen);
		ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	}
}
END_TEST

START_TEST(test_parse_bad_ihl)
{
	uint8_t b[CAP];
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		ck_assert_int_eq(parse_exact(b, len), PKT_BAD_HEADER);
	}
	/* IHL 15 (60 bytes) in a 40-byte packet. */
	b[0] = 0x4f;
	ck_assert_int_eq(parse_exact(b, len), PKT_BAD_HEADER);
}
END_TEST

START_TEST(test_parse_total_beyond_buffer)
{
	uint8_t b[CAP];
	size_t len = make_v4(b, 5, NULL, 0, (const uint8_t *)"abcd", 4);

	w16(b + 2, (unsigned)len + 1);
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	w16(b + 2, 0xffff);
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	len = make_v6(b, false, NULL, 0, (const uint8_t *)"abcd", 4);
	w16(b + 4, (unsigned)(len - 40) + 1);
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
}
END_TEST

START_TEST(test_parse_bad_doff)
{
	uint8_t b[CAP];
	size_t len;

	for (uint8_t doff = 0; doff < 5; doff++) {
		len = make_v4(b, 5, NULL, 0, (const uint8_t *)"0123456789", 10);
		b[20 + 12] = (uint8_t)(doff << 4);
		ck_assert_int_eq(parse_exact(b, len), PKT_BAD_HEADER);
		len = make_v6(b, true, NULL, 0, NULL, 0);
		b[64 + 12] = (uint8_t)(doff << 4);
		ck_assert_int_eq(parse_exact(b, len), PKT_BAD_HEADER);
	}
	/* Data offset 15 (60 bytes) with only 20 + 10 bytes of TCP. */
	len = make_v4(b, 5, NULL, 0, (const uint8_t *)"0123456789", 10);
	b[20 + 12] = 0xf0;
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	/* Data offset 8 (32 bytes) with 32 bytes: exactly fits. */
	len = make_v4(b, 5, ts_opts, 12, NULL, 0);
	ck_assert_int_eq(parse_exact(b, len), PKT_OK);
	b[20 + 12] = 0x90;
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
}
END_TEST

START_TEST(test_parse_fragments)
{
	uint8_t b[CAP];
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	b[6] = 0x20;			/* MF */
	b[7] = 0;
	ck_assert_int_eq(parse_exact(b, len), PKT_FRAGMENT);
	b[6] = 0x00;			/* offset 1 (8 bytes), last fragment */
	b[7] = 0x01;
	ck_assert_int_eq(parse_exact(b, len), PKT_FRAGMENT);
	b[6] = 0x1f;			/* the highest offset bits */
	b[7] = 0x00;
	ck_assert_int_eq(parse_exact(b, len), PKT_FRAGMENT);
	b[6] = 0x40;			/* DF alone is fine */
	b[7] = 0;
	ck_assert_int_eq(parse_exact(b, len), PKT_OK);
	b[6] = 0x80;			/* the reserved bit is no fragment */
	ck_assert_int_eq(parse_exact(b, len), PKT_OK);
}
END_TEST

START_TEST(test_parse_ipv6_fragment_header)
{
	uint8_t b[CAP], frag[CAP];
	size_t len = make_v6(b, false, NULL, 0, NULL, 0);
	static const uint8_t fh[8] = { 6, 0, 0, 0, 0, 0, 0, 42 };

	/* Fragment header (44) between the IPv6 header and TCP. */
	memcpy(frag, b, 40);
	frag[6] = 44;
	memcpy(frag + 40, fh, 8);
	memcpy(frag + 48, b + 40, len - 40);
	w16(frag + 4, (unsigned)(len - 40 + 8));
	ck_assert_int_eq(parse_exact(frag, len + 8), PKT_FRAGMENT);
	/* Behind a hop-by-hop header too. */
	len = make_v6(b, true, NULL, 0, NULL, 0);
	b[40 + 8] = 44;		/* dest-opts header's next header */
	ck_assert_int_eq(parse_exact(b, len), PKT_FRAGMENT);
}
END_TEST

START_TEST(test_parse_not_tcp)
{
	uint8_t b[CAP];
	size_t len;

	len = make_v4(b, 5, NULL, 0, NULL, 0);
	b[9] = 17;
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
	b[9] = 1;
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
	len = make_v6(b, false, NULL, 0, NULL, 0);
	b[6] = 17;
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
	b[6] = 58;		/* ICMPv6 */
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
	b[6] = 59;		/* no next header */
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
	len = make_v6(b, true, NULL, 0, NULL, 0);
	b[40 + 8] = 17;		/* UDP behind the extension headers */
	ck_assert_int_eq(parse_exact(b, len), PKT_NOT_TCP);
}
END_TEST

/* An extension header whose length runs past the packet. */
START_TEST(test_parse_ipv6_ext_overrun)
{
	uint8_t b[CAP];
	size_t len = make_v6(b, true, NULL, 0, NULL, 0);

	b[40 + 1] = 200;		/* hop-by-hop claims 1608 bytes */
	ck_assert_int_eq(parse_exact(b, len), PKT_TRUNCATED);
	len = make_v6(b, true, NULL, 0, NULL, 0);
	b[48 + 1] = 3;			/* dest-opts claims 32 bytes: 4 left for TCP */
	ck_assert_int_ne(parse_exact(b, len), PKT_OK);
	/* An extension header cut after its first byte. */
	len = make_v6(b, true, NULL, 0, NULL, 0);
	w16(b + 4, 9);
	ck_assert_int_eq(parse_exact(b, 49), PKT_TRUNCATED);
	/* A chain of hop-by-hop headers ending exactly at the packet end. */
	memset(b + 40, 0, 16);
	b[40] = 0;			/* hop-by-hop again */
	b[48] = 0;
	w16(b + 4, 16);
	ck_assert_int_eq(parse_exact(b, 56), PKT_TRUNCATED);
}
END_TEST

START_TEST(test_parse_bad_version)
{
	uint8_t b[CAP];
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		b[0] = (uint8_t)(v << 4 | 5);
		ck_assert_int_eq(parse_exact(b, len), PKT_BAD_VERSION);
		ck_assert_int_eq(parse_exact(b, 1), PKT_BAD_VERSION);
	}
	ck_assert_str_eq(pkt_status_str(PKT_BAD_VERSION), "bad-version");
}
END_TEST

/* Random corruption of valid packets: never a crash or an out-of-bounds
 * read, and whatever parses satisfies the length invariants. */
START_TEST(test_parse_random_corruption)
{
	uint8_t b[CAP], c[CAP];
	uint32_t x = 12345;
	size_t len;

	for (unsigned round = 0; round < 20000; round++) {
		switch (round % 3) {
		case 0: len = make_v4(b, 6, ts_opts, 12, (const uint8_t *)"hello", 5); break;
		case 1: len = make_v6(b, true, ts_opts, 12, (const uint8_t *)"hello", 5); break;
		default: len = make_v6(b, false, NULL, 0, (const uint8_t *)"hi", 2); break;
		}
		memcpy(c, b, len);
		for (unsigned k = 0; k < 3; k++) {
			x = x * 1103515245u + 12345u;
			c[(x >> 8) % 70 % len] = (uint8_t)(x >> 20);
		}
		x = x * 1103515245u + 12345u;
		(void)parse_exact(c, (x >> 8) % 2 ? len : (x >> 9) % (len + 1));
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Checksums */

static void check_v4_csums(const uint8_t *b, const struct pkt *p)
{
	ck_assert_uint_eq(r16(b + 10), ref_ip_csum(b, p->l3_len));
	ck_assert_uint_eq(r16(pkt_tcp(p) + 16),
			  ref_tcp_csum(AF_INET, v4_src, v4_dst, pkt_tcp(p), p->len - p->l3_len));
}

START_TEST(test_checksums_ipv4_all_lengths)
{
	static uint8_t b[CAP], pl[9001];
	struct pkt p;

	fill(pl, sizeof(pl), 0xa5);
	for (size_t n = 0; n <= 9000; n++) {
		size_t len = make_v4(b, n % 3 ? 5 : 6, ts_opts, n % 2 ? 12 : 0, pl, n);
		/* Garbage in the checksum fields must not matter. */
		b[10] = 0xde;
		b[11] = 0xad;
		ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
		pkt_fix_checksums(&p);
		check_v4_csums(b, &p);
		ck_assert(pkt_checksums_ok(&p));
	}
}
END_TEST

START_TEST(test_checksums_ipv6_all_lengths)
{
	static uint8_t b[CAP], pl[9001];
	struct pkt p;

	fill(pl, sizeof(pl), 0x3c);
	for (size_t n = 0; n <= 9000; n++) {
		size_t len = make_v6(b, n % 2, ts_opts, n % 3 ? 12 : 0, pl, n);
		ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
		pkt_fix_checksums(&p);
		ck_assert_uint_eq(r16(pkt_tcp(&p) + 16),
				  ref_tcp_csum(AF_INET6, v6_src, v6_dst, pkt_tcp(&p),
					       p.len - p.l3_len));
		ck_assert(pkt_checksums_ok(&p));
	}
}
END_TEST

/* Payloads of all 0xff and all 0x00 hit the one's-complement corner
 * cases (sums of 0xffff, carries out of every word). */
/* csum_add against a plain sum of 16-bit words, for every length up to a
 * few hundred bytes, random and all-ones data, chained at any even split
 * and from any running sum. */
static uint16_t ref_csum16(uint64_t start, const uint8_t *b, size_t len)
{
	uint32_t sum;
	uint64_t s = start;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	sum = (uint32_t)((s & 0xffff) + (s >> 16));
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint16_t w;

		memcpy(&w, b + i, 2);
		sum += w;
	}
	if (len % 2) {
		uint16_t w = 0;

		memcpy(&w, b + len - 1, 1);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

START_TEST(test_csum_add_matches_reference)
{
	static const uint64_t starts[] = { 0, 1, 0xffff, 0xffffffff, 0xfffffffffffffffeull,
					   0xffffffffffffffffull, 0x123456789abcdef0ull };
	uint8_t b[400];
	uint32_t x = 12345;

	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < sizeof(b); i++) {
			x = x * 1103515245u + 12345u;
			b[i] = v ? 0xff : (uint8_t)(x >> 16);
		}
		for (size_t len = 0; len <= 300; len++) {
			for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
				uint16_t want = ref_csum16(starts[k], b + 1, len);

				ck_assert_uint_eq(csum_fold(csum_add(starts[k], b + 1, len)), want);
				for (size_t cut = 0; cut <= len; cut += 6) {
					uint64_t sum = csum_add(starts[k], b + 1, cut);

					sum = csum_add(sum, b + 1 + cut, len - cut);
					ck_assert_uint_eq(csum_fold(sum), want);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_checksums_extreme_bytes)
{
	static uint8_t b[CAP], pl[9000];
	struct pkt p;

	for (int v = 0; v < 2; v++) {
		memset(pl, v ? 0xff : 0x00, sizeof(pl));
		for (size_t n = 0; n <= 9000; n += (n < 64 ? 1 : 997)) {
			size_t len = make_v4(b, 5, NULL, 0, pl, n);
			ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
			pkt_fix_checksums(&p);
			check_v4_csums(b, &p);
			len = make_v6(b, false, NULL, 0, pl, n);
			ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
			pkt_fix_checksums(&p);
			ck_assert_uint_eq(r16(pkt_tcp(&p) + 16),
					  ref_tcp_csum(AF_INET6, v6_src, v6_dst, pkt_tcp(&p),
						       p.len - p.l3_len));
		}
	}
}
END_TEST

/* A SYN laid out exactly as Linux sends it (192.168.1.2:51234 ->
 * 93.184.216.34:80), checksum fields zero before the fix. */
START_TEST(test_checksum_known_answer)
{
	uint8_t b[128];
	struct pkt p;
	size_t len = unit_unhex(
		"45 00 00 3c 1c 46 40 00 40 06 00 00 c0 a8 01 02 5d b8 d8 22"
		"c8 22 00 50 4d 3b 2e 01 00 00 00 00 a0 02 fa f0 00 00 00 00"
		"02 04 05 b4 04 02 08 0a 00 1d 4f 26 00 00 00 00 01 03 03 07", b, sizeof(b));

	ck_assert_int_eq(pkt_parse(&p, b, len, sizeof(b)), PKT_OK);
	pkt_fix_checksums(&p);
	ck_assert_uint_eq(r16(b + 10), ref_ip_csum(b, 20));
	ck_assert_uint_eq(r16(b + 20 + 16),
			  ref_tcp_csum(AF_INET, b + 12, b + 16, b + 20, len - 20));
	ck_assert(pkt_checksums_ok(&p));
}
END_TEST

/* Any single flipped bit (header, TCP header, options, payload, even the
 * checksum fields) makes the packet fail the check. */
START_TEST(test_checksums_detect_flipped_bit)
{
	uint8_t b[CAP];
	struct pkt p;
	size_t len;

	for (int fam = 0; fam < 2; fam++) {
		len = fam ? make_v6(b, true, ts_opts, 12, (const uint8_t *)"odd-length!", 11)
			  : make_v4(b, 6, ts_opts, 12, (const uint8_t *)"odd-length!", 11);
		ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
		pkt_fix_checksums(&p);
		ck_assert(pkt_checksums_ok(&p));
		/* IPv6 has no header checksum: only what the pseudo header
		 * and the segment cover (addresses and TCP) is protected. */
		for (size_t i = 0; i < len; i++) {
			bool covered = fam == 0 || (i >= 8 && i < 40) || i >= p.l3_len;
			if (!covered)
				continue;
			/* Flipping the IP length would change what is parsed. */
			if ((fam == 0 && (i == 2 || i == 3)) || (fam == 1 && (i == 4 || i == 5)))
				continue;
			for (int bit = 0; bit < 8; bit++) {
				b[i] ^= (uint8_t)(1 << bit);
				ck_assert_msg(!pkt_checksums_ok(&p), "byte %zu bit %d", i, bit);
				b[i] ^= (uint8_t)(1 << bit);
			}
		}
		ck_assert(pkt_checksums_ok(&p));
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rewriting */

/* With room in front of the packet, growing options moves the headers
 * forward instead of the payload back: the bytes that result are the
 * same, headroom and cap account for the move, and without enough
 * headroom (or with a payload shorter than the headers) the payload
 * moves as before. */
START_TEST(test_set_options_headroom)
{
	static const size_t plens[] = { 0, 10, 61, 300, 1400 };
	uint8_t ref[CAP], b[CAP], pl[1400], o1[40], o2[40];
	struct pkt r, p;

	fill(pl, sizeof(pl), 0x21);
	fill(o1, sizeof(o1), 0x50);
	fill(o2, sizeof(o2), 0x60);
	for (int fam = 0; fam < 2; fam++) {
		for (size_t i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
			for (size_t room = 0; room <= 24; room += 4) {
				for (size_t olen = 0; olen <= 24; olen += 4) {
					size_t plen = plens[i], len;
					uint8_t *at = b + 64;

					len = fam ? make_v6(ref, true, o1, olen, pl, plen)
						  : make_v4(ref, 6, o1, olen, pl, plen);
					memcpy(at, ref, len);
					ck_assert_int_eq(pkt_parse(&r, ref, len, CAP), PKT_OK);
					ck_assert_int_eq(pkt_parse(&p, at, len, CAP - 64), PKT_OK);
					p.headroom = room;
					ck_assert_int_eq(pkt_set_options(&r, o2, olen + 16), 0);
					ck_assert_int_eq(pkt_set_options(&p, o2, olen + 16), 0);
					ck_assert_uint_eq(p.len, r.len);
					ck_assert_uint_eq(p.tcp_hlen, r.tcp_hlen);
					ck_assert_mem_eq(p.buf, r.buf, r.len);
					if (room >= 16 && plen > r.l3_len + 20) {
						ck_assert_ptr_eq(p.buf, at - 16);
						ck_assert_uint_eq(p.headroom, room - 16);
						ck_assert_uint_eq(p.cap, CAP - 64 + 16);
					} else {
						ck_assert_ptr_eq(p.buf, at);
						ck_assert_uint_eq(p.headroom, room);
						ck_assert_uint_eq(p.cap, CAP - 64);
					}
					/* Shrinking moves the payload, never the headers. */
					ck_assert_int_eq(pkt_set_options(&r, o1, olen), 0);
					ck_assert_int_eq(pkt_set_options(&p, o1, olen), 0);
					ck_assert_uint_eq(p.len, len);
					ck_assert_mem_eq(p.buf, r.buf, r.len);
					ck_assert_mem_eq(p.buf, ref, len);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_set_options_grow_shrink)
{
	uint8_t b[CAP], pl[301], opts[40];
	struct pkt p;
	size_t len;

	fill(pl, sizeof(pl), 0x11);
	fill(opts, sizeof(opts), 0x70);
	for (int fam = 0; fam < 2; fam++) {
		len = fam ? make_v6(b, true, NULL, 0, pl, sizeof(pl))
			  : make_v4(b, 5, NULL, 0, pl, sizeof(pl));
		ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
		for (size_t olen = 0; olen <= 40; olen += 4) {
			struct pkt q;
			ck_assert_int_eq(pkt_set_options(&p, opts, olen), 0);
			ck_assert_uint_eq(p.tcp_hlen, 20 + olen);
			ck_assert_uint_eq(p.len, len + olen);
			ck_assert_mem_eq(pkt_opts(&p), opts, olen);
			ck_assert_mem_eq(pkt_payload(&p), pl, sizeof(pl));
			/* The headers say the same as struct pkt. */
			ck_assert_int_eq(pkt_parse(&q, b, p.len, CAP), PKT_OK);
			ck_assert_uint_eq(q.len, p.len);
			ck_assert_uint_eq(q.tcp_hlen, 20 + olen);
			ck_assert_uint_eq(pkt_payload_len(&q), sizeof(pl));
			/* Flags byte (shares a word with doff) unharmed. */
			ck_assert_uint_eq(pkt_flags(&q), TCP_ACK | TCP_PSH);
			pkt_fix_checksums(&p);
			ck_assert(pkt_checksums_ok(&q));
		}
		for (size_t olen = 40;; olen -= 8) {
			ck_assert_int_eq(pkt_set_options(&p, opts + 40 - olen, olen), 0);
			ck_assert_uint_eq(p.len, len + olen);
			ck_assert_mem_eq(pkt_opts(&p), opts + 40 - olen, olen);
			ck_assert_mem_eq(pkt_payload(&p), pl, sizeof(pl));
			if (olen == 0)
				break;
		}
		if (fam == 0)
			ck_assert_uint_eq(r16(b + 2), len);
		else
			ck_assert_uint_eq(r16(b + 4), len - 40);
	}
}
END_TEST

/* The reserved bits next to the data offset are kept. */
START_TEST(test_set_options_keeps_reserved_bits)
{
	uint8_t b[CAP];
	struct pkt p;
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	b[20 + 12] |= 0x01;	/* AccECN / NS bit */
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	ck_assert_int_eq(pkt_set_options(&p, ts_opts, 12), 0);
	ck_assert_uint_eq(b[20 + 12], 0x81);
}
END_TEST

START_TEST(test_set_options_refused)
{
	uint8_t b[CAP], orig[CAP], opts[44] = { 1 };
	struct pkt p;
	size_t len = make_v4(b, 5, ts_opts, 12, (const uint8_t *)"payload", 7);

	memcpy(orig, b, len);
	/* cap exactly the packet: growing cannot fit, shrinking can. */
	ck_assert_int_eq(pkt_parse(&p, b, len, len), PKT_OK);
	ck_assert_int_eq(pkt_set_options(&p, opts, 16), -1);
	ck_assert_uint_eq(p.len, len);
	ck_assert_mem_eq(b, orig, len);
	ck_assert_int_eq(pkt_set_options(&p, opts, 12), 0);	/* same size */
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	memcpy(b, orig, len);
	ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
	for (size_t olen = 1; olen < 44; olen++) {
		if (olen % 4 == 0 && olen <= 40)
			continue;
		ck_assert_int_eq(pkt_set_options(&p, opts, olen), -1);
		ck_assert_mem_eq(b, orig, len);
		ck_assert_uint_eq(p.len, len);
		ck_assert_uint_eq(p.tcp_hlen, 32);
	}
	ck_assert_int_eq(pkt_set_options(&p, opts, 44), -1);
	ck_assert_mem_eq(b, orig, len);
}
END_TEST

START_TEST(test_set_payload)
{
	uint8_t b[CAP], pl[2000];
	struct pkt p, q;
	size_t len;

	fill(pl, sizeof(pl), 0x42);
	for (int fam = 0; fam < 2; fam++) {
		len = fam ? make_v6(b, true, ts_opts, 12, (const uint8_t *)"abc", 3)
			  : make_v4(b, 5, ts_opts, 12, (const uint8_t *)"abc", 3);
		ck_assert_int_eq(pkt_parse(&p, b, len, CAP), PKT_OK);
		ck_assert_int_eq(pkt_set_payload(&p, pl, 1999), 0);
		ck_assert_uint_eq(p.len, len - 3 + 1999);
		ck_assert_uint_eq(pkt_payload_len(&p), 1999);
		ck_assert_mem_eq(pkt_payload(&p), pl, 1999);
		ck_assert_mem_eq(pkt_opts(&p), ts_opts, 12);
		ck_assert_int_eq(pkt_parse(&q, b, p.len, CAP), PKT_OK);
		ck_assert_uint_eq(pkt_payload_len(&q), 1999);
		ck_assert_int_eq(pkt_set_payload(&p, NULL, 0), 0);
		ck_assert_uint_eq(p.len, len - 3);
		ck_assert_uint_eq(pkt_payload_len(&p), 0);
		ck_assert_int_eq(pkt_parse(&q, b, p.len, CAP), PKT_OK);
		ck_assert_uint_eq(pkt_payload_len(&q), 0);
		/* Does not fit in cap: refused, nothing changed. */
		p.cap = p.len + 10;
		ck_assert_int_eq(pkt_set_payload(&p, pl, 11), -1);
		ck_assert_uint_eq(p.len, len - 3);
		ck_assert_int_eq(pkt_set_payload(&p, pl, 10), 0);
	}
}
END_TEST

/* An IPv4 packet cannot exceed 65535 bytes even with cap to spare. */
START_TEST(test_set_payload_ip_limit)
{
	static uint8_t b[70000], pl[70000];
	struct pkt p;
	size_t len = make_v4(b, 5, NULL, 0, NULL, 0);

	ck_assert_int_eq(pkt_parse(&p, b, len, sizeof(b)), PKT_OK);
	ck_assert_int_eq(pkt_set_payload(&p, pl, 65535 - 40), 0);
	ck_assert_uint_eq(r16(b + 2), 65535);
	ck_assert_int_eq(pkt_set_payload(&p, pl, 65535 - 39), -1);
	ck_assert_uint_eq(p.len, 65535);
	ck_assert_int_eq(pkt_set_options(&p, ts_opts, 12), -1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Building */

START_TEST(test_build_round_trip)
{
	uint8_t buf[200], opts[8] = { 2, 4, 5, 0xb4, 1, 3, 3, 7 };
	uint8_t pl[75];
	struct pkt p, q;

	fill(pl, sizeof(pl), 0x99);
	for (int fam = 0; fam < 2; fam++) {
		struct pkt_build bd = {
			.family = fam ? AF_INET6 : AF_INET,
			.saddr = fam ? v6_src : v4_src, .daddr = fam ? v6_dst : v4_dst,
			.sport = 80, .dport = 40000, .seq = 0xfffffff0u, .ack = 7,
			.flags = TCP_ACK | TCP_PSH, .window = 0x1234,
			.opts = opts, .opts_len = sizeof(opts),
			.payload = pl, .payload_len = sizeof(pl),
		};
		size_t l3 = fam ? 40 : 20, alen = fam ? 16 : 4;
		size_t len = pkt_build(buf, sizeof(buf), &bd, &p);

		ck_assert_uint_eq(len, l3 + 20 + 8 + 75);
		ck_assert_int_eq(pkt_parse(&q, buf, len, sizeof(buf)), PKT_OK);
		ck_assert_int_eq(q.family, bd.family);
		ck_assert_uint_eq(p.len, len);
		ck_assert_uint_eq(q.l3_len, l3);
		ck_assert_uint_eq(pkt_sport(&q), 80);
		ck_assert_uint_eq(pkt_dport(&q), 40000);
		ck_assert_uint_eq(pkt_seq(&q), 0xfffffff0u);
		ck_assert_uint_eq(pkt_ack(&q), 7);
		ck_assert_uint_eq(pkt_flags(&q), TCP_ACK | TCP_PSH);
		ck_assert_uint_eq(pkt_window(&q), 0x1234);
		ck_assert_uint_eq(pkt_urp(&q), 0);
		ck_assert_mem_eq(pkt_saddr(&q), bd.saddr, alen);
		ck_assert_mem_eq(pkt_daddr(&q), bd.daddr, alen);
		ck_assert_uint_eq(pkt_opts_len(&q), 8);
		ck_assert_mem_eq(pkt_opts(&q), opts, 8);
		ck_assert_uint_eq(pkt_payload_len(&q), 75);
		ck_assert_mem_eq(pkt_payload(&q), pl, 75);
		ck_assert(pkt_checksums_ok(&q));
		if (fam == 0) {
			ck_assert_uint_eq(buf[0], 0x45);
			ck_assert_uint_eq(buf[6] & 0x40, 0x40);	/* DF */
			ck_assert_uint_eq(buf[8], 64);
			check_v4_csums(buf, &q);
		} else {
			ck_assert_uint_eq(buf[0] >> 4, 6);
			ck_assert_uint_eq(buf[7], 64);
			ck_assert_uint_eq(r16(pkt_tcp(&q) + 16),
					  ref_tcp_csum(AF_INET6, v6_src, v6_dst, pkt_tcp(&q),
						       len - 40));
		}
	}
}
END_TEST

START_TEST(test_build_bare)
{
	uint8_t buf[100];
	struct pkt p;
	struct pkt_build bd = {
		.family = AF_INET, .saddr = v4_src, .daddr = v4_dst,
		.sport = 1, .dport = 2, .seq = 3, .flags = TCP_RST,
	};

	ck_assert_uint_eq(pkt_build(buf, sizeof(buf), &bd, &p), 40);
	ck_assert_uint_eq(p.tcp_hlen, 20);
	ck_assert_uint_eq(pkt_payload_len(&p), 0);
	ck_assert_uint_eq(pkt_flags(&p), TCP_RST);
	ck_assert(pkt_checksums_ok(&p));
}
END_TEST

START_TEST(test_build_refuses)
{
	uint8_t buf[200], opts[44] = { 1, 1, 1, 1, 1, 1 };
	struct pkt p;
	struct pkt_build bd = {
		.family = AF_INET6, .saddr = v6_src, .daddr = v6_dst,
		.sport = 1, .dport = 2, .opts = opts, .opts_len = 6,
	};

	ck_assert_uint_eq(pkt_build(buf, sizeof(buf), &bd, &p), 0);	/* not % 4 */
	bd.opts_len = 44;
	ck_assert_uint_eq(pkt_build(buf, sizeof(buf), &bd, &p), 0);	/* > 40 */
	bd.opts_len = 8;
	ck_assert_uint_eq(pkt_build(buf, 67, &bd, &p), 0);		/* cap short */
	ck_assert_uint_eq(pkt_build(buf, 68, &bd, &p), 68);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ICMP errors quoting a TCP segment */

/* Builds an ICMP(v6) error at buf quoting the first 8 bytes of a TCP
 * segment from 192.0.2.1:40000 (or 2001:db8:1::1) with sequence 1000;
 * returns its length. */
static size_t icmp_error(uint8_t *buf, int family, uint8_t type, uint8_t code, uint32_t mtu,
			 uint8_t quoted_proto)
{
	size_t l3 = family == AF_INET ? 20 : 40, q3 = l3, len = l3 + 8 + q3 + 8;
	uint8_t *ic = buf + l3, *q = ic + 8, *qt = q + q3;

	memset(buf, 0, len);
	if (family == AF_INET) {
		buf[0] = 0x45;
		put_be16(buf + 2, (uint16_t)len);
		buf[8] = 64;
		buf[9] = 1;
		put_be16(ic + 6, (uint16_t)mtu);
		q[0] = 0x45;
		q[9] = quoted_proto;
		q[12] = 192; q[14] = 2; q[15] = 1;		/* 192.0.2.1 */
		q[16] = 198; q[17] = 51; q[18] = 100; q[19] = 1;
	} else {
		buf[0] = 0x60;
		put_be16(buf + 4, (uint16_t)(len - 40));
		buf[6] = 58;
		buf[7] = 64;
		put_be32(ic + 4, mtu);
		q[0] = 0x60;
		q[6] = quoted_proto;
		q[8] = 0x20; q[9] = 0x01; q[10] = 0x0d; q[11] = 0xb8; q[13] = 1; q[23] = 1;
		q[24] = 0x20; q[25] = 0x01; q[26] = 0x0d; q[27] = 0xb8; q[29] = 2; q[39] = 1;
	}
	ic[0] = type;
	ic[1] = code;
	put_be16(qt, 40000);
	put_be16(qt + 2, 80);
	put_be32(qt + 4, 1000);
	return len;
}

START_TEST(test_icmp_frag_needed_v4)
{
	uint8_t buf[128];
	size_t len = icmp_error(buf, AF_INET, 3, 4, 1280, 6);
	struct icmp_quote q;

	ck_assert(icmp_parse(&q, buf, len));
	ck_assert(q.too_big);
	ck_assert_uint_eq(icmp_mtu(&q), 1280);
	ck_assert_uint_eq(q.q_sport, 40000);
	ck_assert_uint_eq(q.q_dport, 80);
	ck_assert_uint_eq(get_be32(q.q_seq), 1000);
	icmp_set_mtu(&q, 1264);
	icmp_fix_checksum(&q);
	ck_assert_uint_eq(icmp_mtu(&q), 1264);
	/* The ICMP checksum over the message now sums to zero. */
	ck_assert_uint_eq(csum_fold(csum_add(0, buf + 20, len - 20)), 0);
}
END_TEST

START_TEST(test_icmp_packet_too_big_v6)
{
	uint8_t buf[160];
	size_t len = icmp_error(buf, AF_INET6, 2, 0, 1400, 6);
	struct icmp_quote q;
	uint8_t tail[8] = { 0 };
	uint64_t sum;

	ck_assert(icmp_parse(&q, buf, len));
	ck_assert(q.too_big);
	ck_assert_uint_eq(icmp_mtu(&q), 1400);
	icmp_fix_checksum(&q);
	/* ICMPv6 sums a pseudo header too. */
	sum = csum_add(0, buf + 8, 32);
	put_be32(tail, (uint32_t)(len - 40));
	tail[7] = 58;
	sum = csum_add(sum, tail, 8);
	ck_assert_uint_eq(csum_fold(csum_add(sum, buf + 40, len - 40)), 0);
}
END_TEST

START_TEST(test_icmp_rejects)
{
	uint8_t buf[160];
	struct icmp_quote q;
	size_t len, cut;

	/* Not an error message (echo request), a quote of UDP, truncation at
	 * every length, an IPv4 fragment, a length field beyond the buffer. */
	len = icmp_error(buf, AF_INET, 8, 0, 0, 6);
	ck_assert(!icmp_parse(&q, buf, len));
	len = icmp_error(buf, AF_INET, 3, 4, 1280, 17);
	ck_assert(!icmp_parse(&q, buf, len));
	len = icmp_error(buf, AF_INET6, 128, 0, 0, 6);
	ck_assert(!icmp_parse(&q, buf, len));
	for (int fam = 0; fam < 2; fam++) {
		len = icmp_error(buf, fam ? AF_INET6 : AF_INET, fam ? 2 : 3, 4, 1280, 6);
		for (cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);

			memcpy(copy, buf, cut);
			ck_assert_msg(!icmp_parse(&q, copy, cut), "parsed %zu of %zu bytes", cut, len);
			free(copy);
		}
	}
	len = icmp_error(buf, AF_INET, 3, 4, 1280, 6);
	put_be16(buf + 6, 0x2000);	/* MF */
	ck_assert(!icmp_parse(&q, buf, len));
	len = icmp_error(buf, AF_INET, 3, 4, 1280, 6);
	put_be16(buf + 2, (uint16_t)(len + 1));
	ck_assert(!icmp_parse(&q, buf, len));
}
END_TEST


/* What pkt_peek reads of packets pkt_parse refuses: enough to know which
 * connection a fragment or a truncated segment may belong to. */
START_TEST(test_peek_unparsed)
{
	uint8_t b[256];
	struct pkt_peek pk;
	size_t len;

	/* First fragment: ports. */
	len = make_v4(b, 5, NULL, 0, (const uint8_t *)"data", 4);
	b[6] = 0x20;			/* MF, offset 0 */
	ck_assert_int_eq(pkt_peek(b, len, &pk), 0);
	ck_assert_int_eq(pk.family, AF_INET);
	ck_assert_uint_eq(pk.proto, 6);
	ck_assert(pk.have_ports);
	ck_assert_uint_eq(pk.sport, 40000);
	ck_assert_uint_eq(pk.dport, 80);
	ck_assert_mem_eq(pk.saddr, v4_src, 4);
	ck_assert_mem_eq(pk.daddr, v4_dst, 4);
	/* A later fragment: addresses only. */
	b[6] = 0x00;
	b[7] = 0x10;
	ck_assert_int_eq(pkt_peek(b, len, &pk), 0);
	ck_assert(!pk.have_ports);
	ck_assert_mem_eq(pk.daddr, v4_dst, 4);
	/* Truncated inside the ports. */
	len = make_v4(b, 5, NULL, 0, NULL, 0);
	ck_assert_int_eq(pkt_peek(b, 22, &pk), 0);
	ck_assert(!pk.have_ports);
	ck_assert_int_eq(pkt_peek(b, 19, &pk), -1);
	/* IPv6 through known extension headers to TCP. */
	len = make_v6(b, true, NULL, 0, NULL, 0);
	ck_assert_int_eq(pkt_peek(b, len, &pk), 0);
	ck_assert_int_eq(pk.family, AF_INET6);
	ck_assert(pk.have_ports);
	ck_assert_uint_eq(pk.dport, 80);
	ck_assert_mem_eq(pk.saddr, v6_src, 16);
	/* ... and stopping at one it does not know. */
	b[IPV6_HDR_LEN + 8] = 253;	/* the destination options header's next header */
	ck_assert_int_eq(pkt_peek(b, len, &pk), 0);
	ck_assert(!pk.have_ports);
	ck_assert_uint_eq(pk.proto, 253);
	b[0] = 0x50;
	ck_assert_int_eq(pkt_peek(b, len, &pk), -1);
}
END_TEST

static Suite *packet_suite(void)
{
	Suite *s = suite_create("packet");
	TCase *parse = tcase_create("parse");
	TCase *bad = tcase_create("malformed");
	TCase *csum = tcase_create("checksum");
	TCase *rw = tcase_create("rewrite");

	tcase_add_test(parse, test_parse_ipv4);
	tcase_add_test(parse, test_parse_ipv4_ip_options);
	tcase_add_test(parse, test_parse_ipv4_trailing_bytes);
	tcase_add_test(parse, test_parse_ipv6);
	tcase_add_test(parse, test_parse_ipv6_ext_headers);
	tcase_add_test(parse, test_routing_type2);
	tcase_add_test(parse, test_routing_type4);
	tcase_add_test(parse, test_routing_type0);
	tcase_add_test(parse, test_routing_unknown_type);
	tcase_add_test(parse, test_routing_two_in_transit);
	suite_add_tcase(s, parse);

	tcase_add_loop_test(bad, test_parse_truncated_everywhere, 0, 4);
	tcase_add_test(bad, test_parse_ip_length_too_small);
	tcase_add_test(bad, test_parse_bad_ihl);
	tcase_add_test(bad, test_parse_total_beyond_buffer);
	tcase_add_test(bad, test_parse_bad_doff);
	tcase_add_test(bad, test_parse_fragments);
	tcase_add_test(bad, test_parse_ipv6_fragment_header);
	tcase_add_test(bad, test_parse_not_tcp);
	tcase_add_test(bad, test_parse_ipv6_ext_overrun);
	tcase_add_test(bad, test_parse_bad_version);
	tcase_add_test(bad, test_parse_random_corruption);
	tcase_add_test(bad, test_peek_unparsed);
	suite_add_tcase(s, bad);

	tcase_set_timeout(csum, 60);
	tcase_add_test(csum, test_checksums_ipv4_all_lengths);
	tcase_add_test(csum, test_checksums_ipv6_all_lengths);
	tcase_add_test(csum, test_checksums_extreme_bytes);
	tcase_add_test(csum, test_csum_add_matches_reference);
	tcase_add_test(csum, test_checksum_known_answer);
	tcase_add_test(csum, test_checksums_detect_flipped_bit);
	suite_add_tcase(s, csum);

	tcase_add_test(rw, test_set_options_grow_shrink);
	tcase_add_test(rw, test_set_options_headroom);
	tcase_add_test(rw, test_set_options_keeps_reserved_bits);
	tcase_add_test(rw, test_set_options_refused);
	tcase_add_test(rw, test_set_payload);
	tcase_add_test(rw, test_set_payload_ip_limit);
	tcase_add_test(rw, test_build_round_trip);
	tcase_add_test(rw, test_build_bare);
	tcase_add_test(rw, test_build_refuses);
	suite_add_tcase(s, rw);
	{
		TCase *icmp = tcase_create("icmp");

		tcase_add_test(icmp, test_icmp_frag_needed_v4);
		tcase_add_test(icmp, test_icmp_packet_too_big_v6);
		tcase_add_test(icmp, test_icmp_rejects);
		suite_add_tcase(s, icmp);
	}
	return s;
}

UNIT_MAIN(packet_suite)
