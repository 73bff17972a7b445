/* SPDX-License-Identifier: BSD-2-Clause */
/* NFQUEUE I/O over libmnl: binds one queue, reads packets in batches and
 * sends verdicts in batches.  The only module that speaks netlink. */
#ifndef TC_NFQ_H
#define TC_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct mnl_nlmsg_batch;

struct mmsghdr;
struct iovec;

struct nfqio {
	struct mnl_socket *nl;
	uint16_t queue;
	uint32_t portid;
	uint8_t *rbuf;			/* NFQIO_RX_MSGS slots of NFQIO_RX_SLOT */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint64_t rx_calls;		/* receive calls so far */
	uint8_t *vbuf;
	size_t vbuf_size;
	struct mnl_nlmsg_batch *batch;
	/* Datagrams one nfqio_receive call reads at most (rounded up to
	 * whole system calls), so that a caller with timers of its own gets
	 * back to them during a steady stream; 0 (the default): until the
	 * socket is drained. */
	unsigned rx_budget;
	/* Errors, counted and otherwise survived: */
	uint64_t enobufs;		/* messages lost: rx_enobufs plus verdict
					 * batches dropped (ENOBUFS, EAGAIN) */
	uint64_t rx_enobufs;		/* receive overruns: packets the kernel
					 * could not queue to us */
	uint64_t tx_errors;		/* verdict batches not sent, any error */
	uint64_t msg_errors;		/* error messages (NLMSG_ERROR) and
					 * messages of others received */
};

/* Messages one receive call takes at most, and the room for each: a whole
 * 64 KiB packet, its netlink headers, and as much again free behind it. */
#define NFQIO_RX_MSGS 16
#define NFQIO_RX_SLOT (128u << 10)

struct nfqio_packet {
	uint32_t id;
	uint8_t hook;		/* NF_INET_LOCAL_IN / NF_INET_LOCAL_OUT / ... */
	uint32_t mark;
	uint8_t *data;		/* in the receive buffer, until cb returns */
	size_t len;
	/* The callback may rewrite the packet in place: room bytes from
	 * data on (len included) and headroom bytes before data are its
	 * own until it returns (the netlink headers there have been read). */
	size_t room;
	size_t headroom;
	uint64_t batch;		/* the same for packets of one receive call */
};

/* Binds the queue (copying whole packets, no GSO, fail closed) with room
 * for maxlen packets, in the kernel's queue and in the socket's receive
 * buffer.  Returns 0 or -1 with errno set and a message logged. */
int nfqio_open(struct nfqio *q, uint16_t queue, uint32_t maxlen);
void nfqio_close(struct nfqio *q);
int nfqio_fd(const struct nfqio *q);

/* Reads everything queued without blocking (or q->rx_budget datagrams),
 * up to NFQIO_RX_MSGS messages per system call, and calls cb for each
 * packet.  Returns the number of datagrams read (at least q->rx_budget:
 * more may be queued), or -1 on a fatal socket error. */
int nfqio_receive(struct nfqio *q, void (*cb)(void *ctx, const struct nfqio_packet *pkt), void *ctx);

/* Queues a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT); mark is set when
 * set_mark; data replaces the packet when not NULL. */
void nfqio_verdict(struct nfqio *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		 const uint8_t *data, size_t len);
/* Sends the queued verdicts. */
void nfqio_flush(struct nfqio *q);

#endif
