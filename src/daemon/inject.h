/* SPDX-License-Identifier: BSD-2-Clause */
/* Raw-socket injection of packets the daemon builds itself (Init message
 * retransmissions, ACKs, RSTs).  They carry TC_MARK_INJECTED so the
 * firewall rules never queue them again. */
#ifndef TC_INJECT_H
#define TC_INJECT_H

#include <stddef.h>
#include <stdint.h>

struct injector {
	int fd4, fd6;
};

/* Opens the raw sockets.  0; 1 when IPv6 injection is off (err says why)
 * but IPv4 works; -1 with a message in err. */
int injector_open(struct injector *in, uint32_t mark, char *err, size_t errlen);
void injector_close(struct injector *in);
/* Sends a complete IPv4 or IPv6 packet; returns 0 or -1 (errno set). */
int injector_send(struct injector *in, const uint8_t *pkt, size_t len);

#endif
