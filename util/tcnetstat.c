/* SPDX-License-Identifier: BSD-2-Clause */
/* tcnetstat: the host's TCP connections with what tcpcryptd knows about
 * them -- encrypted or not, role, suite, session ID, bytes -- joined from
 * the kernel's socket list (/proc/net/tcp, /proc/net/tcp6) and the
 * daemon's control socket (doc/control.md).  With -s, the daemon's
 * counters instead: a table, TSV, JSON, or the Prometheus text format. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "ctlproto.h"

#define DEFAULT_SOCKET "/run/tcpcrypt/tcpcryptd.sock"
#define REPLY_TIMEOUT_MS 10000
#define LINE_MAX_LEN 4096

/* Exit statuses (also in --help). */
enum { EXIT_OK = 0, EXIT_UNREACHABLE = 1, EXIT_USAGE = 2, EXIT_PROTOCOL = 3 };

enum format { FMT_TABLE, FMT_TSV, FMT_JSON, FMT_PROMETHEUS };

struct row {
	struct ctl_addr local, remote;
	char state[16];			/* encrypted ... plaintext, local */
	char role[2];			/* "A", "B" or "" */
	char suite[16];			/* "aes128", "chacha20" or "" */
	char gen[48];			/* "TX/RX" generations, or "" */
	char kx[16];			/* "fresh", "resumed" or "" */
	char sid[2 * 33 + 1];		/* hex or "" */
	bool have_bytes;
	uint64_t bytes_out, bytes_in;
	bool in_kernel;			/* matched a kernel socket */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

struct opts {
	enum format fmt;
	bool stats, wide, encrypted_only;
	const char *socket;
};

static const char *prog = "tcnetstat";

/* ------------------------------------------------------------------------ */
/* Small helpers */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_PROTOCOL);
	}
	return p;
}

static struct row *rows_add(struct rows *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	return &r->v[r->n++];
}

static bool same_conn(const struct row *a, const struct ctl_addr *l, const struct ctl_addr *r)
{
	return a->local.family == l->family && a->local.port == l->port &&
	       a->remote.port == r->port && memcmp(a->local.addr, l->addr, 16) == 0 &&
	       memcmp(a->remote.addr, r->addr, 16) == 0;
}

/* Copies a protocol value into out if it is all characters from allowed
 * and fits; false otherwise. */
static bool take_value(const char *v, size_t len, const char *allowed, char *out, size_t cap)
{
	size_t i;

	if (!v || len == 0 || len >= cap)
		return false;
	for (i = 0; i < len; i++)
		if (!strchr(allowed, v[i]) || v[i] == '\0')
			return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static bool take_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (!v || len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* ------------------------------------------------------------------------ */
/* The daemon */

struct conn {
	int fd;
	char buf[LINE_MAX_LEN + 1];
	size_t len;
	const char *path;
};

static int daemon_connect(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);

	c->len = 0;
	c->path = path;
	if (plen == 0 || plen >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, plen + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(c->fd);
		errno = e;
		return -1;
	}
	return 0;
}

static void unreachable(const char *path, int err)
{
	fprintf(stderr, "%s: cannot reach tcpcryptd at %s: %s\n", prog, path, strerror(err));
	if (err == EACCES || err == EPERM)
		fprintf(stderr, "%s: the socket is for root and the daemon's --socket-group; "
			"run as root or join that group\n", prog);
	else
		fprintf(stderr, "%s: is the daemon running?  Start it with 'sudo tcpcryptd-launch' "
			"(or 'systemctl start tcpcryptd'); -S PATH names another socket\n", prog);
	exit(EXIT_UNREACHABLE);
}

static void protocol_error(const char *what, const char *line, size_t len)
{
	if (line)
		fprintf(stderr, "%s: tcpcryptd: %s: %.*s\n", prog, what, (int)(len > 200 ? 200 : len),
			line);
	else
		fprintf(stderr, "%s: tcpcryptd: %s\n", prog, what);
	exit(EXIT_PROTOCOL);
}

static void daemon_send(struct conn *c, const char *req)
{
	size_t off = 0, len = strlen(req);

	while (off < len) {
		ssize_t n = send(c->fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			unreachable(c->path, errno);
		off += (size_t)n;
	}
}

/* The next response line (NUL-terminated in *line, without '\n'). */
static size_t daemon_line(struct conn *c, char **line)
{
	static char out[LINE_MAX_LEN + 1];

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			memcpy(out, c->buf, l);
			out[l] = '\0';
			c->len -= l + 1;
			memmove(c->buf, nl + 1, c->len);
			if (memchr(out, '\0', l))
				protocol_error("NUL byte in a response", NULL, 0);
			*line = out;
			return l;
		}
		if (c->len >= LINE_MAX_LEN)
			protocol_error("response line too long", c->buf, c->len);
		r = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			protocol_error("no answer within 10 seconds", NULL, 0);
		n = recv(c->fd, c->buf + c->len, LINE_MAX_LEN - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: reading from tcpcryptd: %s\n", prog, strerror(errno));
			exit(EXIT_PROTOCOL);
		}
		if (n == 0)
			protocol_error("the daemon closed the connection in the middle of an answer",
				       NULL, 0);
		c->len += (size_t)n;
	}
}

