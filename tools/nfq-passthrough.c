/*
 * nfq-passthrough: the smallest useful NFQUEUE consumer.
 *
 * It binds one queue and accepts every packet, copying the packet bytes back
 * in the verdict exactly as tcpcryptd must do for every segment it rewrites.
 * That makes it the honest baseline for the benchmark: the cost of moving
 * each packet to userspace and back, without any crypto.  It also stands in
 * for the daemon when the test plumbing is checked on its own.
 *
 * Queue settings follow DESIGN.md: full copy (0xffff), no GSO (a daemon that
 * adds a per-segment option must see real segments), a queue maxlen in the
 * thousands with a receive buffer sized for it, NETLINK_NO_ENOBUFS, and
 * verdicts batched and flushed whenever the socket has nothing more to read.
 *
 * Usage: nfq-passthrough QUEUE_NUM
 * Prints "ready queue=N" on stderr once bound; exits 0 on SIGTERM/SIGINT.
 */
/* ppoll() is a GNU extension; the automake build defines this already. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define QUEUE_MAXLEN   4096u
/* Enough for QUEUE_MAXLEN full-size (1500 byte) packets plus netlink headers. */
#define RCVBUF_BYTES   (8 * 1024 * 1024)
/* One datagram from the kernel holds one packet of at most 64 KiB. */
#define RECV_BUF_BYTES (0xffff + 8192)
/*
 * Verdicts are gathered up to this many bytes before sending.  The netlink
 * socket refuses a single send larger than its send buffer, so the buffer is
 * raised well above the limit below.
 */
#define BATCH_LIMIT    (128 * 1024)
#define SNDBUF_BYTES   (1024 * 1024)

struct pt {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t queue;
	struct mnl_nlmsg_batch *batch;
	char *batch_buf;
	unsigned long packets;
	unsigned long send_errors;
	unsigned long kernel_errors;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Raise a socket buffer, using the FORCE variant (root) to pass rmem_max. */
static void raise_buf(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* Send one configuration message and wait for the kernel's acknowledgement,
 * so that e.g. "queue already bound by another process" is reported here
 * instead of silently leaving the queue without a consumer. */
static int config_send(struct pt *pt, struct nlmsghdr *nlh, const char *what)
{
	static uint32_t seq;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(pt->nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "nfq-passthrough: %s: send: %s\n", what, strerror(errno));
		return -1;
	}
	n = (int)mnl_socket_recvfrom(pt->nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, pt->portid, NULL, NULL) < 0) {
		fprintf(stderr, "nfq-passthrough: %s: %s\n", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct pt *pt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int on = 1;
	int fd;

	pt->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (pt->nl == NULL) {
		fprintf(stderr, "nfq-passthrough: mnl_socket_open: %s\n", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(pt->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "nfq-passthrough: mnl_socket_bind: %s\n", strerror(errno));
		return -1;
	}
	pt->portid = mnl_socket_get_portid(pt->nl);
	fd = mnl_socket_get_fd(pt->nl);
	raise_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, RCVBUF_BYTES);
	raise_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, SNDBUF_BYTES);
	/* A full queue is the kernel's business (it drops); ENOBUFS on our
	 * socket would only make recv fail, so turn it off. */
	(void)mnl_socket_setsockopt(pt->nl, NETLINK_NO_ENOBUFS, &on, sizeof(on));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, pt->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (config_send(pt, nlh, "bind queue") < 0)
		return -1;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, pt->queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	/* Explicitly clear GSO in case a previous owner of the queue set it. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	if (config_send(pt, nlh, "set copy mode") < 0)
		return -1;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, pt->queue);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
	if (config_send(pt, nlh, "set queue maxlen") < 0)
		return -1;

	/* From here on the socket is only read when poll says so. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(stderr, "nfq-passthrough: O_NONBLOCK: %s\n", strerror(errno));
		return -1;
	}

	pt->batch_buf = malloc(BATCH_LIMIT + RECV_BUF_BYTES);
	if (pt->batch_buf == NULL) {
		fprintf(stderr, "nfq-passthrough: out of memory\n");
		return -1;
	}
	/* The buffer is larger than the limit because the message that
	 * overflows the limit is still written into it before it is noticed. */
	pt->batch = mnl_nlmsg_batch_start(pt->batch_buf, BATCH_LIMIT);
	return 0;
}

static void batch_flush(struct pt *pt)
{
	size_t len = mnl_nlmsg_batch_size(pt->batch);

	if (len > 0 && mnl_socket_sendto(pt->nl, mnl_nlmsg_batch_head(pt->batch), len) < 0)
		pt->send_errors++;
	/* reset keeps a message that overflowed the limit, as the new head */
	mnl_nlmsg_batch_reset(pt->batch);
}

static void queue_verdict(struct pt *pt, uint32_t id, const void *pkt, uint16_t len)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(pt->batch), NFQNL_MSG_VERDICT, pt->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	/* Copy the bytes back: that is the cost tcpcryptd pays on every
	 * segment it rewrites, so the baseline pays it too. */
	nfq_nlmsg_verdict_put_pkt(nlh, pkt, len);
	if (!mnl_nlmsg_batch_next(pt->batch))
		batch_flush(pt);
}

