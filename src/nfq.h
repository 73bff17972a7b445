/* NFQUEUE I/O over libmnl: binds one queue, reads packets in batches and
 * sends verdicts in batches.  The only module that speaks netlink. */
#ifndef TC_NFQ_H
#define TC_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct mnl_nlmsg_batch;

struct nfqio {
	struct mnl_socket *nl;
	uint16_t queue;
	uint32_t portid;
	uint8_t *rbuf;
	size_t rbuf_size;
	uint8_t *vbuf;
	size_t vbuf_size;
	struct mnl_nlmsg_batch *batch;
	uint64_t enobufs;
};

struct nfqio_packet {
	uint32_t id;
	uint8_t hook;		/* NF_INET_LOCAL_IN / NF_INET_LOCAL_OUT / ... */
	uint32_t mark;
	const uint8_t *data;
	size_t len;
};

/* Binds the queue (copying whole packets, no GSO, fail closed).  Returns 0
 * or -1 with errno set and a message logged. */
int nfqio_open(struct nfqio *q, uint16_t queue, uint32_t maxlen);
void nfqio_close(struct nfqio *q);
int nfqio_fd(const struct nfqio *q);

/* Reads everything queued without blocking and calls cb for each packet.
 * Returns the number of packets, or -1 on a fatal socket error. */
int nfqio_receive(struct nfqio *q, void (*cb)(void *ctx, const struct nfqio_packet *pkt), void *ctx);

/* Queues a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT); mark is set when
 * set_mark; data replaces the packet when not NULL. */
void nfqio_verdict(struct nfqio *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		 const uint8_t *data, size_t len);
/* Sends the queued verdicts. */
void nfqio_flush(struct nfqio *q);

#endif
