/* SPDX-License-Identifier: BSD-2-Clause */
#include "ctlproto.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "kx.h"

const char *ctl_status_code(enum ctl_status st)
{
	switch (st) {
	case CTL_OK: return "ok";
	case CTL_ERR_BAD_REQUEST: return "bad-request";
	case CTL_ERR_UNKNOWN_COMMAND: return "unknown-command";
	}
	return "bad-request";
}

/* ------------------------------------------------------------------------ */
/* Addresses */

static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int ctl_parse_addr(const char *s, size_t len, struct ctl_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (len == 0 || memchr(s, '\0', len))
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		struct in6_addr a6;

		if (!close || close + 1 >= s + len || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
		if (parse_port(close + 2, len - (size_t)(close + 2 - s), &out->port) < 0)
			return -1;
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			out->family = AF_INET;
			memcpy(out->addr, &a6.s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, &a6, 16);
		}
		return 0;
	}
	/* IPv4: exactly one ':' (an unbracketed IPv6 address is an error). */
	colon = memchr(s, ':', len);
	if (!colon || memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)))
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) != 1)
		return -1;
	if (parse_port(colon + 1, len - hlen - 1, &out->port) < 0)
		return -1;
	out->family = AF_INET;
	return 0;
}

int ctl_format_addr(char *buf, size_t len, const struct ctl_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->addr, host, sizeof(host)))
		return -1;
	if (a->family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", host, a->port);
	else
		n = snprintf(buf, len, "%s:%u", host, a->port);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int ctl_flow_key(struct flow_key *k, const struct ctl_addr *local, const struct ctl_addr *remote)
{
	memset(k, 0, sizeof(*k));
	if (local->family != remote->family)
		return -1;
	k->family = local->family;
	k->lport = local->port;
	k->rport = remote->port;
	memcpy(k->laddr, local->addr, local->family == AF_INET6 ? 16 : 4);
	memcpy(k->raddr, remote->addr, remote->family == AF_INET6 ? 16 : 4);
	return 0;
}

void ctl_key_addrs(const struct flow_key *k, struct ctl_addr *local, struct ctl_addr *remote)
{
	size_t alen = k->family == AF_INET6 ? 16 : 4;

	memset(local, 0, sizeof(*local));
	memset(remote, 0, sizeof(*remote));
	local->family = remote->family = k->family;
	memcpy(local->addr, k->laddr, alen);
	memcpy(remote->addr, k->raddr, alen);
	local->port = k->lport;
	remote->port = k->rport;
}

/* ------------------------------------------------------------------------ */
/* Requests */

static const struct {
	const char *word;
	enum ctl_cmd cmd;
} commands[] = {
	{ "list", CTL_CMD_LIST },
	{ "lookup", CTL_CMD_LOOKUP },
	{ "counters", CTL_CMD_COUNTERS },
	{ "reload", CTL_CMD_RELOAD },
	{ "version", CTL_CMD_VERSION },
};

static bool word_is(const char *w, size_t wlen, const char *s)
{
	return strlen(s) == wlen && memcmp(w, s, wlen) == 0;
}

enum ctl_status ctl_parse_request(const char *line, size_t len, struct ctl_request *req,
				  const char **msg)
{
	const char *p, *end, *word;
	size_t wlen, i;
	bool have_local = false, have_remote = false, found = false;

	memset(req, 0, sizeof(*req));
	*msg = "";
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		*msg = "empty-request";
		return CTL_ERR_BAD_REQUEST;
	}
	if (len > CTL_LINE_MAX) {
		*msg = "line-too-long";
		return CTL_ERR_BAD_REQUEST;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c >= 0x7f) {
			*msg = "invalid-character";
			return CTL_ERR_BAD_REQUEST;
		}
	}
	if (line[0] == ' ' || line[len - 1] == ' ') {
		*msg = "stray-space";
		return CTL_ERR_BAD_REQUEST;
	}

	end = line + len;
	word = line;
	p = memchr(line, ' ', len);
	wlen = p ? (size_t)(p - line) : len;
	if (memchr(word, '=', wlen)) {
		*msg = "missing-command";
		return CTL_ERR_BAD_REQUEST;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (word_is(word, wlen, commands[i].word)) {
			req->cmd = commands[i].cmd;
			found = true;
			break;
		}
	}
	if (!found) {
		*msg = "unknown-command";
		return CTL_ERR_UNKNOWN_COMMAND;
	}

	/* key=value arguments, single spaces between them */
	p = word + wlen;
	while (p < end) {
		const char *tok = p + 1, *eq, *tend;
		size_t tlen, klen;

		tend = memchr(tok, ' ', (size_t)(end - tok));
		if (!tend)
			tend = end;
		tlen = (size_t)(tend - tok);
		if (tlen == 0) {
			*msg = "stray-space";
			return CTL_ERR_BAD_REQUEST;
		}
		eq = memchr(tok, '=', tlen);
		if (!eq || eq == tok || eq == tend - 1 || memchr(eq + 1, '=', (size_t)(tend - eq - 1))) {
			*msg = "argument-not-key-value";
			return CTL_ERR_BAD_REQUEST;
		}
		klen = (size_t)(eq - tok);
		if (req->cmd != CTL_CMD_LOOKUP) {
			*msg = "unexpected-argument";
			return CTL_ERR_BAD_REQUEST;
		}
		if (word_is(tok, klen, "local") || word_is(tok, klen, "remote")) {
			bool is_local = tok[0] == 'l';
			bool *have = is_local ? &have_local : &have_remote;
			struct ctl_addr *a = is_local ? &req->local : &req->remote;

			if (*have) {
				*msg = "duplicate-argument";
				return CTL_ERR_BAD_REQUEST;
			}
			if (ctl_parse_addr(eq + 1, (size_t)(tend - eq - 1), a) < 0) {
				*msg = is_local ? "bad-local-address" : "bad-remote-address";
				return CTL_ERR_BAD_REQUEST;
			}
			*have = true;
		} else {
			*msg = "unknown-argument";
			return CTL_ERR_BAD_REQUEST;
		}
		p = tend;
	}
	if (req->cmd == CTL_CMD_LOOKUP) {
		if (!have_local || !have_remote) {
			*msg = "lookup-needs-local-and-remote";
			return CTL_ERR_BAD_REQUEST;
		}
		if (req->local.family != req->remote.family) {
			*msg = "address-families-differ";
			return CTL_ERR_BAD_REQUEST;
		}
	}
	return CTL_OK;
}

