/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libtcpcrypt: the session ID of a tcpcrypt connection, from tcpcryptd's
 * control socket (doc/control.md).
 *
 * One lookup is one short-lived unix stream connection:
 *
 *     -> lookup local=ADDR:PORT remote=ADDR:PORT
 *     <- flow local=... remote=... state=... role=A|B suite=... sid=... ...
 *     <- ok
 * or
 *     <- error code=not-found msg=no-such-connection
 *
 * No static mutable state: everything lives on the caller's stack, so every
 * function is thread-safe.  Nothing is written to the caller's buffers
 * unless the whole answer parsed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tcpcrypt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Bound on everything: the daemon must accept, take the request and answer
 * within this many milliseconds. */
#define TC_TIMEOUT_MS 2000

/* A lookup answer is one record and one final line, a few hundred bytes.
 * Anything longer is not an answer to our question. */
#define TC_ANSWER_MAX 4096

/* An endpoint in the form the control protocol compares: IPv4 (mapped
 * addresses already unmapped) or IPv6, and a port. */
struct tc_ep {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned port;
};

const char *tcpcrypt_socket_path(void)
{
	const char *p;
#ifdef __GLIBC__
	p = secure_getenv("TCPCRYPT_SOCKET");
#else
	/* No secure_getenv: ignore the variable when privileges differ. */
	p = (getuid() == geteuid() && getgid() == getegid()) ? getenv("TCPCRYPT_SOCKET") : NULL;
#endif
	return (p && *p) ? p : TCPCRYPT_DEFAULT_SOCKET;
}

int tcpcrypt_sessid_hex(const unsigned char sid[TCPCRYPT_SESSID_LEN],
			char out[2 * TCPCRYPT_SESSID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	if (!sid || !out) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < TCPCRYPT_SESSID_LEN; i++) {
		out[2 * i] = digits[sid[i] >> 4];
		out[2 * i + 1] = digits[sid[i] & 0x0f];
	}
	out[TCPCRYPT_SESSID_HEXLEN] = '\0';
	return TCPCRYPT_SESSID_HEXLEN;
}

/* ---------------------------------------------------------------------------
 * Socket addresses. */

static int ep_from_sockaddr(const struct sockaddr_storage *ss, socklen_t len, struct tc_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		ep->family = AF_INET;
		memcpy(ep->addr, &sin->sin_addr, 4);
		ep->port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			/* The daemon sees the IPv4 packets: ask in IPv4. */
			ep->family = AF_INET;
			memcpy(ep->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			ep->family = AF_INET6;
			memcpy(ep->addr, &sin6->sin6_addr, 16);
		}
		ep->port = ntohs(sin6->sin6_port);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

/* "192.0.2.1:443" or "[2001:db8::1]:443" into buf (at least 64 bytes). */
static void ep_format(const struct tc_ep *ep, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	/* inet_ntop cannot fail here: known family, large enough buffer. */
	if (!inet_ntop(ep->family, ep->addr, a, sizeof(a)))
		a[0] = '\0';
	if (ep->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", a, ep->port);
	else
		snprintf(buf, size, "%s:%u", a, ep->port);
}

/* Parses an address value of the protocol; mapped IPv6 becomes IPv4. */
static bool ep_parse(const char *s, size_t n, struct tc_ep *ep)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *colon, *p;
	size_t alen;
	unsigned long port = 0;

	memset(ep, 0, sizeof(*ep));
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close + 1 >= s + n || close[1] != ':')
			return false;
		alen = (size_t)(close - s - 1);
		if (alen == 0 || alen >= sizeof(a))
			return false;
		memcpy(a, s + 1, alen);
		a[alen] = '\0';
		if (inet_pton(AF_INET6, a, ep->addr) != 1)
			return false;
		ep->family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)ep->addr)) {
			memmove(ep->addr, ep->addr + 12, 4);
			memset(ep->addr + 4, 0, 12);
			ep->family = AF_INET;
		}
		colon = close + 1;
	} else {
		colon = memchr(s, ':', n);
		if (!colon)
			return false;
		alen = (size_t)(colon - s);
		if (alen == 0 || alen >= sizeof(a))
			return false;
		memcpy(a, s, alen);
		a[alen] = '\0';
		if (inet_pton(AF_INET, a, ep->addr) != 1)
			return false;
		ep->family = AF_INET;
	}
	p = colon + 1;
	if (p >= s + n || (size_t)(s + n - p) > 5)
		return false;
	for (; p < s + n; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return false;
	ep->port = (unsigned)port;
	return true;
}