static void check_final(const char *line, size_t len)
{
	if (!ctl_is_ok(line, len))
		protocol_error("request failed", line, len);
}

static void parse_flow(struct rows *rows, const char *line, size_t len)
{
	static const char *const states[] = { "negotiating", "encrypted", "closed", "failed" };
	struct row *r = rows_add(rows);
	const char *v;
	size_t vl, i;
	bool state_ok = false;

	v = ctl_get(line, len, "local", &vl);
	if (!v || ctl_parse_addr(v, vl, &r->local) < 0)
		protocol_error("flow record with a bad local address", line, len);
	v = ctl_get(line, len, "remote", &vl);
	if (!v || ctl_parse_addr(v, vl, &r->remote) < 0)
		protocol_error("flow record with a bad remote address", line, len);
	v = ctl_get(line, len, "state", &vl);
	for (i = 0; v && i < sizeof(states) / sizeof(states[0]); i++)
		if (strlen(states[i]) == vl && memcmp(v, states[i], vl) == 0)
			state_ok = true;
	if (!state_ok || !take_value(v, vl, "abcdefghijklmnopqrstuvwxyz", r->state,
				     sizeof(r->state)))
		protocol_error("flow record with a bad state", line, len);
	v = ctl_get(line, len, "role", &vl);
	if (!take_value(v, vl, "AB", r->role, sizeof(r->role)))
		protocol_error("flow record with a bad role", line, len);
	v = ctl_get(line, len, "suite", &vl);
	if (!take_value(v, vl, "0123456789abcdefghijklmnopqrstuvwxyz-", r->suite,
			sizeof(r->suite)))
		protocol_error("flow record with a bad suite", line, len);
	/* Absent from older daemons. */
	v = ctl_get(line, len, "gen", &vl);
	if (v && !take_value(v, vl, "0123456789/-", r->gen, sizeof(r->gen)))
		protocol_error("flow record with bad generations", line, len);
	if (strcmp(r->gen, "-") == 0)
		r->gen[0] = '\0';
	v = ctl_get(line, len, "kx", &vl);
	if (v && !take_value(v, vl, "abcdefghijklmnopqrstuvwxyz-", r->kx, sizeof(r->kx)))
		protocol_error("flow record with a bad kx", line, len);
	if (strcmp(r->kx, "-") == 0)
		r->kx[0] = '\0';
	v = ctl_get(line, len, "sid", &vl);
	if (!take_value(v, vl, "0123456789abcdef-", r->sid, sizeof(r->sid)))
		protocol_error("flow record with a bad session ID", line, len);
	if (strcmp(r->suite, "-") == 0)
		r->suite[0] = '\0';
	if (strcmp(r->sid, "-") == 0)
		r->sid[0] = '\0';
	v = ctl_get(line, len, "bytes_out", &vl);
	if (!take_u64(v, vl, &r->bytes_out))
		protocol_error("flow record with bad bytes_out", line, len);
	v = ctl_get(line, len, "bytes_in", &vl);
	if (!take_u64(v, vl, &r->bytes_in))
		protocol_error("flow record with bad bytes_in", line, len);
	r->have_bytes = true;
}

