/* SPDX-License-Identifier: BSD-2-Clause */
/* libtcpcrypt against a fake tcpcryptd: a thread that serves the control
 * socket protocol (doc/control.md) on a temporary unix socket named by
 * TCPCRYPT_SOCKET, answering with canned text.  The queried connections are
 * real TCP connections over loopback, so the addresses the library puts in
 * its request are checked against what the test knows about the sockets. */
#include "unit.h"

#include "tcpcrypt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A session ID as the daemon prints it: suite 0x74, then 32 bytes. */
static const char sid_hex[] =
	"74"
	"00112233445566778899aabbccddeeff"
	"0123456789abcdeffedcba9876543210";

static void init_sid_hex(void)
{
	ck_assert_uint_eq(strlen(sid_hex), TCPCRYPT_SESSID_HEXLEN);
}

/* ------------------------------------------------------------------------ */
/* The fake daemon. */

enum fake_mode {
	FAKE_ANSWER, /* read the request, write the answer, close */
	FAKE_HANG,   /* read the request, answer nothing, wait for the client */
};

struct fake {
	char dir[64];
	char path[128];
	int lfd;
	enum fake_mode mode;
	const char *answer; /* {L} and {R} become the request's addresses */
	int conns;          /* connections to serve */
	pthread_t thread;
	char req[2048];     /* the first request, as received */
	int served;
};