/* ------------------------------------------------------------------------ */
/* Responses */

const char *ctl_flow_state(const struct flow *f)
{
	switch (f->state) {
	case FLOW_SYN_SENT:
	case FLOW_SYN_RCVD:
	case FLOW_KX:
		return "negotiating";
	case FLOW_ENCRYPTED:
		/* Both FINs seen: finished, lingering for late segments. */
		return f->fin_in && f->fin_out ? "closed" : "encrypted";
	case FLOW_CLOSED:
		return "closed";
	case FLOW_ABORTED:
		return "failed";
	}
	return "negotiating";
}

static int finish(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int ctl_format_flow(char *buf, size_t len, const struct flow *f, uint64_t now,
		    const char *policy)
{
	static const char hex[] = "0123456789abcdef";
	char l[CTL_ADDR_MAX], r[CTL_ADDR_MAX], sid[2 * KX_SESSID_LEN + 1], gen[48];
	struct ctl_addr la, ra;
	uint64_t age = now > f->created ? (now - f->created) / 1000000u : 0;
	size_t i;

	ctl_key_addrs(&f->key, &la, &ra);
	if (ctl_format_addr(l, sizeof(l), &la) < 0 || ctl_format_addr(r, sizeof(r), &ra) < 0)
		return -1;
	if (f->keyed) {
		for (i = 0; i < KX_SESSID_LEN; i++) {
			sid[2 * i] = hex[f->session_id[i] >> 4];
			sid[2 * i + 1] = hex[f->session_id[i] & 15];
		}
		sid[2 * KX_SESSID_LEN] = '\0';
		/* The generations of the latest bytes sent and received (the
		 * chains' lo and cur say which secrets are still held). */
		snprintf(gen, sizeof(gen), "%" PRIu64 "/%" PRIu64,
			 f->snd.high ? (f->snd.high - 1) >> SEAL2_GEN_SHIFT : 0,
			 f->rcv.high ? (f->rcv.high - 1) >> SEAL2_GEN_SHIFT : 0);
	} else {
		strcpy(sid, "-");
		strcpy(gen, "-");
	}
	return finish(snprintf(buf, len,
			       "flow local=%s remote=%s state=%s role=%c suite=%s gen=%s kx=%s sid=%s "
			       "bytes_out=%" PRIu64 " bytes_in=%" PRIu64 " policy=%s age=%" PRIu64 "\n",
			       l, r, ctl_flow_state(f), f->role == ROLE_A ? 'A' : 'B',
			       f->keyed ? conf_suite_name(f->suite) : "-", gen,
			       !f->keyed ? "-" : f->resumed ? "resumed" : "fresh", sid, f->bytes_out,
			       f->bytes_in,
			       policy && *policy ? policy : "-", age),
		      len);
}

int ctl_format_counter(char *buf, size_t len, const char *name, uint64_t value)
{
	return finish(snprintf(buf, len, "counter name=%s value=%" PRIu64 "\n", name, value), len);
}

int ctl_format_error(char *buf, size_t len, const char *code, const char *msg)
{
	size_t n, i;
	int head;

	head = snprintf(buf, len, "error code=%s msg=", code);
	if (head < 0 || (size_t)head >= len)
		return -1;
	n = (size_t)head;
	if (!msg || !*msg)
		msg = "-";
	/* Truncate long messages rather than fail: room for '\n' and NUL. */
	for (i = 0; msg[i] && n + 2 < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		buf[n++] = (c <= ' ' || c == '=' || c >= 0x7f) ? '-' : (char)c;
	}
	if (n + 2 > len)
		return -1;
	buf[n++] = '\n';
	buf[n] = '\0';
	return (int)n;
}

/* ------------------------------------------------------------------------ */
/* Client side */

const char *ctl_get(const char *line, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = line, *end = line + len;

	/* skip the first word */
	p = memchr(line, ' ', len);
	while (p && p < end) {
		const char *tok = p + 1, *tend = memchr(tok, ' ', (size_t)(end - tok));

		if (!tend)
			tend = end;
		if ((size_t)(tend - tok) > klen && memcmp(tok, key, klen) == 0 && tok[klen] == '=') {
			*vlen = (size_t)(tend - tok - (ptrdiff_t)klen - 1);
			return tok + klen + 1;
		}
		p = tend;
	}
	return NULL;
}

static bool first_word(const char *line, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && memcmp(line, w, n) == 0 && (len == n || line[n] == ' ');
}

bool ctl_is_ok(const char *line, size_t len)
{
	return first_word(line, len, "ok");
}

bool ctl_is_final(const char *line, size_t len)
{
	return first_word(line, len, "ok") || first_word(line, len, "error");
}
