/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4/IPv6 TCP segment parsing and rewriting.  Every length field is
 * checked against the buffer before use: these bytes come from the
 * network (or from a confused kernel) and must never crash the daemon. */
#include "packet.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

const char *pkt_status_str(enum pkt_status s)
{
	switch (s) {
	case PKT_OK: return "ok";
	case PKT_TRUNCATED: return "truncated";
	case PKT_BAD_VERSION: return "bad-version";
	case PKT_BAD_HEADER: return "bad-header";
	case PKT_NOT_TCP: return "not-tcp";
	case PKT_FRAGMENT: return "fragment";
	case PKT_BAD_ROUTING: return "bad-routing";
	}
	return "unknown";
}

static enum pkt_status parse_ipv4(struct pkt *p, size_t len)
{
	const uint8_t *ip = p->buf;
	size_t ihl, total;

	if (len < IPV4_HDR_LEN)
		return PKT_TRUNCATED;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = get_be16(ip + 2);
	if (ihl < IPV4_HDR_LEN || total < ihl)
		return PKT_BAD_HEADER;
	if (total > len)
		return PKT_TRUNCATED;
	if (ip[9] != 6)
		return PKT_NOT_TCP;
	/* MF set or a non-zero fragment offset: not a whole segment. */
	if (get_be16(ip + 6) & 0x3fff)
		return PKT_FRAGMENT;
	p->family = AF_INET;
	p->l3_len = ihl;
	p->daddr_off = 16;
	p->len = total;
	return PKT_OK;
}

/* A routing header at off (its whole length checked to lie within the
 * packet).  With segments left, the packet is on its way through the
 * listed nodes and the IPv6 destination field is the next of them; the
 * final destination is elsewhere in the header:
 *   type 0 (RFC 2460, deprecated by RFC 5095): the last address listed;
 *   type 2 (RFC 6275, Mobile IPv6): its one address, the home address;
 *   type 4 (RFC 8754, segment routing): Segment List[0], the first entry,
 *          as the list is stored in reverse order.
 * With no segments left, the destination field is already the final one.
 * For any other type, or a header whose lengths do not fit, we cannot
 * tell, and guessing would give wrong checksums and flow keys. */
static enum pkt_status routing_final_dest(struct pkt *p, size_t off)
{
	const uint8_t *rh = p->buf + off;
	size_t hlen = ((size_t)rh[1] + 1) * 8;	/* bytes, header included */
	uint8_t type = rh[2], segs_left = rh[3];

	if (segs_left == 0)
		return PKT_OK;
	if (p->daddr_off != 24)
		return PKT_BAD_ROUTING;	/* a second one still in transit */
	switch (type) {
	case 0:
		if (hlen < 8 + 16 || (hlen - 8) % 16 || segs_left > (hlen - 8) / 16)
			return PKT_BAD_ROUTING;
		p->daddr_off = off + hlen - 16;
		return PKT_OK;
	case 2:
		if (hlen != 8 + 16 || segs_left != 1)
			return PKT_BAD_ROUTING;
		p->daddr_off = off + 8;
		return PKT_OK;
	case 4:
		/* rh[4]: Last Entry, the index of the last element of the
		 * segment list; segments left is at most Last Entry + 1. */
		if (hlen < 8 + ((size_t)rh[4] + 1) * 16 || segs_left > (size_t)rh[4] + 1)
			return PKT_BAD_ROUTING;
		p->daddr_off = off + 8;
		return PKT_OK;
	default:
		return PKT_BAD_ROUTING;
	}
}

/* Walks the IPv6 extension headers that may precede TCP. */
static enum pkt_status parse_ipv6(struct pkt *p, size_t len)
{
	const uint8_t *ip = p->buf;
	size_t total, off = IPV6_HDR_LEN, hdr;
	enum pkt_status st;
	uint8_t next;

	if (len < IPV6_HDR_LEN)
		return PKT_TRUNCATED;
	total = IPV6_HDR_LEN + (size_t)get_be16(ip + 4);
	if (total > len)
		return PKT_TRUNCATED;
	next = ip[6];
	p->daddr_off = 24;
	for (;;) {
		switch (next) {
		case 6:
			p->family = AF_INET6;
			p->l3_len = off;
			p->len = total;
			return PKT_OK;
		case 0:		/* hop-by-hop options */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (off + 2 > total)
				return PKT_TRUNCATED;
			hdr = off;
			off += ((size_t)ip[off + 1] + 1) * 8;
			if (off > total)
				return PKT_TRUNCATED;
			if (next == 43 && (st = routing_final_dest(p, hdr)) != PKT_OK)
				return st;
			next = ip[hdr];
			break;
		case 44:
			return PKT_FRAGMENT;
		default:
			return PKT_NOT_TCP;
		}
	}
}

