/* SPDX-License-Identifier: BSD-2-Clause */
/* Levelled logging to stderr (journald picks it up under systemd), or to
 * syslog once the daemon has detached. */
#ifndef TC_LOG_H
#define TC_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Called once at start-up; messages above lvl are discarded.  Under
 * systemd (JOURNAL_STREAM set) lines get syslog priority prefixes. */
void log_init(enum log_level lvl);
/* From now on send messages to syslog (facility daemon, tagged ident[pid])
 * instead of stderr: for a daemon that detached from its terminal. */
void log_use_syslog(const char *ident);
bool log_is_syslog(void);
enum log_level log_get_level(void);

/* While on, messages are held in memory (up to 16 KiB, then written) and
 * written by log_flush(), which the event loop calls once it has sent the
 * verdicts of a batch of packets: a line logged on a handshake's path
 * then costs its system call after the segment has left, not before.
 * Held lines are also written at exit() and when deferring is turned
 * off; an abort loses them. */
void log_defer(bool on);
void log_flush(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
