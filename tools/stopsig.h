/* SPDX-License-Identifier: BSD-2-Clause */
/* SIGTERM and SIGINT for the test tools' event loops: they set
 * stop_requested, and they are blocked except while the loop waits in
 * ppoll(..., &stop_unblocked), so one that arrives between the check of the
 * flag and the wait cannot be lost.  For one source file of a program. */
#ifndef TC_TOOLS_STOPSIG_H
#define TC_TOOLS_STOPSIG_H

#include <signal.h>

static volatile sig_atomic_t stop_requested;
static sigset_t stop_unblocked;		/* the mask inside ppoll */

static void stop_on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void stop_signals_block(void)
{
	struct sigaction sa = { .sa_handler = stop_on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&stop_unblocked);
}

#endif
