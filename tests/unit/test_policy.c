/* SPDX-License-Identifier: BSD-2-Clause */
/* The encryption policy: the rule grammar, its error messages, and which
 * rule a connection falls under.  A wrong answer here either refuses a
 * connection the user wanted or sends in clear one that had to be private. */
#include "unit.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "policy.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

static struct policy_rule parse_ok(const char *text)
{
	struct policy_rule r;
	char err[256] = "";

	memset(&r, 0xa5, sizeof(r));
	ck_assert_msg(policy_parse_rule(text, &r, err, sizeof(err)) == 0,
		      "'%s' rejected: %s", text, err);
	return r;
}

/* Asserts that text is rejected with a message containing want, and that
 * the output rule was left alone. */
static void parse_err(const char *text, const char *want)
{
	struct policy_rule r, before;
	char err[256] = "";

	memset(&r, 0x5a, sizeof(r));
	memset(&before, 0x5a, sizeof(before));
	ck_assert_msg(policy_parse_rule(text, &r, err, sizeof(err)) == -1,
		      "'%s' accepted", text);
	ck_assert_msg(strstr(err, want) != NULL, "'%s': error '%s' lacks '%s'", text, err, want);
	ck_assert_msg(memcmp(&r, &before, sizeof(r)) == 0, "'%s': rule changed on error", text);
}

static void assert_addr(const struct policy_rule *r, int family, const char *addr, unsigned len)
{
	uint8_t want[16] = { 0 };

	ck_assert_int_eq(r->family, family);
	ck_assert_int_eq(inet_pton(family, addr, want), 1);
	ck_assert_mem_eq(r->addr, want, family == AF_INET ? 4 : 16);
	ck_assert_uint_eq(r->prefix_len, len);
}

static void add(struct policy *p, const char *text)
{
	struct policy_rule r = parse_ok(text);

	ck_assert_int_eq(policy_add(p, &r), 0);
}

/* The action for a peer written as text: IPv6 when it has a colon. */
static enum policy_action decide(const struct policy *p, const char *peer, uint16_t port)
{
	int family = strchr(peer, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, peer, a), 1);
	return policy_decide(p, family, a, port);
}

#define PRIV POLICY_PRIVATE
#define CLEAR POLICY_CLEAR
#define OPP POLICY_PRIVATE_OR_CLEAR

/* ------------------------------------------------------------------------ */
/* Grammar */

START_TEST(test_action_str)
{
	ck_assert_str_eq(policy_action_str(POLICY_PRIVATE_OR_CLEAR), "private-or-clear");
	ck_assert_str_eq(policy_action_str(POLICY_PRIVATE), "private");
	ck_assert_str_eq(policy_action_str(POLICY_CLEAR), "clear");
	ck_assert_str_eq(policy_action_str((enum policy_action)42), "unknown");
}
END_TEST

/* An action alone matches everything; the names round-trip. */
START_TEST(test_parse_action_only)
{
	static const enum policy_action all[] = { OPP, PRIV, CLEAR };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct policy_rule r = parse_ok(policy_action_str(all[i]));

		ck_assert_int_eq(r.action, all[i]);
		ck_assert_int_eq(r.family, 0);
		ck_assert_uint_eq(r.prefix_len, 0);
		ck_assert_uint_eq(r.port_lo, 0);
		ck_assert_uint_eq(r.port_hi, 65535);
	}
}
END_TEST

START_TEST(test_parse_whitespace)
{
	struct policy_rule r = parse_ok(" \t private \t port\t22\t ");

	ck_assert_int_eq(r.action, PRIV);
	ck_assert_uint_eq(r.port_lo, 22);
	ck_assert_uint_eq(r.port_hi, 22);
}
END_TEST

START_TEST(test_parse_addr_v4)
{
	struct policy_rule r = parse_ok("clear addr 192.0.2.0/24");

	ck_assert_int_eq(r.action, CLEAR);
	assert_addr(&r, AF_INET, "192.0.2.0", 24);
	ck_assert_uint_eq(r.port_lo, 0);
	ck_assert_uint_eq(r.port_hi, 65535);

	r = parse_ok("clear addr 192.0.2.7");
	assert_addr(&r, AF_INET, "192.0.2.7", 32);
	r = parse_ok("clear addr 192.0.2.7/32");
	assert_addr(&r, AF_INET, "192.0.2.7", 32);
	r = parse_ok("clear addr 0.0.0.0/0");
	assert_addr(&r, AF_INET, "0.0.0.0", 0);
	r = parse_ok("clear addr 128.0.0.0/1");
	assert_addr(&r, AF_INET, "128.0.0.0", 1);
	r = parse_ok("clear addr 255.255.255.254/31");
	assert_addr(&r, AF_INET, "255.255.255.254", 31);
}
END_TEST

