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

int injector_open(struct injector *in, uint32_t mark);
void injector_close(struct injector *in);
/* Sends a complete IPv4 or IPv6 packet; returns 0 or -1 (errno set). */
int injector_send(struct injector *in, const uint8_t *pkt, size_t len);

#endif
