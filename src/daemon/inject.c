/* SPDX-License-Identifier: BSD-2-Clause */
#include "inject.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


static int open_raw(int family, uint32_t mark)
{
	/* IPPROTO_RAW implies that we supply the IP header (IPv4 and, since
	 * Linux 4.5, IPv6). */
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		close(fd);
		return -1;
	}
	/* Check sizes against the device MTU, not the path MTU cached for the
	 * route: segments grown by the MAC option after an ICMP error are
	 * exactly path-MTU sized, 16 bytes over what the kernel was told. */
	if (family == AF_INET) {
		int probe = IP_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
	} else {
		int probe = IPV6_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof(probe));
	}
	return fd;
}

int injector_open(struct injector *in, uint32_t mark, char *err, size_t errlen)
{
	in->fd6 = -1;
	in->fd4 = open_raw(AF_INET, mark);
	if (in->fd4 < 0) {
		snprintf(err, errlen, "raw IPv4 socket: %s", strerror(errno));
		return -1;
	}
	in->fd6 = open_raw(AF_INET6, mark);
	if (in->fd6 < 0) {
		/* A host without IPv6 still works for IPv4. */
		snprintf(err, errlen, "raw IPv6 socket: %s (IPv6 injection disabled)",
			 strerror(errno));
		return 1;
	}
	return 0;
}

void injector_close(struct injector *in)
{
	if (in->fd4 >= 0)
		close(in->fd4);
	if (in->fd6 >= 0)
		close(in->fd6);
	in->fd4 = in->fd6 = -1;
}

int injector_send(struct injector *in, const uint8_t *pkt, size_t len)
{
	ssize_t r;

	if (len < 1)
		return -1;
	if ((pkt[0] >> 4) == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		if (len < 20)
			return -1;
		memcpy(&sin.sin_addr, pkt + 16, 4);
		r = sendto(in->fd4, pkt, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		if (len < 40 || in->fd6 < 0)
			return -1;
		memcpy(&sin6.sin6_addr, pkt + 24, 16);
		r = sendto(in->fd6, pkt, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	return r == (ssize_t)len ? 0 : -1;
}