START_TEST(test_parse_addr_v6)
{
	struct policy_rule r = parse_ok("private-or-clear addr 2001:db8::/32 port 8000-8100");

	ck_assert_int_eq(r.action, OPP);
	assert_addr(&r, AF_INET6, "2001:db8::", 32);
	ck_assert_uint_eq(r.port_lo, 8000);
	ck_assert_uint_eq(r.port_hi, 8100);

	r = parse_ok("private addr 2001:db8::1");
	assert_addr(&r, AF_INET6, "2001:db8::1", 128);
	r = parse_ok("private addr ::/0");
	assert_addr(&r, AF_INET6, "::", 0);
	r = parse_ok("private addr 8000::/1");
	assert_addr(&r, AF_INET6, "8000::", 1);
	r = parse_ok("private addr 2001:db8::fffe/127");
	assert_addr(&r, AF_INET6, "2001:db8::fffe", 127);
	r = parse_ok("private addr ::ffff:192.0.2.0/120");
	assert_addr(&r, AF_INET6, "::ffff:192.0.2.0", 120);
	r = parse_ok("private addr ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_addr(&r, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 128);
}
END_TEST

START_TEST(test_parse_ports)
{
	struct policy_rule r = parse_ok("private port 0");

	ck_assert_uint_eq(r.port_lo, 0);
	ck_assert_uint_eq(r.port_hi, 0);
	r = parse_ok("private port 65535");
	ck_assert_uint_eq(r.port_lo, 65535);
	ck_assert_uint_eq(r.port_hi, 65535);
	r = parse_ok("private port 0-65535");
	ck_assert_uint_eq(r.port_lo, 0);
	ck_assert_uint_eq(r.port_hi, 65535);
	r = parse_ok("private port 443-443");
	ck_assert_uint_eq(r.port_lo, 443);
	ck_assert_uint_eq(r.port_hi, 443);
	r = parse_ok("private port 00080");
	ck_assert_uint_eq(r.port_lo, 80);
}
END_TEST

/* Selectors come in either order. */
START_TEST(test_parse_order)
{
	struct policy_rule a = parse_ok("clear port 80-81 addr 10.0.0.0/8");
	struct policy_rule b = parse_ok("clear addr 10.0.0.0/8 port 80-81");

	/* Field by field: padding bytes need not be equal. */
	ck_assert_int_eq(a.action, b.action);
	assert_addr(&a, AF_INET, "10.0.0.0", 8);
	assert_addr(&b, AF_INET, "10.0.0.0", 8);
	ck_assert_uint_eq(a.port_lo, 80);
	ck_assert_uint_eq(a.port_hi, 81);
	ck_assert_uint_eq(b.port_lo, 80);
	ck_assert_uint_eq(b.port_hi, 81);
}
END_TEST

START_TEST(test_parse_errors_structure)
{
	parse_err("", "missing action");
	parse_err(" \t ", "missing action");
	parse_err("privat", "unknown action 'privat'");
	parse_err("Private", "'Private'");
	parse_err("private-or", "'private-or'");
	parse_err("addr 10.0.0.0/8", "unknown action 'addr'");
	parse_err("private extra", "unexpected 'extra'");
	parse_err("private port 22 extra", "unexpected 'extra'");
	parse_err("private port 22 22", "unexpected '22'");
	parse_err("private ports 22", "unexpected 'ports'");
	parse_err("private addr", "missing value after 'addr'");
	parse_err("private port", "missing value after 'port'");
	parse_err("private port 22 addr", "missing value after 'addr'");
	parse_err("private addr 10.0.0.0/8 addr 10.0.0.0/8", "duplicate 'addr'");
	parse_err("private port 1 port 2", "duplicate 'port'");
	parse_err("private port addr 10.0.0.0/8", "bad port 'addr'");
}
END_TEST

START_TEST(test_parse_errors_addr)
{
	parse_err("clear addr foo", "bad address 'foo'");
	parse_err("clear addr 10.0.0/8", "bad address '10.0.0/8'");
	parse_err("clear addr 10.0.0.256", "'10.0.0.256'");
	parse_err("clear addr 1.2.3.4.5", "'1.2.3.4.5'");
	parse_err("clear addr /8", "bad address '/8'");
	parse_err("clear addr 2001:db8:::1", "'2001:db8:::1'");
	parse_err("clear addr fe80::1%eth0", "'fe80::1%eth0'");
	parse_err("clear addr 10.0.0.0/", "bad prefix length in '10.0.0.0/'");
	parse_err("clear addr 10.0.0.0/33", "bad prefix length in '10.0.0.0/33'");
	parse_err("clear addr ::/129", "bad prefix length in '::/129'");
	parse_err("clear addr 10.0.0.0/-1", "'10.0.0.0/-1'");
	parse_err("clear addr 10.0.0.0/+8", "'10.0.0.0/+8'");
	parse_err("clear addr 10.0.0.0/8x", "'10.0.0.0/8x'");
	parse_err("clear addr 10.0.0.0/8/8", "'10.0.0.0/8/8'");
	parse_err("clear addr 10.0.0.0/99999999999999999999", "bad prefix length");
	parse_err("clear addr 192.0.2.1/24", "host bits set in '192.0.2.1/24'");
	parse_err("clear addr 128.0.0.0/0", "host bits set in '128.0.0.0/0'");
	parse_err("clear addr 10.0.0.1/31", "host bits set");
	parse_err("clear addr 2001:db8::1/64", "host bits set in '2001:db8::1/64'");
	parse_err("clear addr 2001:db8::1/127", "host bits set");
	parse_err("clear addr 8000::/0", "host bits set");
	/* Longer than any address text. */
	parse_err("clear addr 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64",
		  "bad address");
}
END_TEST

START_TEST(test_parse_errors_port)
{
	parse_err("private port 65536", "bad port '65536'");
	parse_err("private port 99999999999999999999999", "bad port");
	parse_err("private port -1", "bad port '-1'");
	parse_err("private port +1", "bad port '+1'");
	parse_err("private port 80-", "bad port '80-'");
	parse_err("private port -80", "bad port '-80'");
	parse_err("private port 8o", "bad port '8o'");
	parse_err("private port 1-2-3", "bad port '1-2-3'");
	parse_err("private port 1-65536", "bad port '1-65536'");
	parse_err("private port 80-70", "reversed port range '80-70'");
	parse_err("private port 0x50", "bad port '0x50'");
}
END_TEST

/* Tokens from a corrupt file are cut and made printable in messages. */
START_TEST(test_parse_error_quoting)
{
	char text[600], err[256];
	struct policy_rule r;
	size_t i;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(policy_parse_rule(text, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown action 'xxxx"));
	ck_assert_ptr_nonnull(strstr(err, "...'"));
	ck_assert_uint_lt(strlen(err), 100);

	ck_assert_int_eq(policy_parse_rule("clear \x01\x7f\xff\r", &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected '\?\?\?\?'");
	for (i = 0; err[i]; i++)
		ck_assert(err[i] >= 0x20 && err[i] < 0x7f);
}
END_TEST

/* A short or absent error buffer is not overrun. */
START_TEST(test_parse_error_small_buffer)
{
	char err[8];
	struct policy_rule r;

	memset(err, 'z', sizeof(err));
	ck_assert_int_eq(policy_parse_rule("privat", &r, err, 5), -1);
	ck_assert_str_eq(err, "unkn");
	ck_assert_int_eq(err[5], 'z');
	ck_assert_int_eq(policy_parse_rule("privat", &r, err, 0), -1);
	ck_assert_int_eq(policy_parse_rule("privat", &r, NULL, 0), -1);
}
END_TEST

/* Random text built from grammar pieces and junk: never crashes, and an
 * accepted rule is always well formed. */
START_TEST(test_parse_fuzz)
{
	static const char *const pieces[] = {
		"private", "clear", "private-or-clear", "addr", "port", " ", "\t", "/",
		"-", ":", "::", ".", "0", "1", "255", "65535", "65536", "128", "ffff",
		"10.0.0.0", "2001:db8::", "\xff", "\x01", "%", "x",
		/* Whole selectors, so that some texts parse. */
		"private ", " addr 10.0.0.0/8", " addr 2001:db8::/32", " addr ::ffff:1.2.3.4",
		" port 1-2", " port 80",
	};
	uint32_t s = 12345;
	int n;

	for (n = 0; n < 20000; n++) {
		char text[256] = "";
		char err[128];
		struct policy_rule r;
		size_t len = 0;
		int k, parts;

		s = s * 1103515245u + 12345u;
		parts = (int)(s >> 16) % 10;
		for (k = 0; k < parts; k++) {
			const char *pc;

			s = s * 1103515245u + 12345u;
			pc = pieces[(s >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			if (len + strlen(pc) + 1 > sizeof(text))
				break;
			memcpy(text + len, pc, strlen(pc) + 1);
			len += strlen(pc);
		}
		if (policy_parse_rule(text, &r, err, sizeof(err)) == 0) {
			ck_assert(r.family == 0 || r.family == AF_INET || r.family == AF_INET6);
			ck_assert_uint_le(r.prefix_len, r.family == AF_INET ? 32 : 128);
			ck_assert_uint_le(r.port_lo, r.port_hi);
		} else {
			ck_assert_uint_gt(strlen(err), 0);
		}
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The rule list */

START_TEST(test_add_grows_in_order)
{
	struct policy p = { 0 };
	struct policy_rule r = parse_ok("private");
	size_t i;

	for (i = 0; i < 1000; i++) {
		r.port_lo = r.port_hi = (uint16_t)i;
		ck_assert_int_eq(policy_add(&p, &r), 0);
		ck_assert_uint_eq(p.n, i + 1);
	}
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(p.rules[i].port_lo, i);
	policy_free(&p);
	ck_assert_ptr_null(p.rules);
	ck_assert_uint_eq(p.n, 0);
	policy_free(&p);

	/* Usable again after policy_free. */
	ck_assert_int_eq(policy_add(&p, &r), 0);
	ck_assert_uint_eq(p.n, 1);
	policy_free(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Deciding */

START_TEST(test_decide_default)
{
	struct policy p = { 0 };

	ck_assert_int_eq(decide(&p, "192.0.2.1", 80), OPP);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 0), OPP);
	/* A policy that matches nothing falls back to the default too. */
	add(&p, "private addr 10.0.0.0/8");
	add(&p, "clear port 22");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 80), OPP);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 443), OPP);
	policy_free(&p);
}
END_TEST

START_TEST(test_decide_first_match)
{
	struct policy p = { 0 };

	add(&p, "clear port 80");
	add(&p, "private addr 192.0.2.0/24");
	add(&p, "private-or-clear addr 192.0.2.128/25");
	add(&p, "clear");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 80), CLEAR);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 81), PRIV);
	/* Shadowed by the /24 before it. */
	ck_assert_int_eq(decide(&p, "192.0.2.200", 81), PRIV);
	ck_assert_int_eq(decide(&p, "198.51.100.1", 81), CLEAR);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 81), CLEAR);
	policy_free(&p);

	/* The same rules the other way round. */
	add(&p, "clear");
	add(&p, "private addr 192.0.2.0/24");
	add(&p, "clear port 80");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 81), CLEAR);
	policy_free(&p);
}
END_TEST

