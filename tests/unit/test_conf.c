/* SPDX-License-Identifier: BSD-2-Clause */
/* tcpcryptd.conf: every directive, every error naming its line, and a
 * parser that survives whatever bytes the file holds.  A config error must
 * leave nothing half applied: out is empty whenever conf_load fails. */
#include "unit.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "engine.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

/* Writes len bytes to a new file under /tmp; its name goes to path. */
static void write_tmp(char path[64], const char *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/tc_test_conf_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	while (len) {
		ssize_t w = write(fd, data, len);
		ck_assert_int_gt(w, 0);
		data += w;
		len -= (size_t)w;
	}
	ck_assert_int_eq(close(fd), 0);
}

static bool given(const struct tc_config *c, enum tc_setting_id id)
{
	return c->s.given & TS_BIT(id);
}

static bool conf_is_empty(const struct tc_config *c)
{
	static const struct tc_config zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* Loads len bytes of data as a config file; path receives the name the
 * file had (removed again), for comparing against error prefixes. */
static int load_bytes(const char *data, size_t len, struct tc_config *c, char *err,
		      size_t errlen, char path[64])
{
	int r;

	write_tmp(path, data, len);
	r = conf_load(path, false, c, err, errlen);
	ck_assert_int_eq(unlink(path), 0);
	if (r < 0)
		ck_assert_msg(conf_is_empty(c), "config not empty after error '%s'", err);
	return r;
}

static int load(const char *text, struct tc_config *c, char *err, size_t errlen, char path[64])
{
	return load_bytes(text, strlen(text), c, err, errlen, path);
}

static void load_ok(const char *text, struct tc_config *c)
{
	char err[512] = "", path[64];

	ck_assert_msg(load(text, c, err, sizeof(err), path) == 0, "rejected: %s", err);
}

/* Asserts that the file is rejected with "PATH:line: ..." mentioning want. */
static void load_err_bytes(const char *data, size_t len, unsigned line, const char *want)
{
	struct tc_config c;
	char err[512] = "", path[64], prefix[96];

	ck_assert_msg(load_bytes(data, len, &c, err, sizeof(err), path) == -1,
		      "accepted, expected '%s'", want);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "error '%s' lacks prefix '%s'",
		      err, prefix);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

static void load_err(const char *text, unsigned line, const char *want)
{
	load_err_bytes(text, strlen(text), line, want);
}

static void assert_rule(const struct policy_rule *r, enum policy_action action, int family,
			const char *addr, unsigned len, uint16_t lo, uint16_t hi)
{
	ck_assert_int_eq(r->action, action);
	ck_assert_int_eq(r->family, family);
	if (family) {
		uint8_t want[16] = { 0 };

		ck_assert_int_eq(inet_pton(family, addr, want), 1);
		ck_assert_mem_eq(r->addr, want, family == AF_INET ? 4 : 16);
		ck_assert_uint_eq(r->prefix_len, len);
	}
	ck_assert_uint_eq(r->port_lo, lo);
	ck_assert_uint_eq(r->port_hi, hi);
}

/* ------------------------------------------------------------------------ */
/* Valid files */

START_TEST(test_full_file)
{
	struct tc_config c;

	load_ok("# tcpcryptd.conf\n"
		"\n"
		"queue 7\n"
		"keylog /var/log/tcpcrypt-keys\n"
		"   \t\n"
		"socket /run/tc.sock   # trailing comment\n"
		"\tsocket-group tcpcrypt\n"
		"idle-timeout 600\n"
		"max-flows 100000\n"
		"rst authenticated\n"
		"policy private port 22\n"
		"  # indented comment\n"
		"policy clear addr 192.0.2.0/24\n"
		"policy\tprivate-or-clear\taddr 2001:db8::/32 port 8000-8100\n"
		"policy private\n",
		&c);
	ck_assert(given(&c, TS_QUEUE));
	ck_assert_uint_eq(c.s.queue, 7);
	ck_assert_str_eq(c.s.keylog, "/var/log/tcpcrypt-keys");
	ck_assert_str_eq(c.s.socket, "/run/tc.sock");
	ck_assert_str_eq(c.s.socket_group, "tcpcrypt");
	ck_assert(given(&c, TS_IDLE_TIMEOUT));
	ck_assert_uint_eq(c.s.idle_timeout, 600);
	ck_assert(given(&c, TS_MAX_FLOWS));
	ck_assert_uint_eq(c.s.max_flows, 100000);
	ck_assert(given(&c, TS_RST));
	ck_assert(c.s.rst_authenticated);
	ck_assert_uint_eq(c.policy.n, 4);
	assert_rule(&c.policy.rules[0], POLICY_PRIVATE, 0, NULL, 0, 22, 22);
	assert_rule(&c.policy.rules[1], POLICY_CLEAR, AF_INET, "192.0.2.0", 24, 0, 65535);
	assert_rule(&c.policy.rules[2], POLICY_PRIVATE_OR_CLEAR, AF_INET6, "2001:db8::", 32,
		    8000, 8100);
	assert_rule(&c.policy.rules[3], POLICY_PRIVATE, 0, NULL, 0, 0, 65535);
	conf_free(&c);
	ck_assert(conf_is_empty(&c));
	conf_free(&c);
	ck_assert(conf_is_empty(&c));
}
END_TEST

START_TEST(test_empty_files)
{
	static const char *const texts[] = {
		"", "\n", "\n\n\n", "# only a comment", "#\n#\n", "  \t  \n", "\r\n", "\r\n\r\n",
		"   # x\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct tc_config c;

		load_ok(texts[i], &c);
		ck_assert_msg(conf_is_empty(&c), "text %zu", i);
		conf_free(&c);
	}
}
END_TEST

/* out is zeroed first, whatever it held. */
START_TEST(test_out_zeroed)
{
	struct tc_config c;

	memset(&c, 0xff, sizeof(c));
	load_ok("\n", &c);
	ck_assert(conf_is_empty(&c));
}
END_TEST

START_TEST(test_crlf)
{
	struct tc_config c;

	load_ok("# comment\r\nqueue 3\r\n\r\nkeylog /k\r\nrst kernel\r\n"
		"policy clear port 1-2\r\npolicy private # x\r\n",
		&c);
	ck_assert_uint_eq(c.s.queue, 3);
	ck_assert_str_eq(c.s.keylog, "/k");
	ck_assert(given(&c, TS_RST));
	ck_assert(!c.s.rst_authenticated);
	ck_assert_uint_eq(c.policy.n, 2);
	assert_rule(&c.policy.rules[0], POLICY_CLEAR, 0, NULL, 0, 1, 2);
	assert_rule(&c.policy.rules[1], POLICY_PRIVATE, 0, NULL, 0, 0, 65535);
	conf_free(&c);

	/* Only one CR before the LF is a line ending; another is data. */
	load_err("queue 3\r\r\n", 1, "bad value '3?' for 'queue'");
}
END_TEST

START_TEST(test_no_trailing_newline)
{
	struct tc_config c;

	load_ok("queue 9\npolicy clear", &c);
	ck_assert_uint_eq(c.s.queue, 9);
	ck_assert_uint_eq(c.policy.n, 1);
	conf_free(&c);

	load_ok("keylog /x\r", &c);
	ck_assert_str_eq(c.s.keylog, "/x");
	conf_free(&c);
}
END_TEST

/* '#' ends the line wherever it appears. */
START_TEST(test_comments)
{
	struct tc_config c;

	load_ok("queue 5#five\nkeylog /a#b\npolicy clear port 8#0\n", &c);
	ck_assert_uint_eq(c.s.queue, 5);
	ck_assert_str_eq(c.s.keylog, "/a");
	assert_rule(&c.policy.rules[0], POLICY_CLEAR, 0, NULL, 0, 8, 8);
	conf_free(&c);

	load_err("queue #5\n", 1, "missing value for 'queue'");
	load_err("policy # private\n", 1, "missing action");
}
END_TEST

START_TEST(test_value_edges)
{
	struct tc_config c;

	load_ok("queue 0\nidle-timeout 1\nmax-flows 16\nrst kernel\nsocket none\n", &c);
	ck_assert(given(&c, TS_QUEUE));
	ck_assert_uint_eq(c.s.queue, 0);
	ck_assert_uint_eq(c.s.idle_timeout, 1);
	ck_assert_uint_eq(c.s.max_flows, 16);
	ck_assert(given(&c, TS_RST));
	ck_assert(!c.s.rst_authenticated);
	ck_assert(given(&c, TS_SOCKET));
	ck_assert_ptr_null(c.s.socket);	/* "none" */
	conf_free(&c);

	load_ok("queue 65535\nidle-timeout 2592000\nmax-flows 16777216\n", &c);
	ck_assert_uint_eq(c.s.queue, 65535);
	ck_assert_uint_eq(c.s.idle_timeout, 2592000);
	ck_assert_uint_eq(c.s.max_flows, 16777216);
	ck_assert(!given(&c, TS_RST));
	ck_assert(!given(&c, TS_LINGER));
	ck_assert_ptr_null(c.s.state_file);
	conf_free(&c);

	load_ok("linger 0\nstate-file none\n", &c);
	ck_assert(given(&c, TS_LINGER));
	ck_assert_uint_eq(c.s.linger, 0);
	ck_assert(given(&c, TS_STATE_FILE));
	ck_assert_ptr_null(c.s.state_file);	/* "none" */
	conf_free(&c);

	load_ok("linger 3600\nstate-file /run/tcpcrypt/flows\n", &c);
	ck_assert_uint_eq(c.s.linger, 3600);
	ck_assert_str_eq(c.s.state_file, "/run/tcpcrypt/flows");
	conf_free(&c);
}
END_TEST

/* Policy lines keep their order, and there can be any number of them. */
START_TEST(test_many_policies)
{
	char *text = malloc(300 * 32);
	struct tc_config c;
	size_t len = 0, i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 300; i++)
		len += (size_t)sprintf(text + len, "policy clear port %zu\n", i);
	load_ok(text, &c);
	ck_assert_uint_eq(c.policy.n, 300);
	for (i = 0; i < 300; i++)
		ck_assert_uint_eq(c.policy.rules[i].port_lo, i);
	conf_free(&c);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Missing and unreadable files */

START_TEST(test_missing_file)
{
	const char *path = "/tmp/tc_test_conf_does_not_exist/tcpcryptd.conf";
	struct tc_config c;
	char err[256] = "";

	memset(&c, 0xff, sizeof(c));
	ck_assert_int_eq(conf_load(path, true, &c, err, sizeof(err)), 0);
	ck_assert(conf_is_empty(&c));
	ck_assert_str_eq(err, "");

	memset(&c, 0xff, sizeof(c));
	ck_assert_int_eq(conf_load(path, false, &c, err, sizeof(err)), -1);
	ck_assert(conf_is_empty(&c));
	ck_assert_str_eq(err, "/tmp/tc_test_conf_does_not_exist/tcpcryptd.conf: "
			      "No such file or directory");
}
END_TEST

/* missing_ok forgives a missing file, not one that cannot be read. */
START_TEST(test_unreadable_file)
{
	struct tc_config c;
	char err[256] = "";

	ck_assert_int_eq(conf_load("/tmp", true, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: Is a directory");
	ck_assert(conf_is_empty(&c));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Errors */

/* Valid lines first, so an error must also undo what they set. */
#define PRE "keylog /k\npolicy clear port 1\n# comment\n\nsocket-group g\n"
#define PRE_LINES 5

START_TEST(test_errors_name_line)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "queu 1", "unknown directive 'queu'" },
		{ "suites aes256", "bad value 'aes256' for 'suites'" },
		{ "suites aes128,aes128", "bad value 'aes128,aes128' for 'suites'" },
		{ "suites aes128,", "bad value 'aes128,' for 'suites'" },
		{ "suites ,chacha20", "bad value ',chacha20' for 'suites'" },
		{ "suites 0x7403", "bad value '0x7403' for 'suites'" },
		{ "QUEUE 1", "unknown directive 'QUEUE'" },
		{ "queue", "missing value for 'queue'" },
		{ "queue 1 2", "unexpected '2' after 'queue 1'" },
		{ "queue 65536", "bad value '65536' for 'queue'" },
		{ "queue -1", "bad value '-1' for 'queue'" },
		{ "queue +1", "bad value '+1' for 'queue'" },
		{ "queue x", "bad value 'x' for 'queue'" },
		{ "queue 99999999999999999999999999", "bad value '9999" },
		{ "keylog", "missing value for 'keylog'" },
		{ "keylog /a /b", "unexpected '/b' after 'keylog /a'" },
		{ "socket", "missing value for 'socket'" },
		{ "socket /a b", "unexpected 'b'" },
		{ "socket-group", "missing value for 'socket-group'" },
		{ "socket-group a b", "unexpected 'b'" },
		{ "idle-timeout", "missing value for 'idle-timeout'" },
		{ "idle-timeout 0", "bad value '0' for 'idle-timeout'" },
		{ "idle-timeout 2592001", "bad value '2592001' for 'idle-timeout'" },
		{ "idle-timeout 10s", "bad value '10s'" },
		{ "max-flows", "missing value for 'max-flows'" },
		{ "max-flows 15", "bad value '15' for 'max-flows'" },
		{ "max-flows 16777217", "bad value '16777217' for 'max-flows'" },
		{ "max-flows 1e6", "bad value '1e6'" },
		{ "linger", "missing value for 'linger'" },
		{ "linger 3601", "bad value '3601' for 'linger'" },
		{ "linger -1", "bad value '-1' for 'linger'" },
		{ "state-file", "missing value for 'state-file'" },
		{ "state-file run/flows", "bad value 'run/flows' for 'state-file'" },
		{ "state-file /a b", "unexpected 'b'" },
		{ "rst", "missing value for 'rst'" },
		{ "rst maybe", "bad value 'maybe' for 'rst'" },
		{ "rst Kernel", "bad value 'Kernel' for 'rst'" },
		{ "rst kernel now", "unexpected 'now'" },
		{ "policy", "policy: missing action" },
		{ "policy privat", "unknown action 'privat'" },
		{ "policy private port 70000", "'70000'" },
		{ "policy private port 9-8", "'9-8'" },
		{ "policy private addr", "missing value after 'addr'" },
		{ "policy clear addr 192.0.2.1/24", "host bits set in '192.0.2.1/24'" },
		{ "policy clear addr 10.0.0.0/8 junk", "unexpected 'junk'" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];

		/* Also followed by valid lines: parsing stops at the error. */
		snprintf(text, sizeof(text), PRE "%s\nqueue 1\n", cases[i].line);
		load_err(text, PRE_LINES + 1, cases[i].want);
		/* And as the last line, without its newline. */
		snprintf(text, sizeof(text), PRE "%s", cases[i].line);
		load_err(text, PRE_LINES + 1, cases[i].want);
	}
}
END_TEST

START_TEST(test_socket_path_too_long)
{
	char text[400];

	memset(text, 'a', sizeof(text));
	memcpy(text, "socket /", 8);
	/* The path starts at offset 7: 107 bytes plus NUL fit in sun_path. */
	text[7 + 107] = '\0';
	{
		struct tc_config c;

		load_ok(text, &c);
		ck_assert_uint_eq(strlen(c.s.socket), 107);
		conf_free(&c);
	}
	text[7 + 107] = 'a';
	text[7 + 108] = '\0';
	load_err(text, 1, "for 'socket' (path too long)");
}
END_TEST

START_TEST(test_duplicates)
{
	static const char *const lines[] = {
		"queue 1", "keylog /k", "socket /s", "socket-group g",
		"idle-timeout 5", "max-flows 99", "rst kernel", "linger 5",
		"state-file /s",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char text[256], want[64];
		const char *sp = strchr(lines[i], ' ');

		snprintf(text, sizeof(text), "# x\n%s\npolicy clear\n\n%s\n", lines[i], lines[i]);
		snprintf(want, sizeof(want), "duplicate '%.*s' (first given on line 2)",
			 (int)(sp - lines[i]), lines[i]);
		load_err(text, 5, want);
	}
	/* A different value is no excuse. */
	load_err("rst kernel\nrst authenticated\n", 2, "duplicate 'rst'");
}
END_TEST

/* Lines of up to 4096 bytes, not counting "\n" or "\r\n". */
START_TEST(test_long_lines)
{
	const size_t max = 4096;
	char *text = malloc(3 * max);
	struct tc_config c;
	size_t n;

	ck_assert_ptr_nonnull(text);
	/* "keylog /aaa...": exactly 4096 bytes. */
	memset(text, 'a', 3 * max);
	memcpy(text, "keylog /", 8);
	memcpy(text + max, "\n", 2);
	load_ok(text, &c);
	ck_assert_uint_eq(strlen(c.s.keylog), max - 7);
	conf_free(&c);

	memcpy(text + max, "\r\n", 3);
	load_ok(text, &c);
	ck_assert_uint_eq(strlen(c.s.keylog), max - 7);
	conf_free(&c);

	/* No line ending at all. */
	text[max] = '\0';
	load_ok(text, &c);
	conf_free(&c);

	text[max] = 'a';
	memcpy(text + max + 1, "\n", 2);
	load_err(text, 1, "line longer than 4096 bytes");
	memcpy(text + max + 1, "\r\n", 3);
	load_err(text, 1, "line longer than 4096 bytes");
	text[max + 1] = '\0';
	load_err(text, 1, "line longer than 4096 bytes");

	/* A long comment is a long line too, and line numbers count on. */
	n = (size_t)sprintf(text, "queue 1\n\n#");
	memset(text + n, '#', 2 * max);
	text[n + 2 * max] = '\0';
	load_err(text, 3, "line longer than 4096 bytes");
	free(text);
}
END_TEST

START_TEST(test_nul_bytes)
{
	static const char a[] = "queue 1\nkeylog /k\0/x\n";
	static const char b[] = "# a comment\0 with a NUL\n";
	static const char d[] = "\0";

	load_err_bytes(a, sizeof(a) - 1, 2, "NUL byte");
	load_err_bytes(b, sizeof(b) - 1, 1, "NUL byte");
	load_err_bytes(d, 1, 1, "NUL byte");
}
END_TEST

/* Binary junk is reported readably: no control bytes in the message. */
START_TEST(test_garbage)
{
	static const char junk[] = "queue 1\n\x7f\x45\x4c\x46\x02\x01\x01\xff\xfe\x1b[31m\n";
	struct tc_config c;
	char err[512], path[64];
	size_t i;

	ck_assert_int_eq(load_bytes(junk, sizeof(junk) - 1, &c, err, sizeof(err), path), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: unknown directive '?ELF???"));
	for (i = 0; err[i]; i++)
		ck_assert_msg(err[i] >= 0x20 && err[i] < 0x7f, "byte %zu of '%s'", i, err);

	/* A very long unknown word is cut in the message. */
	{
		char text[1000];

		memset(text, 'z', sizeof(text));
		text[sizeof(text) - 1] = '\0';
		ck_assert_int_eq(load(text, &c, err, sizeof(err), path), -1);
		ck_assert_uint_lt(strlen(err), strlen(path) + 100);
		ck_assert_ptr_nonnull(strstr(err, "...'"));
	}
}
END_TEST

/* A short or absent error buffer is not overrun. */
START_TEST(test_small_err_buffer)
{
	struct tc_config c;
	char err[16], path[64];

	memset(err, 'z', sizeof(err));
	ck_assert_int_eq(load("bogus\n", &c, err, 10, path), -1);
	ck_assert_uint_eq(strlen(err), 9);
	ck_assert_int_eq(err[10], 'z');
	ck_assert_int_eq(load("bogus\n", &c, NULL, 0, path), -1);
	ck_assert_int_eq(conf_load("/tmp/tc_test_conf_does_not_exist", false, &c, NULL, 0), -1);
}
END_TEST

/* xorshift64: the same sequence on every platform and every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *const fuzz_pieces[] = {
	"queue", "keylog", "socket", "socket-group", "idle-timeout", "max-flows",
	"rst", "linger", "state-file", "policy", "private", "clear", "private-or-clear", "addr", "port",
	"authenticated", "kernel", " ", " ", "\t", "\n", "\n", "\r\n", "\r", "#",
	"0", "1", "16", "65535", "65536", "2592000", "10.0.0.0/8", "::/0", "-",
	"/", "none",
};

/* Grammar words and single random bytes, up to target bytes. */
static size_t fuzz_noise(uint64_t *s, char *data, size_t target)
{
	const size_t npieces = sizeof(fuzz_pieces) / sizeof(fuzz_pieces[0]);
	size_t len = 0;

	while (len < target) {
		uint64_t v = rnd(s);
		const char *pc = fuzz_pieces[(v >> 8) % npieces];
		size_t pl = strlen(pc);

		if (v % 3 == 0) {
			data[len++] = (char)(v >> 8);
		} else if (len + pl <= target) {
			memcpy(data + len, pc, pl);
			len += pl;
		} else {
			break;
		}
	}
	return len;
}

/* A valid file with a few bytes overwritten, inserted or deleted: noise
 * alone rarely gets past line 1. */
static size_t fuzz_mutate(uint64_t *s, char *data, size_t cap)
{
	static const char base[] =
		"# base\nqueue 7\nkeylog /k\r\nsocket /run/s\nsocket-group g\n"
		"idle-timeout 600\nmax-flows 1000\nrst kernel\n"
		"policy private port 22\npolicy clear addr 192.0.2.0/24 port 1-9\n"
		"policy private-or-clear addr 2001:db8::/32\n";
	size_t len = sizeof(base) - 1;
	int k, edits = 1 + (int)(rnd(s) % 4);

	memcpy(data, base, len);
	for (k = 0; k < edits; k++) {
		uint64_t v = rnd(s);
		size_t at = (size_t)(v >> 16) % (len + 1);

		switch (v % 3) {
		case 0:		/* overwrite */
			if (at < len)
				data[at] = (char)(v >> 8);
			break;
		case 1:		/* insert */
			if (len < cap) {
				memmove(data + at + 1, data + at, len - at);
				data[at] = (char)(v >> 8);
				len++;
			}
			break;
		default:	/* delete up to 8 bytes */
			if (at < len) {
				size_t n = (size_t)((v >> 8) % 8) + 1;

				if (n > len - at)
					n = len - at;
				memmove(data + at, data + at + n, len - at - n);
				len -= n;
			}
			break;
		}
	}
	return len;
}

/* Random files from a fixed seed: whatever the outcome, no crash, no leak
 * (run under ASan), and an error always names the file and leaves the
 * config empty. */
START_TEST(test_fuzz)
{
	static char data[12000];
	uint64_t s = 0x9e3779b97f4a7c15u;
	int iter, accepted = 0, deep = 0;

	for (iter = 0; iter < 4000; iter++) {
		struct tc_config c;
		char err[512] = "", path[64];
		size_t len;
		int r;

		if (iter % 2)
			len = fuzz_mutate(&s, data, sizeof(data));
		else
			len = fuzz_noise(&s, data,
					 rnd(&s) % (iter % 20 == 0 ? sizeof(data) : 400));
		r = load_bytes(data, len, &c, err, sizeof(err), path);
		if (r == 0) {
			ck_assert(c.policy.n == 0 || c.policy.rules != NULL);
			accepted++;
			conf_free(&c);
		} else {
			size_t pl = strlen(path);

			ck_assert_int_eq(r, -1);
			ck_assert_msg(strncmp(err, path, pl) == 0 && err[pl] == ':',
				      "iteration %d: '%s'", iter, err);
			if (strtoul(err + pl + 1, NULL, 10) > 3)
				deep++;
		}
	}
	/* The generator must reach both outcomes and the later lines. */
	ck_assert_int_gt(accepted, 40);
	ck_assert_int_gt(deep, 500);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* The value parsers the command line shares with the file. */
/* The suite list: names, in order of preference, each at most once. */
START_TEST(test_suites)
{
	struct tc_config c;
	uint16_t v[CONF_MAX_SUITES];
	unsigned n = 0;

	load_ok("suites chacha20\n", &c);
	ck_assert(given(&c, TS_SUITES));
	ck_assert_uint_eq(c.s.suites.n, 1);
	ck_assert_uint_eq(c.s.suites.list[0], 0x7402);
	conf_free(&c);
	load_ok("suites chacha20,aes128\n", &c);
	ck_assert_uint_eq(c.s.suites.n, 2);
	ck_assert_uint_eq(c.s.suites.list[0], 0x7402);
	ck_assert_uint_eq(c.s.suites.list[1], 0x7403);
	conf_free(&c);
	load_ok("queue 1\n", &c);
	ck_assert(!given(&c, TS_SUITES));
	conf_free(&c);
	ck_assert_int_eq(conf_parse_suites("aes128,chacha20", v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(v[0], 0x7403);
	ck_assert_int_eq(conf_parse_suites("", v, &n), -1);
	ck_assert_int_eq(conf_parse_suites("aes128,chacha20,aes128", v, &n), -1);
	ck_assert_int_eq(conf_parse_suites("AES128", v, &n), -1);
	ck_assert_str_eq(conf_suite_name(0x7403), "aes128");
	ck_assert_str_eq(conf_suite_name(0x7402), "chacha20");
	ck_assert_str_eq(conf_suite_name(0x7401), "-");
}
END_TEST

START_TEST(test_shared_value_parsers)
{
	static const char *const bad[] = { "", "-1", "+5", " 5", "5 ", "0x10", "1e3", "65536",
					   "99999999999999999999999" };
	uint64_t v = 7;

	ck_assert_int_eq(conf_parse_uint("0", 0, 65535, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(conf_parse_uint("65535", 0, 65535, &v), 0);
	ck_assert_uint_eq(v, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		ck_assert_msg(conf_parse_uint(bad[i], 0, 65535, &v) < 0, "accepted '%s'", bad[i]);
		ck_assert_uint_eq(v, 7);
	}
	ck_assert_int_lt(conf_parse_uint("15", 16, 100, &v), 0);

	{
		const struct tc_setting *e = &conf_settings[TS_STATE_FILE];
		struct tc_settings st = { 0 };
		char why[128];

		ck_assert_int_eq(conf_setting_set(e, "/run/tcpcrypt/flows", &st, why, sizeof(why)), 0);
		ck_assert_str_eq(st.state_file, "/run/tcpcrypt/flows");
		ck_assert_int_eq(conf_setting_set(e, "none", &st, why, sizeof(why)), 0);
		ck_assert_ptr_null(st.state_file);
		ck_assert_int_eq(conf_setting_set(e, "run/flows", &st, why, sizeof(why)), -1);
		ck_assert_str_eq(why, "an absolute path or none");
		ck_assert_int_eq(conf_setting_set(e, "", &st, why, sizeof(why)), -1);
		ck_assert_int_eq(conf_setting_set(e, "None", &st, why, sizeof(why)), -1);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The settings table */

/* The value a kind should occupy in struct tc_settings. */
static size_t kind_size(enum tc_kind k)
{
	switch (k) {
	case TK_ACTION:
		return 0;
	case TK_UINT:
		return sizeof(uint64_t);
	case TK_STRING:
		return sizeof(const char *);
	case TK_WORD:
	case TK_FLAG:
		return sizeof(bool);
	case TK_SUITES:
		return sizeof(struct tc_suites);
	}
	return 0;
}

/* Every entry complete and at its index; names, options and letters
 * unique; every one in --help, the help lines aligned. */
START_TEST(test_table_shape)
{
	char *text = NULL;
	size_t textlen = 0;
	FILE *f;

	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];

		ck_assert_uint_eq(e->id, i);
		ck_assert_ptr_nonnull(e->opt);
		ck_assert_msg(e->help && *e->help, "--%s has no help line", e->opt);
		ck_assert_uint_eq(e->size, kind_size(e->kind));
		ck_assert_uint_le(e->off + e->size, sizeof(struct tc_settings));
		/* "%s" in the help shows a default, so there must be one. */
		ck_assert_msg(!strstr(e->help, "%s") || e->def || e->id == TS_CONFIG,
			      "--%s: help shows a default it does not have", e->opt);
		/* An option without an argument says what it sets. */
		if (!e->arg && e->kind != TK_ACTION && e->kind != TK_FLAG)
			ck_assert_msg(e->implies != NULL, "--%s", e->opt);
		/* Command-line-only flags are not directives. */
		if (e->kind == TK_FLAG)
			ck_assert_ptr_null(e->directive);
		if (e->directive)
			ck_assert_ptr_eq(conf_setting_by_directive(e->directive), e);
		for (size_t j = 0; j < i; j++) {
			const struct tc_setting *o = &conf_settings[j];

			ck_assert_str_ne(e->opt, o->opt);
			ck_assert(!e->short_opt || e->short_opt != o->short_opt);
			ck_assert(!e->directive || !o->directive ||
				  strcmp(e->directive, o->directive) != 0);
		}
	}
	ck_assert_ptr_null(conf_setting_by_directive("no-x25519-memo"));

	f = open_memstream(&text, &textlen);
	ck_assert_ptr_nonnull(f);
	conf_print_options(f, "/etc/tcpcryptd.conf");
	ck_assert_int_eq(fclose(f), 0);
	for (size_t i = 0; i < TS_COUNT; i++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s%s%s", conf_settings[i].opt,
			 conf_settings[i].arg ? " " : "",
			 conf_settings[i].arg ? conf_settings[i].arg : "");
		ck_assert_msg(strstr(text, want), "--help lacks '%s'", want);
	}
	ck_assert_ptr_nonnull(strstr(text, "(default /etc/tcpcryptd.conf;\n"));
	ck_assert_ptr_nonnull(strstr(text, "(default 666)\n"));
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		/* An option, or its help continued in column 25. */
		ck_assert_msg(strncmp(line, "  -", 3) == 0 || strncmp(line, "      --", 8) == 0 ||
			      (strspn(line, " ") == 25 && line[25] != '\n'),
			      "help line '%.*s'", (int)(nl - line), line);
		ck_assert_ptr_null(memchr(line, '%', (size_t)(nl - line)));
	}
	free(text);
}
END_TEST

/* The bounds of every number, from the file and from the command line,
 * and the messages quote them. */
START_TEST(test_table_bounds)
{
	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];
		char text[128], want[160], range[64], why[128];
		struct tc_settings s = { 0 };
		struct tc_config c;

		if (e->kind != TK_UINT)
			continue;
		snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64 "%s%s", e->lo, e->hi,
			 e->unit ? " " : "", e->unit ? e->unit : "");
		snprintf(text, sizeof(text), "%s %" PRIu64 "\n", e->directive, e->lo);
		load_ok(text, &c);
		ck_assert(given(&c, e->id));
		ck_assert_uint_eq(*(const uint64_t *)((const char *)&c.s + e->off), e->lo);
		conf_free(&c);
		snprintf(text, sizeof(text), "%s %" PRIu64 "\n", e->directive, e->hi);
		load_ok(text, &c);
		ck_assert_uint_eq(*(const uint64_t *)((const char *)&c.s + e->off), e->hi);
		conf_free(&c);
		snprintf(text, sizeof(text), "%s %" PRIu64 "\n", e->directive, e->hi + 1);
		snprintf(want, sizeof(want), "bad value '%" PRIu64 "' for '%s' (%s)", e->hi + 1,
			 e->directive, range);
		load_err(text, 1, want);
		if (e->lo > 0) {
			snprintf(text, sizeof(text), "%s %" PRIu64 "\n", e->directive, e->lo - 1);
			load_err(text, 1, "bad value");
		}

		/* The command line's way in. */
		snprintf(text, sizeof(text), "%" PRIu64, e->hi);
		ck_assert_int_eq(conf_setting_set(e, text, &s, why, sizeof(why)), 0);
		ck_assert(s.given & TS_BIT(e->id));
		snprintf(text, sizeof(text), "%" PRIu64, e->hi + 1);
		ck_assert_int_eq(conf_setting_set(e, text, &s, why, sizeof(why)), -1);
		ck_assert_str_eq(why, range);
	}
	ck_assert_uint_eq(conf_settings[TS_IDLE_TIMEOUT].hi, 2592000);
	ck_assert_uint_eq(conf_settings[TS_MAX_FLOWS].hi, 16777216);
}
END_TEST

/* Every default is a valid value, and the daemon's defaults are the
 * engine's. */
START_TEST(test_table_defaults)
{
	static const struct tc_settings none;
	struct engine_config ec;
	struct tc_settings r;

	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];
		struct tc_settings s = { 0 };
		char why[128];

		if (e->def)
			ck_assert_msg(conf_setting_set(e, e->def, &s, why, sizeof(why)) == 0,
				      "--%s: default '%s': %s", e->opt, e->def, why);
	}
	conf_resolve(&r, &none, &none);
	engine_config_defaults(&ec);
	ck_assert_uint_eq(r.idle_timeout * 1000000u, ec.idle_us);
	ck_assert_uint_eq(r.max_flows, ec.max_flows);
	ck_assert_uint_eq(r.linger * 1000000u, ec.linger_us);
	ck_assert(r.rst_authenticated == ec.rst_authenticated);
	ck_assert(!r.no_x25519_memo == ec.x25519_memo);
	ck_assert_uint_eq(r.queue, 666);
	/* The control socket's, which tcnetstat and libtcpcrypt look for. */
	ck_assert_str_eq(r.socket, CTL_DEFAULT_PATH);
	ck_assert_str_eq(r.state_file, "/run/tcpcrypt/flows");
	ck_assert_ptr_null(r.keylog);
	ck_assert_ptr_null(r.socket_group);
	/* No default suites: the engine picks by the CPU. */
	ck_assert(!(r.given & TS_BIT(TS_SUITES)));
	ck_assert(r.given & TS_BIT(TS_QUEUE));
}
END_TEST