static void daemon_list(struct conn *c, struct rows *rows)
{
	char *line;
	size_t len;

	daemon_send(c, "list\n");
	for (;;) {
		len = daemon_line(c, &line);
		if (ctl_is_final(line, len)) {
			check_final(line, len);
			return;
		}
		if (len >= 5 && memcmp(line, "flow ", 5) == 0)
			parse_flow(rows, line, len);
		/* other record words: a newer daemon; skip them */
	}
}

struct counter {
	char name[64];
	uint64_t value;
};

static size_t daemon_counters(struct conn *c, struct counter **out)
{
	struct counter *v = NULL;
	size_t n = 0, cap = 0, len, vl, i;
	char *line;
	const char *p;

	daemon_send(c, "counters\n");
	for (;;) {
		len = daemon_line(c, &line);
		if (ctl_is_final(line, len)) {
			check_final(line, len);
			*out = v;
			return n;
		}
		if (len < 8 || memcmp(line, "counter ", 8) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			v = xrealloc(v, cap * sizeof(*v));
		}
		p = ctl_get(line, len, "name", &vl);
		if (!take_value(p, vl, "abcdefghijklmnopqrstuvwxyz0123456789_", v[n].name,
				sizeof(v[n].name)))
			protocol_error("counter record with a bad name", line, len);
		p = ctl_get(line, len, "value", &vl);
		if (!take_u64(p, vl, &v[n].value))
			protocol_error("counter record with a bad value", line, len);
		/* Twice the same name would be two metrics of one name in the
		 * Prometheus output and two equal keys in the JSON object. */
		for (i = 0; i < n; i++)
			if (strcmp(v[i].name, v[n].name) == 0)
				protocol_error("counter named twice", line, len);
		n++;
	}
}

/* ------------------------------------------------------------------------ */
/* The kernel */

/* /proc/net/tcp prints each 32-bit word of an address as the integer the
 * word holds in host byte order; copying it back restores the bytes. */
static bool proc_addr(const char *hex, size_t nwords, uint8_t *out)
{
	size_t w;

	if (strlen(hex) != 8 * nwords)
		return false;
	for (w = 0; w < nwords; w++) {
		char word[9];
		char *end;
		uint32_t v;

		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, &end, 16);
		if (*end)
			return false;
		memcpy(out + 4 * w, &v, 4);
	}
	return true;
}

/* IPv4-mapped addresses (dual-stack sockets) are IPv4, as in the daemon. */
static void unmap(struct ctl_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->addr, prefix, 12) == 0) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
	}
}

static bool is_loopback(const struct row *r)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };

	if (memcmp(r->local.addr, r->remote.addr, 16) == 0)
		return true;		/* our own address: through lo */
	if (r->remote.family == AF_INET)
		return r->remote.addr[0] == 127;
	return memcmp(r->remote.addr, v6_lo, 16) == 0;
}

static void kernel_sockets(const char *file, int family, struct rows *rows)
{
	FILE *f = fopen(file, "r");
	char line[512];
	size_t nwords = family == AF_INET6 ? 4 : 1;

	if (!f) {
		if (errno != ENOENT)	/* no IPv6 in this kernel is fine */
			fprintf(stderr, "%s: %s: %s\n", prog, file, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char lhex[40], rhex[40];
		unsigned lport, rport, st;
		struct ctl_addr l = { .family = (uint8_t)family }, r = { .family = (uint8_t)family };
		struct row *row;
		size_t i;
		bool known = false;

		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x", lhex, &lport, rhex,
			   &rport, &st) != 5)
			continue;	/* the header */
		if (st == 0x0A || lport > 65535 || rport > 65535)
			continue;	/* listening */
		if (!proc_addr(lhex, nwords, l.addr) || !proc_addr(rhex, nwords, r.addr))
			continue;
		l.port = (uint16_t)lport;
		r.port = (uint16_t)rport;
		unmap(&l);
		unmap(&r);
		for (i = 0; i < rows->n; i++) {
			if (same_conn(&rows->v[i], &l, &r)) {
				rows->v[i].in_kernel = true;
				known = true;
			}
		}
		if (known)
			continue;
		row = rows_add(rows);
		row->local = l;
		row->remote = r;
		row->in_kernel = true;
		snprintf(row->state, sizeof(row->state), "%s",
			 is_loopback(row) ? "local" : "plaintext");
	}
	fclose(f);
}

