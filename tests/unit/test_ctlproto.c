/* SPDX-License-Identifier: BSD-2-Clause */
/* The control socket protocol (doc/control.md) without sockets: request
 * parsing, addresses, and the lines the daemon writes. */
#include "unit.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "ctlproto.h"

static enum ctl_status parse(const char *line, struct ctl_request *req, const char **msg)
{
	return ctl_parse_request(line, strlen(line), req, msg);
}

static void expect_status(const char *line, enum ctl_status want)
{
	struct ctl_request req;
	const char *msg = NULL;
	enum ctl_status st = parse(line, &req, &msg);

	ck_assert_msg(st == want, "'%s': status %d, want %d (msg %s)", line, st, want, msg);
	ck_assert_ptr_nonnull(msg);
	if (st != CTL_OK) {
		ck_assert_msg(*msg, "'%s': no message", line);
		ck_assert_msg(!strchr(msg, ' ') && !strchr(msg, '='), "'%s': msg '%s' not a value",
			      line, msg);
	}
}

/* ------------------------------------------------------------------------ */
/* Commands */

START_TEST(test_simple_commands)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
	} cases[] = {
		{ "list", CTL_CMD_LIST },
		{ "counters", CTL_CMD_COUNTERS },
		{ "reload", CTL_CMD_RELOAD },
		{ "version", CTL_CMD_VERSION },
		{ "version\r", CTL_CMD_VERSION },	/* CRLF clients */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_request req;
		const char *msg;

		ck_assert_int_eq(parse(cases[i].line, &req, &msg), CTL_OK);
		ck_assert_int_eq(req.cmd, cases[i].cmd);
	}
}
END_TEST

START_TEST(test_lookup_v4)
{
	struct ctl_request req;
	const char *msg;

	ck_assert_int_eq(parse("lookup local=192.0.2.1:45928 remote=198.51.100.1:7777", &req, &msg),
			 CTL_OK);
	ck_assert_int_eq(req.cmd, CTL_CMD_LOOKUP);
	ck_assert_int_eq(req.local.family, AF_INET);
	ck_assert_int_eq(req.local.port, 45928);
	ck_assert_mem_eq(req.local.addr, "\xc0\x00\x02\x01", 4);
	ck_assert_int_eq(req.remote.family, AF_INET);
	ck_assert_int_eq(req.remote.port, 7777);
	ck_assert_mem_eq(req.remote.addr, "\xc6\x33\x64\x01", 4);
}
END_TEST

