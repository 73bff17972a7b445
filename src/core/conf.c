/* SPDX-License-Identifier: BSD-2-Clause */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* The longest line, not counting its "\n" or "\r\n". */
#define CONF_LINE_MAX 4096

/* Quoted tokens in messages are cut to this many bytes. */
#define QUOTE_MAX 48

struct parser {
	const char *path;
	unsigned long line;
	struct tc_config *c;
	char *err;
	size_t errlen;
	unsigned long first_line[TS_COUNT];	/* per setting; 0: not seen yet */
};

/* ------------------------------------------------------------------------ */
/* Errors */

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s:%lu: %s", p->path, p->line, why);
	return -1;
}

/* Copies s into out (QUOTE_MAX + 4 bytes), printable and possibly cut, so
 * that a binary file cannot put control bytes into the log. */
static const char *quote(const char *s, char *out)
{
	size_t i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static int fail_value(struct parser *p, const char *name, const char *arg, const char *range)
{
	char q[QUOTE_MAX + 4];

	return fail(p, "bad value '%s' for '%s' (%s)", quote(arg, q), name, range);
}

/* ------------------------------------------------------------------------ */
/* Values */

int conf_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	uint16_t suite;
} suite_names[CONF_MAX_SUITES] = {
	{ "aes128", 0x7403 },
	{ "chacha20", 0x7402 },
};

const char *conf_suite_name(uint16_t suite)
{
	for (unsigned i = 0; i < CONF_MAX_SUITES; i++)
		if (suite_names[i].suite == suite)
			return suite_names[i].name;
	return "-";
}

int conf_parse_suites(const char *s, uint16_t out[CONF_MAX_SUITES], unsigned *n)
{
	unsigned count = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		unsigned i;

		for (i = 0; i < CONF_MAX_SUITES; i++)
			if (strlen(suite_names[i].name) == len &&
			    strncmp(s, suite_names[i].name, len) == 0)
				break;
		if (i == CONF_MAX_SUITES || count == CONF_MAX_SUITES)
			return -1;
		for (unsigned j = 0; j < count; j++)
			if (out[j] == suite_names[i].suite)
				return -1;	/* listed twice */
		out[count++] = suite_names[i].suite;
		s += len;
		if (*s == ',' && *++s == '\0')
			return -1;	/* trailing comma */
	}
	if (count == 0)
		return -1;
	*n = count;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The settings */

#define FIELD(f) .off = offsetof(struct tc_settings, f), \
		 .size = sizeof(((struct tc_settings *)0)->f)

/* TK_ACTION entries have no value to merge: -c names the file (so the file
 * cannot set it), -P and "policy" add rules to a list that the command
 * line puts ahead of the file's instead of overriding it, -v counts, and
 * -h/-V print and exit.  The daemon acts on them itself. */
