#include "nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

/* Big enough for a whole 64 KiB packet plus netlink headers, several times
 * over, so one recv drains many packets. */
#define RBUF_SIZE (4u << 20)
#define VBUF_SIZE (4u << 20)
#define VERDICT_OVERHEAD 256
#define SOCKBUF_SIZE (16 << 20)

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

	memset(q, 0, sizeof(*q));
	q->queue = queue;
	q->rbuf_size = RBUF_SIZE;
	q->vbuf_size = VBUF_SIZE;
	q->rbuf = malloc(q->rbuf_size);
	q->vbuf = malloc(q->vbuf_size);
	if (!q->rbuf || !q->vbuf)
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
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
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
	free(q->vbuf);
	memset(q, 0, sizeof(*q));
}

int nfqio_fd(const struct nfqio *q)
{
	return mnl_socket_get_fd(q->nl);
}

struct cb_ctx {
	void (*cb)(void *ctx, const struct nfqio_packet *pkt);
	void *ctx;
};

static int parse_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cb_ctx *c = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfqio_packet pkt;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] || !attr[NFQA_PAYLOAD])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt.id = ntohl(ph->packet_id);
	pkt.hook = ph->hook;
	pkt.mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	pkt.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	pkt.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	c->cb(c->ctx, &pkt);
	return MNL_CB_OK;
}

int nfqio_receive(struct nfqio *q, void (*cb)(void *ctx, const struct nfqio_packet *pkt), void *ctx)
{
	struct cb_ctx c = { cb, ctx };
	int n = 0;

	for (;;) {
		ssize_t r = mnl_socket_recvfrom(q->nl, q->rbuf, q->rbuf_size);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			if (errno == ENOBUFS) {
				q->enobufs++;
				continue;
			}
			if (errno == EINTR)
				continue;
			log_err("netlink receive: %s", strerror(errno));
			return -1;
		}
		if (mnl_cb_run(q->rbuf, (size_t)r, 0, q->portid, parse_cb, &c) < 0 &&
		    errno != EINTR)
			log_warn("netlink message: %s", strerror(errno));
		n++;
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
		if (errno == ENOBUFS || errno == EAGAIN) {
			q->enobufs++;
			break;
		}
		log_err("sending verdicts: %s", strerror(errno));
		break;
	}
	mnl_nlmsg_batch_reset(q->batch);
}
