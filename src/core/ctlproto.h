/* SPDX-License-Identifier: BSD-2-Clause */
/* The control socket's line protocol (doc/control.md), without sockets:
 * parsing request lines and addresses, formatting records and final lines.
 * Pure code, shared by the daemon's control server and by tcnetstat. */
#ifndef TC_CTLPROTO_H
#define TC_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define CTL_PROTOCOL_VERSION 1
#define CTL_LINE_MAX 1024		/* request bytes before the '\n' */
#define CTL_RECORD_MAX 512		/* longest line the daemon formats */
#define CTL_ADDR_MAX 56			/* "[" INET6_ADDRSTRLEN "]:65535" */

enum ctl_cmd {
	CTL_CMD_LIST,
	CTL_CMD_LOOKUP,
	CTL_CMD_COUNTERS,
	CTL_CMD_RELOAD,
	CTL_CMD_VERSION,
};

/* An endpoint.  IPv4 (also when written as ::ffff:a.b.c.d) keeps its four
 * bytes at the start of addr, the rest zero, as in struct flow_key. */
struct ctl_addr {
	uint8_t family;			/* AF_INET / AF_INET6 */
	uint8_t addr[16];
	uint16_t port;			/* host order */
};

struct ctl_request {
	enum ctl_cmd cmd;
	struct ctl_addr local, remote;	/* lookup only */
};

enum ctl_status {
	CTL_OK = 0,
	CTL_ERR_BAD_REQUEST,		/* "bad-request" */
	CTL_ERR_UNKNOWN_COMMAND,	/* "unknown-command" */
};

/* The error code word of a parse status ("bad-request", ...). */
const char *ctl_status_code(enum ctl_status st);

/* Parses one request line: len bytes without the '\n' (a trailing '\r'
 * is ignored).  Returns CTL_OK with *req filled, or an error status with
 * *msg set to a short reason that contains no spaces. */
enum ctl_status ctl_parse_request(const char *line, size_t len, struct ctl_request *req,
				  const char **msg);

/* "192.0.2.1:443", "[2001:db8::1]:443", "[::ffff:192.0.2.1]:443" (which
 * becomes IPv4).  Port 1..65535.  Returns 0 or -1. */
int ctl_parse_addr(const char *s, size_t len, struct ctl_addr *out);
/* The inverse; returns the length written, or -1 if buf is too small. */
int ctl_format_addr(char *buf, size_t len, const struct ctl_addr *a);

/* The flow table key of a connection; -1 when the families differ. */
int ctl_flow_key(struct flow_key *k, const struct ctl_addr *local, const struct ctl_addr *remote);
/* The endpoints of a flow key. */
void ctl_key_addrs(const struct flow_key *k, struct ctl_addr *local, struct ctl_addr *remote);

/* "negotiating", "encrypted", "closed" or "failed". */
const char *ctl_flow_state(const struct flow *f);

/* Formats "flow local=... age=N\n" for f at time now (microseconds, the
 * clock of f->created).  Returns the length, or -1 if buf is too small. */
int ctl_format_flow(char *buf, size_t len, const struct flow *f, uint64_t now,
		    const char *policy);
/* "counter name=NAME value=N\n". */
int ctl_format_counter(char *buf, size_t len, const char *name, uint64_t value);
/* "error code=CODE msg=MSG\n"; msg is made a valid value (spaces, '=' and
 * control characters become '-', empty becomes "-"). */
int ctl_format_error(char *buf, size_t len, const char *code, const char *msg);

/* Client side.  The value of key in a response line ("word k=v k=v"),
 * not NUL-terminated: its length in *vlen; NULL if absent. */
const char *ctl_get(const char *line, size_t len, const char *key, size_t *vlen);
/* True for "ok ..." and "error ..." lines, which end a response. */
bool ctl_is_final(const char *line, size_t len);
bool ctl_is_ok(const char *line, size_t len);

#endif