/* One datagram from the kernel: packets, or error replies to our verdicts. */
static void handle_datagram(struct pt *pt, const char *buf, int n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = n;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct nlattr *attr[NFQA_MAX + 1] = { NULL };
		const struct nfqnl_msg_packet_hdr *ph;
		const void *payload = NULL;
		uint16_t plen = 0;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0)
				pt->kernel_errors++;
			continue;
		}
		if ((nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
			continue;
		if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
			continue;
		ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
		if (attr[NFQA_PAYLOAD] != NULL) {
			payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
			plen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
		}
		pt->packets++;
		queue_verdict(pt, ntohl(ph->packet_id), payload, plen);
	}
}

static int run(struct pt *pt)
{
	static char buf[RECV_BUF_BYTES];
	int fd = mnl_socket_get_fd(pt->nl);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	sigset_t during_poll;

	/* Signals are blocked except inside ppoll, so a SIGTERM that arrives
	 * between the flag check and the wait cannot be lost. */
	sigemptyset(&during_poll);

	while (!stop_requested) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			handle_datagram(pt, buf, (int)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			fprintf(stderr, "nfq-passthrough: recv: %s\n", strerror(errno));
			return -1;
		}
		/* Nothing more to read right now: release what we hold. */
		batch_flush(pt);
		if (ppoll(&pfd, 1, NULL, &during_poll) < 0 && errno != EINTR) {
			fprintf(stderr, "nfq-passthrough: ppoll: %s\n", strerror(errno));
			return -1;
		}
	}
	batch_flush(pt);
	return 0;
}

int main(int argc, char *argv[])
{
	struct pt pt = { 0 };
	struct sigaction sa = { 0 };
	sigset_t block;
	char *end = NULL;
	unsigned long q;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s QUEUE_NUM\n", argv[0]);
		return 64; /* EX_USAGE */
	}
	errno = 0;
	q = strtoul(argv[1], &end, 10);
	if (errno != 0 || end == argv[1] || *end != '\0' || q > 65535) {
		fprintf(stderr, "nfq-passthrough: bad queue number '%s'\n", argv[1]);
		return 64;
	}
	pt.queue = (uint16_t)q;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);

	if (setup(&pt) < 0)
		return 1;
	fprintf(stderr, "nfq-passthrough: ready queue=%u\n", pt.queue);

	rc = run(&pt);
	fprintf(stderr, "nfq-passthrough: exiting packets=%lu send_errors=%lu kernel_errors=%lu\n",
		pt.packets, pt.send_errors, pt.kernel_errors);
	mnl_socket_close(pt.nl);
	mnl_nlmsg_batch_stop(pt.batch);
	free(pt.batch_buf);
	return rc < 0 ? 1 : 0;
}