const struct tc_setting conf_settings[TS_COUNT] = {
	[TS_CONFIG] = {
		TS_CONFIG, .opt = "config", .short_opt = 'c', .arg = "FILE",
		.kind = TK_ACTION,
		.help = "configuration file (default %s;\n"
			"a missing default file means built-in defaults)",
	},
	[TS_POLICY] = {
		TS_POLICY, .directive = "policy", .opt = "policy", .short_opt = 'P',
		.arg = "RULE", .kind = TK_ACTION,
		.help = "policy rule ahead of the file's, e.g. \"private port 22\"\n"
			"(repeatable; ACTION [addr PREFIX] [port N[-M]])",
	},
	[TS_QUEUE] = {
		TS_QUEUE, .directive = "queue", .opt = "queue", .short_opt = 'q', .arg = "N",
		.kind = TK_UINT, .lo = 0, .hi = 65535, FIELD(queue), .def = "666",
		.help = "NFQUEUE number to bind (default %s)",
	},
	[TS_KEYLOG] = {
		TS_KEYLOG, .directive = "keylog", .opt = "keylog", .short_opt = 'k',
		.arg = "FILE", .kind = TK_STRING, FIELD(keylog),
		.help = "append per-connection secrets to FILE (debugging\n"
			"only: it defeats the encryption of those connections)",
	},
	[TS_IDLE_TIMEOUT] = {
		TS_IDLE_TIMEOUT, .directive = "idle-timeout", .opt = "idle-timeout",
		.arg = "S", .kind = TK_UINT, .lo = 1, .hi = 30 * 86400, .unit = "seconds",
		FIELD(idle_timeout), .def = "7200",
		.help = "forget established flows idle for S seconds (default %s)",
	},
	[TS_MAX_FLOWS] = {
		TS_MAX_FLOWS, .directive = "max-flows", .opt = "max-flows", .arg = "N",
		.kind = TK_UINT, .lo = 16, .hi = 1 << 24, FIELD(max_flows), .def = "65536",
		.help = "size of the flow table (default %s)",
	},
	[TS_LINGER] = {
		TS_LINGER, .directive = "linger", .opt = "linger", .arg = "S",
		.kind = TK_UINT, .lo = 0, .hi = 3600, .unit = "seconds", FIELD(linger),
		.def = "60",
		.help = "keep finished connections S seconds for late\n"
			"segments (default %s)",
	},
	[TS_RST] = {
		TS_RST, .directive = "rst", .opt = "rst-authenticated", .kind = TK_WORD,
		.words = { "kernel", "authenticated" }, .implies = "authenticated",
		FIELD(rst_authenticated), .def = "kernel",
		.help = "drop RSTs without a valid MAC on encrypted flows",
	},
	[TS_SUITES] = {
		TS_SUITES, .directive = "suites", .opt = "suites", .arg = "LIST",
		.kind = TK_SUITES, FIELD(suites),
		.help = "cipher suites to offer and accept, in order of\n"
			"preference: aes128,chacha20 (default: AES-128\n"
			"first where the CPU has AES instructions)",
	},
	[TS_RESUMPTION] = {
		TS_RESUMPTION, .directive = "resumption", .opt = "no-resumption",
		.kind = TK_WORD, .words = { "on", "off" }, .implies = "off",
		FIELD(no_resumption), .def = "on",
		.help = "never offer or accept session resumption: every\n"
			"connection does a full key exchange",
	},
	[TS_RESUME_LIFETIME] = {
		TS_RESUME_LIFETIME, .directive = "resume-lifetime", .opt = "resume-lifetime",
		.arg = "S", .kind = TK_UINT, .lo = 1, .hi = 86400, .unit = "seconds",
		FIELD(resume_lifetime), .def = "600",
		.help = "keep resumption secrets S seconds after the key\n"
			"exchange that made them (default %s)",
	},
	[TS_STATE_FILE] = {
		TS_STATE_FILE, .directive = "state-file", .opt = "state-file", .arg = "PATH",
		.kind = TK_STRING, .flags = TF_NONE | TF_ABSOLUTE, FIELD(state_file),
		.def = "/run/tcpcrypt/flows",
		.help = "keep the flow table in PATH (on tmpfs) so that a\n"
			"restarted daemon resumes the connections\n"
			"(default %s; \"none\": off)",
	},
	[TS_NO_X25519_MEMO] = {
		TS_NO_X25519_MEMO, .opt = "no-x25519-memo", .kind = TK_FLAG,
		FIELD(no_x25519_memo),
		.help = "compute the X25519 shared secret in every\n"
			"handshake, even with a peer key seen before\n"
			"(for measurements; the result is the same)",
	},
	[TS_SOCKET] = {
		TS_SOCKET, .directive = "socket", .opt = "socket", .short_opt = 'S', .arg = "PATH",
		.kind = TK_STRING, .flags = TF_NONE | TF_NONEMPTY | TF_SUN_PATH,
		FIELD(socket), .def = "/run/tcpcrypt/tcpcryptd.sock",
		.help = "control socket for tcnetstat and libtcpcrypt\n"
			"(default %s; \"none\": no socket)",
	},
	[TS_SOCKET_GROUP] = {
		TS_SOCKET_GROUP, .directive = "socket-group", .opt = "socket-group",
		.arg = "NAME", .kind = TK_STRING, .flags = TF_NONEMPTY, FIELD(socket_group),
		.help = "group that may use the control socket (mode 0660)",
	},
	[TS_ALLOW_CORE_DUMP] = {
		TS_ALLOW_CORE_DUMP, .opt = "allow-core-dump", .kind = TK_FLAG,
		FIELD(allow_core_dump),
		.help = "let the daemon dump core and be traced by its user\n"
			"(debugging only: the dump holds keys)",
	},
	[TS_FOREGROUND] = {
		TS_FOREGROUND, .opt = "foreground", .short_opt = 'f', .kind = TK_FLAG,
		FIELD(foreground),
		.help = "stay in the foreground and log to stderr (default:\n"
			"detach once ready and log to syslog)",
	},
	[TS_VERBOSE] = {
		TS_VERBOSE, .opt = "verbose", .short_opt = 'v', .kind = TK_ACTION,
		.help = "also log debug messages",
	},
	[TS_HELP] = {
		TS_HELP, .opt = "help", .short_opt = 'h', .kind = TK_ACTION,
		.help = "show this help and exit",
	},
	[TS_VERSION] = {
		TS_VERSION, .opt = "version", .short_opt = 'V', .kind = TK_ACTION,
		.help = "show the version and exit",
	},
};