/* Copies the value of key= in req (up to a space or newline) into out. */
static void req_value(const char *req, const char *key, char *out, size_t size)
{
	const char *p = strstr(req, key);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != ' ' && p[n] != '\n' && n + 1 < size)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void expand(const char *tmpl, const char *l, const char *r, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = tmpl; *p && n + 1 < size;) {
		const char *sub = NULL;
		if (strncmp(p, "{L}", 3) == 0)
			sub = l;
		else if (strncmp(p, "{R}", 3) == 0)
			sub = r;
		if (sub) {
			size_t k = strlen(sub);
			if (n + k >= size)
				break;
			memcpy(out + n, sub, k);
			n += k;
			p += 3;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (int i = 0; i < f->conns; i++) {
		char req[2048], l[128], r[128], ans[8192];
		size_t n = 0;
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			break;
		/* the request line */
		while (n + 1 < sizeof(req)) {
			ssize_t k = recv(c, req + n, 1, 0);
			if (k <= 0)
				break;
			n += (size_t)k;
			if (req[n - 1] == '\n')
				break;
		}
		req[n] = '\0';
		if (i == 0)
			memcpy(f->req, req, n + 1);
		req_value(req, "local=", l, sizeof(l));
		req_value(req, "remote=", r, sizeof(r));
		if (f->mode == FAKE_ANSWER) {
			expand(f->answer, l, r, ans, sizeof(ans));
			(void)!send(c, ans, strlen(ans), MSG_NOSIGNAL);
		} else {
			char b[16];
			while (recv(c, b, sizeof(b), 0) > 0)
				;
		}
		close(c);
		__atomic_add_fetch(&f->served, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static struct fake *fake_start(enum fake_mode mode, const char *answer, int conns)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	ck_assert_ptr_nonnull(f);
	strcpy(f->dir, "/tmp/tcpcrypt-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	strcpy(sun.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 16), 0);
	f->mode = mode;
	f->answer = answer;
	f->conns = conns;
	ck_assert_int_eq(setenv("TCPCRYPT_SOCKET", f->path, 1), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

/* Waits for the fake to serve its connections and removes it. */
static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
}

/* ------------------------------------------------------------------------ */
/* TCP connections over loopback. */

struct pair {
	int client, server;
	char client_ep[80], server_ep[80]; /* as the request should name them */
};

static void format_ep(int family, const void *addr, unsigned port, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	ck_assert_ptr_nonnull(inet_ntop(family, addr, a, sizeof(a)));
	if (family == AF_INET6)
		snprintf(out, size, "[%s]:%u", a, port);
	else
		snprintf(out, size, "%s:%u", a, port);
}

/* A connected pair: listen on listen_addr of listen_family, connect from a
 * socket of client_family to connect_addr.  Returns false when the family
 * is not available here (no IPv6 on this machine). */
static bool tcp_pair(int listen_family, const char *listen_addr, int client_family,
		     const char *connect_addr, struct pair *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int lfd, port;

	memset(&ss, 0, sizeof(ss));
	lfd = socket(listen_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return false;
	if (listen_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, listen_addr, &sin->sin_addr), 1);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, listen_addr, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	}
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0) {
		close(lfd);
		return false;
	}
	ck_assert_int_eq(listen(lfd, 1), 0);
	len = sizeof(ss);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);

	p->client = socket(client_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(p->client, 0);
	memset(&ss, 0, sizeof(ss));
	if (client_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, connect_addr, &sin->sin_addr), 1);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		int zero = 0;
		setsockopt(p->client, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, connect_addr, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	}
	if (connect(p->client, (struct sockaddr *)&ss, len) < 0) {
		close(p->client);
		close(lfd);
		return false;
	}
	p->server = accept(lfd, NULL, NULL);
	ck_assert_int_ge(p->server, 0);
	close(lfd);

	/* The endpoints as the daemon names them: the IPv4 form for IPv4
	 * traffic, whatever the socket family. */
	len = sizeof(ss);
	ck_assert_int_eq(getsockname(p->server, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		format_ep(AF_INET, &sin->sin_addr, ntohs(sin->sin_port), p->server_ep, sizeof(p->server_ep));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		format_ep(AF_INET6, &sin6->sin6_addr, ntohs(sin6->sin6_port), p->server_ep, sizeof(p->server_ep));
	}
	len = sizeof(ss);
	ck_assert_int_eq(getpeername(p->server, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		format_ep(AF_INET, &sin->sin_addr, ntohs(sin->sin_port), p->client_ep, sizeof(p->client_ep));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		format_ep(AF_INET6, &sin6->sin6_addr, ntohs(sin6->sin6_port), p->client_ep, sizeof(p->client_ep));
	}
	return true;
}

static void v4_pair(struct pair *p)
{
	ck_assert_msg(tcp_pair(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1", p), "no TCP over 127.0.0.1");
}

static void pair_close(struct pair *p)
{
	close(p->client);
	close(p->server);
}

/* ------------------------------------------------------------------------ */
/* Running one query against a canned answer. */

#define FLOW(state, role, sid) \
	"flow local={L} remote={R} state=" state " role=" role " suite=aes128 gen=0/0 sid=" sid \
	" bytes_out=6 bytes_in=6 policy=private-or-clear age=1\n"

struct result {
	int rc, err;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	enum tcpcrypt_role role;
};

/* Queries the client end of a fresh IPv4 pair against answer. */
static struct result query(const char *answer)
{
	struct result r;
	struct pair p;
	struct fake *f = fake_start(FAKE_ANSWER, answer, 1);

	v4_pair(&p);
	memset(r.sid, 0xa5, sizeof(r.sid));
	r.role = (enum tcpcrypt_role)7;
	errno = 0;
	r.rc = tcpcrypt_getsessid(p.client, r.sid, &r.role);
	r.err = errno;
	fake_stop(f);
	pair_close(&p);
	return r;
}

/* A failed call must leave the caller's buffers exactly as they were. */
static void assert_untouched(const struct result *r)
{
	for (size_t i = 0; i < TCPCRYPT_SESSID_LEN; i++)
		ck_assert_msg(r->sid[i] == 0xa5, "sid byte %zu written on error", i);
	ck_assert_int_eq((int)r->role, 7);
}

static void expect_error(const char *answer, int want)
{
	struct result r = query(answer);
	ck_assert_msg(r.rc == -1 && r.err == want, "answer \"%s\": rc %d errno %d (%s), want errno %d (%s)",
		      answer, r.rc, r.err, strerror(r.err), want, strerror(want));
	assert_untouched(&r);
}

static void expect_sid(const char *answer, enum tcpcrypt_role want_role)
{
	struct result r = query(answer);
	unsigned char want[TCPCRYPT_SESSID_LEN];

	ck_assert_msg(r.rc == 0, "answer \"%s\": rc %d errno %s", answer, r.rc, strerror(r.err));
	unit_unhex(sid_hex, want, sizeof(want));
	ck_assert_mem_eq(r.sid, want, sizeof(want));
	ck_assert_int_eq(r.role, want_role);
}

/* ------------------------------------------------------------------------ */
/* Success */

START_TEST(test_encrypted_role_a)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\n", sid_hex);
	expect_sid(ans, TCPCRYPT_ROLE_A);
}
END_TEST

START_TEST(test_encrypted_role_b)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "B", "%s") "ok\n", sid_hex);
	expect_sid(ans, TCPCRYPT_ROLE_B);
}
END_TEST

/* A lingering connection that had keys still has its session ID. */
START_TEST(test_closed_with_keys)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("closed", "A", "%s") "ok\n", sid_hex);
	expect_sid(ans, TCPCRYPT_ROLE_A);
}
END_TEST

