/* SPDX-License-Identifier: BSD-2-Clause */
/* The control socket server: socket plumbing around ctlproto. */
#include "config.h"

#include "ctl.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "log.h"

#define LISTENER_TAG UINT64_MAX
#define LIST_LOW (32 * 1024)		/* "list" fills the buffer up to this */
#define LIST_BUCKETS_PER_STEP 65536	/* empty buckets visited per step */
#define LIST_STEPS_PER_PUMP 4		/* then let the packet path run */
#define LINES_PER_PUMP 32
#define ACCEPTS_PER_HANDLE 16
#define LISTEN_PAUSE_US 1000000u	/* after EMFILE and the like */

struct ctl_client {
	int fd;
	unsigned slot;
	uid_t uid;
	bool have_cred;
	bool eof;			/* the peer shut down its side */
	bool closing;			/* flush what is queued, then close */
	bool listing;			/* a "list" answer is being produced */
	struct flow_walk list_walk;
	uint64_t list_count;
	uint64_t last_active;
	uint32_t events;		/* what epoll watches for */
	size_t in_len;
	char in[CTL_LINE_MAX + 2];	/* a line, '\r' and '\n' */
	size_t out_off, out_len;
	char out[CTL_OUT_MAX];
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Setting up */

static int resolve_group(const char *group, gid_t *gid)
{
	struct group *gr = getgrnam(group);
	char *end;
	unsigned long v;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(group, &end, 10);
	if (!errno && end != group && !*end && group[0] != '-' && v < (unsigned long)INT_MAX) {
		*gid = (gid_t)v;
		return 0;
	}
	return -1;
}

/* Another daemon answering on path? 1 yes, 0 stale, -1 cannot tell. */
static int probe_live(struct sockaddr_un *sa, socklen_t salen, int *err_no)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		*err_no = errno;
		return -1;
	}
	r = connect(fd, (struct sockaddr *)sa, salen);
	*err_no = errno;
	close(fd);
	if (r == 0 || *err_no == EAGAIN || *err_no == EINPROGRESS)
		return 1;
	if (*err_no == ECONNREFUSED)
		return 0;
	return -1;
}