/* Address and port must both match. */
START_TEST(test_decide_addr_and_port)
{
	struct policy p = { 0 };

	add(&p, "private addr 10.1.0.0/16 port 443");
	ck_assert_int_eq(decide(&p, "10.1.2.3", 443), PRIV);
	ck_assert_int_eq(decide(&p, "10.1.2.3", 444), OPP);
	ck_assert_int_eq(decide(&p, "10.2.2.3", 443), OPP);
	policy_free(&p);
}
END_TEST

START_TEST(test_decide_families)
{
	struct policy p = { 0 };

	add(&p, "private addr 0.0.0.0/0");
	ck_assert_int_eq(decide(&p, "203.0.113.9", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 1), OPP);
	ck_assert_int_eq(decide(&p, "::", 1), OPP);
	policy_free(&p);

	add(&p, "clear addr ::/0");
	ck_assert_int_eq(decide(&p, "2001:db8::1", 1), CLEAR);
	ck_assert_int_eq(decide(&p, "0.0.0.0", 1), OPP);
	ck_assert_int_eq(decide(&p, "203.0.113.9", 1), OPP);
	policy_free(&p);

	/* Without addr a rule covers both families, and any other. */
	add(&p, "clear port 7");
	ck_assert_int_eq(decide(&p, "203.0.113.9", 7), CLEAR);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 7), CLEAR);
	{
		uint8_t a[16] = { 0 };
		ck_assert_int_eq(policy_decide(&p, AF_UNSPEC, a, 7), CLEAR);
	}
	policy_free(&p);
}
END_TEST

