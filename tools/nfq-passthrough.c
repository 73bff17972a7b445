/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nfq-passthrough: the smallest useful NFQUEUE consumer.
 *
 * It binds one queue and accepts every packet, copying the packet bytes back
 * in the verdict exactly as tcpcryptd must do for every segment it rewrites.
 * That makes it the honest baseline for the benchmark: the cost of moving
 * each packet to userspace and back, without any crypto.  It also stands in
 * for the daemon when the test plumbing is checked on its own.
 *
 * It uses the daemon's own queue code (src/daemon/nfq.c), so its queue settings,
 * socket buffers, receive loop and verdict batching are the daemon's:
 * the benchmark compares the crypto and the protocol, nothing else.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "conf.h"
#include "log.h"
#include "nfq.h"
#include "stopsig.h"

#define QUEUE_MAXLEN 4096u	/* as tcpcryptd's */

static unsigned long packets;

static void accept_copy(void *ctx, const struct nfqio_packet *pkt)
{
	packets++;
	nfqio_verdict(ctx, pkt->id, NF_ACCEPT, false, 0, pkt->data, pkt->len);
}

int main(int argc, char *argv[])
{
	struct nfqio q;
	struct pollfd pfd;
	uint64_t queue;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s QUEUE_NUM\n", argv[0]);
		return 64; /* EX_USAGE */
	}
	if (conf_parse_uint(argv[1], 0, 65535, &queue) < 0) {
		fprintf(stderr, "nfq-passthrough: bad queue number '%s'\n", argv[1]);
		return 64;
	}
	log_init(LOG_LVL_INFO);

	stop_signals_block();

	if (nfqio_open(&q, (uint16_t)queue, QUEUE_MAXLEN) < 0)
		return 1;
	fprintf(stderr, "nfq-passthrough: ready queue=%u\n", (unsigned)queue);
	pfd.fd = nfqio_fd(&q);
	pfd.events = POLLIN;
	while (!stop_requested) {
		if (nfqio_receive(&q, accept_copy, &q) < 0) {
			rc = 1;
			break;
		}
		/* Nothing more to read right now: release what we hold. */
		nfqio_flush(&q);
		if (ppoll(&pfd, 1, NULL, &stop_unblocked) < 0 && errno != EINTR) {
			fprintf(stderr, "nfq-passthrough: ppoll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
	}
	nfqio_flush(&q);
	fprintf(stderr, "nfq-passthrough: exiting packets=%lu enobufs=%llu\n", packets,
		(unsigned long long)q.enobufs);
	nfqio_close(&q);
	return rc;
}