static int make_parent(const char *path, const gid_t *gid, char *err, size_t errlen)
{
	char dir[sizeof(((struct ctl_server *)0)->path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;		/* "/x.sock": the root exists */
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			set_err(err, errlen, "%s: not a directory", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || mkdir(dir, 0750) < 0) {
		set_err(err, errlen, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	/* mkdir's mode went through the umask; say exactly what we mean. */
	if (chmod(dir, 0750) < 0 || (gid && chown(dir, (uid_t)-1, *gid) < 0)) {
		set_err(err, errlen, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int ctl_open(struct ctl_server *s, const char *path, const char *group, struct engine *e,
	     const struct ctl_ops *ops, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTENER_TAG };
	socklen_t salen;
	struct stat st;
	gid_t gid = 0;
	mode_t old_umask;
	int r, e_no = 0;

	memset(s, 0, sizeof(*s));
	s->ep = s->lfd = -1;
	s->engine = e;
	if (ops)
		s->ops = *ops;
	s->euid = geteuid();
	s->listen_paused_until = 0;

	if (path[0] == '/') {
		r = snprintf(s->path, sizeof(s->path), "%s", path);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd))) {
			set_err(err, errlen, "socket %s: current directory: %s", path, strerror(errno));
			return -1;
		}
		r = snprintf(s->path, sizeof(s->path), "%s/%s", cwd, path);
	}
	if (r < 0 || (size_t)r >= sizeof(s->path) || (size_t)r >= sizeof(sa.sun_path)) {
		set_err(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, s->path, (size_t)r + 1);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)r + 1);

	if (group && resolve_group(group, &gid) < 0) {
		set_err(err, errlen, "socket group %s: no such group", group);
		return -1;
	}
	if (make_parent(s->path, group ? &gid : NULL, err, errlen) < 0)
		return -1;

	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			set_err(err, errlen, "%s exists and is not a socket; not touching it",
				s->path);
			return -1;
		}
		r = probe_live(&sa, salen, &e_no);
		if (r == 1) {
			set_err(err, errlen,
				"another tcpcryptd is answering on %s (stop it, or use --socket)",
				s->path);
			return -1;
		}
		if (r < 0) {
			set_err(err, errlen, "socket %s: %s", s->path, strerror(e_no));
			return -1;
		}
		if (unlink(s->path) < 0 && errno != ENOENT) {
			set_err(err, errlen, "removing stale socket %s: %s", s->path, strerror(errno));
			return -1;
		}
		log_info("removed stale control socket %s", s->path);
	}

	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Never let the socket exist with wider permissions than 0660. */
	old_umask = umask(0117);
	r = bind(s->lfd, (struct sockaddr *)&sa, salen);
	e_no = errno;
	umask(old_umask);
	if (r < 0) {
		set_err(err, errlen, "bind %s: %s", s->path, strerror(e_no));
		goto fail;
	}
	if (stat(s->path, &st) < 0) {
		set_err(err, errlen, "socket %s: %s", s->path, strerror(errno));
		goto fail_unlinked;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if ((group && chown(s->path, (uid_t)-1, gid) < 0) || chmod(s->path, 0660) < 0) {
		set_err(err, errlen, "socket %s: %s", s->path, strerror(errno));
		goto fail_unlinked;
	}
	if (listen(s->lfd, 32) < 0) {
		set_err(err, errlen, "listen %s: %s", s->path, strerror(errno));
		goto fail_unlinked;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
		set_err(err, errlen, "epoll: %s", strerror(errno));
		goto fail_unlinked;
	}
	return 0;

fail_unlinked:
	unlink(s->path);
fail:
	if (s->ep >= 0)
		close(s->ep);
	close(s->lfd);
	s->ep = s->lfd = -1;
	return -1;
}

int ctl_fd(const struct ctl_server *s)
{
	return s->ep;
}

/* ------------------------------------------------------------------------ */
/* Clients */

static void client_free(struct ctl_server *s, struct ctl_client *c)
{
	char sink[4096];
	int i;

	/* Read what the client sent and we will not process: closing a unix
	 * socket with unread data makes the peer's reads fail with ECONNRESET
	 * before it sees our last line. */
	for (i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	s->clients[c->slot] = NULL;
	s->nclients--;
	free(c);
}

static size_t pending(const struct ctl_client *c)
{
	return c->out_len - c->out_off;
}

static bool has_line(const struct ctl_client *c)
{
	return memchr(c->in, '\n', c->in_len) != NULL;
}

/* Queues n bytes; -1 when that would exceed the client's output limit. */
static int out_append(struct ctl_client *c, const char *buf, int n)
{
	if (n < 0)
		return -1;
	if (c->out_off && c->out_len + (size_t)n > sizeof(c->out)) {
		memmove(c->out, c->out + c->out_off, pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + (size_t)n > sizeof(c->out))
		return -1;
	memcpy(c->out + c->out_len, buf, (size_t)n);
	c->out_len += (size_t)n;
	return 0;
}

static int out_error(struct ctl_client *c, const char *code, const char *msg)
{
	char line[CTL_RECORD_MAX];

	return out_append(c, line, ctl_format_error(line, sizeof(line), code, msg));
}

/* Sends what is queued.  0: all sent or the socket is full; -1: gone. */
static int client_flush(struct ctl_client *c, uint64_t now)
{
	while (pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, pending(c), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->last_active = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Reads what fits.  0 ok (or nothing there), -1: drop the client. */
static int client_read(struct ctl_client *c, uint64_t now)
{
	while (!c->eof && !c->closing && c->in_len < sizeof(c->in)) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_active = now;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			return -1;
		}
	}
	if (!c->closing && c->in_len == sizeof(c->in) && !has_line(c)) {
		/* More than a line's worth without a newline. */
		c->in_len = 0;
		c->closing = true;
		if (out_error(c, "too-long", "request-line-longer-than-1024-bytes") < 0)
			return -1;
	}
	return 0;
}

static const char *flow_policy(struct ctl_server *s, const struct flow *f)
{
	return s->ops.policy ? s->ops.policy(s->ops.ctx, f) : "-";
}

/* Produces the next part of a "list" answer. */
static int list_step(struct ctl_server *s, struct ctl_client *c, uint64_t now)
{
	const struct flow_table *t = &s->engine->flows;
	const struct flow *f;
	char line[CTL_RECORD_MAX];
	size_t buckets = LIST_BUCKETS_PER_STEP;

	while ((f = flow_walk_at(t, &c->list_walk, &buckets))) {
		if (pending(c) >= LIST_LOW)
			return 0;
		if (out_append(c, line, ctl_format_flow(line, sizeof(line), f, now,
							flow_policy(s, f))) < 0)
			return -1;
		c->list_count++;
		flow_walk_next(&c->list_walk);
	}
	if (flow_walk_done(t, &c->list_walk)) {
		c->listing = false;
		return out_append(c, line, snprintf(line, sizeof(line), "ok count=%" PRIu64 "\n",
						    c->list_count));
	}
	return 0;
}

static int cmd_lookup(struct ctl_server *s, struct ctl_client *c, const struct ctl_request *req,
		      uint64_t now)
{
	char line[CTL_RECORD_MAX];
	struct flow_key k;
	struct flow *f;

	if (ctl_flow_key(&k, &req->local, &req->remote) < 0)
		return out_error(c, "bad-request", "address-families-differ");
	f = flow_lookup(&s->engine->flows, &k);
	if (!f)
		return out_error(c, "not-found", "no-such-connection");
	if (out_append(c, line, ctl_format_flow(line, sizeof(line), f, now, flow_policy(s, f))) < 0)
		return -1;
	return out_append(c, "ok\n", 3);
}

static int cmd_counters(struct ctl_server *s, struct ctl_client *c)
{
	const struct counters *ctr = engine_counters(s->engine);
	char line[CTL_RECORD_MAX];
	unsigned n = 0;

#define TC_COUNTER_LINE(name, desc)							\
	if (out_append(c, line, ctl_format_counter(line, sizeof(line), #name, ctr->name)) < 0) \
		return -1;								\
	n++;
	TC_COUNTERS(TC_COUNTER_LINE)
#undef TC_COUNTER_LINE
	return out_append(c, line, snprintf(line, sizeof(line), "ok count=%u\n", n));
}

static int cmd_reload(struct ctl_server *s, struct ctl_client *c)
{
	char err[CTL_RECORD_MAX - 64], line[CTL_RECORD_MAX];
	int rules;

	if (!c->have_cred || (c->uid != 0 && c->uid != s->euid)) {
		log_info("control: reload refused for uid %ld",
			 c->have_cred ? (long)c->uid : -1L);
		return out_error(c, "permission", "reload-needs-root-or-the-daemon-user");
	}
	if (!s->ops.reload)
		return out_error(c, "config", "reload-is-not-available");
	err[0] = '\0';
	rules = s->ops.reload(s->ops.ctx, err, sizeof(err));
	if (rules < 0)
		return out_error(c, "config", err[0] ? err : "reload-failed");
	return out_append(c, line, snprintf(line, sizeof(line), "ok rules=%d\n", rules));
}

static int handle_line(struct ctl_server *s, struct ctl_client *c, const char *line, size_t len,
		       uint64_t now)
{
	struct ctl_request req;
	const char *msg;
	enum ctl_status st;
	char buf[CTL_RECORD_MAX];

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CTL_LINE_MAX) {
		c->closing = true;
		return out_error(c, "too-long", "request-line-longer-than-1024-bytes");
	}
	st = ctl_parse_request(line, len, &req, &msg);
	if (st != CTL_OK)
		return out_error(c, ctl_status_code(st), msg);
	switch (req.cmd) {
	case CTL_CMD_LIST:
		c->listing = true;
		c->list_walk = (struct flow_walk){ 0 };
		c->list_count = 0;
		return 0;
	case CTL_CMD_LOOKUP:
		return cmd_lookup(s, c, &req, now);
	case CTL_CMD_COUNTERS:
		return cmd_counters(s, c);
	case CTL_CMD_RELOAD:
		return cmd_reload(s, c);
	case CTL_CMD_VERSION:
		return out_append(c, buf, snprintf(buf, sizeof(buf), "ok version=%s protocol=%d\n",
						   PACKAGE_VERSION, CTL_PROTOCOL_VERSION));
	}
	return out_error(c, "unknown-command", "unknown-command");
}

/* Watches c for what it waits on now.  Returns -1 when epoll refuses
 * (ENOMEM): the client would wait on events nobody delivers, so the caller
 * drops it rather than leave it hanging until its deadline. */
static int client_update_events(struct ctl_server *s, struct ctl_client *c)
{
	uint32_t want = 0;

	if (!c->eof && !c->closing && c->in_len < sizeof(c->in))
		want |= EPOLLIN;
	if (pending(c) || c->listing || (!c->closing && has_line(c)))
		want |= EPOLLOUT;
	if (want != c->events) {
		struct epoll_event ev = { .events = want, .data.u64 = c->slot };

		if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
			log_warn("control: cannot watch a client: %s", strerror(errno));
			return -1;
		}
		c->events = want;
	}
	return 0;
}

/* Moves a client forward as far as it can go without waiting. */
static void client_pump(struct ctl_server *s, struct ctl_client *c, uint64_t now)
{
	unsigned lines = 0, steps = 0;

	for (;;) {
		char *nl;
		size_t len;

		if (client_flush(c, now) < 0)
			goto drop;
		if (c->listing) {
			if (pending(c) >= LIST_LOW || steps >= LIST_STEPS_PER_PUMP)
				break;
			steps++;
			if (list_step(s, c, now) < 0)
				goto drop;
			continue;
		}
		if (c->closing || lines >= LINES_PER_PUMP)
			break;
		nl = memchr(c->in, '\n', c->in_len);
		if (!nl)
			break;
		len = (size_t)(nl - c->in);
		lines++;
		if (handle_line(s, c, c->in, len, now) < 0)
			goto drop;	/* over the output limit */
		if (c->closing) {
			c->in_len = 0;
		} else {
			c->in_len -= len + 1;
			memmove(c->in, nl + 1, c->in_len);
		}
	}
	if (!pending(c) && !c->listing && (c->closing || (c->eof && !has_line(c))))
		goto drop;
	if (client_update_events(s, c) == 0)
		return;
drop:
	client_free(s, c);
}

static void client_event(struct ctl_server *s, struct ctl_client *c, uint32_t events,
			 uint64_t now)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The peer is gone: nothing we could still deliver. */
		client_free(s, c);
		return;
	}
	if ((events & EPOLLIN) && client_read(c, now) < 0) {
		client_free(s, c);
		return;
	}
	client_pump(s, c, now);
}

static void reject_busy(int fd)
{
	static const char msg[] = "error code=busy msg=too-many-clients\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: busy reply: %s", strerror(errno));
	close(fd);
}

static void pause_listener(struct ctl_server *s, uint64_t now)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
	s->listen_paused_until = now + LISTEN_PAUSE_US;
}

