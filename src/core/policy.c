/* SPDX-License-Identifier: BSD-2-Clause */
#include "policy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Error messages quote the offending token; a token from a corrupt file
 * can be long or binary, so it is cut and made printable first. */
#define QUOTE_MAX 48

/* A token: a run of bytes without space or tab, not NUL-terminated. */
struct tok {
	const char *p;
	size_t len;
};

const char *policy_action_str(enum policy_action a)
{
	switch (a) {
	case POLICY_PRIVATE_OR_CLEAR: return "private-or-clear";
	case POLICY_PRIVATE: return "private";
	case POLICY_CLEAR: return "clear";
	}
	return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Parsing */

static bool is_sep(char c)
{
	return c == ' ' || c == '\t';
}

/* Moves *s past the next token and returns it; len 0 at the end. */
static struct tok next_tok(const char **s)
{
	struct tok t;

	while (is_sep(**s))
		(*s)++;
	t.p = *s;
	while (**s && !is_sep(**s))
		(*s)++;
	t.len = (size_t)(*s - t.p);
	return t;
}

static bool tok_is(struct tok t, const char *word)
{
	return t.len == strlen(word) && memcmp(t.p, word, t.len) == 0;
}

/* Copies t into out (QUOTE_MAX + 4 bytes) printable and possibly cut. */
static void quote(struct tok t, char *out)
{
	size_t n = t.len > QUOTE_MAX ? QUOTE_MAX : t.len;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n < t.len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Fails with "<what> '<token>'". */
static int fail_tok(char *err, size_t errlen, const char *what, struct tok t)
{
	char q[QUOTE_MAX + 4];

	quote(t, q);
	return fail(err, errlen, "%s '%s'", what, q);
}

/* Decimal digits only (no sign, no spaces) up to max; -1 otherwise. */
static long parse_num(const char *p, size_t len, long max)
{
	long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static int parse_action(struct tok t, enum policy_action *a)
{
	if (tok_is(t, "private-or-clear"))
		*a = POLICY_PRIVATE_OR_CLEAR;
	else if (tok_is(t, "private"))
		*a = POLICY_PRIVATE;
	else if (tok_is(t, "clear"))
		*a = POLICY_CLEAR;
	else
		return -1;
	return 0;
}

/* True when any bit after the first len bits of addr is set. */
static bool host_bits_set(const uint8_t *addr, size_t addr_len, unsigned len)
{
	size_t i = len / 8;

	if (len % 8 && i < addr_len && (addr[i] & (0xffu >> (len % 8))))
		return true;
	for (i = (len + 7) / 8; i < addr_len; i++)
		if (addr[i])
			return true;
	return false;
}

/* "ADDRESS[/LEN]": IPv6 when the address has a colon, IPv4 otherwise. */
static int parse_prefix(struct tok t, struct policy_rule *r, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = memchr(t.p, '/', t.len);
	size_t alen = slash ? (size_t)(slash - t.p) : t.len;
	unsigned max;
	long len;

	if (alen == 0 || alen >= sizeof(text))
		return fail_tok(err, errlen, "bad address", t);
	memcpy(text, t.p, alen);
	text[alen] = '\0';
	r->family = memchr(text, ':', alen) ? AF_INET6 : AF_INET;
	max = r->family == AF_INET6 ? 128 : 32;
	if (inet_pton(r->family, text, r->addr) != 1)
		return fail_tok(err, errlen, "bad address", t);
	len = max;
	if (slash) {
		len = parse_num(slash + 1, t.len - alen - 1, (long)max);
		if (len < 0)
			return fail_tok(err, errlen, "bad prefix length in", t);
	}
	r->prefix_len = (uint8_t)len;
	/* "192.0.2.1/24" is most likely a typo for a host or a network;
	 * guessing which would silently widen or narrow the rule. */
	if (host_bits_set(r->addr, max / 8, (unsigned)len))
		return fail_tok(err, errlen, "host bits set in", t);
	return 0;
}

/* "N" or "N-M" with N <= M. */
static int parse_ports(struct tok t, struct policy_rule *r, char *err, size_t errlen)
{
	const char *dash = memchr(t.p, '-', t.len);
	size_t llen = dash ? (size_t)(dash - t.p) : t.len;
	long lo, hi;

	lo = parse_num(t.p, llen, 65535);
	hi = dash ? parse_num(dash + 1, t.len - llen - 1, 65535) : lo;
	if (lo < 0 || hi < 0)
		return fail_tok(err, errlen, "bad port", t);
	if (lo > hi)
		return fail_tok(err, errlen, "reversed port range", t);
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
}

int policy_parse_rule(const char *text, struct policy_rule *out, char *err, size_t errlen)
{
	struct policy_rule r = { .port_lo = 0, .port_hi = 65535 };
	bool have_addr = false, have_port = false;
	const char *s = text;
	struct tok t = next_tok(&s);

	if (t.len == 0)
		return fail(err, errlen, "missing action");
	if (parse_action(t, &r.action) < 0)
		return fail_tok(err, errlen, "unknown action", t);
	while ((t = next_tok(&s)).len) {
		bool is_addr = tok_is(t, "addr");
		struct tok v;

		if (!is_addr && !tok_is(t, "port"))
			return fail_tok(err, errlen, "unexpected", t);
		if (is_addr ? have_addr : have_port)
			return fail_tok(err, errlen, "duplicate", t);
		v = next_tok(&s);
		if (v.len == 0)
			return fail_tok(err, errlen, "missing value after", t);
		if (is_addr) {
			if (parse_prefix(v, &r, err, errlen) < 0)
				return -1;
			have_addr = true;
		} else {
			if (parse_ports(v, &r, err, errlen) < 0)
				return -1;
			have_port = true;
		}
	}
	/* Only a complete rule reaches the caller. */
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The rule list */

int policy_add(struct policy *p, const struct policy_rule *rule)
{
	/* The struct has no capacity field: the capacity is n rounded up to
	 * a power of two, so the array is regrown only when n is one. */
	if ((p->n & (p->n - 1)) == 0) {
		size_t cap = p->n ? p->n * 2 : 1;
		struct policy_rule *nr;

		if (cap > SIZE_MAX / sizeof(*nr))
			return -1;
		nr = realloc(p->rules, cap * sizeof(*nr));
		if (!nr)
			return -1;
		p->rules = nr;
	}
	p->rules[p->n++] = *rule;
	return 0;
}

void policy_free(struct policy *p)
{
	free(p->rules);
	p->rules = NULL;
	p->n = 0;
}

/* ------------------------------------------------------------------------ */
/* Deciding */

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned len)
{
	unsigned whole = len / 8, rest = len % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);
		return ((a[whole] ^ net[whole]) & mask) == 0;
	}
	return true;
}

static bool is_v4_mapped(const uint8_t *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

static bool rule_matches(const struct policy_rule *r, int family, const uint8_t *addr,
			 uint16_t port)
{
	if (port < r->port_lo || port > r->port_hi)
		return false;
	if (r->family == 0)
		return true;
	/* Rules built by hand rather than parsed could overrun the address. */
	if (r->prefix_len > (r->family == AF_INET ? 32 : 128))
		return false;
	if (r->family == family)
		return prefix_match(addr, r->addr, r->prefix_len);
	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; they are
	 * the same hosts the IPv4 rules are about. */
	if (r->family == AF_INET && family == AF_INET6 && is_v4_mapped(addr))
		return prefix_match(addr + 12, r->addr, r->prefix_len);
	return false;
}

enum policy_action policy_decide(const struct policy *p, int family, const uint8_t *peer_addr,
				 uint16_t service_port)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (rule_matches(&p->rules[i], family, peer_addr, service_port))
			return p->rules[i].action;
	return POLICY_PRIVATE_OR_CLEAR;
}

bool policy_may_be_private(const struct policy *p, int family, const uint8_t *peer_addr)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct policy_rule *r = &p->rules[i];

		/* The first rule that matches every port decides for all of
		 * them; until then any private rule for some port counts. */
		if (!rule_matches(r, family, peer_addr, r->port_lo))
			continue;
		if (r->action == POLICY_PRIVATE)
			return true;
		if (r->port_lo == 0 && r->port_hi == 65535)
			return false;
	}
	return false;
}