enum pkt_status pkt_parse(struct pkt *p, uint8_t *buf, size_t len, size_t cap)
{
	enum pkt_status st;
	size_t doff;

	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->cap = cap < len ? len : cap;
	if (len < 1)
		return PKT_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4: st = parse_ipv4(p, len); break;
	case 6: st = parse_ipv6(p, len); break;
	default: return PKT_BAD_VERSION;
	}
	if (st != PKT_OK)
		return st;
	if (p->len - p->l3_len < TCP_HDR_LEN)
		return PKT_TRUNCATED;
	doff = (size_t)(pkt_tcp(p)[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN)
		return PKT_BAD_HEADER;
	if (doff > p->len - p->l3_len)
		return PKT_TRUNCATED;
	p->tcp_hlen = doff;
	return PKT_OK;
}

const uint8_t *pkt_saddr(const struct pkt *p)
{
	return p->family == AF_INET ? p->buf + 12 : p->buf + 8;
}

const uint8_t *pkt_daddr(const struct pkt *p)
{
	return p->buf + p->daddr_off;
}

size_t pkt_addr_len(const struct pkt *p)
{
	return p->family == AF_INET ? 4 : 16;
}

/* Writes the new total length into the IP header. */
static int set_ip_len(struct pkt *p, size_t len)
{
	if (p->family == AF_INET) {
		if (len > 0xffff)
			return -1;
		put_be16(p->buf + 2, (uint16_t)len);
	} else {
		if (len - IPV6_HDR_LEN > 0xffff)
			return -1;
		put_be16(p->buf + 4, (uint16_t)(len - IPV6_HDR_LEN));
	}
	p->len = len;
	return 0;
}

int pkt_set_options(struct pkt *p, const uint8_t *opts, size_t opts_len)
{
	size_t old = pkt_opts_len(p);
	size_t plen = pkt_payload_len(p);
	size_t new_len = p->len - old + opts_len;
	size_t hdr = p->l3_len + TCP_HDR_LEN;
	uint8_t *tcp;

	if (opts_len > TCP_MAX_OPT_LEN || opts_len % 4 || new_len > p->cap)
		return -1;
	if (set_ip_len(p, new_len) < 0)
		return -1;
	if (opts_len > old && opts_len - old <= p->headroom && plen > hdr) {
		/* Fewer bytes to move in front than behind. */
		size_t d = opts_len - old;

		memmove(p->buf - d, p->buf, hdr);
		p->buf -= d;
		p->headroom -= d;
		p->cap += d;
	} else {
		tcp = pkt_tcp(p);
		memmove(tcp + TCP_HDR_LEN + opts_len, tcp + TCP_HDR_LEN + old, plen);
	}
	tcp = pkt_tcp(p);
	memmove(tcp + TCP_HDR_LEN, opts, opts_len);
	p->tcp_hlen = TCP_HDR_LEN + opts_len;
	tcp[12] = (uint8_t)((p->tcp_hlen / 4) << 4 | (tcp[12] & 0x0f));
	return 0;
}

int pkt_set_payload(struct pkt *p, const uint8_t *data, size_t len)
{
	size_t new_len = p->l3_len + p->tcp_hlen + len;

	if (new_len > p->cap)
		return -1;
	if (set_ip_len(p, new_len) < 0)
		return -1;
	if (len)
		memmove(pkt_payload(p), data, len);
	return 0;
}

/* One's-complement sum.  The data is read as 32-bit words added into
 * four 64-bit accumulators: no carry has to be tracked (each can take
 * 2^32 words before it could overflow), the four sums are independent
 * and the compiler vectorises them.  A 64-bit sum of 32-bit words is the
 * same one's-complement sum once folded, since 2^32 = 1 modulo 0xffff;
 * so is a sum of 16-bit words, which the tail adds. */
uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t len)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	while (len >= 32) {
		uint64_t w0, w1, w2, w3;

		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		memcpy(&w2, b + 16, 8);
		memcpy(&w3, b + 24, 8);
		s0 += (w0 & 0xffffffff) + (w0 >> 32);
		s1 += (w1 & 0xffffffff) + (w1 >> 32);
		s2 += (w2 & 0xffffffff) + (w2 >> 32);
		s3 += (w3 & 0xffffffff) + (w3 >> 32);
		b += 32;
		len -= 32;
	}
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		s0 += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		s1 += w;
		b += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;

		memcpy(&w, b, 1);
		s2 += w;
	}
	s0 += s1 + s2 + s3;
	/* Into the running sum, with the end-around carry. */
	sum += s0;
	if (sum < s0)
		sum++;
	return sum;
}

uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Checksum of the TCP segment with its pseudo header, in network order
 * as it would be stored; the stored checksum field takes part in the sum. */
static uint16_t tcp_csum(const struct pkt *p)
{
	size_t tcp_len = p->len - p->l3_len;
	size_t alen = pkt_addr_len(p);
	uint8_t tail[8] = { 0 };
	uint64_t sum = 0;

	sum = csum_add(sum, pkt_saddr(p), alen);
	sum = csum_add(sum, pkt_daddr(p), alen);
	/* Pseudo header: zero, protocol 6, TCP length (IPv4: 16 bits;
	 * IPv6: 32 bits); both sum the same way. */
	put_be32(tail, (uint32_t)tcp_len);
	tail[7] = 6;
	sum = csum_add(sum, tail, 8);
	sum = csum_add(sum, pkt_tcp(p), tcp_len);
	return csum_fold(sum);
}