const struct tc_setting *conf_setting_by_directive(const char *name)
{
	for (size_t i = 0; i < TS_COUNT; i++)
		if (conf_settings[i].directive && strcmp(conf_settings[i].directive, name) == 0)
			return &conf_settings[i];
	return NULL;
}

static void *field(const struct tc_setting *e, struct tc_settings *s)
{
	return (char *)s + e->off;
}

int conf_setting_set(const struct tc_setting *e, const char *arg, struct tc_settings *s,
		     char *why, size_t whylen)
{
	void *f = field(e, s);

	switch (e->kind) {
	case TK_ACTION:
		snprintf(why, whylen, "not a value");
		return -1;
	case TK_UINT:
		if (conf_parse_uint(arg, e->lo, e->hi, f) < 0) {
			snprintf(why, whylen, "%" PRIu64 "..%" PRIu64 "%s%s", e->lo, e->hi,
				 e->unit ? " " : "", e->unit ? e->unit : "");
			return -1;
		}
		break;
	case TK_STRING:
		if (!*arg && (e->flags & TF_NONEMPTY)) {
			char noun[16];
			size_t i;

			for (i = 0; e->arg[i] && i < sizeof(noun) - 1; i++)
				noun[i] = (char)tolower((unsigned char)e->arg[i]);
			noun[i] = '\0';
			snprintf(why, whylen, "empty %s%s", noun,
				 (e->flags & TF_NONE) ? " (\"none\" disables it)" : "");
			return -2;
		}
		if ((e->flags & TF_NONE) && strcmp(arg, "none") == 0) {
			arg = NULL;
		} else if ((e->flags & TF_ABSOLUTE) && arg[0] != '/') {
			snprintf(why, whylen, "an absolute path%s",
				 (e->flags & TF_NONE) ? " or none" : "");
			return -1;
		}
		*(const char **)f = arg;
		break;
	case TK_WORD:
		if (strcmp(arg, e->words[0]) == 0) {
			*(bool *)f = false;
		} else if (strcmp(arg, e->words[1]) == 0) {
			*(bool *)f = true;
		} else {
			snprintf(why, whylen, "%s or %s", e->words[1], e->words[0]);
			return -1;
		}
		break;
	case TK_SUITES: {
		struct tc_suites *v = f;

		if (conf_parse_suites(arg, v->list, &v->n) < 0) {
			snprintf(why, whylen, "%s and/or %s, comma-separated",
				 suite_names[0].name, suite_names[1].name);
			return -1;
		}
		break;
	}
	case TK_FLAG:
		*(bool *)f = true;
		break;
	}
	s->given |= TS_BIT(e->id);
	return 0;
}

void conf_resolve(struct tc_settings *out, const struct tc_settings *file,
		  const struct tc_settings *cli)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];
		const struct tc_settings *from = NULL;
		char why[64];

		if (e->kind == TK_ACTION)
			continue;
		if (cli->given & TS_BIT(e->id))
			from = cli;
		else if (file->given & TS_BIT(e->id))
			from = file;
		if (from) {
			memcpy(field(e, out), (const char *)from + e->off, e->size);
			out->given |= TS_BIT(e->id);
		} else if (e->def) {
			/* The unit test checks that every default is valid. */
			(void)conf_setting_set(e, e->def, out, why, sizeof(why));
		}
	}
}

/* Help lines start in this column. */
#define HELP_COL 25

void conf_print_options(FILE *out, const char *config_default)
{
	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];
		const char *def = e->id == TS_CONFIG ? config_default : e->def;
		char head[64];
		const char *h;

		snprintf(head, sizeof(head), "%c%c%c --%s%s%s", e->short_opt ? '-' : ' ',
			 e->short_opt ? e->short_opt : ' ', e->short_opt ? ',' : ' ', e->opt,
			 e->arg ? " " : "", e->arg ? e->arg : "");
		fprintf(out, "  %-*s  ", HELP_COL - 4, head);
		for (h = e->help; *h; h++) {
			if (h[0] == '%' && h[1] == 's') {
				fputs(def ? def : "", out);
				h++;
			} else if (*h == '\n') {
				fprintf(out, "\n%*s", HELP_COL, "");
			} else {
				putc(*h, out);
			}
		}
		putc('\n', out);
	}
}

/* ------------------------------------------------------------------------ */
/* Lines */

