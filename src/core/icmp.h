/* SPDX-License-Identifier: BSD-2-Clause */
/* ICMP and ICMPv6 errors that quote a TCP segment (doc/protocol.md section 8):
 * parsing the quote in place, and rewriting the quoted sequence number and
 * a reported MTU.  Pure code over the packet buffer. */
#ifndef TC_ICMP_H
#define TC_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct icmp_quote {
	int family;			/* of the outer and the quoted packet */
	uint8_t *buf;			/* outer IP header */
	size_t len;
	size_t icmp_off;		/* start of the ICMP header */
	uint8_t type, code;
	bool too_big;			/* IPv4 frag-needed / ICMPv6 packet-too-big */
	const uint8_t *q_saddr;		/* quoted packet's addresses (ours first: */
	const uint8_t *q_daddr;		/*   it is a segment we sent) */
	uint16_t q_sport, q_dport;
	uint8_t *q_seq;			/* the quoted sequence number, in place */
};

/* Returns true when buf is an ICMP(v6) error quoting at least the first 8
 * bytes of a TCP header; false for anything else (not an error, not TCP,
 * truncated, malformed). */
bool icmp_parse(struct icmp_quote *q, uint8_t *buf, size_t len);

uint32_t icmp_mtu(const struct icmp_quote *q);
void icmp_set_mtu(struct icmp_quote *q, uint32_t mtu);
/* Recomputes the ICMP (IPv4) or ICMPv6 (with pseudo header) checksum. */
void icmp_fix_checksum(struct icmp_quote *q);

#endif