/* ------------------------------------------------------------------------ */
/* Output */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_opt_string(const char *s)
{
	if (*s)
		json_string(s);
	else
		fputs("null", stdout);
}

static const char *dash(const char *s)
{
	return *s ? s : "-";
}

struct cells {
	char local[CTL_ADDR_MAX], remote[CTL_ADDR_MAX];
	char sid[2 * 33 + 4];
	char out[24], in[24];
};

static void cells_of(const struct row *r, bool shorten, struct cells *c)
{
	if (ctl_format_addr(c->local, sizeof(c->local), &r->local) < 0)
		snprintf(c->local, sizeof(c->local), "?");
	if (ctl_format_addr(c->remote, sizeof(c->remote), &r->remote) < 0)
		snprintf(c->remote, sizeof(c->remote), "?");
	if (shorten && strlen(r->sid) > 16)
		snprintf(c->sid, sizeof(c->sid), "%.16s...", r->sid);
	else
		snprintf(c->sid, sizeof(c->sid), "%s", dash(r->sid));
	if (r->have_bytes) {
		snprintf(c->out, sizeof(c->out), "%" PRIu64, r->bytes_out);
		snprintf(c->in, sizeof(c->in), "%" PRIu64, r->bytes_in);
	} else {
		strcpy(c->out, "-");
		strcpy(c->in, "-");
	}
}

static void print_rows(const struct rows *rows, const struct opts *o)
{
	static const char *const head[] = { "Local Address", "Remote Address", "State", "Role",
					    "Suite", "Gen", "Kx", "Session ID", "Bytes Out",
					    "Bytes In" };
	int w[10];
	size_t i, k;
	bool first = true;

	if (o->fmt == FMT_JSON) {
		putchar('[');
		for (i = 0; i < rows->n; i++) {
			const struct row *r = &rows->v[i];
			struct cells c;

			cells_of(r, false, &c);
			printf("%s\n  {\"local\": ", first ? "" : ",");
			first = false;
			json_string(c.local);
			fputs(", \"remote\": ", stdout);
			json_string(c.remote);
			fputs(", \"state\": ", stdout);
			json_string(r->state);
			fputs(", \"role\": ", stdout);
			json_opt_string(r->role);
			fputs(", \"suite\": ", stdout);
			json_opt_string(r->suite);
			fputs(", \"gen\": ", stdout);
			json_opt_string(r->gen);
			fputs(", \"kx\": ", stdout);
			json_opt_string(r->kx);
			fputs(", \"sid\": ", stdout);
			json_opt_string(r->sid);
			if (r->have_bytes)
				printf(", \"bytes_out\": %" PRIu64 ", \"bytes_in\": %" PRIu64 "}",
				       r->bytes_out, r->bytes_in);
			else
				fputs(", \"bytes_out\": null, \"bytes_in\": null}", stdout);
		}
		puts(rows->n ? "\n]" : "]");
		return;
	}
	if (o->fmt == FMT_TSV) {
		puts("local\tremote\tstate\trole\tsuite\tgen\tkx\tsid\tbytes_out\tbytes_in");
		for (i = 0; i < rows->n; i++) {
			const struct row *r = &rows->v[i];
			struct cells c;

			cells_of(r, false, &c);
			printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.local, c.remote,
			       r->state, dash(r->role), dash(r->suite), dash(r->gen), dash(r->kx),
			       c.sid, c.out, c.in);
		}
		return;
	}
	for (k = 0; k < 10; k++)
		w[k] = (int)strlen(head[k]);
	for (i = 0; i < rows->n; i++) {
		const struct row *r = &rows->v[i];
		struct cells c;
		const char *cell[10];

		cells_of(r, !o->wide, &c);
		cell[0] = c.local, cell[1] = c.remote, cell[2] = r->state, cell[3] = dash(r->role);
		cell[4] = dash(r->suite), cell[5] = dash(r->gen), cell[6] = dash(r->kx);
		cell[7] = c.sid, cell[8] = c.out, cell[9] = c.in;
		for (k = 0; k < 10; k++)
			if ((int)strlen(cell[k]) > w[k])
				w[k] = (int)strlen(cell[k]);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s\n", w[0], head[0],
	       w[1], head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5], head[5], w[6],
	       head[6], w[7], head[7], w[8], head[8], w[9], head[9]);
	for (i = 0; i < rows->n; i++) {
		const struct row *r = &rows->v[i];
		struct cells c;

		cells_of(r, !o->wide, &c);
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s\n", w[0],
		       c.local, w[1], c.remote, w[2], r->state, w[3], dash(r->role), w[4],
		       dash(r->suite), w[5], dash(r->gen), w[6], dash(r->kx), w[7], c.sid, w[8],
		       c.out, w[9], c.in);
	}
}