/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
START_TEST(test_decide_v4_mapped)
{
	struct policy p = { 0 };

	add(&p, "private addr 192.0.2.0/24");
	ck_assert_int_eq(decide(&p, "::ffff:192.0.2.77", 1), PRIV);
	ck_assert_int_eq(decide(&p, "::ffff:192.0.3.77", 1), OPP);
	/* Not mapped: the same low 32 bits with another prefix. */
	ck_assert_int_eq(decide(&p, "::192.0.2.77", 1), OPP);
	ck_assert_int_eq(decide(&p, "64:ff9b::192.0.2.77", 1), OPP);
	ck_assert_int_eq(decide(&p, "::fffe:192.0.2.77", 1), OPP);
	policy_free(&p);

	add(&p, "clear addr 0.0.0.0/0");
	ck_assert_int_eq(decide(&p, "::ffff:0.0.0.0", 1), CLEAR);
	ck_assert_int_eq(decide(&p, "::ffff:255.255.255.255", 1), CLEAR);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 1), OPP);
	policy_free(&p);

	add(&p, "clear addr 192.0.2.77");
	ck_assert_int_eq(decide(&p, "::ffff:192.0.2.77", 1), CLEAR);
	ck_assert_int_eq(decide(&p, "::ffff:192.0.2.76", 1), OPP);
	policy_free(&p);

	/* A rule written as a mapped IPv6 prefix still matches mapped peers. */
	add(&p, "private addr ::ffff:0:0/96");
	ck_assert_int_eq(decide(&p, "::ffff:10.0.0.1", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 1), OPP);
	policy_free(&p);
}
END_TEST

