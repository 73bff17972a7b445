/* SPDX-License-Identifier: BSD-2-Clause */
#include "icmp.h"

#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "packet.h"

#define ICMP_HDR_LEN 8

static bool is_v4_error(uint8_t type)
{
	return type == 3 || type == 11 || type == 12;	/* unreachable, time, param */
}

static bool is_v6_error(uint8_t type)
{
	return type >= 1 && type <= 4;	/* unreachable, too big, time, param */
}

/* The quoted header must be ours to read: protocol TCP and eight bytes of
 * the TCP header present (RFC 792 guarantees that much). */
static bool parse_quote_v4(struct icmp_quote *q, size_t off)
{
	const uint8_t *in = q->buf + off;
	size_t ihl;

	if (off + IPV4_HDR_LEN > q->len || (in[0] >> 4) != 4)
		return false;
	ihl = (size_t)(in[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || in[9] != 6 || off + ihl + 8 > q->len)
		return false;
	q->q_saddr = in + 12;
	q->q_daddr = in + 16;
	off += ihl;
	q->q_sport = get_be16(q->buf + off);
	q->q_dport = get_be16(q->buf + off + 2);
	q->q_seq = q->buf + off + 4;
	return true;
}

static bool parse_quote_v6(struct icmp_quote *q, size_t off)
{
	const uint8_t *in = q->buf + off;

	/* Extension headers in the quote are not followed: our own segments
	 * never carry any. */
	if (off + IPV6_HDR_LEN + 8 > q->len || (in[0] >> 4) != 6 || in[6] != 6)
		return false;
	q->q_saddr = in + 8;
	q->q_daddr = in + 24;
	off += IPV6_HDR_LEN;
	q->q_sport = get_be16(q->buf + off);
	q->q_dport = get_be16(q->buf + off + 2);
	q->q_seq = q->buf + off + 4;
	return true;
}

bool icmp_parse(struct icmp_quote *q, uint8_t *buf, size_t len)
{
	memset(q, 0, sizeof(*q));
	q->buf = buf;
	if (len < IPV4_HDR_LEN)
		return false;
	if ((buf[0] >> 4) == 4) {
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4, total = get_be16(buf + 2);

		if (ihl < IPV4_HDR_LEN || total < ihl || total > len || buf[9] != 1 ||
		    (get_be16(buf + 6) & 0x3fff))
			return false;
		q->family = AF_INET;
		q->len = total;
		q->icmp_off = ihl;
		if (ihl + ICMP_HDR_LEN > total)
			return false;
		q->type = buf[ihl];
		q->code = buf[ihl + 1];
		if (!is_v4_error(q->type))
			return false;
		q->too_big = q->type == 3 && q->code == 4;
		return parse_quote_v4(q, ihl + ICMP_HDR_LEN);
	}
	if ((buf[0] >> 4) == 6) {
		size_t total;

		if (len < IPV6_HDR_LEN)
			return false;
		total = IPV6_HDR_LEN + (size_t)get_be16(buf + 4);
		if (total > len || buf[6] != 58)
			return false;
		q->family = AF_INET6;
		q->len = total;
		q->icmp_off = IPV6_HDR_LEN;
		if (IPV6_HDR_LEN + ICMP_HDR_LEN > total)
			return false;
		q->type = buf[IPV6_HDR_LEN];
		q->code = buf[IPV6_HDR_LEN + 1];
		if (!is_v6_error(q->type))
			return false;
		q->too_big = q->type == 2;
		return parse_quote_v6(q, IPV6_HDR_LEN + ICMP_HDR_LEN);
	}
	return false;
}

uint32_t icmp_mtu(const struct icmp_quote *q)
{
	const uint8_t *h = q->buf + q->icmp_off;

	return q->family == AF_INET ? get_be16(h + 6) : get_be32(h + 4);
}

void icmp_set_mtu(struct icmp_quote *q, uint32_t mtu)
{
	uint8_t *h = q->buf + q->icmp_off;

	if (q->family == AF_INET)
		put_be16(h + 6, (uint16_t)mtu);
	else
		put_be32(h + 4, mtu);
}

void icmp_fix_checksum(struct icmp_quote *q)
{
	uint8_t *h = q->buf + q->icmp_off;
	size_t icmp_len = q->len - q->icmp_off;
	uint64_t sum = 0;
	uint16_t c;

	h[2] = h[3] = 0;
	if (q->family == AF_INET6) {
		uint8_t tail[8] = { 0 };

		sum = csum_add(sum, q->buf + 8, 32);	/* source and destination */
		put_be32(tail, (uint32_t)icmp_len);
		tail[7] = 58;
		sum = csum_add(sum, tail, sizeof(tail));
	}
	sum = csum_add(sum, h, icmp_len);
	c = csum_fold(sum);
	memcpy(h + 2, &c, 2);
}