/* What this tcnetstat knows about the daemon's counters, from the list in
 * counters.h: the description and whether the value is a gauge. */
struct counter_info {
	const char *name, *desc;
	bool gauge;
};

static const struct counter_info counter_infos[] = {
#define TC_INFO_COUNTER(name, desc) { #name, desc, false },
#define TC_INFO_GAUGE(name, desc) { #name, desc, true },
	TC_COUNTER_LIST(TC_INFO_COUNTER, TC_INFO_GAUGE)
#undef TC_INFO_COUNTER
#undef TC_INFO_GAUGE
};

static const struct counter_info *counter_info(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(counter_infos) / sizeof(counter_infos[0]); i++)
		if (strcmp(counter_infos[i].name, name) == 0)
			return &counter_infos[i];
	return NULL;
}

/* A HELP text as the Prometheus text format (0.0.4) wants it: backslash
 * and line feed escaped, nothing else. */
static void prom_help_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

/* The Prometheus text exposition format, version 0.0.4: per counter a
 * HELP line, a TYPE line and the sample.  Counters are named
 * tcpcryptd_NAME_total, gauges tcpcryptd_NAME.  A counter that a newer
 * daemon has and this program does not know is "untyped": it may be
 * either.  Names are [a-z0-9_] (daemon_counters checked them), so the
 * prefix makes each a valid metric name. */
static void print_prometheus(const struct counter *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct counter_info *ci = counter_info(v[i].name);
		const char *suffix = ci && !ci->gauge ? "_total" : "";
		const char *type = !ci ? "untyped" : ci->gauge ? "gauge" : "counter";

		printf("# HELP tcpcryptd_%s%s ", v[i].name, suffix);
		if (ci)
			prom_help_text(ci->desc);
		else
			printf("tcpcryptd counter %s (no description in this tcnetstat)",
			       v[i].name);
		printf("\n# TYPE tcpcryptd_%s%s %s\n", v[i].name, suffix, type);
		printf("tcpcryptd_%s%s %" PRIu64 "\n", v[i].name, suffix, v[i].value);
	}
}

