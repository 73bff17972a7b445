/* SPDX-License-Identifier: BSD-2-Clause */
/* The settings of tcpcryptd and the configuration file tcpcryptd.conf (see
 * tcpcryptd.conf(5)): one directive per line, '#' starts a comment.  Errors
 * name FILE:LINE.
 *
 * One table (conf_settings[]) describes every setting: its directive, its
 * command-line option, the kind of value and its bounds, the field of
 * struct tc_settings it sets, its default and its help line.  The file
 * parser, the daemon's getopt_long and --help, and the precedence
 * (command line over file over default, conf_resolve) all read it. */
#ifndef TC_CONF_H
#define TC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* Cipher suites there are (0x7403 "aes128", 0x7402 "chacha20"). */
#define CONF_MAX_SUITES 2

/* Index into conf_settings[], in the order --help lists them. */
enum tc_setting_id {
	TS_CONFIG,
	TS_POLICY,
	TS_QUEUE,
	TS_KEYLOG,
	TS_IDLE_TIMEOUT,
	TS_MAX_FLOWS,
	TS_LINGER,
	TS_RST,
	TS_SUITES,
	TS_RESUMPTION,
	TS_RESUME_LIFETIME,
	TS_STATE_FILE,
	TS_NO_X25519_MEMO,
	TS_SOCKET,
	TS_SOCKET_GROUP,
	TS_ALLOW_CORE_DUMP,
	TS_FOREGROUND,
	TS_VERBOSE,
	TS_HELP,
	TS_VERSION,
	TS_COUNT
};

#define TS_BIT(id) (UINT32_C(1) << (id))
_Static_assert(TS_COUNT <= 32, "tc_settings.given is 32 bits");

/* The values, plain: seconds are seconds, "none" is NULL. */
struct tc_settings {
	uint32_t given;			/* TS_BIT(id): this source set it */
	uint64_t queue;
	const char *keylog;		/* NULL: no key log */
	uint64_t idle_timeout;		/* seconds */
	uint64_t max_flows;
	uint64_t linger;		/* seconds */
	bool rst_authenticated;
	struct tc_suites {
		uint16_t list[CONF_MAX_SUITES];	/* in order of preference */
		unsigned n;
	} suites;
	bool no_resumption;
	uint64_t resume_lifetime;	/* seconds */
	const char *state_file;		/* NULL: flows do not survive a restart */
	bool no_x25519_memo;
	const char *socket;		/* NULL: no control socket */
	const char *socket_group;	/* NULL: the daemon's own group */
	bool allow_core_dump;
	bool foreground;
};

enum tc_kind {
	TK_ACTION,	/* no field: the caller acts on it (see the table) */
	TK_UINT,	/* decimal digits, lo..hi */
	TK_STRING,	/* a path or a name (TF_* below) */
	TK_WORD,	/* words[0] sets false, words[1] true */
	TK_SUITES,	/* "aes128,chacha20" (conf_parse_suites) */
	TK_FLAG,	/* command line only, no argument: sets true */
};

#define TF_NONE		0x1	/* "none" stands for NULL */
#define TF_ABSOLUTE	0x2	/* an absolute path (or "none" with TF_NONE) */
#define TF_NONEMPTY	0x4	/* the command line refuses "" (a file never has it) */
#define TF_SUN_PATH	0x8	/* fits in sockaddr_un.sun_path; checked in the file,
				 * where the error can name the line (on the
				 * command line bind() reports it) */

struct tc_setting {
	enum tc_setting_id id;
	const char *directive;		/* NULL: not in the file */
	const char *opt;		/* long option */
	char short_opt;			/* 0: none */
	const char *arg;		/* its argument in --help; NULL: none */
	enum tc_kind kind;
	unsigned flags;			/* TF_* */
	uint64_t lo, hi;		/* TK_UINT */
	const char *unit;		/* TK_UINT: appended to the bounds */
	const char *words[2];		/* TK_WORD */
	const char *implies;		/* option without argument: the value it gives */
	size_t off, size;		/* the field in struct tc_settings */
	const char *def;		/* default, as the file would say it; NULL: none
					 * (the daemon's own, said in the help) */
	const char *help;		/* --help text; "%s" shows the default */
};

extern const struct tc_setting conf_settings[TS_COUNT];

/* The setting with that directive, or NULL. */
const struct tc_setting *conf_setting_by_directive(const char *name);

/* Sets e's field in s from arg (a string is pointed to, not copied) and
 * marks it given.  0, or -1 when arg is not a valid value (why: what it
 * must be, e.g. "16..16777216"), or -2 when arg is empty and
 * TF_NONEMPTY (why: what is missing, e.g. "empty path"). */
int conf_setting_set(const struct tc_setting *e, const char *arg, struct tc_settings *s,
		     char *why, size_t whylen);

/* Precedence: each setting from cli when it gave it, else from file when
 * it did, else the table's default.  out->given marks the settings that
 * have a value (given, or a default). */
void conf_resolve(struct tc_settings *out, const struct tc_settings *file,
		  const struct tc_settings *cli);

/* The options part of --help: one entry per setting, from the table.
 * config_default stands for TS_CONFIG's default (a build-time path). */
void conf_print_options(FILE *out, const char *config_default);

struct tc_config {
	struct tc_settings s;		/* the scalar directives */
	struct policy policy;		/* policy ACTION [addr P] [port N[-M]], in order */
};

/* Reads path into out (zeroed first).  A missing file is not an error when
 * missing_ok (out stays empty).  Returns 0, or -1 with err set to
 * "FILE:LINE: reason" (or "FILE: strerror") and out left empty. */
int conf_load(const char *path, bool missing_ok, struct tc_config *out, char *err, size_t errlen);
void conf_free(struct tc_config *c);

/* Values shared with the command line, so both accept the same.
 * A number: decimal digits only (no sign, no spaces) in lo..hi; -1
 * otherwise. */
int conf_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* A suite list, "aes128,chacha20": names separated by commas, each at most
 * once, in order of preference.  0 with out/n filled, or -1. */
int conf_parse_suites(const char *s, uint16_t out[CONF_MAX_SUITES], unsigned *n);
/* The name of a suite ("aes128", "chacha20"), "-" for any other value. */
const char *conf_suite_name(uint16_t suite);

#endif
