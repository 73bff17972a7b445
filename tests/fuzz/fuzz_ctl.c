/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the control protocol's request parser and the
 * client-side helpers (src/core/ctlproto.c), policy rules
 * (src/core/policy.c) and the configuration file (src/core/conf.c, read
 * back from a memfd). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "ctlproto.h"
#include "fuzz_common.h"
#include "log.h"
#include "policy.h"

static int conf_fd = -1;
static char conf_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	conf_fd = memfd_create("fuzz_conf", MFD_CLOEXEC);
	if (conf_fd >= 0) {
		snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
	} else {
		/* No memfd (old kernel, seccomp): an unlinked tmpfile. */
		FILE *f = tmpfile();
		FUZZ_CHECK(f);
		conf_fd = dup(fileno(f));
		FUZZ_CHECK(conf_fd >= 0);
		snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
	}
	return 0;
}

static void check_addr_roundtrip(const struct ctl_addr *a)
{
	char buf[CTL_ADDR_MAX + 8];
	struct ctl_addr b;
	int n = ctl_format_addr(buf, sizeof(buf), a);

	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
	FUZZ_CHECK(ctl_parse_addr(buf, (size_t)n, &b) == 0);
	FUZZ_CHECK(b.family == a->family && b.port == a->port);
	FUZZ_CHECK(memcmp(b.addr, a->addr, a->family == AF_INET ? 4 : 16) == 0);
}

static void one_line(const char *line, size_t len)
{
	struct ctl_request req;
	const char *msg = NULL;
	enum ctl_status st;
	char out[CTL_RECORD_MAX];
	size_t vlen;

	st = ctl_parse_request(line, len, &req, &msg);
	FUZZ_CHECK(ctl_status_code(st) != NULL);
	if (st == CTL_OK) {
		if (req.cmd == CTL_CMD_LOOKUP) {
			struct flow_key k;
			check_addr_roundtrip(&req.local);
			check_addr_roundtrip(&req.remote);
			if (ctl_flow_key(&k, &req.local, &req.remote) == 0) {
				struct ctl_addr l, r;
				ctl_key_addrs(&k, &l, &r);
				FUZZ_CHECK(l.port == req.local.port && r.port == req.remote.port);
			}
		}
	} else {
		FUZZ_CHECK(msg != NULL);
		FUZZ_CHECK(strchr(msg, ' ') == NULL);
		int n = ctl_format_error(out, sizeof(out), ctl_status_code(st), msg);
		FUZZ_CHECK(n < (int)sizeof(out));
	}

	/* The same bytes as a response line, for the client-side helpers. */
	{
		struct ctl_addr a;
		const char *v;
		(void)ctl_is_final(line, len);
		(void)ctl_is_ok(line, len);
		v = ctl_get(line, len, "local", &vlen);
		if (v) {
			FUZZ_CHECK(FUZZ_INSIDE(v, vlen, line, len));
			if (ctl_parse_addr(v, vlen, &a) == 0)
				check_addr_roundtrip(&a);
		}
		v = ctl_get(line, len, "msg", &vlen);
		if (v)
			FUZZ_CHECK(FUZZ_INSIDE(v, vlen, line, len));
		if (ctl_parse_addr(line, len, &a) == 0)
			check_addr_roundtrip(&a);
	}
	/* ctl_format_error must make any message a valid value. */
	{
		char *m = malloc(len + 1);
		FUZZ_CHECK(m);
		memcpy(m, line, len);
		m[len] = '\0';
		int n = ctl_format_error(out, sizeof(out), "bad-request", m);
		FUZZ_CHECK(n < (int)sizeof(out));
		free(m);
	}
}

static void one_rule(const char *text)
{
	struct policy_rule r;
	char err[128];
	struct policy p = { 0 };

	memset(err, 0, sizeof(err));
	if (policy_parse_rule(text, &r, err, sizeof(err)) == 0) {
		static const uint8_t a4[4] = { 192, 0, 2, 1 };
		static const uint8_t a6[16] = { 0x20, 1, 0xd, 0xb8, [15] = 1 };
		FUZZ_CHECK(r.port_lo <= r.port_hi);
		FUZZ_CHECK(r.family == 0 || r.prefix_len <= (r.family == AF_INET ? 32 : 128));
		FUZZ_CHECK(policy_add(&p, &r) == 0);
		(void)policy_decide(&p, AF_INET, a4, 22);
		(void)policy_decide(&p, AF_INET6, a6, 443);
		(void)policy_action_str(r.action);
		policy_free(&p);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every line, without its '\n', in an exact-size heap copy. */
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t len = i - start;
			char *line = malloc(len ? len : 1);
			FUZZ_CHECK(line);
			memcpy(line, data + start, len);
			if (len <= 4 * CTL_LINE_MAX)
				one_line(line, len);
			free(line);
			start = i + 1;
		}
	}

	/* Policy rules: NUL-terminated chunks split at '\n' or NUL. */
	start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n' || data[i] == '\0') {
			size_t len = i - start;
			char *text = malloc(len + 1);
			FUZZ_CHECK(text);
			memcpy(text, data + start, len);
			text[len] = '\0';
			one_rule(text);
			free(text);
			start = i + 1;
		}
	}

	/* The whole input as a configuration file. */
	if (conf_fd >= 0 && size <= 65536) {
		struct tc_config c;
		char err[512];

		FUZZ_CHECK(ftruncate(conf_fd, 0) == 0);
		FUZZ_CHECK(pwrite(conf_fd, data, size, 0) == (ssize_t)size);
		memset(err, 0, sizeof(err));
		if (conf_load(conf_path, false, &c, err, sizeof(err)) == 0) {
			FUZZ_CHECK(c.policy.n == 0 || c.policy.rules != NULL);
			for (size_t i = 0; i < c.policy.n; i++)
				FUZZ_CHECK(c.policy.rules[i].port_lo <= c.policy.rules[i].port_hi);
			conf_free(&c);
		} else {
			FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			FUZZ_CHECK(err[0] != '\0');
		}
	}
	return 0;
}
