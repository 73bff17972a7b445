/* SPDX-License-Identifier: BSD-2-Clause */
/* Conntrack through ctnetlink: tells the kernel's connection tracking to
 * accept the translated sequence numbers of an encrypted connection
 * (doc/conntrack.md).  Part of the daemon shell. */
#ifndef TC_CTNL_H
#define TC_CTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct mnl_socket;

struct ctnl {
	struct mnl_socket *nl;		/* NULL: ctnetlink unavailable */
	unsigned portid;
	uint32_t seq;
	bool warned;			/* a failure was logged already */
	uint64_t ok;			/* updates the kernel confirmed */
	uint64_t fail;			/* updates that could not be made */
};

/* Opens the netlink socket and checks that ctnetlink answers.  0, or -1
 * with a message in err; ctnl_liberal then only counts failures. */
int ctnl_open(struct ctnl *c, char *err, size_t errlen);
void ctnl_close(struct ctnl *c);

/* Sets IP_CT_TCP_FLAG_BE_LIBERAL in both directions of the conntrack entry
 * of connection k.  we_opened: k's local end sent the SYN, so local->remote
 * is the entry's original direction; otherwise it is the reply direction.
 * The kernel handles the request before the send returns; its answer is
 * read without waiting. */
void ctnl_liberal(struct ctnl *c, const struct flow_key *k, bool we_opened);

#endif