START_TEST(test_decide_prefix_edges_v4)
{
	struct policy p = { 0 };

	add(&p, "private addr 192.0.2.7/32");
	ck_assert_int_eq(decide(&p, "192.0.2.7", 1), PRIV);
	ck_assert_int_eq(decide(&p, "192.0.2.6", 1), OPP);
	ck_assert_int_eq(decide(&p, "192.0.2.8", 1), OPP);
	ck_assert_int_eq(decide(&p, "64.0.2.7", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 128.0.0.0/1");
	ck_assert_int_eq(decide(&p, "128.0.0.0", 1), PRIV);
	ck_assert_int_eq(decide(&p, "255.255.255.255", 1), PRIV);
	ck_assert_int_eq(decide(&p, "127.255.255.255", 1), OPP);
	ck_assert_int_eq(decide(&p, "0.0.0.0", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 10.0.0.0/31");
	ck_assert_int_eq(decide(&p, "10.0.0.0", 1), PRIV);
	ck_assert_int_eq(decide(&p, "10.0.0.1", 1), PRIV);
	ck_assert_int_eq(decide(&p, "10.0.0.2", 1), OPP);
	policy_free(&p);

	/* A prefix not on a byte boundary. */
	add(&p, "private addr 172.16.0.0/12");
	ck_assert_int_eq(decide(&p, "172.16.0.0", 1), PRIV);
	ck_assert_int_eq(decide(&p, "172.31.255.255", 1), PRIV);
	ck_assert_int_eq(decide(&p, "172.32.0.0", 1), OPP);
	ck_assert_int_eq(decide(&p, "172.15.255.255", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 0.0.0.0/0");
	ck_assert_int_eq(decide(&p, "0.0.0.0", 1), PRIV);
	ck_assert_int_eq(decide(&p, "255.255.255.255", 1), PRIV);
	policy_free(&p);
}
END_TEST

START_TEST(test_decide_prefix_edges_v6)
{
	struct policy p = { 0 };

	add(&p, "private addr 2001:db8::1/128");
	ck_assert_int_eq(decide(&p, "2001:db8::1", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db8::", 1), OPP);
	ck_assert_int_eq(decide(&p, "2001:db8::3", 1), OPP);
	ck_assert_int_eq(decide(&p, "2001:db9::1", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 2001:db8::fffe/127");
	ck_assert_int_eq(decide(&p, "2001:db8::fffe", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db8::ffff", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db8::fffd", 1), OPP);
	ck_assert_int_eq(decide(&p, "2001:db8::1:fffe", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 8000::/1");
	ck_assert_int_eq(decide(&p, "8000::", 1), PRIV);
	ck_assert_int_eq(decide(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1), PRIV);
	ck_assert_int_eq(decide(&p, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1), OPP);
	policy_free(&p);

	add(&p, "private addr 2001:db8::/32");
	ck_assert_int_eq(decide(&p, "2001:db8:ffff::1", 1), PRIV);
	ck_assert_int_eq(decide(&p, "2001:db9::", 1), OPP);
	policy_free(&p);

	add(&p, "private addr ::/0");
	ck_assert_int_eq(decide(&p, "::", 1), PRIV);
	ck_assert_int_eq(decide(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1), PRIV);
	policy_free(&p);
}
END_TEST

START_TEST(test_decide_port_edges)
{
	struct policy p = { 0 };

	add(&p, "private port 1000-2000");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 999), OPP);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 1000), PRIV);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 1500), PRIV);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 2000), PRIV);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 2001), OPP);
	policy_free(&p);

	add(&p, "clear port 0");
	add(&p, "private port 65535");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 0), CLEAR);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 1), OPP);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 65534), OPP);
	ck_assert_int_eq(decide(&p, "2001:db8::1", 65535), PRIV);
	policy_free(&p);

	add(&p, "clear port 0-65535");
	ck_assert_int_eq(decide(&p, "192.0.2.1", 0), CLEAR);
	ck_assert_int_eq(decide(&p, "192.0.2.1", 65535), CLEAR);
	policy_free(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* For a packet whose ports are unknown: is some port of this peer private?
 * A rule that matches every port of the peer ends the search. */
static bool may_be_private(const struct policy *p, const char *peer)
{
	int family = strchr(peer, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, peer, a), 1);
	return policy_may_be_private(p, family, a);
}