static bool ep_equal(const struct tc_ep *x, const struct tc_ep *y)
{
	size_t len = x->family == AF_INET ? 4 : 16;
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, len) == 0;
}

/* The connection's two endpoints, or -1 with errno as documented. */
static int socket_endpoints(int fd, struct tc_ep *local, struct tc_ep *remote)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int v;
	socklen_t vlen;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	vlen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vlen) < 0)
		return -1;
	if (v != SOCK_STREAM) {
		errno = EAFNOSUPPORT;
		return -1;
	}
#ifdef SO_PROTOCOL
	vlen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vlen) == 0 && v != IPPROTO_TCP) {
		errno = EAFNOSUPPORT; /* SCTP and MPTCP are not what tcpcryptd sees */
		return -1;
	}
#endif
	if (ep_from_sockaddr(&ss, len, local) < 0)
		return -1;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ep_from_sockaddr(&ss, len, remote) < 0)
		return -1;
	/* An IPv6 socket talking to an IPv4 peer has both ends mapped. */
	if (local->family != remote->family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Talking to the daemon. */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connected control socket, or -1 with connect()'s errno. */
static int ctl_connect(void)
{
	const char *path = tcpcrypt_socket_path();
	struct sockaddr_un sun;
	struct timeval tv = { TC_TIMEOUT_MS / 1000, (TC_TIMEOUT_MS % 1000) * 1000 };
	size_t plen = strlen(path);
	int s, e;

	if (plen >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen + 1);

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	/* SO_SNDTIMEO also bounds a unix connect() to a full backlog. */
	if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	if (connect(s, (struct sockaddr *)&sun, (socklen_t)sizeof(sun)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS)
			errno = ETIMEDOUT;
		goto fail;
	}
	return s;
fail:
	e = errno;
	close(s);
	errno = e;
	return -1;
}

static int send_all(int s, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(s, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* True when line [p, p+n) starts with the word word: word alone, or
 * followed by a space. */
static bool is_word(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && memcmp(p, word, w) == 0 && (n == w || p[w] == ' ');
}

/* Reads until the end of the first final line.  Returns the number of bytes
 * in buf (the last being that line's '\n'), or -1 with errno (EPROTO for EOF
 * before a final line or an over-long answer, ETIMEDOUT). */
static ssize_t read_answer(int s, char *buf, size_t size)
{
	size_t have = 0, line = 0; /* line: start of the line being read */
	long long deadline = now_ms() + TC_TIMEOUT_MS;

	for (;;) {
		/* Look at complete lines we have not examined yet. */
		char *nl;
		while ((nl = memchr(buf + line, '\n', have - line)) != NULL) {
			size_t end = (size_t)(nl - buf) + 1;
			size_t n = end - line - 1;
			if (is_word(buf + line, n, "ok") || is_word(buf + line, n, "error")) {
				if (end != have) {
					/* One request, one answer: nothing may follow. */
					errno = EPROTO;
					return -1;
				}
				return (ssize_t)have;
			}
			line = end;
		}
		if (have == size) {
			errno = EPROTO;
			return -1;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = recv(s, buf + have, size - have, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			if (errno == ECONNRESET)
				errno = EPROTO; /* the daemon hung up on us */
			return -1;
		}
		if (n == 0) {
			errno = EPROTO; /* EOF before the final line */
			return -1;
		}
		/* A NUL byte is never part of a valid answer. */
		if (memchr(buf + have, '\0', (size_t)n)) {
			errno = EPROTO;
			return -1;
		}
		have += (size_t)n;
	}
}

/* ---------------------------------------------------------------------------
 * Parsing the answer. */

/* The fields of a flow record that the library uses. */
struct tc_flow {
	bool have_local, have_remote, have_state, have_role, have_sid;
	struct tc_ep local, remote;
	enum { ST_NEGOTIATING, ST_ENCRYPTED, ST_CLOSED, ST_FAILED } state;
	enum tcpcrypt_role role;
	bool keys; /* sid is not "-" */
	unsigned char sid[TCPCRYPT_SESSID_LEN];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* the protocol writes lowercase only */
}

static bool eq(const char *v, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(v, lit, n) == 0;
}

/* One key=value of a flow record.  Unknown keys are ignored (the protocol
 * may grow); the keys we use must be present once and valid. */
static bool flow_field(struct tc_flow *f, const char *k, size_t kn, const char *v, size_t vn)
{
	if (eq(k, kn, "local")) {
		if (f->have_local || !ep_parse(v, vn, &f->local))
			return false;
		f->have_local = true;
	} else if (eq(k, kn, "remote")) {
		if (f->have_remote || !ep_parse(v, vn, &f->remote))
			return false;
		f->have_remote = true;
	} else if (eq(k, kn, "state")) {
		if (f->have_state)
			return false;
		if (eq(v, vn, "negotiating"))
			f->state = ST_NEGOTIATING;
		else if (eq(v, vn, "encrypted"))
			f->state = ST_ENCRYPTED;
		else if (eq(v, vn, "closed"))
			f->state = ST_CLOSED;
		else if (eq(v, vn, "failed"))
			f->state = ST_FAILED;
		else
			return false;
		f->have_state = true;
	} else if (eq(k, kn, "role")) {
		if (f->have_role)
			return false;
		if (eq(v, vn, "A"))
			f->role = TCPCRYPT_ROLE_A;
		else if (eq(v, vn, "B"))
			f->role = TCPCRYPT_ROLE_B;
		else
			return false;
		f->have_role = true;
	} else if (eq(k, kn, "sid")) {
		if (f->have_sid)
			return false;
		if (eq(v, vn, "-")) {
			f->keys = false;
		} else {
			if (vn != TCPCRYPT_SESSID_HEXLEN)
				return false;
			for (size_t i = 0; i < TCPCRYPT_SESSID_LEN; i++) {
				int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
				if (hi < 0 || lo < 0)
					return false;
				f->sid[i] = (unsigned char)(hi << 4 | lo);
			}
			f->keys = true;
		}
		f->have_sid = true;
	}
	return true;
}

/* Splits the line [p, p+n) after its first word into key=value tokens
 * separated by single spaces; calls field() for each (may be NULL to only
 * check the syntax).  Returns false on a syntax error. */
static bool parse_kv(const char *p, size_t n, size_t word,
		     bool (*field)(void *, const char *, size_t, const char *, size_t), void *ctx)
{
	size_t i = word;

	if (i == n)
		return true;
	if (p[i] != ' ')
		return false;
	i++;
	for (;;) {
		size_t start = i, eqpos = 0;
		bool seen_eq = false;
		while (i < n && p[i] != ' ') {
			if (p[i] == '=' && !seen_eq) {
				seen_eq = true;
				eqpos = i;
			} else if (p[i] == '=' || (unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e) {
				return false; /* a second '=', control or non-ASCII */
			}
			i++;
		}
		/* "key=value", both non-empty */
		if (!seen_eq || eqpos == start || eqpos + 1 == i)
			return false;
		if (field && !field(ctx, p + start, eqpos - start, p + eqpos + 1, i - eqpos - 1))
			return false;
		if (i == n)
			return true;
		i++; /* the single space */
		if (i == n)
			return false; /* trailing space */
	}
}

static bool flow_field_cb(void *ctx, const char *k, size_t kn, const char *v, size_t vn)
{
	return flow_field(ctx, k, kn, v, vn);
}

struct tc_err {
	bool have_code;
	bool not_found;
	bool permission;
};

static bool err_field_cb(void *ctx, const char *k, size_t kn, const char *v, size_t vn)
{
	struct tc_err *e = ctx;
	if (eq(k, kn, "code")) {
		if (e->have_code)
			return false;
		e->have_code = true;
		e->not_found = eq(v, vn, "not-found");
		e->permission = eq(v, vn, "permission");
	}
	return true;
}

/* Interprets a complete answer (ends with the final line).  On success fills
 * *out and returns 0; else -1 with errno. */
static int parse_answer(const char *buf, size_t len, const struct tc_ep *local,
			const struct tc_ep *remote, struct tc_flow *out)
{
	struct tc_flow f;
	bool have_flow = false;
	size_t pos = 0;

	memset(&f, 0, sizeof(f));
	while (pos < len) {
		const char *p = buf + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = (size_t)(nl - p); /* read_answer guarantees the '\n' */
		pos += n + 1;

		if (is_word(p, n, "flow")) {
			if (have_flow || !parse_kv(p, n, 4, flow_field_cb, &f))
				goto proto;
			have_flow = true;
		} else if (is_word(p, n, "ok")) {
			if (pos != len || !have_flow || !parse_kv(p, n, 2, NULL, NULL))
				goto proto;
		} else if (is_word(p, n, "error")) {
			struct tc_err e = { false, false, false };
			if (pos != len || have_flow || !parse_kv(p, n, 5, err_field_cb, &e) || !e.have_code)
				goto proto;
			errno = e.not_found ? ENODATA : e.permission ? EACCES : EPROTO;
			return -1;
		} else {
			goto proto;
		}
	}
	if (!have_flow || !f.have_local || !f.have_remote || !f.have_state || !f.have_role || !f.have_sid)
		goto proto;
	/* The answer must be about the connection we asked for. */
	if (!ep_equal(&f.local, local) || !ep_equal(&f.remote, remote))
		goto proto;
	/* An encrypted connection has keys.  (A negotiating one may, depending
	 * on how far the key exchange got; it is reported as in progress.) */
	if (f.state == ST_ENCRYPTED && !f.keys)
		goto proto;
	*out = f;
	return 0;
proto:
	errno = EPROTO;
	return -1;
}

/* ---------------------------------------------------------------------------
 * The API. */

int tcpcrypt_getsessid(int fd, unsigned char sid[TCPCRYPT_SESSID_LEN], enum tcpcrypt_role *role)
{
	struct tc_ep local, remote;
	struct tc_flow f;
	char req[256], l[64], r[64];
	char buf[TC_ANSWER_MAX];
	ssize_t len;
	int s, n, e;

	if (!sid) {
		errno = EINVAL;
		return -1;
	}
	if (socket_endpoints(fd, &local, &remote) < 0)
		return -1;
	ep_format(&local, l, sizeof(l));
	ep_format(&remote, r, sizeof(r));
	n = snprintf(req, sizeof(req), "lookup local=%s remote=%s\n", l, r);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		errno = EPROTO; /* cannot happen: addresses are short */
		return -1;
	}

	s = ctl_connect();
	if (s < 0)
		return -1;
	if (send_all(s, req, (size_t)n) < 0) {
		e = errno;
		close(s);
		errno = (e == EPIPE || e == ECONNRESET) ? EPROTO : e;
		return -1;
	}
	len = read_answer(s, buf, sizeof(buf));
	e = errno;
	close(s);
	if (len < 0) {
		errno = e;
		return -1;
	}
	if (parse_answer(buf, (size_t)len, &local, &remote, &f) < 0)
		return -1;

	switch (f.state) {
	case ST_NEGOTIATING:
		errno = EINPROGRESS;
		return -1;
	case ST_ENCRYPTED:
	case ST_CLOSED:
	case ST_FAILED:
		if (!f.keys) {
			errno = ENODATA; /* ended before it was encrypted */
			return -1;
		}
		break;
	}
	memcpy(sid, f.sid, TCPCRYPT_SESSID_LEN);
	if (role)
		*role = f.role;
	return 0;
}