static bool is_sep(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Cuts the next token out of *s in place; NULL at the end of the line. */
static char *next_tok(char **s)
{
	char *t;

	while (is_sep(**s))
		(*s)++;
	if (!**s)
		return NULL;
	t = *s;
	while (**s && !is_sep(**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return t;
}

static int do_policy(struct parser *p, const char *rest)
{
	struct policy_rule r;
	char why[200];

	if (policy_parse_rule(rest, &r, why, sizeof(why)) < 0)
		return fail(p, "policy: %s", why);
	if (policy_add(&p->c->policy, &r) < 0)
		return fail(p, "out of memory");
	return 0;
}

/* A scalar directive takes exactly one argument and may appear once. */
static int do_scalar(struct parser *p, const struct tc_setting *e, char *rest)
{
	const char *name = e->directive;
	char *arg = next_tok(&rest), *extra;
	char q[QUOTE_MAX + 4], qa[QUOTE_MAX + 4], why[128];
	const char **str;

	if (!arg)
		return fail(p, "missing value for '%s'", name);
	extra = next_tok(&rest);
	if (extra)
		return fail(p, "unexpected '%s' after '%s %s'", quote(extra, q), name,
			    quote(arg, qa));
	if (p->first_line[e->id])
		return fail(p, "duplicate '%s' (first given on line %lu)", name,
			    p->first_line[e->id]);
	p->first_line[e->id] = p->line;
	/* Caught here rather than at bind() so the error names the line. */
	if ((e->flags & TF_SUN_PATH) && strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail_value(p, name, arg, "path too long");
	if (conf_setting_set(e, arg, &p->c->s, why, sizeof(why)) < 0)
		return fail_value(p, name, arg, why);
	if (e->kind != TK_STRING)
		return 0;
	/* The value points into the line: keep a copy. */
	str = (const char **)((char *)&p->c->s + e->off);
	if (*str && !(*str = strdup(*str))) {
		p->c->s.given &= ~TS_BIT(e->id);
		return fail(p, "out of memory");
	}
	return 0;
}

/* One line without its terminator, NUL-terminated, no NUL inside. */
static int parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#');
	char *rest = line, *name;
	const struct tc_setting *e;
	char q[QUOTE_MAX + 4];

	if (hash)
		*hash = '\0';
	name = next_tok(&rest);
	if (!name)
		return 0;
	e = conf_setting_by_directive(name);
	if (!e)
		return fail(p, "unknown directive '%s'", quote(name, q));
	if (e->id == TS_POLICY)
		return do_policy(p, rest);
	return do_scalar(p, e, rest);
}

enum read_status { READ_LINE, READ_EOF, READ_LONG, READ_NUL, READ_ERROR };

/* Reads one line into buf (CONF_LINE_MAX + 2 bytes), dropping "\n" or
 * "\r\n"; byte by byte because fgets() cannot tell a NUL from the end. */
static enum read_status read_line(FILE *f, char *buf)
{
	size_t len = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			return READ_NUL;
		/* One byte of slack for the '\r' of a full-length CRLF line. */
		if (len == CONF_LINE_MAX + 1)
			return READ_LONG;
		buf[len++] = (char)ch;
	}
	if (ch == EOF && ferror(f))
		return READ_ERROR;
	if (ch == EOF && len == 0)
		return READ_EOF;
	if (len && buf[len - 1] == '\r')
		len--;
	if (len > CONF_LINE_MAX)
		return READ_LONG;
	buf[len] = '\0';
	return READ_LINE;
}

static int parse_file(struct parser *p, FILE *f)
{
	char buf[CONF_LINE_MAX + 2];

	for (;;) {
		enum read_status st;

		p->line++;
		st = read_line(f, buf);
		switch (st) {
		case READ_LINE:
			if (parse_line(p, buf) < 0)
				return -1;
			break;
		case READ_EOF:
			return 0;
		case READ_LONG:
			return fail(p, "line longer than %d bytes", CONF_LINE_MAX);
		case READ_NUL:
			return fail(p, "NUL byte in line");
		case READ_ERROR:
			if (p->err && p->errlen)
				snprintf(p->err, p->errlen, "%s: %s", p->path, strerror(errno));
			return -1;
		}
	}
}

int conf_load(const char *path, bool missing_ok, struct tc_config *out, char *err, size_t errlen)
{
	struct parser p = { .path = path, .c = out, .err = err, .errlen = errlen };
	FILE *f;
	int r;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = parse_file(&p, f);
	fclose(f);
	/* Half a configuration is never applied: all or nothing. */
	if (r < 0)
		conf_free(out);
	return r;
}

void conf_free(struct tc_config *c)
{
	/* The file's strings are copies (do_scalar). */
	for (size_t i = 0; i < TS_COUNT; i++)
		if (conf_settings[i].kind == TK_STRING)
			free(*(char **)((char *)&c->s + conf_settings[i].off));
	policy_free(&c->policy);
	memset(c, 0, sizeof(*c));
}