START_TEST(test_lookup_any_order_and_v6)
{
	struct ctl_request req;
	const char *msg;
	uint8_t want[16];

	ck_assert_int_eq(parse("lookup remote=[2001:db8:2::1]:443 local=[2001:db8:1::1]:50000",
			       &req, &msg),
			 CTL_OK);
	ck_assert_int_eq(req.local.family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8:1::1", want);
	ck_assert_mem_eq(req.local.addr, want, 16);
	ck_assert_int_eq(req.local.port, 50000);
	inet_pton(AF_INET6, "2001:db8:2::1", want);
	ck_assert_mem_eq(req.remote.addr, want, 16);
	ck_assert_int_eq(req.remote.port, 443);
}
END_TEST

/* A mapped address in a request means the IPv4 address, so it may be
 * paired with a plain IPv4 one. */
START_TEST(test_lookup_mapped)
{
	struct ctl_request req;
	const char *msg;
	struct flow_key k, want;

	ck_assert_int_eq(parse("lookup local=[::ffff:192.0.2.1]:1000 remote=198.51.100.1:80",
			       &req, &msg),
			 CTL_OK);
	ck_assert_int_eq(req.local.family, AF_INET);
	ck_assert_int_eq(ctl_flow_key(&k, &req.local, &req.remote), 0);
	memset(&want, 0, sizeof(want));
	want.family = AF_INET;
	want.lport = 1000;
	want.rport = 80;
	memcpy(want.laddr, "\xc0\x00\x02\x01", 4);
	memcpy(want.raddr, "\xc6\x33\x64\x01", 4);
	ck_assert_mem_eq(&k, &want, sizeof(k));
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"",
		"\r",
		" list",
		"list ",
		"list  ",
		"list x=y",			/* list takes no arguments */
		"version now",
		"counters a=b",
		"reload force=1",
		"lookup",
		"lookup local=192.0.2.1:1",
		"lookup remote=192.0.2.1:1",
		"lookup local=192.0.2.1:1  remote=192.0.2.2:2",
		"lookup local=192.0.2.1:1 remote=192.0.2.2:2 ",
		"lookup local=192.0.2.1:1 remote=192.0.2.2:2 extra=1",
		"lookup local=192.0.2.1:1 local=192.0.2.1:1",
		"lookup local=192.0.2.1:1 remote",
		"lookup local=192.0.2.1:1 remote=",
		"lookup local=192.0.2.1:1 =192.0.2.2:2",
		"lookup local=192.0.2.1:1 remote==192.0.2.2:2",
		"lookup local=192.0.2.1:1 remote=192.0.2.2:2=3",
		"lookup local=192.0.2.1:1 remote=[2001:db8::1]:2",	/* families differ */
		"lookup local=nonsense remote=192.0.2.2:2",
		"lookup\tlocal=192.0.2.1:1 remote=192.0.2.2:2",
		"list\x01",
		"list\x7f",
		"l\xc3\xa4st",
		"=list",
		"x=y",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_status(bad[i], CTL_ERR_BAD_REQUEST);
}
END_TEST

START_TEST(test_embedded_nul)
{
	struct ctl_request req;
	const char *msg;

	ck_assert_int_eq(ctl_parse_request("list\0x", 6, &req, &msg), CTL_ERR_BAD_REQUEST);
}
END_TEST

START_TEST(test_unknown_command)
{
	expect_status("hello", CTL_ERR_UNKNOWN_COMMAND);
	expect_status("LIST", CTL_ERR_UNKNOWN_COMMAND);
	expect_status("lists", CTL_ERR_UNKNOWN_COMMAND);
	expect_status("lis", CTL_ERR_UNKNOWN_COMMAND);
	expect_status("frobnicate a=b", CTL_ERR_UNKNOWN_COMMAND);
	ck_assert_str_eq(ctl_status_code(CTL_ERR_UNKNOWN_COMMAND), "unknown-command");
	ck_assert_str_eq(ctl_status_code(CTL_ERR_BAD_REQUEST), "bad-request");
}
END_TEST

START_TEST(test_line_length)
{
	char line[CTL_LINE_MAX + 2];
	struct ctl_request req;
	const char *msg;

	/* "lookup local=...": pad with a long valid-looking argument */
	memset(line, 'x', sizeof(line));
	memcpy(line, "list", 4);
	line[4] = ' ';
	ck_assert_int_eq(ctl_parse_request(line, CTL_LINE_MAX + 1, &req, &msg), CTL_ERR_BAD_REQUEST);
	ck_assert_str_eq(msg, "line-too-long");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Addresses */

static void expect_addr(const char *s, int family, const char *text, uint16_t port)
{
	struct ctl_addr a;
	uint8_t want[16] = { 0 };

	ck_assert_msg(ctl_parse_addr(s, strlen(s), &a) == 0, "'%s' rejected", s);
	ck_assert_int_eq(a.family, family);
	ck_assert_int_eq(inet_pton(family, text, want), 1);
	ck_assert_mem_eq(a.addr, want, 16);
	ck_assert_int_eq(a.port, port);
}

START_TEST(test_addr_good)
{
	expect_addr("192.0.2.1:443", AF_INET, "192.0.2.1", 443);
	expect_addr("0.0.0.0:1", AF_INET, "0.0.0.0", 1);
	expect_addr("255.255.255.255:65535", AF_INET, "255.255.255.255", 65535);
	expect_addr("[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443);
	expect_addr("[::1]:22", AF_INET6, "::1", 22);
	expect_addr("[::]:8", AF_INET6, "::", 8);
	expect_addr("[fe80::1:2:3:4]:00080", AF_INET6, "fe80::1:2:3:4", 80);
	expect_addr("[::ffff:192.0.2.1]:443", AF_INET, "192.0.2.1", 443);
	expect_addr("[::FFFF:c000:0201]:443", AF_INET, "192.0.2.1", 443);
}
END_TEST

START_TEST(test_addr_bad)
{
	static const char *const bad[] = {
		"", ":", "192.0.2.1", "192.0.2.1:", ":80", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:123456", "192.0.2.1:-1", "192.0.2.1:+1", "192.0.2.1:8 0",
		"192.0.2.1:80x", "192.0.2:80", "192.0.2.256:80", "192.0.2.1.5:80",
		"example.com:80", "2001:db8::1:443", "[2001:db8::1]", "[2001:db8::1]:",
		"[2001:db8::1]443", "[2001:db8::1:443", "2001:db8::1]:443", "[]:80",
		"[192.0.2.1]:80", "[2001:db8::g]:80", "[fe80::1%eth0]:80",
		"[2001:db8::1]:80]", "[[2001:db8::1]]:80",
		"[0000000000000000000000000000000000000000000000000000000001]:80",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_addr a;

		ck_assert_msg(ctl_parse_addr(bad[i], strlen(bad[i]), &a) < 0, "'%s' accepted",
			      bad[i]);
	}
}
END_TEST

START_TEST(test_addr_roundtrip)
{
	static const char *const good[] = {
		"192.0.2.1:443", "[2001:db8::1]:443", "[::1]:1", "10.0.0.255:65535",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ctl_addr a;
		char buf[CTL_ADDR_MAX];

		ck_assert_int_eq(ctl_parse_addr(good[i], strlen(good[i]), &a), 0);
		ck_assert_int_eq(ctl_format_addr(buf, sizeof(buf), &a), (int)strlen(good[i]));
		ck_assert_str_eq(buf, good[i]);
	}
}
END_TEST

START_TEST(test_addr_format_small_buffer)
{
	struct ctl_addr a;
	char buf[8];

	ck_assert_int_eq(ctl_parse_addr("192.0.2.1:443", 13, &a), 0);
	ck_assert_int_eq(ctl_format_addr(buf, sizeof(buf), &a), -1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Records */

static struct flow make_flow(int family, uint8_t state, bool keyed)
{
	struct flow f;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.key.family = (uint8_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "192.0.2.1", f.key.laddr);
		inet_pton(AF_INET, "198.51.100.1", f.key.raddr);
	} else {
		inet_pton(AF_INET6, "2001:db8:1::1", f.key.laddr);
		inet_pton(AF_INET6, "2001:db8:2::1", f.key.raddr);
	}
	f.key.lport = 45928;
	f.key.rport = 7777;
	f.role = ROLE_A;
	f.state = state;
	f.keyed = keyed;
	for (i = 0; i < sizeof(f.session_id); i++)
		f.session_id[i] = (uint8_t)(0xa0 + i);
	f.bytes_out = 62;
	f.bytes_in = 12345678901ULL;
	f.created = 1000000;
	return f;
}

START_TEST(test_format_flow_encrypted)
{
	struct flow f = make_flow(AF_INET, FLOW_ENCRYPTED, true);
	char buf[CTL_RECORD_MAX];
	int n;

	/* 3 GiB sent (the last byte in generation 2), 1 GiB + 1 received. */
	f.suite = 0x7403;
	f.snd.high = 3ull << 30;
	f.rcv.high = (1ull << 30) + 1;
	n = ctl_format_flow(buf, sizeof(buf), &f, 4500000, "private-or-clear");
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_str_eq(buf,
			 "flow local=192.0.2.1:45928 remote=198.51.100.1:7777 state=encrypted role=A "
			 "suite=aes128 gen=2/1 kx=fresh sid=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0 "
			 "bytes_out=62 bytes_in=12345678901 policy=private-or-clear age=3\n");
}
END_TEST

START_TEST(test_format_flow_negotiating_v6)
{
	struct flow f = make_flow(AF_INET6, FLOW_KX, false);
	char buf[CTL_RECORD_MAX];
	size_t len;
	const char *v;

	f.role = ROLE_B;
	f.bytes_in = 0;
	/* the clock before created (cannot happen, must not wrap) */
	ck_assert_int_gt(ctl_format_flow(buf, sizeof(buf), &f, 5, "private"), 0);
	ck_assert_str_eq(buf,
			 "flow local=[2001:db8:1::1]:45928 remote=[2001:db8:2::1]:7777 "
			 "state=negotiating role=B suite=- gen=- kx=- sid=- bytes_out=62 bytes_in=0 "
			 "policy=private age=0\n");
	/* and tcnetstat reads it back */
	len = strlen(buf) - 1;
	v = ctl_get(buf, len, "remote", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(len, strlen("[2001:db8:2::1]:7777"));
	ck_assert_mem_eq(v, "[2001:db8:2::1]:7777", len);
}
END_TEST

START_TEST(test_flow_states)
{
	static const struct {
		uint8_t state;
		const char *word;
	} cases[] = {
		{ FLOW_SYN_SENT, "negotiating" }, { FLOW_SYN_RCVD, "negotiating" },
		{ FLOW_KX, "negotiating" },       { FLOW_ENCRYPTED, "encrypted" },
		{ FLOW_CLOSED, "closed" },        { FLOW_ABORTED, "failed" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flow f = make_flow(AF_INET, cases[i].state, false);

		ck_assert_str_eq(ctl_flow_state(&f), cases[i].word);
	}
}
END_TEST

START_TEST(test_format_flow_small_buffer)
{
	struct flow f = make_flow(AF_INET6, FLOW_ENCRYPTED, true);
	char buf[64];

	ck_assert_int_eq(ctl_format_flow(buf, sizeof(buf), &f, 0, "private"), -1);
}
END_TEST

START_TEST(test_key_roundtrip)
{
	struct flow f = make_flow(AF_INET, FLOW_ENCRYPTED, true);
	struct ctl_addr l, r;
	struct flow_key k;

	ctl_key_addrs(&f.key, &l, &r);
	ck_assert_int_eq(ctl_flow_key(&k, &l, &r), 0);
	ck_assert_mem_eq(&k, &f.key, sizeof(k));
	r.family = AF_INET6;
	ck_assert_int_eq(ctl_flow_key(&k, &l, &r), -1);
}
END_TEST

START_TEST(test_format_counter)
{
	char buf[CTL_RECORD_MAX];

	ck_assert_int_eq(ctl_format_counter(buf, sizeof(buf), "mac_fail", 42),
			 (int)strlen("counter name=mac_fail value=42\n"));
	ck_assert_str_eq(buf, "counter name=mac_fail value=42\n");
}
END_TEST

START_TEST(test_format_error)
{
	char buf[CTL_RECORD_MAX], small[32];

	ck_assert_int_gt(ctl_format_error(buf, sizeof(buf), "config",
					  "/etc/tcpcryptd.conf:3: unknown action 'x=y'\n"),
			 0);
	ck_assert_str_eq(buf, "error code=config msg=/etc/tcpcryptd.conf:3:-unknown-action-'x-y'-\n");
	ck_assert_int_gt(ctl_format_error(buf, sizeof(buf), "not-found", ""), 0);
	ck_assert_str_eq(buf, "error code=not-found msg=-\n");
	ck_assert_int_gt(ctl_format_error(buf, sizeof(buf), "permission", NULL), 0);
	ck_assert_str_eq(buf, "error code=permission msg=-\n");
	/* long messages are cut, the line stays a line */
	ck_assert_int_eq(ctl_format_error(small, sizeof(small), "config",
					  "a very long message that does not fit"),
			 (int)sizeof(small) - 1);
	ck_assert_int_eq(small[sizeof(small) - 2], '\n');
	ck_assert_int_eq(ctl_format_error(small, 8, "config", "x"), -1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Client side */

START_TEST(test_client_lines)
{
	const char *ok = "ok count=3";
	const char *err = "error code=not-found msg=no-such-connection";
	const char *rec = "flow local=1.2.3.4:5 sid=- state=encrypted";
	size_t len;
	const char *v;

	ck_assert(ctl_is_final(ok, strlen(ok)));
	ck_assert(ctl_is_ok(ok, strlen(ok)));
	ck_assert(ctl_is_ok("ok", 2));
	ck_assert(ctl_is_final(err, strlen(err)));
	ck_assert(!ctl_is_ok(err, strlen(err)));
	ck_assert(!ctl_is_final(rec, strlen(rec)));
	ck_assert(!ctl_is_final("okay", 4));
	ck_assert(!ctl_is_final("errors x=y", 10));

	v = ctl_get(ok, strlen(ok), "count", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(len, 1);
	ck_assert_int_eq(v[0], '3');
	v = ctl_get(err, strlen(err), "msg", &len);
	ck_assert_int_eq(len, strlen("no-such-connection"));
	v = ctl_get(rec, strlen(rec), "sid", &len);
	ck_assert_int_eq(len, 1);
	ck_assert_int_eq(v[0], '-');
	/* prefixes of keys and the command word are not keys */
	ck_assert_ptr_null(ctl_get(rec, strlen(rec), "loc", &len));
	ck_assert_ptr_null(ctl_get(rec, strlen(rec), "flow", &len));
	ck_assert_ptr_null(ctl_get(rec, strlen(rec), "state=encrypted", &len));
	ck_assert_ptr_null(ctl_get("ok", 2, "count", &len));
	ck_assert_ptr_null(ctl_get("", 0, "count", &len));
}
END_TEST

static Suite *ctlproto_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc = tcase_create("requests");

	tcase_add_test(tc, test_simple_commands);
	tcase_add_test(tc, test_lookup_v4);
	tcase_add_test(tc, test_lookup_any_order_and_v6);
	tcase_add_test(tc, test_lookup_mapped);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_line_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses");
	tcase_add_test(tc, test_addr_good);
	tcase_add_test(tc, test_addr_bad);
	tcase_add_test(tc, test_addr_roundtrip);
	tcase_add_test(tc, test_addr_format_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("responses");
	tcase_add_test(tc, test_format_flow_encrypted);
	tcase_add_test(tc, test_format_flow_negotiating_v6);
	tcase_add_test(tc, test_flow_states);
	tcase_add_test(tc, test_format_flow_small_buffer);
	tcase_add_test(tc, test_key_roundtrip);
	tcase_add_test(tc, test_format_counter);
	tcase_add_test(tc, test_format_error);
	tcase_add_test(tc, test_client_lines);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ctlproto_suite)