static uint16_t ipv4_hdr_csum(const struct pkt *p)
{
	return csum_fold(csum_add(0, p->buf, p->l3_len));
}

void pkt_fix_checksums(struct pkt *p)
{
	uint8_t *tcp = pkt_tcp(p);
	uint16_t c;

	if (p->family == AF_INET) {
		p->buf[10] = p->buf[11] = 0;
		c = ipv4_hdr_csum(p);
		memcpy(p->buf + 10, &c, 2);
	}
	tcp[16] = tcp[17] = 0;
	c = tcp_csum(p);
	memcpy(tcp + 16, &c, 2);
}

bool pkt_checksums_ok(const struct pkt *p)
{
	if (p->family == AF_INET && ipv4_hdr_csum(p) != 0)
		return false;
	return tcp_csum(p) == 0;
}

size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_build *b, struct pkt *out)
{
	size_t l3 = b->family == AF_INET ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	size_t alen = b->family == AF_INET ? 4 : 16;
	size_t len = l3 + TCP_HDR_LEN + b->opts_len + b->payload_len;
	uint8_t *tcp = buf + l3;

	if (len > cap || b->opts_len % 4 || b->opts_len > TCP_MAX_OPT_LEN || len > 0xffff)
		return 0;
	memset(buf, 0, l3 + TCP_HDR_LEN);
	if (b->family == AF_INET) {
		buf[0] = 0x45;
		put_be16(buf + 2, (uint16_t)len);
		buf[6] = 0x40;	/* DF: path MTU discovery as the kernel does it */
		buf[8] = 64;
		buf[9] = 6;
		memcpy(buf + 12, b->saddr, alen);
		memcpy(buf + 16, b->daddr, alen);
	} else {
		buf[0] = 0x60;
		put_be16(buf + 4, (uint16_t)(len - IPV6_HDR_LEN));
		buf[6] = 6;
		buf[7] = 64;
		memcpy(buf + 8, b->saddr, alen);
		memcpy(buf + 24, b->daddr, alen);
	}
	put_be16(tcp, b->sport);
	put_be16(tcp + 2, b->dport);
	put_be32(tcp + 4, b->seq);
	put_be32(tcp + 8, b->ack);
	tcp[12] = (uint8_t)(((TCP_HDR_LEN + b->opts_len) / 4) << 4);
	tcp[13] = b->flags;
	put_be16(tcp + 14, b->window);
	if (b->opts_len)
		memcpy(tcp + TCP_HDR_LEN, b->opts, b->opts_len);
	if (b->payload_len)
		memcpy(tcp + TCP_HDR_LEN + b->opts_len, b->payload, b->payload_len);
	if (pkt_parse(out, buf, len, cap) != PKT_OK)
		return 0;
	pkt_fix_checksums(out);
	return len;
}

/* ------------------------------------------------------------------------ */
/* What can be read of a packet pkt_parse() refused */

int pkt_peek(const uint8_t *buf, size_t len, struct pkt_peek *pk)
{
	size_t off;
	uint8_t nh;
	int hops;

	memset(pk, 0, sizeof(*pk));
	if (len < 1)
		return -1;
	if ((buf[0] >> 4) == 4) {
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4;

		if (len < IPV4_HDR_LEN || ihl < IPV4_HDR_LEN)
			return -1;
		pk->family = AF_INET;
		memcpy(pk->saddr, buf + 12, 4);
		memcpy(pk->daddr, buf + 16, 4);
		pk->proto = buf[9];
		/* Only the first fragment has the ports. */
		if ((get_be16(buf + 6) & 0x1fff) == 0 && len >= ihl + 4) {
			pk->sport = get_be16(buf + ihl);
			pk->dport = get_be16(buf + ihl + 2);
			pk->have_ports = pk->proto == IPPROTO_TCP;
		}
		return 0;
	}
	if ((buf[0] >> 4) != 6 || len < IPV6_HDR_LEN)
		return -1;
	pk->family = AF_INET6;
	memcpy(pk->saddr, buf + 8, 16);
	memcpy(pk->daddr, buf + 24, 16);
	nh = buf[6];
	off = IPV6_HDR_LEN;
	/* Walk the extension headers as far as the bytes go. */
	for (hops = 0; hops < 8; hops++) {
		size_t hlen;

		if (nh == 0 || nh == 43 || nh == 60) {
			if (len < off + 2)
				break;
			hlen = ((size_t)buf[off + 1] + 1) * 8;
		} else if (nh == 44) {
			if (len < off + 8 || (get_be16(buf + off + 2) & 0xfff8) != 0)
				break;
			hlen = 8;
		} else if (nh == 51) {
			if (len < off + 2)
				break;
			hlen = ((size_t)buf[off + 1] + 2) * 4;
		} else {
			break;
		}
		nh = buf[off];
		off += hlen;
	}
	pk->proto = nh;
	if (nh == IPPROTO_TCP && len >= off + 4) {
		pk->sport = get_be16(buf + off);
		pk->dport = get_be16(buf + off + 2);
		pk->have_ports = true;
	}
	return 0;
}
