/* SPDX-License-Identifier: BSD-2-Clause */
#include "nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "log.h"

#define VBUF_SIZE (4u << 20)
#define VERDICT_OVERHEAD 256
#define SOCKBUF_SIZE (16 << 20)
/* Receive buffer per packet the queue may hold: a full-size segment with
 * its socket buffer overhead takes about 2.3 KiB. */
#define RCVBUF_PER_PACKET 4096u

/* Sends a configuration message.  With ack, waits for the kernel's answer
 * and fails with its errno: only safe before the queue is bound, when no
 * packet can arrive ahead of the answer. */
static int send_config(struct nfqio *q, struct nlmsghdr *nlh, bool ack)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (ack) {
		nlh->nlmsg_flags |= NLM_F_ACK;
		nlh->nlmsg_seq = 1;
	}
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	if (!ack)
		return 0;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, 1, q->portid, NULL, NULL) < 0 ? -1 : 0;
}

int nfqio_open(struct nfqio *q, uint16_t queue, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int one = 1, size = SOCKBUF_SIZE, fd;
	int rcvsize = maxlen > INT_MAX / RCVBUF_PER_PACKET ? INT_MAX :
		      (int)(maxlen * RCVBUF_PER_PACKET);

	memset(q, 0, sizeof(*q));
	q->queue = queue;
	q->vbuf_size = VBUF_SIZE;
	q->rbuf = malloc((size_t)NFQIO_RX_MSGS * NFQIO_RX_SLOT);
	q->msgs = calloc(NFQIO_RX_MSGS, sizeof(*q->msgs));
	q->iov = calloc(NFQIO_RX_MSGS, sizeof(*q->iov));
	q->vbuf = malloc(q->vbuf_size);
	if (!q->rbuf || !q->msgs || !q->iov || !q->vbuf)
		goto fail;
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		log_err("netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_err("netlink bind: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	/* The kernel refuses a queue another socket holds (EPERM): ask for
	 * its answer, or the daemon would run on a queue it never gets. */
	if (send_config(q, nlh, true) < 0) {
		log_err("binding NFQUEUE %u: %s (is another program bound to it?)", queue,
			strerror(errno));
		goto fail;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	/* No NFQA_CFG_F_GSO: the kernel segments before queueing, so every
	 * segment gets its own MAC.  No FAIL_OPEN: a full queue drops. */
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(maxlen));
	if (send_config(q, nlh, false) < 0) {
		log_err("configuring NFQUEUE %u: %s", queue, strerror(errno));
		goto fail;
	}
	fd = mnl_socket_get_fd(q->nl);
	/* Losing netlink messages is not fatal: count ENOBUFS and go on. */
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvsize, sizeof(rcvsize)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvsize, sizeof(rcvsize));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* libmnl wants room for one message beyond the batch limit. */
	q->batch = mnl_nlmsg_batch_start(q->vbuf, q->vbuf_size / 2);
	if (!q->batch)
		goto fail;
	return 0;
fail:
	nfqio_close(q);
	return -1;
}

void nfqio_close(struct nfqio *q)
{
	if (q->batch)
		mnl_nlmsg_batch_stop(q->batch);
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q->msgs);
	free(q->iov);
	free(q->vbuf);
	memset(q, 0, sizeof(*q));
}

int nfqio_fd(const struct nfqio *q)
{
	return mnl_socket_get_fd(q->nl);
}

/* The length an attribute of a queued packet must have, or 0 for any:
 * the checks libnetfilter_queue's nfq_nlmsg_parse() makes, whose failure
 * discards the whole message. */
static size_t attr_fixed_len(uint16_t type)
{
	switch (type) {
	case NFQA_MARK:
	case NFQA_IFINDEX_INDEV:
	case NFQA_IFINDEX_OUTDEV:
	case NFQA_IFINDEX_PHYSINDEV:
	case NFQA_IFINDEX_PHYSOUTDEV:
	case NFQA_CAP_LEN:
	case NFQA_SKB_INFO:
	case NFQA_SECCTX:
	case NFQA_UID:
	case NFQA_GID:
	case NFQA_CT_INFO:
		return sizeof(uint32_t);
	case NFQA_TIMESTAMP:
		return sizeof(struct nfqnl_msg_packet_timestamp);
	case NFQA_HWADDR:
		return sizeof(struct nfqnl_msg_packet_hw);
	case NFQA_PACKET_HDR:
		return sizeof(struct nfqnl_msg_packet_hdr);
	default:
		return 0;
	}
}

/* One netlink message that is not a control message: reads the packet's
 * attributes in one pass.  Returns false (no packet) when one is
 * malformed or the header or payload is missing. */