/* Two different valid values for e, as the file would write them. */
static void two_values(const struct tc_setting *e, const char *v[2])
{
	static char lo[24], hi[24];

	switch (e->kind) {
	case TK_UINT:
		snprintf(lo, sizeof(lo), "%" PRIu64, e->lo);
		snprintf(hi, sizeof(hi), "%" PRIu64, e->hi);
		v[0] = lo;
		v[1] = hi;
		break;
	case TK_STRING:
		v[0] = "/a";
		v[1] = "/b";
		break;
	case TK_WORD:
		v[0] = e->words[0];
		v[1] = e->words[1];
		break;
	case TK_SUITES:
		v[0] = "aes128";
		v[1] = "chacha20";
		break;
	default:
		ck_abort_msg("no values for --%s", e->opt);
	}
}

/* Command line over file over default, setting by setting. */
START_TEST(test_precedence)
{
	for (size_t i = 0; i < TS_COUNT; i++) {
		const struct tc_setting *e = &conf_settings[i];
		static const struct tc_settings none;
		struct tc_settings cli = { 0 }, fromcli, r, d;
		struct tc_config c;
		const char *v[2];
		char text[64], why[128];

		if (!e->directive || e->kind == TK_ACTION)
			continue;
		two_values(e, v);
		conf_resolve(&d, &none, &none);
		snprintf(text, sizeof(text), "%s %s\n", e->directive, v[0]);
		load_ok(text, &c);
		ck_assert_int_eq(conf_setting_set(e, v[1], &cli, why, sizeof(why)), 0);
		fromcli = cli;

		/* The file over the default: the file's value, the rest default. */
		conf_resolve(&r, &c.s, &none);
		ck_assert(r.given & TS_BIT(e->id));
		ck_assert_mem_eq((const char *)&r + e->off, (const char *)&c.s + e->off, e->size);
		for (size_t j = 0; j < TS_COUNT; j++)
			if (j != i && conf_settings[j].size)
				ck_assert_mem_eq((const char *)&r + conf_settings[j].off,
						 (const char *)&d + conf_settings[j].off,
						 conf_settings[j].size);
		/* The command line over the file. */
		conf_resolve(&r, &c.s, &cli);
		ck_assert_mem_eq((const char *)&r + e->off, (const char *)&fromcli + e->off,
				 e->size);
		ck_assert_mem_ne((const char *)&r + e->off, (const char *)&c.s + e->off, e->size);
		conf_free(&c);
	}
}
END_TEST

