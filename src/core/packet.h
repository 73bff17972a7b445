/* SPDX-License-Identifier: BSD-2-Clause */
/* In-place parsing and rewriting of IPv4/IPv6 TCP segments as NFQUEUE hands
 * them over (starting at the IP header).  Pure code over a byte buffer that
 * has spare room (cap) so options and payload may grow. */
#ifndef TC_PACKET_H
#define TC_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCP_HDR_LEN     20
#define TCP_MAX_OPT_LEN 40
#define IPV4_HDR_LEN    20
#define IPV6_HDR_LEN    40

enum pkt_status {
	PKT_OK = 0,
	PKT_TRUNCATED,		/* buffer shorter than the headers claim */
	PKT_BAD_VERSION,	/* neither IPv4 nor IPv6 */
	PKT_BAD_HEADER,		/* impossible header length fields */
	PKT_NOT_TCP,		/* another protocol (or unsupported extension header) */
	PKT_FRAGMENT,		/* an IP fragment: we only see reassembled packets */
	PKT_BAD_ROUTING,	/* IPv6 routing header with segments left whose
				 * final destination we cannot tell */
};

struct pkt {
	uint8_t *buf;		/* first byte of the IP header */
	size_t len;		/* packet length (the IP header's length field) */
	size_t cap;		/* bytes available at buf */
	int family;		/* AF_INET or AF_INET6 */
	size_t l3_len;		/* IP header plus extension headers */
	size_t daddr_off;	/* the final destination address: the IP header's
				 * field, or in an IPv6 routing header that still
				 * has segments left */
	size_t tcp_hlen;	/* TCP header with options */
	size_t headroom;	/* bytes before buf that pkt_set_options() may
				 * use; pkt_parse() sets 0, a caller whose
				 * buffer has room in front sets more */
};

enum pkt_status pkt_parse(struct pkt *p, uint8_t *buf, size_t len, size_t cap);
const char *pkt_status_str(enum pkt_status s);

static inline uint8_t *pkt_tcp(const struct pkt *p) { return p->buf + p->l3_len; }
static inline uint8_t *pkt_opts(const struct pkt *p) { return pkt_tcp(p) + TCP_HDR_LEN; }
static inline size_t pkt_opts_len(const struct pkt *p) { return p->tcp_hlen - TCP_HDR_LEN; }
static inline uint8_t *pkt_payload(const struct pkt *p) { return pkt_tcp(p) + p->tcp_hlen; }
static inline size_t pkt_payload_len(const struct pkt *p) { return p->len - p->l3_len - p->tcp_hlen; }

static inline uint16_t pkt_sport(const struct pkt *p) { return get_be16(pkt_tcp(p)); }
static inline uint16_t pkt_dport(const struct pkt *p) { return get_be16(pkt_tcp(p) + 2); }
static inline uint32_t pkt_seq(const struct pkt *p) { return get_be32(pkt_tcp(p) + 4); }
static inline uint32_t pkt_ack(const struct pkt *p) { return get_be32(pkt_tcp(p) + 8); }
static inline uint8_t pkt_flags(const struct pkt *p) { return pkt_tcp(p)[13]; }
static inline uint16_t pkt_window(const struct pkt *p) { return get_be16(pkt_tcp(p) + 14); }
static inline uint16_t pkt_urp(const struct pkt *p) { return get_be16(pkt_tcp(p) + 18); }
static inline void pkt_set_seq(struct pkt *p, uint32_t v) { put_be32(pkt_tcp(p) + 4, v); }
static inline void pkt_set_ack(struct pkt *p, uint32_t v) { put_be32(pkt_tcp(p) + 8, v); }
static inline void pkt_set_flags(struct pkt *p, uint8_t f) { pkt_tcp(p)[13] = f; }

/* Source and destination addresses (4 or 16 bytes, per family).  The
 * destination is the final one (RFC 8200 section 8.1): with a routing
 * header that has segments left, the last address in it, not the next
 * hop's in the IPv6 header; flow keys and checksums use it. */
const uint8_t *pkt_saddr(const struct pkt *p);
const uint8_t *pkt_daddr(const struct pkt *p);
size_t pkt_addr_len(const struct pkt *p);

/* Replaces the TCP options with opts (opts_len a multiple of 4, at most 40)
 * and/or the payload with the given bytes, moving what follows and fixing
 * the IP length field and the data offset.  Returns -1 (nothing changed)
 * when the result would not fit in cap or in the IP length field.
 * When the options grow by no more than headroom and the payload is
 * longer than the headers, pkt_set_options() moves the headers towards
 * the front instead of the payload towards the back: buf, cap and
 * headroom change, and pointers into the packet must be taken anew. */
int pkt_set_options(struct pkt *p, const uint8_t *opts, size_t opts_len);
int pkt_set_payload(struct pkt *p, const uint8_t *data, size_t len);

/* Internet checksum pieces: add bytes (starting at an even offset of the
 * summed data) to a running sum, then fold and complement. */
uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t len);
uint16_t csum_fold(uint64_t sum);

/* Recomputes the IPv4 header checksum and the TCP checksum. */
void pkt_fix_checksums(struct pkt *p);
/* True when the TCP checksum (and IPv4 header checksum) are correct. */
bool pkt_checksums_ok(const struct pkt *p);

/* Builds a TCP segment with no payload and no options (other than opts)
 * from scratch into buf (at least 60 + 40 bytes + payload_len); returns
 * its length.  Used for injected Init messages, ACKs and RSTs. */
struct pkt_build {
	int family;
	const uint8_t *saddr, *daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts;
	size_t opts_len;	/* multiple of 4 */
	const uint8_t *payload;
	size_t payload_len;
};
size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_build *b, struct pkt *out);

/* The addresses, protocol and (for TCP, when the bytes are there: not in
 * a later fragment) ports of a packet that pkt_parse() refused.  Returns 0,
 * or -1 when not even the IP header can be read.  proto is the last next
 * header reached (an IPv6 walk stops at a header it does not know). */
struct pkt_peek {
	int family;
	uint8_t proto;
	bool have_ports;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
};

int pkt_peek(const uint8_t *buf, size_t len, struct pkt_peek *pk);

#endif