static void print_counters(const struct counter *v, size_t n, const struct opts *o)
{
	size_t i;
	int w = 0;

	if (o->fmt == FMT_PROMETHEUS) {
		print_prometheus(v, n);
		return;
	}

	if (o->fmt == FMT_JSON) {
		putchar('{');
		for (i = 0; i < n; i++) {
			printf("%s\n  ", i ? "," : "");
			json_string(v[i].name);
			printf(": %" PRIu64, v[i].value);
		}
		puts(n ? "\n}" : "}");
		return;
	}
	if (o->fmt == FMT_TSV) {
		puts("name\tvalue");
		for (i = 0; i < n; i++)
			printf("%s\t%" PRIu64 "\n", v[i].name, v[i].value);
		return;
	}
	for (i = 0; i < n; i++)
		if ((int)strlen(v[i].name) > w)
			w = (int)strlen(v[i].name);
	for (i = 0; i < n; i++)
		printf("%-*s  %" PRIu64 "\n", w, v[i].name, v[i].value);
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTION]...\n"
		"List TCP connections and whether tcpcryptd encrypts them.\n"
		"\n"
		"  -s, --stats          print the daemon's counters instead\n"
		"  -t, --tsv            tab-separated values, header line first\n"
		"  -j, --json           a JSON array of objects (an object with -s)\n"
		"  -P, --prometheus     the counters in the Prometheus text format (implies -s)\n"
		"  -w, --wide           show whole session IDs in the table\n"
		"  -n, --numeric        numeric addresses (always; accepted for habit)\n"
		"      --encrypted-only only connections that are encrypted\n"
		"  -S, --socket PATH    the daemon's control socket (default $TCPCRYPT_SOCKET,\n"
		"                       else %s)\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n"
		"\n"
		"States: negotiating, encrypted, closed, failed (from the daemon);\n"
		"plaintext (the daemon keeps no state: not encrypted); local (loopback,\n"
		"never encrypted).\n"
		"\n"
		"Exit status: 0 ok, 1 the daemon cannot be reached, 2 usage error,\n"
		"3 the daemon answered with an error or something unreadable.\n",
		prog, DEFAULT_SOCKET);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_ENCRYPTED_ONLY = 256 };
	static const struct option longopts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "tsv", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "wide", no_argument, NULL, 'w' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 'S' },
		{ "encrypted-only", no_argument, NULL, OPT_ENCRYPTED_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("TCPCRYPT_SOCKET");
	int c;
	bool tsv = false, json = false, prom = false;

	o->socket = env && *env ? env : DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "stjPwnS:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->stats = true; break;
		case 't': tsv = true; break;
		case 'j': json = true; break;
		case 'P': prom = true; break;
		case 'w': o->wide = true; break;
		case 'n': break;
		case 'S':
			if (!*optarg) {
				fprintf(stderr, "%s: --socket: empty path\n", prog);
				exit(EXIT_USAGE);
			}
			o->socket = optarg;
			break;
		case OPT_ENCRYPTED_ONLY: o->encrypted_only = true; break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("tcnetstat %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", prog, argv[optind]);
		exit(EXIT_USAGE);
	}
	if ((int)tsv + (int)json + (int)prom > 1) {
		fprintf(stderr, "%s: --tsv, --json and --prometheus exclude each other\n", prog);
		exit(EXIT_USAGE);
	}
	/* Only the counters have a Prometheus form: one metric per
	 * connection would be a new series for every port pair. */
	if (prom)
		o->stats = true;
	o->fmt = prom ? FMT_PROMETHEUS : json ? FMT_JSON : tsv ? FMT_TSV : FMT_TABLE;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct conn c;
	struct rows rows = { 0 };
	size_t i, j;

	parse_args(argc, argv, &o);
	if (daemon_connect(&c, o.socket) < 0)
		unreachable(o.socket, errno);
	if (o.stats) {
		struct counter *v = NULL;
		size_t n = daemon_counters(&c, &v);

		/* All counters are read before the first byte is printed: an
		 * error on the way leaves stdout empty, never a half file. */
		print_counters(v, n, &o);
		free(v);
		close(c.fd);
		if (fflush(stdout) != 0) {
			fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
			return EXIT_PROTOCOL;
		}
		return EXIT_OK;
	}
	daemon_list(&c, &rows);
	close(c.fd);
	kernel_sockets("/proc/net/tcp", AF_INET, &rows);
	kernel_sockets("/proc/net/tcp6", AF_INET6, &rows);
	if (o.encrypted_only) {
		for (i = j = 0; i < rows.n; i++)
			if (strcmp(rows.v[i].state, "encrypted") == 0)
				rows.v[j++] = rows.v[i];
		rows.n = j;
	}
	print_rows(&rows, &o);
	free(rows.v);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		return EXIT_PROTOCOL;
	}
	return EXIT_OK;
}