static void resume_listener(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTENER_TAG };

	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) == 0 || errno == EEXIST)
		s->listen_paused_until = 0;
}

static void on_accept(struct ctl_server *s, uint64_t now)
{
	int i;

	for (i = 0; i < ACCEPTS_PER_HANDLE; i++) {
		struct ctl_client *c;
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		unsigned slot;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("control: accept: %s", strerror(errno));
				pause_listener(s, now);
			}
			return;
		}
		if (s->nclients >= CTL_MAX_CLIENTS) {
			reject_busy(fd);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct ctl_client, in));
		c->in_len = c->out_off = c->out_len = 0;
		c->fd = fd;
		c->last_active = now;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 &&
		    clen == sizeof(cred)) {
			c->uid = cred.uid;
			c->have_cred = true;
		}
		for (slot = 0; s->clients[slot]; slot++)
			;
		c->slot = slot;
		c->events = EPOLLIN;
		ev.data.u64 = slot;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		s->clients[slot] = c;
		s->nclients++;
	}
}

void ctl_handle(struct ctl_server *s, uint64_t now)
{
	struct epoll_event evs[16];
	int n, i;
	unsigned k;

	if (s->ep < 0)
		return;
	if (s->listen_paused_until && now >= s->listen_paused_until)
		resume_listener(s);
	n = epoll_wait(s->ep, evs, 16, 0);
	for (i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;

		if (tag == LISTENER_TAG) {
			on_accept(s, now);
		} else if (tag < CTL_MAX_CLIENTS && s->clients[tag]) {
			client_event(s, s->clients[tag], evs[i].events, now);
		}
	}
	for (k = 0; k < CTL_MAX_CLIENTS; k++) {
		struct ctl_client *c = s->clients[k];

		if (c && now >= c->last_active + CTL_IDLE_US) {
			log_debug("control: client idle for 60 s, disconnected");
			client_free(s, c);
		}
	}
}

uint64_t ctl_next_deadline(const struct ctl_server *s)
{
	uint64_t next = s->listen_paused_until ? s->listen_paused_until : UINT64_MAX;
	unsigned k;

	/* Asked twice per turn of the event loop: most turns have no client. */
	if (s->nclients == 0)
		return next;
	for (k = 0; k < CTL_MAX_CLIENTS; k++)
		if (s->clients[k] && s->clients[k]->last_active + CTL_IDLE_US < next)
			next = s->clients[k]->last_active + CTL_IDLE_US;
	return next;
}

void ctl_close(struct ctl_server *s)
{
	struct stat st;
	unsigned k;

	for (k = 0; k < CTL_MAX_CLIENTS; k++)
		if (s->clients[k])
			client_free(s, s->clients[k]);
	if (s->lfd >= 0) {
		close(s->lfd);
		/* Remove the file only if it is still ours. */
		if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
			unlink(s->path);
	}
	if (s->ep >= 0)
		close(s->ep);
	s->lfd = s->ep = -1;
}