/* Unknown keys are ignored: the record may grow. */
START_TEST(test_extra_keys_ignored)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans),
		 "flow local={L} remote={R} state=encrypted role=B suite=aes128 gen=0/0 sid=%s "
		 "bytes_out=6 bytes_in=6 policy=private age=1 future=yes\nok count=1\n",
		 sid_hex);
	expect_sid(ans, TCPCRYPT_ROLE_B);
}
END_TEST

/* The exact request text, and role may be NULL. */
START_TEST(test_request_ipv4)
{
	char ans[512], want[256];
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	struct pair p;
	struct fake *f;

	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\n", sid_hex);
	f = fake_start(FAKE_ANSWER, ans, 2);
	v4_pair(&p);
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), 0);
	snprintf(want, sizeof(want), "lookup local=%s remote=%s\n", p.client_ep, p.server_ep);
	ck_assert_str_eq(f->req, want);
	/* and from the accepting end: local and remote swap */
	ck_assert_int_eq(tcpcrypt_getsessid(p.server, sid, NULL), 0);
	fake_stop(f);
	pair_close(&p);
}
END_TEST

START_TEST(test_request_ipv6)
{
	char ans[512], want[256];
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	enum tcpcrypt_role role;
	struct pair p;
	struct fake *f;

	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "B", "%s") "ok\n", sid_hex);
	f = fake_start(FAKE_ANSWER, ans, 1);
	if (!tcp_pair(AF_INET6, "::1", AF_INET6, "::1", &p)) {
		fprintf(stderr, "test_request_ipv6: no IPv6 loopback here, not tested\n");
		/* let the fake finish */
		f->conns = 0;
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, f->path);
		(void)!connect(s, (struct sockaddr *)&sun, sizeof(sun));
		close(s);
		fake_stop(f);
		return;
	}
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, &role), 0);
	ck_assert_int_eq(role, TCPCRYPT_ROLE_B);
	snprintf(want, sizeof(want), "lookup local=%s remote=%s\n", p.client_ep, p.server_ep);
	ck_assert_msg(strncmp(f->req, "lookup local=[::1]:", 19) == 0, "request %s", f->req);
	ck_assert_msg(strstr(f->req, " remote=[::1]:") != NULL, "request %s", f->req);
	ck_assert_str_eq(f->req, want);
	fake_stop(f);
	pair_close(&p);
}
END_TEST

