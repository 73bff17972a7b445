/* SPDX-License-Identifier: BSD-2-Clause */
/* ctnetlink client: one netlink socket, one request per encrypted
 * connection, answers read without waiting (doc/conntrack.md). */
#include "ctnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* One request is about 150 bytes; an answer with the capped ack less. */
#define CTNL_BUF 1024

static struct nlmsghdr *put_header(char *buf, uint16_t type, uint16_t flags, uint8_t family,
				   uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Reads the answers waiting on the socket (never blocks).  Returns the
 * errno of the last error answer, 0 when only successes came, -1 when
 * nothing was there. */
static int drain(struct ctnl *c)
{
	char buf[CTNL_BUF];
	int last = -1;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(c->nl), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* ENOBUFS: answers lost; the requests' fate is
				 * unknown, count nothing. */
				log_debug("conntrack: netlink receive: %s", strerror(errno));
			}
			return last;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				c->ok++;
				last = last > 0 ? last : 0;
			} else {
				c->fail++;
				last = -e->error;
				if (!c->warned) {
					log_warn("conntrack: the kernel refused to relax the "
						 "window check of an encrypted connection: %s "
						 "(its segments may be INVALID for conntrack; "
						 "further failures are only counted in "
						 "ct_liberal_fail)", strerror(-e->error));
					c->warned = true;
				}
			}
		}
	}
}

int ctnl_open(struct ctnl *c, char *err, size_t errlen)
{
	char buf[CTNL_BUF];
	struct nlmsghdr *nlh;
	struct pollfd pfd;
	int one = 1, fd, e_no = 0;

	memset(c, 0, sizeof(*c));
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl) {
		e_no = errno;
		goto unavailable;
	}
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e_no = errno;
		goto unavailable;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	fd = mnl_socket_get_fd(c->nl);
	/* Error answers without a copy of the request. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		e_no = errno;
		goto unavailable;
	}

	/* Probe: the global statistics, which exist whenever ctnetlink does.
	 * Without ctnetlink nfnetlink answers EOPNOTSUPP. */
	c->seq = 1;
	nlh = put_header(buf, IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, AF_UNSPEC, c->seq);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
		e_no = errno;
		goto unavailable;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) <= 0) {
		e_no = ETIMEDOUT;
		goto unavailable;
	}
	/* The probe's answer is not an update: it is not counted. */
	c->warned = true;
	e_no = drain(c);
	c->ok = c->fail = 0;
	c->warned = false;
	if (e_no != 0) {
		e_no = e_no < 0 ? ETIMEDOUT : e_no;
		goto unavailable;
	}
	log_debug("conntrack: ctnetlink available");
	return 0;

unavailable:
	snprintf(err, errlen, "ctnetlink unavailable (%s): conntrack will class most "
		 "segments of encrypted connections INVALID (doc/conntrack.md); "
		 "failures are counted in ct_liberal_fail", strerror(e_no));
	if (c->nl)
		mnl_socket_close(c->nl);
	c->nl = NULL;
	return -1;
}

void ctnl_close(struct ctnl *c)
{
	if (c->nl) {
		drain(c);
		mnl_socket_close(c->nl);
	}
	c->nl = NULL;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, uint8_t family, const uint8_t *src,
		      uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	struct nlattr *tuple, *ip, *proto;

	tuple = mnl_attr_nest_start(nlh, type);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (family == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst);
	}
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

void ctnl_liberal(struct ctnl *c, const struct flow_key *k, bool we_opened)
{
	const struct nf_ct_tcp_flags lib = {
		.flags = IP_CT_TCP_FLAG_BE_LIBERAL, .mask = IP_CT_TCP_FLAG_BE_LIBERAL,
	};
	char buf[CTNL_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *pi, *tcp;

	if (!c->nl) {
		c->fail++;
		return;
	}
	/* Update of an existing entry: IPCTNL_MSG_CT_NEW without NLM_F_CREATE
	 * (ENOENT rather than a new entry when it is gone). */
	nlh = put_header(buf, IPCTNL_MSG_CT_NEW, NLM_F_ACK, k->family, ++c->seq);
	/* local->remote is the original direction of a connection we opened
	 * and the reply direction of one we accepted.  Naming the reply tuple
	 * for the latter also finds the entry when the destination was
	 * rewritten by DNAT before the daemon saw the SYN. */
	put_tuple(nlh, we_opened ? CTA_TUPLE_ORIG : CTA_TUPLE_REPLY, k->family, k->laddr,
		  k->lport, k->raddr, k->rport);
	pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
	tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
	mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(lib), &lib);
	mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(lib), &lib);
	mnl_attr_nest_end(nlh, tcp);
	mnl_attr_nest_end(nlh, pi);

	/* nfnetlink handles the request in this call, so the entry is updated
	 * before the verdict on the current segment is given. */
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
		c->fail++;
		if (!c->warned) {
			log_warn("conntrack: ctnetlink request failed: %s (further failures "
				 "are only counted in ct_liberal_fail)", strerror(errno));
			c->warned = true;
		}
		return;
	}
	drain(c);
}
