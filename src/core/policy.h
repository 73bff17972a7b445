/* SPDX-License-Identifier: BSD-2-Clause */
/* Encryption policy: which connections must, may or must not be encrypted,
 * chosen per peer address prefix and service port.  Pure code. */
#ifndef TC_POLICY_H
#define TC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_action {
	POLICY_PRIVATE_OR_CLEAR = 0,	/* encrypt when the peer can (default) */
	POLICY_PRIVATE,			/* encrypt or refuse the connection */
	POLICY_CLEAR,			/* never encrypt */
};

/* One rule: "ACTION [addr PREFIX] [port N[-M]]".  A rule without addr
 * matches every address of both families; without port, every port. */
struct policy_rule {
	enum policy_action action;
	int family;			/* 0 (any), AF_INET or AF_INET6 */
	uint8_t addr[16];		/* network address, host bits zero */
	uint8_t prefix_len;		/* 0..32 or 0..128 */
	uint16_t port_lo, port_hi;	/* 0-65535: any port */
};

/* An ordered rule list: the first matching rule wins; no match means
 * POLICY_PRIVATE_OR_CLEAR. */
struct policy {
	struct policy_rule *rules;
	size_t n;
};

const char *policy_action_str(enum policy_action a);

/* Parses "private port 22", "clear addr 192.0.2.0/24",
 * "private-or-clear addr 2001:db8::/32 port 8000-8100".  Returns 0, or -1
 * with a short reason in err ("unknown action 'privat'", ...). */
int policy_parse_rule(const char *text, struct policy_rule *out, char *err, size_t errlen);

/* Appends a copy of rule; -1 when out of memory. */
int policy_add(struct policy *p, const struct policy_rule *rule);
void policy_free(struct policy *p);

/* The action for a connection with a peer at peer_addr (4 or 16 bytes by
 * family) and the given service port: the remote port of a connection we
 * open, our local port for one we accept. */
enum policy_action policy_decide(const struct policy *p, int family, const uint8_t *peer_addr,
				 uint16_t service_port);

/* Whether some port of a connection with this peer is private: for a
 * packet whose ports cannot be read. */
bool policy_may_be_private(const struct policy *p, int family, const uint8_t *peer_addr);

#endif
