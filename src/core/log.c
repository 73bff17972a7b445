/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* The only process-wide settings: written once before the event loop. */
static enum log_level current_level = LOG_LVL_INFO;
static int journal_prefix;
static bool use_syslog;

/* Held lines (log_defer): for stderr the lines as they will be written;
 * for syslog, records of a level byte and a NUL-terminated message. */
#define HELD_MAX 16384
static bool deferring;
static char held[HELD_MAX];
static size_t held_len;
static const int syslog_level[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

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

void log_flush(void)
{
	size_t i = 0;

	if (!use_syslog) {
		if (held_len)
			fwrite(held, 1, held_len, stderr);
		held_len = 0;
		return;
	}
	while (i < held_len) {
		size_t n = strlen(held + i + 1);

		syslog(syslog_level[(unsigned char)held[i]], "%s", held + i + 1);
		i += n + 2;
	}
	held_len = 0;
}

void log_defer(bool on)
{
	static bool registered;

	if (on && !registered && atexit(log_flush) == 0)
		registered = true;
	/* Without the exit handler, nothing may be held. */
	deferring = on && registered;
	if (!deferring)
		log_flush();
}

/* Keeps a message for log_flush; false when it must be written now. */
static bool hold(enum log_level lvl, const char *text, size_t len)
{
	size_t need = use_syslog ? len + 2 : len;

	if (!deferring || need > sizeof(held))
		return false;
	if (held_len + need > sizeof(held))
		log_flush();
	if (use_syslog) {
		held[held_len++] = (char)lvl;
		memcpy(held + held_len, text, len);
		held_len += len;
		held[held_len++] = '\0';
	} else {
		memcpy(held + held_len, text, len);
		held_len += len;
	}
	return true;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	/* "<N>" prefixes are the syslog priorities journald understands. */
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	static const char *const syslog_prio[] = { "<3>", "<4>", "<6>", "<7>" };
	char line[1024];
	int n, m;
	va_list ap;

	if (lvl > current_level)
		return;
	if (use_syslog) {
		if (deferring) {
			va_start(ap, fmt);
			m = vsnprintf(line, sizeof(line), fmt, ap);
			va_end(ap);
			if (m >= 0 && (size_t)m < sizeof(line) && hold(lvl, line, (size_t)m))
				return;
		}
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
	if (!hold(lvl, line, (size_t)n))
		fwrite(line, 1, (size_t)n, stderr);
}