START_TEST(test_may_be_private)
{
	struct policy p = { 0 };

	ck_assert(!may_be_private(&p, "192.0.2.1"));
	add(&p, "clear addr 192.0.2.0/24");
	add(&p, "private port 22");
	add(&p, "private-or-clear addr 2001:db8::/32");
	add(&p, "private addr 2001:db8:1::/48");
	/* The clear rule covers every port of 192.0.2.x first. */
	ck_assert(!may_be_private(&p, "192.0.2.1"));
	/* Elsewhere port 22 is private. */
	ck_assert(may_be_private(&p, "198.51.100.1"));
	ck_assert(may_be_private(&p, "2001:db9::1"));
	/* Port 22 comes before the IPv6 rules: private for any peer. */
	ck_assert(may_be_private(&p, "2001:db8:2::1"));
	policy_free(&p);
	add(&p, "private-or-clear addr 2001:db8::/32");
	add(&p, "private addr 2001:db8:1::/48");
	ck_assert(!may_be_private(&p, "2001:db8:1::1"));
	ck_assert(!may_be_private(&p, "2001:db9::1"));
	policy_free(&p);
	add(&p, "private addr 2001:db8:1::/48");
	ck_assert(may_be_private(&p, "2001:db8:1::1"));
	ck_assert(!may_be_private(&p, "2001:db8:2::1"));
	policy_free(&p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("grammar");

	tcase_add_test(tc, test_action_str);
	tcase_add_test(tc, test_parse_action_only);
	tcase_add_test(tc, test_parse_whitespace);
	tcase_add_test(tc, test_parse_addr_v4);
	tcase_add_test(tc, test_parse_addr_v6);
	tcase_add_test(tc, test_parse_ports);
	tcase_add_test(tc, test_parse_order);
	tcase_add_test(tc, test_parse_errors_structure);
	tcase_add_test(tc, test_parse_errors_addr);
	tcase_add_test(tc, test_parse_errors_port);
	tcase_add_test(tc, test_parse_error_quoting);
	tcase_add_test(tc, test_parse_error_small_buffer);
	tcase_add_test(tc, test_parse_fuzz);
	suite_add_tcase(s, tc);

	tc = tcase_create("decide");
	tcase_add_test(tc, test_add_grows_in_order);
	tcase_add_test(tc, test_decide_default);
	tcase_add_test(tc, test_decide_first_match);
	tcase_add_test(tc, test_decide_addr_and_port);
	tcase_add_test(tc, test_decide_families);
	tcase_add_test(tc, test_decide_v4_mapped);
	tcase_add_test(tc, test_decide_prefix_edges_v4);
	tcase_add_test(tc, test_decide_prefix_edges_v6);
	tcase_add_test(tc, test_decide_port_edges);
	tcase_add_test(tc, test_may_be_private);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(policy_suite)
