/* SPDX-License-Identifier: BSD-2-Clause */
/* The control socket server (doc/control.md): a unix stream socket whose
 * clients ask about the engine's flows and counters.  It never blocks the
 * packet path: every socket is non-blocking, each client has bounded input
 * and output buffers, and long answers are produced as the client reads.
 *
 * The server owns an epoll set of its own; the daemon adds ctl_fd() to its
 * event loop and calls ctl_handle() when it is readable and at
 * ctl_next_deadline() for idle timeouts. */
#ifndef TC_CTL_H
#define TC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"

#define CTL_DEFAULT_PATH "/run/tcpcrypt/tcpcryptd.sock"
#define CTL_MAX_CLIENTS 64
#define CTL_OUT_MAX (64 * 1024)		/* per client: more waiting = disconnect */
#define CTL_IDLE_US (60 * UINT64_C(1000000))

struct ctl_ops {
	void *ctx;
	/* The "reload" command: re-read the configuration.  Returns the number
	 * of policy rules now in force (>= 0), or -1 with a message in err
	 * (the old configuration stays).  NULL: reload is not available. */
	int (*reload)(void *ctx, char *err, size_t errlen);
	/* The policy word of a flow for "list"/"lookup"; NULL: "-". */
	const char *(*policy)(void *ctx, const struct flow *f);
};

struct ctl_client;

struct ctl_server {
	int ep;				/* listener and clients */
	int lfd;
	char path[108];			/* absolute */
	dev_t dev;			/* the socket file we created, so we */
	ino_t ino;			/* remove it and nothing else */
	uid_t euid;
	struct engine *engine;
	struct ctl_ops ops;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
	unsigned nclients;
	uint64_t listen_paused_until;	/* 0, or accept failed: retry then */
};

/* Creates and listens on path (a missing parent directory is created with
 * mode 0750); a stale socket is replaced, a live one (another daemon
 * answers) is an error.  group: NULL or a group name or number for the
 * socket.  Returns 0, or -1 with a message in err. */
int ctl_open(struct ctl_server *s, const char *path, const char *group, struct engine *e,
	     const struct ctl_ops *ops, char *err, size_t errlen);
/* Disconnects every client, closes and removes the socket. */
void ctl_close(struct ctl_server *s);

int ctl_fd(const struct ctl_server *s);
/* Accepts, reads, answers, writes whatever is ready, and drops idle
 * clients.  now: the engine's clock (us). */
void ctl_handle(struct ctl_server *s, uint64_t now);
/* When ctl_handle must run next for idle timeouts (UINT64_MAX: never). */
uint64_t ctl_next_deadline(const struct ctl_server *s);

#endif
