/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

/* The only process-wide settings: written once before the event loop. */
static enum log_level current_level = LOG_LVL_INFO;
static int journal_prefix;
static bool use_syslog;

void log_init(enum log_level lvl)
{
	current_level = lvl;
	journal_prefix = getenv("JOURNAL_STREAM") != NULL;
}

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

bool log_is_syslog(void)
{
	return use_syslog;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	/* "<N>" prefixes are the syslog priorities journald understands. */
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	static const char *const syslog_prio[] = { "<3>", "<4>", "<6>", "<7>" };
	static const int syslog_level[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	int n, m;
	va_list ap;

	if (lvl > current_level)
		return;
	if (use_syslog) {
		va_start(ap, fmt);
		vsyslog(syslog_level[lvl], fmt, ap);
		va_end(ap);
		return;
	}
	/* One line, one write: stderr is unbuffered, and piecewise output
	 * would cost a system call per piece (a line per connection is
	 * logged on the handshake's path). */
	n = snprintf(line, sizeof(line), "%s%s", journal_prefix ? syslog_prio[lvl] : "",
		     prefix[lvl]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m > 0 ? m : 0;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;	/* cut: the line still ends */
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
