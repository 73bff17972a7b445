#include "conf.h"

#include <errno.h>
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
	unsigned long first_line[16];	/* per directive; 0: not seen yet */
};

/* A scalar directive takes exactly one argument and may appear once. */
struct directive {
	const char *name;
	int (*set)(struct parser *p, const char *name, const char *arg);
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

static int set_string(struct parser *p, char **field, const char *arg)
{
	*field = strdup(arg);
	return *field ? 0 : fail(p, "out of memory");
}

static int set_queue(struct parser *p, const char *name, const char *arg)
{
	uint64_t v;

	if (conf_parse_uint(arg, 0, 65535, &v) < 0)
		return fail_value(p, name, arg, "0..65535");
	p->c->queue = (uint16_t)v;
	p->c->queue_set = true;
	return 0;
}

static int set_keylog(struct parser *p, const char *name, const char *arg)
{
	(void)name;
	return set_string(p, &p->c->keylog_path, arg);
}

static int set_socket(struct parser *p, const char *name, const char *arg)
{
	/* Caught here rather than at bind() so the error names the line. */
	if (strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail_value(p, name, arg, "path too long");
	return set_string(p, &p->c->socket_path, arg);
}

static int set_socket_group(struct parser *p, const char *name, const char *arg)
{
	(void)name;
	return set_string(p, &p->c->socket_group, arg);
}

/* A number in [min, max] into *out, *set marking that the file gave it. */
static int set_bounded(struct parser *p, const char *name, const char *arg, uint64_t min,
		       uint64_t max, const char *range, uint64_t *out, bool *set)
{
	uint64_t v;

	if (conf_parse_uint(arg, min, max, &v) < 0)
		return fail_value(p, name, arg, range);
	*out = v;
	*set = true;
	return 0;
}

static int set_idle_timeout(struct parser *p, const char *name, const char *arg)
{
	return set_bounded(p, name, arg, 1, 2592000, "1..2592000 seconds",
			   &p->c->idle_timeout_s, &p->c->idle_timeout_set);
}

static int set_max_flows(struct parser *p, const char *name, const char *arg)
{
	uint64_t v;

	if (conf_parse_uint(arg, 16, 16777216, &v) < 0)
		return fail_value(p, name, arg, "16..16777216");
	p->c->max_flows = (size_t)v;
	p->c->max_flows_set = true;
	return 0;
}

static int set_rst(struct parser *p, const char *name, const char *arg)
{
	if (strcmp(arg, "authenticated") == 0)
		p->c->rst_authenticated = true;
	else if (strcmp(arg, "kernel") == 0)
		p->c->rst_authenticated = false;
	else
		return fail_value(p, name, arg, "authenticated or kernel");
	p->c->rst_set = true;
	return 0;
}

static int set_linger(struct parser *p, const char *name, const char *arg)
{
	return set_bounded(p, name, arg, 0, 3600, "0..3600 seconds", &p->c->linger_s,
			   &p->c->linger_set);
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

static int set_suites(struct parser *p, const char *name, const char *arg)
{
	if (conf_parse_suites(arg, p->c->suites, &p->c->nsuites) < 0)
		return fail_value(p, name, arg, "aes128 and/or chacha20, comma-separated");
	p->c->suites_set = true;
	return 0;
}

bool conf_state_file_valid(const char *s)
{
	return strcmp(s, "none") == 0 || s[0] == '/';
}

const char *conf_path_or_none(const char *s)
{
	return strcmp(s, "none") == 0 ? NULL : s;
}

static int set_state_file(struct parser *p, const char *name, const char *arg)
{
	if (!conf_state_file_valid(arg))
		return fail_value(p, name, arg, "an absolute path or none");
	return set_string(p, &p->c->state_file, arg);
}

static const struct directive directives[] = {
	{ "queue", set_queue },
	{ "keylog", set_keylog },
	{ "socket", set_socket },
	{ "socket-group", set_socket_group },
	{ "idle-timeout", set_idle_timeout },
	{ "max-flows", set_max_flows },
	{ "rst", set_rst },
	{ "linger", set_linger },
	{ "state-file", set_state_file },
	{ "suites", set_suites },
};

_Static_assert(sizeof(directives) / sizeof(directives[0]) <=
	       sizeof(((struct parser *)0)->first_line) / sizeof(unsigned long),
	       "first_line too small for the directive table");

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

static int do_scalar(struct parser *p, size_t i, char *rest)
{
	const char *name = directives[i].name;
	char *arg = next_tok(&rest), *extra;
	char q[QUOTE_MAX + 4], qa[QUOTE_MAX + 4];

	if (!arg)
		return fail(p, "missing value for '%s'", name);
	extra = next_tok(&rest);
	if (extra)
		return fail(p, "unexpected '%s' after '%s %s'", quote(extra, q), name,
			    quote(arg, qa));
	if (p->first_line[i])
		return fail(p, "duplicate '%s' (first given on line %lu)", name, p->first_line[i]);
	p->first_line[i] = p->line;
	return directives[i].set(p, name, arg);
}

/* One line without its terminator, NUL-terminated, no NUL inside. */
static int parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#');
	char *rest = line, *name;
	char q[QUOTE_MAX + 4];
	size_t i;

	if (hash)
		*hash = '\0';
	name = next_tok(&rest);
	if (!name)
		return 0;
	if (strcmp(name, "policy") == 0)
		return do_policy(p, rest);
	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (strcmp(name, directives[i].name) == 0)
			return do_scalar(p, i, rest);
	return fail(p, "unknown directive '%s'", quote(name, q));
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
	free(c->keylog_path);
	free(c->socket_path);
	free(c->state_file);
	free(c->socket_group);
	policy_free(&c->policy);
	memset(c, 0, sizeof(*c));
}