/* An IPv6 socket talking IPv4 (mapped addresses) asks in IPv4. */
START_TEST(test_request_mapped)
{
	char ans[512], want[256];
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	struct pair p;
	struct fake *f;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\n", sid_hex);
	f = fake_start(FAKE_ANSWER, ans, 1);
	ck_assert_msg(tcp_pair(AF_INET, "127.0.0.1", AF_INET6, "::ffff:127.0.0.1", &p),
		      "cannot connect an IPv6 socket to ::ffff:127.0.0.1");
	/* the client really is an IPv6 socket with a mapped address */
	ck_assert_int_eq(getsockname(p.client, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), 0);
	snprintf(want, sizeof(want), "lookup local=%s remote=%s\n", p.client_ep, p.server_ep);
	ck_assert_msg(strncmp(want, "lookup local=127.0.0.1:", 23) == 0, "%s", want);
	ck_assert_str_eq(f->req, want);
	fake_stop(f);
	pair_close(&p);
}
END_TEST

/* "127.0.0.1:80" -> "[::ffff:127.0.0.1]:80" */
static void mapped_ep(const char *ep, char *out, size_t size)
{
	const char *colon = strrchr(ep, ':');
	snprintf(out, size, "[::ffff:%.*s]%s", (int)(colon - ep), ep, colon);
}

/* The daemon may answer with the mapped form; it means the IPv4 address. */
START_TEST(test_answer_mapped_form)
{
	char ans[512], l[80], r[80];
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	struct pair p;
	struct fake *f;

	init_sid_hex();
	v4_pair(&p);
	mapped_ep(p.client_ep, l, sizeof(l));
	mapped_ep(p.server_ep, r, sizeof(r));
	snprintf(ans, sizeof(ans),
		 "flow local=%s remote=%s state=encrypted role=A suite=aes128 gen=0/0 sid=%s "
		 "bytes_out=0 bytes_in=0 policy=private age=0\nok\n",
		 l, r, sid_hex);
	f = fake_start(FAKE_ANSWER, ans, 1);
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), 0);
	fake_stop(f);
	pair_close(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Not encrypted, not yet encrypted */

START_TEST(test_not_found)
{
	expect_error("error code=not-found msg=no-such-connection\n", ENODATA);
}
END_TEST

START_TEST(test_closed_without_keys)
{
	expect_error(FLOW("closed", "A", "-") "ok\n", ENODATA);
	expect_error(FLOW("failed", "B", "-") "ok\n", ENODATA);
}
END_TEST

START_TEST(test_negotiating)
{
	char ans[512];
	expect_error(FLOW("negotiating", "A", "-") "ok\n", EINPROGRESS);
	/* keys may exist before the exchange is confirmed: still no sid */
	snprintf(ans, sizeof(ans), FLOW("negotiating", "B", "%s") "ok\n", sid_hex);
	expect_error(ans, EINPROGRESS);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed answers */

START_TEST(test_short_sid)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%.64s") "ok\n", sid_hex);
	expect_error(ans, EPROTO);
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%.65s") "ok\n", sid_hex);
	expect_error(ans, EPROTO);
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s00") "ok\n", sid_hex);
	expect_error(ans, EPROTO);
}
END_TEST

START_TEST(test_non_hex_sid)
{
	char ans[512], bad[TCPCRYPT_SESSID_HEXLEN + 1];
	init_sid_hex();
	memcpy(bad, sid_hex, sizeof(bad));
	bad[40] = 'g';
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\n", bad);
	expect_error(ans, EPROTO);
	memcpy(bad, sid_hex, sizeof(bad));
	bad[65] = 'F'; /* the protocol writes lowercase */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\n", bad);
	expect_error(ans, EPROTO);
}
END_TEST

START_TEST(test_missing_final_line)
{
	char ans[512];
	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s"), sid_hex);
	expect_error(ans, EPROTO);
	/* final line without its newline */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok", sid_hex);
	expect_error(ans, EPROTO);
	/* nothing at all */
	expect_error("", EPROTO);
}
END_TEST

START_TEST(test_garbage)
{
	char big[6000];

	expect_error("hello world\n", EPROTO);
	expect_error("okay\n", EPROTO);
	expect_error("ok\n", EPROTO); /* no flow record */
	expect_error("error\n", EPROTO); /* no code */
	expect_error("error code=bad-request msg=what\n", EPROTO);
	expect_error("error code=not-found  msg=double-space\n", EPROTO);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_error(big, EPROTO);
}
END_TEST

START_TEST(test_inconsistent_records)
{
	char ans[1024];
	init_sid_hex();
	/* encrypted without keys */
	expect_error(FLOW("encrypted", "A", "-") "ok\n", EPROTO);
	/* bad role, bad state */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "C", "%s") "ok\n", sid_hex);
	expect_error(ans, EPROTO);
	snprintf(ans, sizeof(ans), FLOW("dancing", "A", "%s") "ok\n", sid_hex);
	expect_error(ans, EPROTO);
	/* two records */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") FLOW("encrypted", "A", "%s") "ok\n",
		 sid_hex, sid_hex);
	expect_error(ans, EPROTO);
	/* a record and an error */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "error code=not-found msg=x\n", sid_hex);
	expect_error(ans, EPROTO);
	/* a different connection than the one asked for */
	snprintf(ans, sizeof(ans),
		 "flow local=192.0.2.1:1 remote={R} state=encrypted role=A suite=aes128 gen=0/0 sid=%s\nok\n",
		 sid_hex);
	expect_error(ans, EPROTO);
	/* no sid key */
	expect_error("flow local={L} remote={R} state=encrypted role=A\nok\n", EPROTO);
	/* a token without '=' */
	snprintf(ans, sizeof(ans), "flow local={L} remote={R} state=encrypted role=A sid=%s junk\nok\n",
		 sid_hex);
	expect_error(ans, EPROTO);
	/* data after the final line */
	snprintf(ans, sizeof(ans), FLOW("encrypted", "A", "%s") "ok\nok\n", sid_hex);
	expect_error(ans, EPROTO);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The daemon cannot be reached, or does not answer */