static bool parse_packet(const struct nlmsghdr *nlh, struct nfqio_packet *pkt)
{
	const struct nlattr *hdr = NULL, *mark = NULL, *payload = NULL;
	const uint8_t *end = (const uint8_t *)nlh + MNL_ALIGN(nlh->nlmsg_len);
	const uint8_t *a = (const uint8_t *)nlh + MNL_NLMSG_HDRLEN +
			   MNL_ALIGN(sizeof(struct nfgenmsg));
	const struct nfqnl_msg_packet_hdr *ph;
	uint32_t v;

	while (end - a >= (ptrdiff_t)sizeof(struct nlattr)) {
		const struct nlattr *at = (const struct nlattr *)a;
		uint16_t type = at->nla_type & NLA_TYPE_MASK;
		size_t plen, fixed;

		if (at->nla_len < sizeof(struct nlattr) || at->nla_len > end - a)
			break;
		plen = at->nla_len - MNL_ATTR_HDRLEN;
		if (type <= NFQA_MAX) {
			fixed = attr_fixed_len(type);
			if (fixed && plen != fixed)
				return false;
			if (type == NFQA_PACKET_HDR)
				hdr = at;
			else if (type == NFQA_MARK)
				mark = at;
			else if (type == NFQA_PAYLOAD)
				payload = at;
		}
		a += MNL_ALIGN(at->nla_len);
	}
	if (!hdr || !payload)
		return false;
	ph = mnl_attr_get_payload(hdr);
	memcpy(&v, &ph->packet_id, sizeof(v));
	pkt->id = ntohl(v);
	pkt->hook = ph->hook;
	pkt->mark = 0;
	if (mark) {
		memcpy(&v, mnl_attr_get_payload(mark), sizeof(v));
		pkt->mark = ntohl(v);
	}
	pkt->data = mnl_attr_get_payload(payload);
	pkt->len = mnl_attr_get_payload_len(payload);
	return true;
}

/* One datagram: the checks of libmnl's mnl_cb_run() with sequence 0,
 * then the callback for each packet.  Returns -1 with errno set where
 * mnl_cb_run() would fail. */
static int run_datagram(struct nfqio *q, uint8_t *buf, size_t len, uint8_t *slot_end,
			void (*cb)(void *ctx, const struct nfqio_packet *pkt), void *ctx)
{
	uint8_t *p = buf;

	while (slot_end - p >= (ptrdiff_t)sizeof(struct nlmsghdr) &&
	       len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)p;
		struct nfqio_packet pkt;
		size_t next;

		if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len)
			break;
		if (nlh->nlmsg_pid && q->portid && nlh->nlmsg_pid != q->portid) {
			errno = ESRCH;
			return -1;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return -1;
		}
		next = MNL_ALIGN(nlh->nlmsg_len);
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
				errno = EBADMSG;
				return -1;
			}
			if (err->error == 0)
				return 0;
			errno = err->error < 0 ? -err->error : err->error;
			return -1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 0;
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && parse_packet(nlh, &pkt)) {
			/* Behind the packet: up to the next message, or for
			 * the last one to the end of its slot. */
			uint8_t *limit = next < len ? p + next : slot_end;

			pkt.room = (size_t)(limit - pkt.data);
			pkt.headroom = (size_t)(pkt.data - q->rbuf) % NFQIO_RX_SLOT;
			pkt.batch = q->rx_calls;
			cb(ctx, &pkt);
		}
		if (next >= len)
			break;
		p += next;
		len -= next;
	}
	return 0;
}

int nfqio_receive(struct nfqio *q, void (*cb)(void *ctx, const struct nfqio_packet *pkt), void *ctx)
{
	int fd = mnl_socket_get_fd(q->nl), n = 0, i;

	for (;;) {
		int r;

		for (i = 0; i < NFQIO_RX_MSGS; i++) {
			q->iov[i].iov_base = q->rbuf + (size_t)i * NFQIO_RX_SLOT;
			q->iov[i].iov_len = NFQIO_RX_SLOT;
			memset(&q->msgs[i].msg_hdr, 0, sizeof(q->msgs[i].msg_hdr));
			q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
			q->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(fd, q->msgs, NFQIO_RX_MSGS, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			if (errno == ENOBUFS) {
				q->enobufs++;
				q->rx_enobufs++;
				continue;
			}
			if (errno == EINTR)
				continue;
			log_err("netlink receive: %s", strerror(errno));
			return -1;
		}
		q->rx_calls++;
		for (i = 0; i < r; i++) {
			uint8_t *slot = q->rbuf + (size_t)i * NFQIO_RX_SLOT;

			if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				/* Cannot happen with slots larger than any
				 * packet; the kernel keeps the packet queued
				 * without a verdict, so give up as before. */
				log_err("netlink receive: message truncated");
				return -1;
			}
			if (run_datagram(q, slot, q->msgs[i].msg_len, slot + NFQIO_RX_SLOT, cb,
					 ctx) < 0 &&
			    errno != EINTR) {
				q->msg_errors++;
				log_warn("netlink message: %s", strerror(errno));
			}
			n++;
		}
		/* A short read: the socket is drained. */
		if (r < NFQIO_RX_MSGS || (q->rx_budget && (unsigned)n >= q->rx_budget))
			return n;
	}
}

void nfqio_verdict(struct nfqio *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		 const uint8_t *data, size_t len)
{
	struct nlmsghdr *nlh;

	if (mnl_nlmsg_batch_size(q->batch) + len + VERDICT_OVERHEAD > q->vbuf_size / 2)
		nfqio_flush(q);
	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(q->batch), NFQNL_MSG_VERDICT, q->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	mnl_nlmsg_batch_next(q->batch);
}

void nfqio_flush(struct nfqio *q)
{
	size_t len = mnl_nlmsg_batch_size(q->batch);

	if (!len)
		return;
	while (mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(q->batch), len) < 0) {
		if (errno == EINTR)
			continue;
		q->tx_errors++;
		if (errno == ENOBUFS || errno == EAGAIN) {
			q->enobufs++;
			break;
		}
		log_err("sending verdicts: %s", strerror(errno));
		break;
	}
	mnl_nlmsg_batch_reset(q->batch);
}
