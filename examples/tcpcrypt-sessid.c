/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpcrypt-sessid: libtcpcrypt by example.
 *
 *     tcpcrypt-sessid [-6] [--wait SECONDS] listen [ADDR] PORT
 *     tcpcrypt-sessid [-6] [--wait SECONDS] connect HOST PORT
 *
 * Opens one TCP connection (accepting one, or connecting), exchanges a line
 * "hello" each way so that tcpcryptd runs the key exchange, and prints the
 * connection's session ID and this end's role:
 *
 *     sid=a02d8446...  role=A
 *
 * Both ends of an encrypted connection print the same sid; an application
 * would authenticate it (compare it, sign it, bind a password to it).  When
 * the connection is not encrypted, or tcpcryptd cannot be asked, it says so
 * on stderr and exits 1.  --wait retries for up to SECONDS while the
 * connection is still negotiating (EINPROGRESS).
 *
 * The control socket is $TCPCRYPT_SOCKET, else /run/tcpcrypt/tcpcryptd.sock.
 */
#include <tcpcrypt.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "tcpcrypt-sessid";

/* Time allowed for the peer to answer each step of the exchange. */
#define IO_TIMEOUT_S 30

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-6] [--wait SECONDS] listen [ADDR] PORT\n"
		"       %s [-6] [--wait SECONDS] connect HOST PORT\n"
		"Open one TCP connection, exchange a line, print its tcpcrypt session ID\n"
		"and this end's role (sid=<66 hex> role=A|B).  Exit 1 when the connection\n"
		"is not encrypted or tcpcryptd cannot be asked.\n"
		"\n"
		"  -6, --ipv6          use IPv6 (default IPv4)\n"
		"  -w, --wait SECONDS  retry while the connection is still negotiating\n"
		"  -h, --help          show this help\n"
		"\n"
		"Control socket: $TCPCRYPT_SOCKET, else %s\n",
		prog, prog, TCPCRYPT_DEFAULT_SOCKET);
}

static void set_timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int open_socket(int family, const char *host, const char *port, int listening)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = listening ? AI_PASSIVE : 0;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: %s port %s: %s\n", prog, host ? host : "*", port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (listening) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
				break;
		} else {
			set_timeouts(fd);
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		}
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	if (fd < 0)
		fprintf(stderr, "%s: %s %s port %s: %s\n", prog, listening ? "listen on" : "connect to",
			host ? host : "*", port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* Reads one line (up to '\n') and checks that it is want. */
static int read_line(int fd, const char *want)
{
	char line[64];
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = recv(fd, &c, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "%s: reading the peer's line: %s\n", prog,
				r < 0 ? strerror(errno) : "connection closed");
			return -1;
		}
		if (c == '\n')
			break;
		if (n + 1 >= sizeof(line)) {
			fprintf(stderr, "%s: the peer's line is too long\n", prog);
			return -1;
		}
		line[n++] = c;
	}
	line[n] = '\0';
	if (strcmp(line, want) != 0) {
		fprintf(stderr, "%s: the peer said \"%s\", expected \"%s\"\n", prog, line, want);
		return -1;
	}
	return 0;
}

static int write_line(int fd, const char *s)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s\n", s);

	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "%s: sending a line: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

/* The session ID, retrying while the key exchange is in progress. */
static int get_sessid(int fd, double wait_s, unsigned char sid[TCPCRYPT_SESSID_LEN],
		      enum tcpcrypt_role *role)
{
	struct timespec start, now, pause = { 0, 50 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (tcpcrypt_getsessid(fd, sid, role) == 0)
			return 0;
		if (errno != EINPROGRESS)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= wait_s)
			break;
		nanosleep(&pause, NULL);
	}

	int e = errno;
	switch (e) {
	case ENODATA:
		fprintf(stderr, "%s: connection not encrypted: %s\n", prog, strerror(e));
		break;
	case EINPROGRESS:
		fprintf(stderr, "%s: connection still negotiating, no session ID yet: %s\n", prog,
			strerror(e));
		break;
	case ENOENT:
	case ECONNREFUSED:
	case EACCES:
	case ETIMEDOUT:
		fprintf(stderr, "%s: cannot ask tcpcryptd at %s: %s\n", prog, tcpcrypt_socket_path(),
			strerror(e));
		break;
	default:
		fprintf(stderr, "%s: tcpcrypt_getsessid: %s\n", prog, strerror(e));
		break;
	}
	return -1;
}

/* Orderly end: we are done writing; wait until the peer is done too, so
 * that neither end closes before the other has asked for the session ID. */
static void finish(int fd)
{
	char buf[256];

	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ipv6", no_argument, NULL, '6' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int family = AF_INET, c, fd;
	double wait_s = 0;
	const char *mode, *host, *port;
	unsigned char sid[TCPCRYPT_SESSID_LEN];
	char hex[TCPCRYPT_SESSID_HEXLEN + 1];
	enum tcpcrypt_role role;

	while ((c = getopt_long(argc, argv, "+6w:h", opts, NULL)) != -1) {
		switch (c) {
		case '6':
			family = AF_INET6;
			break;
		case 'w': {
			char *end;
			errno = 0;
			wait_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(wait_s >= 0 && wait_s <= 3600)) {
				fprintf(stderr, "%s: --wait: not a number of seconds (0..3600): %s\n",
					prog, optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	mode = argv[0];
	if (strcmp(mode, "listen") == 0 && (argc == 2 || argc == 3)) {
		int lfd;
		host = argc == 3 ? argv[1] : NULL;
		port = argv[argc - 1];
		lfd = open_socket(family, host, port, 1);
		if (lfd < 0)
			return 1;
		do
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0) {
			fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
			close(lfd);
			return 1;
		}
		close(lfd);
		set_timeouts(fd);
		if (read_line(fd, "hello") < 0 || write_line(fd, "hello") < 0) {
			close(fd);
			return 1;
		}
	} else if (strcmp(mode, "connect") == 0 && argc == 3) {
		host = argv[1];
		port = argv[2];
		fd = open_socket(family, host, port, 0);
		if (fd < 0)
			return 1;
		if (write_line(fd, "hello") < 0 || read_line(fd, "hello") < 0) {
			close(fd);
			return 1;
		}
	} else {
		usage(stderr);
		return 2;
	}

	if (get_sessid(fd, wait_s, sid, &role) < 0) {
		finish(fd);
		return 1;
	}
	tcpcrypt_sessid_hex(sid, hex);
	printf("sid=%s role=%c\n", hex, role == TCPCRYPT_ROLE_A ? 'A' : 'B');
	fflush(stdout);
	finish(fd);
	return ferror(stdout) ? 1 : 0;
}