/* A few by name: what tcpcryptd(8) promises. */
START_TEST(test_precedence_named)
{
	struct tc_settings cli = { 0 }, r;
	struct tc_config c;
	char why[128];

	load_ok("queue 7\nlinger 5\nsocket none\nsuites chacha20\nrst kernel\n", &c);
	ck_assert_int_eq(conf_setting_set(&conf_settings[TS_QUEUE], "9", &cli, why, sizeof(why)),
			 0);
	/* --rst-authenticated takes no argument: the table says what it means. */
	ck_assert_int_eq(conf_setting_set(&conf_settings[TS_RST], conf_settings[TS_RST].implies,
					  &cli, why, sizeof(why)), 0);
	ck_assert_int_eq(conf_setting_set(&conf_settings[TS_NO_X25519_MEMO], NULL, &cli, why,
					  sizeof(why)), 0);
	ck_assert_int_eq(conf_setting_set(&conf_settings[TS_SOCKET_GROUP], "", &cli, why,
					  sizeof(why)), -2);
	ck_assert_str_eq(why, "empty name");
	ck_assert_int_eq(conf_setting_set(&conf_settings[TS_SOCKET], "", &cli, why, sizeof(why)),
			 -2);
	ck_assert_str_eq(why, "empty path (\"none\" disables it)");
	conf_resolve(&r, &c.s, &cli);
	ck_assert_uint_eq(r.queue, 9);
	ck_assert(r.rst_authenticated);
	ck_assert(r.no_x25519_memo);
	ck_assert_uint_eq(r.linger, 5);
	ck_assert_ptr_null(r.socket);
	ck_assert_uint_eq(r.suites.n, 1);
	ck_assert_uint_eq(r.suites.list[0], 0x7402);
	ck_assert_uint_eq(r.max_flows, 65536);
	ck_assert_uint_eq(r.idle_timeout, 7200);
	ck_assert_str_eq(r.state_file, "/run/tcpcrypt/flows");
	conf_free(&c);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("valid");

	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_empty_files);
	tcase_add_test(tc, test_out_zeroed);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_no_trailing_newline);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_value_edges);
	tcase_add_test(tc, test_many_policies);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_unreadable_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_errors_name_line);
	tcase_add_test(tc, test_socket_path_too_long);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_small_err_buffer);
	tcase_add_test(tc, test_fuzz);
	tcase_add_test(tc, test_shared_value_parsers);
	tcase_add_test(tc, test_suites);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_test(tc, test_table_shape);
	tcase_add_test(tc, test_table_bounds);
	tcase_add_test(tc, test_table_defaults);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_precedence_named);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(conf_suite)