START_TEST(test_daemon_absent)
{
	struct pair p;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	char dir[] = "/tmp/tcpcrypt-unit.XXXXXX", path[128];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s;

	memset(sid, 0xa5, sizeof(sid));
	v4_pair(&p);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	setenv("TCPCRYPT_SOCKET", path, 1);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* a socket file nobody listens on: a crashed daemon */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(s);
	unlink(path);
	rmdir(dir);

	for (size_t i = 0; i < sizeof(sid); i++)
		ck_assert_uint_eq(sid[i], 0xa5);
	pair_close(&p);
}
END_TEST

START_TEST(test_daemon_silent)
{
	struct pair p;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	struct timespec t0, t1;
	struct fake *f = fake_start(FAKE_HANG, NULL, 1);
	double dt;

	v4_pair(&p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(dt >= 1.9 && dt < 4, "gave up after %.2fs, want 2s", dt);
	fake_stop(f);
	pair_close(&p);
}
END_TEST

START_TEST(test_socket_path_too_long)
{
	struct pair p;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	setenv("TCPCRYPT_SOCKET", path, 1);
	v4_pair(&p);
	ck_assert_int_eq(tcpcrypt_getsessid(p.client, sid, NULL), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	pair_close(&p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bad file descriptors: no daemon is asked */

static void no_daemon(void)
{
	setenv("TCPCRYPT_SOCKET", "/nonexistent/tcpcrypt-unit.sock", 1);
}

START_TEST(test_not_a_socket)
{
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	no_daemon();
	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(fd, sid, NULL), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	close(fd);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(fd, sid, NULL), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(tcpcrypt_getsessid(-1, sid, NULL), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_not_connected)
{
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	no_daemon();
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(fd, sid, NULL), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	close(fd);
}
END_TEST

START_TEST(test_not_tcp)
{
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int sv[2], u;

	no_daemon();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(sv[0], sid, NULL), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	close(sv[0]);
	close(sv[1]);

	u = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(connect(u, (struct sockaddr *)&sin, sizeof(sin)), 0);
	errno = 0;
	ck_assert_int_eq(tcpcrypt_getsessid(u, sid, NULL), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	close(u);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Threads: no shared state, every answer goes to the right caller */

#define THREADS 4
#define QUERIES 25

struct worker {
	int fd;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	enum tcpcrypt_role role;

	for (int i = 0; i < QUERIES; i++)
		if (tcpcrypt_getsessid(w->fd, sid, &role) == 0 && role == TCPCRYPT_ROLE_B && sid[0] == 0x74)
			w->ok++;
	return NULL;
}

START_TEST(test_threads)
{
	char ans[512];
	struct pair p[THREADS];
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct fake *f;

	init_sid_hex();
	snprintf(ans, sizeof(ans), FLOW("encrypted", "B", "%s") "ok\n", sid_hex);
	f = fake_start(FAKE_ANSWER, ans, THREADS * QUERIES);
	for (int i = 0; i < THREADS; i++) {
		v4_pair(&p[i]);
		w[i].fd = p[i].client;
		w[i].ok = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].ok, QUERIES);
		pair_close(&p[i]);
	}
	fake_stop(f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Helpers */

START_TEST(test_socket_path)
{
	unsetenv("TCPCRYPT_SOCKET");
	ck_assert_str_eq(tcpcrypt_socket_path(), "/run/tcpcrypt/tcpcryptd.sock");
	setenv("TCPCRYPT_SOCKET", "", 1);
	ck_assert_str_eq(tcpcrypt_socket_path(), TCPCRYPT_DEFAULT_SOCKET);
	setenv("TCPCRYPT_SOCKET", "/tmp/x.sock", 1);
	ck_assert_str_eq(tcpcrypt_socket_path(), "/tmp/x.sock");
}
END_TEST

START_TEST(test_sessid_hex)
{
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	char out[TCPCRYPT_SESSID_HEXLEN + 1];

	init_sid_hex();
	unit_unhex(sid_hex, sid, sizeof(sid));
	memset(out, 'z', sizeof(out));
	ck_assert_int_eq(tcpcrypt_sessid_hex(sid, out), 66);
	ck_assert_str_eq(out, sid_hex);
	ck_assert_int_eq(tcpcrypt_sessid_hex(NULL, out), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(tcpcrypt_getsessid(0, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("libtcpcrypt");
	TCase *tc;

	tc = tcase_create("success");
	tcase_add_test(tc, test_encrypted_role_a);
	tcase_add_test(tc, test_encrypted_role_b);
	tcase_add_test(tc, test_closed_with_keys);
	tcase_add_test(tc, test_extra_keys_ignored);
	tcase_add_test(tc, test_request_ipv4);
	tcase_add_test(tc, test_request_ipv6);
	tcase_add_test(tc, test_request_mapped);
	tcase_add_test(tc, test_answer_mapped_form);
	suite_add_tcase(s, tc);

	tc = tcase_create("no-sid");
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_closed_without_keys);
	tcase_add_test(tc, test_negotiating);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, test_short_sid);
	tcase_add_test(tc, test_non_hex_sid);
	tcase_add_test(tc, test_missing_final_line);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_inconsistent_records);
	suite_add_tcase(s, tc);

	tc = tcase_create("daemon");
	tcase_add_test(tc, test_daemon_absent);
	tcase_add_test(tc, test_daemon_silent);
	tcase_add_test(tc, test_socket_path_too_long);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd");
	tcase_add_test(tc, test_not_a_socket);
	tcase_add_test(tc, test_not_connected);
	tcase_add_test(tc, test_not_tcp);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, test_threads);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_socket_path);
	tcase_add_test(tc, test_sessid_hex);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(make_suite)
