/* SPDX-License-Identifier: BSD-2-Clause */
/* tcpcryptd: wires the engine to NFQUEUE, the raw socket, the control
 * socket, the clock, the RNG and signals, in one epoll loop; detaches or
 * stays in the foreground, and tells systemd when it is ready.
 *
 * Errors in the shell: a function that sets something up (ctl_open,
 * ctnl_open, injector_open, keylog_open, flowstore_open, reload_config)
 * does not log its failure.  It writes one message into the caller's err
 * buffer (naming what failed, no newline) and returns -1 (or NULL); where
 * it can go on in a reduced way it returns 1 with the reason in err.  The
 * caller, in the end this file, logs the message and decides whether the
 * daemon stops, and with which exit status.  Code running in the loop
 * (packets, control clients, conntrack updates), whose caller could do
 * nothing more with a message, logs for itself. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>	/* before linux/netfilter.h, which pulls linux/in.h */
#include <linux/netfilter.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctnl.h"
#include "engine.h"
#include "flowstore.h"
#include "inject.h"
#include "keylog.h"
#include "log.h"
#include "nfq.h"
#include "conf.h"
#include "policy.h"
#include "randpool.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tcpcryptd.conf"
#define QUEUE_MAXLEN 4096
#define PKT_BUF_SIZE (65535 + ENGINE_HEADROOM)

struct daemon {
	struct engine engine;
	struct nfqio nfq;
	uint64_t rx_now;		/* the clock at the receive call ... */
	uint64_t rx_batch;		/* ... of this number */
	struct injector inj;
	struct ctnl ct;
	FILE *keylog;
	struct ctl_server ctl;
	bool ctl_on;
	struct flowstore store;
	bool store_on;
	const char *config_path;
	bool config_explicit;		/* -c given: the file must exist */
	struct policy cli_policy;	/* --policy rules, always first */
	struct policy policy;		/* in force: cli_policy + the file's */
	int mtu_fd[2];			/* UDP sockets (IPv4, IPv6) for route MTUs */
	struct mtu_memo {		/* the last few answers, briefly */
		uint8_t family;
		uint8_t addr[16];
		unsigned mtu;
		uint64_t until;
	} mtu_memo[8];
	unsigned mtu_memo_next;
	struct randpool rand;		/* the engine's random bytes */
	uint8_t pkt_buf[PKT_BUF_SIZE];
};

/* The command line: the settings it gave (conf_settings[]), and the
 * TK_ACTION options, which the table leaves to the daemon. */
struct options {
	struct tc_settings cli;
	const char *config_path;
	bool config_explicit;
	struct policy cli_policy;
	int verbose;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- engine_io --------------------------------------------------------- */

static int io_inject(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	return injector_send(&d->inj, pkt, len);
}

static void io_release(void *ctx, uint32_t id, bool accept, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	nfqio_verdict(&d->nfq, id, accept ? NF_ACCEPT : NF_DROP, false, 0, accept ? pkt : NULL,
		    len);
}

static void io_random(void *ctx, uint8_t *buf, size_t len)
{
	struct daemon *d = ctx;

	randpool_get(&d->rand, buf, len);
}

static void io_keylog(void *ctx, const uint8_t n_a[32], const uint8_t es[32])
{
	struct daemon *d = ctx;

	if (d->keylog)
		keylog_write(d->keylog, n_a, es);
}

static void io_keylog_ss(void *ctx, const uint8_t r_a[RESUME_RH_LEN],
			 const uint8_t ss[RESUME_SS_LEN], uint16_t suite)
{
	struct daemon *d = ctx;

	if (d->keylog)
		keylog_write_ss(d->keylog, r_a, ss, suite);
}

static void io_conntrack_liberal(void *ctx, const struct flow_key *k, bool we_opened)
{
	struct daemon *d = ctx;

	ctnl_liberal(&d->ct, k, we_opened);
}

/* The route MTU towards k's remote address: connect() on a UDP socket
 * looks the route up (it sends nothing) and IP_MTU / IPV6_MTU read its MTU.
 * Only the peer's SYN and SYN-ACK ask.  0 when unknown. */
#define MTU_MEMO_US 2000000	/* a route's MTU is looked up again after 2 s */

static unsigned io_route_mtu(void *ctx, const struct flow_key *k)
{
	struct daemon *d = ctx;
	bool v6 = k->family == AF_INET6;
	size_t alen = v6 ? 16 : 4;
	int fd = d->mtu_fd[v6], mtu = 0;
	socklen_t len = sizeof(mtu);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	uint64_t now = now_us();
	struct mtu_memo *m;
	int rc;

	if (fd < 0)
		return 0;
	/* Many connections to one host open in a burst: two system calls
	 * each would show in the connection rate. */
	for (unsigned i = 0; i < sizeof(d->mtu_memo) / sizeof(d->mtu_memo[0]); i++) {
		m = &d->mtu_memo[i];
		if (m->until > now && m->family == k->family && memcmp(m->addr, k->raddr, alen) == 0)
			return m->mtu;
	}
	if (v6) {
		memcpy(&sin6.sin6_addr, k->raddr, 16);
		rc = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	} else {
		memcpy(&sin.sin_addr, k->raddr, 4);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (rc < 0 || getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU,
				 &mtu, &len) < 0 || mtu < 0)
		return 0;
	m = &d->mtu_memo[d->mtu_memo_next++ % (sizeof(d->mtu_memo) / sizeof(d->mtu_memo[0]))];
	m->family = k->family;
	memcpy(m->addr, k->raddr, alen);
	m->mtu = (unsigned)mtu;
	m->until = now + MTU_MEMO_US;
	return (unsigned)mtu;
}

/* --- packets ----------------------------------------------------------- */

/* A packet pkt_parse() refused: an ICMP(v6) error quoting one of our
 * segments (the rules queue no other protocol), or a TCP segment it cannot
 * read (truncated, a fragment, an extension header it does not walk),
 * which must never be a way around the encryption of its connection. */
static void on_unparsed(struct daemon *d, const struct nfqio_packet *np, enum pkt_status st,
			bool outgoing, size_t len)
{
	bool conn_encrypted = np->mark & TC_MARK_ENCRYPTED;
	bool modified = false;
	enum engine_verdict v;
	struct flow_key k;
	struct pkt_peek pk;
	size_t alen;

	if (pkt_peek(d->pkt_buf, len, &pk) < 0) {
		v = engine_handle_unparsed(&d->engine, outgoing, conn_encrypted, NULL, false);
	} else if (st == PKT_NOT_TCP && !outgoing &&
		   pk.proto == (pk.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
		v = engine_handle_icmp(&d->engine, d->pkt_buf, len, &modified);
	} else {
		memset(&k, 0, sizeof(k));
		alen = pk.family == AF_INET ? 4 : 16;
		k.family = (uint8_t)pk.family;
		memcpy(k.laddr, outgoing ? pk.saddr : pk.daddr, alen);
		memcpy(k.raddr, outgoing ? pk.daddr : pk.saddr, alen);
		k.lport = outgoing ? pk.sport : pk.dport;
		k.rport = outgoing ? pk.dport : pk.sport;
		v = engine_handle_unparsed(&d->engine, outgoing, conn_encrypted, &k,
					   pk.have_ports);
	}
	nfqio_verdict(&d->nfq, np->id, v == EV_DROP ? NF_DROP : NF_ACCEPT, false, 0,
		      modified ? d->pkt_buf : NULL, modified ? len : 0);
}

static void on_packet(void *ctx, const struct nfqio_packet *np)
{
	struct daemon *d = ctx;
	enum engine_verdict v;
	struct pkt p;
	enum pkt_status st;
	bool modified = false;
	bool outgoing = np->hook == NF_INET_LOCAL_OUT || np->hook == NF_INET_POST_ROUTING;
	size_t len = np->len < 65535 ? np->len : 65535;
	/* The receive buffer has room for the rewrite behind the packet (and
	 * room in front for the headers when options grow): work there,
	 * without a copy, when it has as much as pkt_buf. */
	bool in_place = np->room >= sizeof(d->pkt_buf);

	if (!in_place)
		memcpy(d->pkt_buf, np->data, len);
	st = pkt_parse(&p, in_place ? np->data : d->pkt_buf, len, sizeof(d->pkt_buf));
	if (st != PKT_OK) {
		if (in_place)
			memcpy(d->pkt_buf, np->data, len);
		on_unparsed(d, np, st, outgoing, len);
		return;
	}
	if (in_place)
		p.headroom = np->headroom;
	/* One clock read per receive call: its packets arrived together. */
	if (np->batch != d->rx_batch) {
		d->rx_batch = np->batch;
		d->rx_now = now_us();
	}
	v = engine_handle(&d->engine, d->rx_now, outgoing, np->mark & TC_MARK_ENCRYPTED, np->id,
			  &p, &modified);
	if (v == EV_ACCEPT_ENCRYPTED && !(np->mark & TC_MARK_ENCRYPTED)) {
		/* First segments of an encrypted connection: NF_REPEAT with the
		 * mark (doc/design.md section 1.2). */
		nfqio_verdict(&d->nfq, np->id, NF_REPEAT, true, np->mark | TC_MARK_ENCRYPTED,
			      modified ? p.buf : NULL, modified ? p.len : 0);
		return;
	}
	switch (v) {
	case EV_ACCEPT:
	case EV_ACCEPT_ENCRYPTED:
		nfqio_verdict(&d->nfq, np->id, NF_ACCEPT, false, 0, modified ? p.buf : NULL,
			    modified ? p.len : 0);
		break;
	case EV_ACCEPT_PLAIN:
		/* NF_REPEAT with the plaintext bit, the encrypted bit cleared
		 * (a declined ENO offer): doc/design.md section 1.2. */
		nfqio_verdict(&d->nfq, np->id, NF_REPEAT, true,
			      (np->mark & ~TC_MARK_ENCRYPTED) | TC_MARK_PLAINTEXT,
			      modified ? p.buf : NULL, modified ? p.len : 0);
		break;
	case EV_DROP:
		nfqio_verdict(&d->nfq, np->id, NF_DROP, false, 0, NULL, 0);
		break;
	case EV_HOLD:
		break;
	}
}

/* --- command line ------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpcryptd [OPTION]...\n"
		"Encrypt TCP connections transparently (TCP-ENO + tcpcrypt) on packets\n"
		"that the firewall rules (tcpcrypt-firewall up) send to NFQUEUE.\n"
		"\n");
	conf_print_options(out, DEFAULT_CONFIG);
	fprintf(out,
		"\n"
		"Signals: TERM/INT stop (counters are logged), USR1 logs the counters,\n"
		"HUP reloads the configuration.  Under systemd (NOTIFY_SOCKET) readiness\n"
		"is reported with sd_notify.\n");
}

/* getopt_long's value for an option: its short letter, else 256 + id. */
#define OPT_LONG_ONLY 256

static int parse_args(int argc, char **argv, struct options *o)
{
	struct option longopts[TS_COUNT + 1];
	char shortopts[2 * TS_COUNT + 1], *sp = shortopts, why[128];
	const struct tc_setting *e;
	int c;

	for (size_t i = 0; i < TS_COUNT; i++) {
		e = &conf_settings[i];
		longopts[i] = (struct option){ e->opt, e->arg ? required_argument : no_argument,
					       NULL, e->short_opt ? e->short_opt
								  : OPT_LONG_ONLY + (int)i };
		if (e->short_opt) {
			*sp++ = e->short_opt;
			if (e->arg)
				*sp++ = ':';
		}
	}
	longopts[TS_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	*sp = '\0';
	o->config_path = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		e = NULL;
		if (c >= OPT_LONG_ONLY && c < OPT_LONG_ONLY + TS_COUNT)
			e = &conf_settings[c - OPT_LONG_ONLY];
		for (size_t i = 0; !e && c != '?' && c != ':' && i < TS_COUNT; i++)
			if (conf_settings[i].short_opt == c)
				e = &conf_settings[i];
		if (!e) {
			usage(stderr);
			return EX_USAGE;
		}
		switch (e->id) {
		case TS_CONFIG:
			o->config_path = optarg;
			o->config_explicit = true;
			break;
		case TS_POLICY: {
			struct policy_rule r;

			if (policy_parse_rule(optarg, &r, why, sizeof(why)) < 0) {
				fprintf(stderr, "tcpcryptd: --policy '%s': %s\n", optarg, why);
				return EX_CONFIG;
			}
			if (policy_add(&o->cli_policy, &r) < 0)
				return EX_OSERR;
			break;
		}
		case TS_VERBOSE:
			o->verbose++;
			break;
		case TS_HELP:
			usage(stdout);
			exit(EX_OK);
		case TS_VERSION:
			printf("tcpcryptd %s\n", PACKAGE_VERSION);
			exit(EX_OK);
		default:
			switch (conf_setting_set(e, e->arg ? optarg : e->implies, &o->cli, why,
						 sizeof(why))) {
			case 0:
				break;
			case -2:
				fprintf(stderr, "tcpcryptd: --%s: %s\n", e->opt, why);
				return EX_USAGE;
			default:
				fprintf(stderr, "tcpcryptd: --%s: need %s: %s\n", e->opt, why, optarg);
				return EX_USAGE;
			}
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpcryptd: unexpected argument: %s\n", argv[optind]);
		return EX_USAGE;
	}
	return 0;
}

/* --- systemd, detaching, logging -------------------------------------- */

/* sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET, a path or an
 * abstract address written with a leading '@'. */
static void notify_systemd(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || !*path)
		return;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET=%s: not a unix socket address, not notifying", path);
		return;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warn("sd_notify %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Forks; the parent waits until the child reports readiness (one byte
 * through the pipe: exit 0) or exits (exit with its status).  Returns in
 * the child with the pipe's write end in *ready_fd. */
static void detach_start(int *ready_fd)
{
	int p[2], status;
	pid_t pid;
	char b;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "tcpcryptd: pipe: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "tcpcryptd: fork: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		*ready_fd = p[1];
		return;
	}
	close(p[1]);
	do
		n = read(p[0], &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(EX_OK);
	/* The child failed before it was ready: it said why on stderr. */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(EX_OSERR);
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : EX_SOFTWARE);
	fprintf(stderr, "tcpcryptd: the daemon died of signal %d before it was ready\n",
		WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	_exit(EX_SOFTWARE);
}

/* Ready: from now on log to syslog, tell the waiting parent, let go of the
 * terminal. */
static void detach_finish(int ready_fd)
{
	int fd;

	if (write(ready_fd, "R", 1) != 1)
		log_warn("telling the parent we are ready: %s", strerror(errno));
	close(ready_fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") < 0)
		log_warn("chdir /: %s", strerror(errno));
}

/* "counter NAME VALUE" lines: on stderr in the foreground (the tests and
 * the launcher read them there), to syslog once detached. */
static void log_counters(const struct counters *c)
{
	if (!log_is_syslog()) {
		counters_print(c, stderr);
		return;
	}
#define TC_COUNTER_LOG(name, desc) log_info("counter %s %" PRIu64, #name, c->name);
	TC_COUNTERS(TC_COUNTER_LOG)
#undef TC_COUNTER_LOG
}

/* The counts kept here, not in the engine, go into its counters before
 * anyone reads them. */
static void note_shell_counters(struct daemon *d)
{
	engine_note_queue_enobufs(&d->engine, d->nfq.enobufs);
	engine_note_conntrack(&d->engine, d->ct.ok, d->ct.fail);
}

/* --- control socket hooks ---------------------------------------------- */

/* The "reload" command and SIGHUP.  Returns the number of policy rules in
 * force, or -1 with a message in err. */
static int reload_config(void *ctx, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	struct tc_config c;
	struct policy np = { 0 };
	size_t i;

	if (conf_load(d->config_path, !d->config_explicit, &c, err, errlen) < 0)
		return -1;
	for (i = 0; i < d->cli_policy.n; i++)
		if (policy_add(&np, &d->cli_policy.rules[i]) < 0)
			goto oom;
	for (i = 0; i < c.policy.n; i++)
		if (policy_add(&np, &c.policy.rules[i]) < 0)
			goto oom;
	conf_free(&c);
	/* Connections keep the action they were opened under (it is copied
	 * into each flow), so replacing the rules affects new ones only. */
	policy_free(&d->policy);
	d->policy = np;
	engine_set_policy(&d->engine, &d->policy);
	return (int)d->policy.n;
oom:
	policy_free(&np);
	conf_free(&c);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The resumption secrets must never reach the disk (doc/protocol.md
 * section 13), swap included: their tables are locked in memory as their
 * pages are first touched.  Best effort, like the state file's lock: a
 * low RLIMIT_MEMLOCK gets a warning, not a refusal to start. */
static void lock_resumption_tables(const struct engine *e)
{
	const void *p[2] = { e->resume_a.e, e->resume_b.w };
	size_t len[2] = { e->resume_a.max * sizeof(*e->resume_a.e),
			  e->resume_b.max * sizeof(*e->resume_b.w) };

	for (int i = 0; i < 2; i++) {
		int rc;

		if (!p[i])
			continue;
		rc = mlock2(p[i], len[i], MLOCK_ONFAULT);
		if (rc < 0 && (errno == ENOSYS || errno == EINVAL))
			rc = mlock(p[i], len[i]);
		if (rc < 0)
			log_warn("cannot lock the %zu bytes of resumption secrets in memory (%s): "
				 "they may be swapped out; raise RLIMIT_MEMLOCK (LimitMEMLOCK= in "
				 "the unit) or turn resumption off", len[i], strerror(errno));
	}
}

/* The settings in force (conf_resolve: command line over file over
 * default) into the engine's configuration. */
static void apply_settings(const struct tc_settings *s, struct engine_config *ecfg)
{
	engine_config_defaults(ecfg);
	ecfg->idle_us = s->idle_timeout * 1000000u;
	ecfg->max_flows = (size_t)s->max_flows;
	ecfg->linger_us = s->linger * 1000000u;
	ecfg->rst_authenticated = s->rst_authenticated;
	ecfg->x25519_memo = !s->no_x25519_memo;
	ecfg->resumption = !s->no_resumption;
	ecfg->resume_lifetime_us = s->resume_lifetime * 1000000u;
	/* Without a choice, the engine's (by the CPU). */
	if (s->given & TS_BIT(TS_SUITES)) {
		memcpy(ecfg->suites, s->suites.list, sizeof(ecfg->suites));
		ecfg->nsuites = s->suites.n;
	}
}

/* The policy a flow was opened under. */
static const char *flow_policy(void *ctx, const struct flow *f)
{
	(void)ctx;
	return policy_action_str((enum policy_action)f->policy);
}

/* --- main loop --------------------------------------------------------- */

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Returns true when the daemon should stop. */
static bool on_signal(struct daemon *d, int sfd)
{
	struct signalfd_siginfo si;
	char err[256];
	int rules;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			notify_systemd("STOPPING=1");
			log_info("signal %u: shutting down", si.ssi_signo);
			return true;
		case SIGUSR1:
			note_shell_counters(d);
			log_counters(engine_counters(&d->engine));
			break;
		case SIGHUP:
			rules = reload_config(d, err, sizeof(err));
			if (rules < 0)
				log_warn("SIGHUP: reload failed, configuration unchanged: %s", err);
			else
				log_info("SIGHUP: configuration reloaded, %d policy rules", rules);
			break;
		default:
			break;
		}
	}
	return false;
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The epoll set of the main loop, or -1 (logged).  A descriptor left out
 * would be a queue nobody reads or signals nobody sees: the daemon must
 * not start like that. */
static int make_epoll(struct daemon *d, int sfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int cfd = d->ctl_on ? ctl_fd(&d->ctl) : -1;

	if (ep < 0) {
		log_err("epoll_create1: %s", strerror(errno));
		return -1;
	}
	if (watch(ep, nfqio_fd(&d->nfq)) < 0 || watch(ep, sfd) < 0 ||
	    (cfd >= 0 && watch(ep, cfd) < 0)) {
		log_err("epoll_ctl: cannot watch the queue, the signals or the control "
			"socket: %s", strerror(errno));
		close(ep);
		return -1;
	}
	return ep;
}

static int run(struct daemon *d, int sfd, int ep)
{
	int cfd = d->ctl_on ? ctl_fd(&d->ctl) : -1;

	for (;;) {
		struct epoll_event events[4];
		uint64_t now = now_us();
		uint64_t next = engine_tick(&d->engine, now);
		int timeout, i, n;
		bool ctl_due = false;

		if (d->ctl_on) {
			uint64_t c = ctl_next_deadline(&d->ctl);

			if (c < next)
				next = c;
		}
		timeout = next > now ? (int)((next - now + 999) / 1000) : 0;
		nfqio_flush(&d->nfq);
		log_flush();
		n = epoll_wait(ep, events, 4, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			close(ep);
			return EX_OSERR;
		}
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == sfd) {
				if (on_signal(d, sfd)) {
					close(ep);
					return EX_OK;
				}
			} else if (events[i].data.fd == cfd) {
				ctl_due = true;
			} else if (nfqio_receive(&d->nfq, on_packet, d) < 0) {
				close(ep);
				return EX_OSERR;
			}
		}
		note_shell_counters(d);
		/* After the packets: a client never delays a verdict. */
		if (d->ctl_on) {
			uint64_t c = ctl_next_deadline(&d->ctl);

			/* The clock only when a client spoke or has a deadline. */
			if (ctl_due || c != UINT64_MAX) {
				now = now_us();
				if (ctl_due || now >= c)
					ctl_handle(&d->ctl, now);
			}
		}
	}
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct options o = { 0 };
	struct engine_io io = {
		.ctx = &d, .inject = io_inject, .release = io_release,
		.random = io_random, .keylog = io_keylog, .keylog_ss = io_keylog_ss,
		.conntrack_liberal = io_conntrack_liberal, .route_mtu = io_route_mtu,
	};
	struct ctl_ops ops = { .ctx = &d, .reload = reload_config, .policy = flow_policy };
	struct tc_config cfg;
	struct tc_settings set;
	struct engine_config ecfg;
	const struct counters *final;
	char err[512];
	int rc, sfd, ep, ready_fd = -1;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	log_init(o.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	/* Before any secret exists: the heap holds the X25519 private key and
	 * handshake secrets, which must not end up in a core file, nor be read
	 * through ptrace or /proc/PID/mem by another process of our user.
	 * Not dumpable means both (root keeps CAP_SYS_PTRACE); it survives the
	 * fork of detach_start. */
	if (o.cli.allow_core_dump) {	/* command line only: the file is not read yet */
		log_warn("core dumps allowed (--allow-core-dump): a dump holds the keys of "
			 "open connections");
	} else if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		log_err("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return EX_OSERR;
	}
	/* The file is read once here for everything, and again on reload for
	 * the policy.  Its strings stay alive for the daemon's lifetime. */
	if (conf_load(o.config_path, !o.config_explicit, &cfg, err, sizeof(err)) < 0) {
		log_err("configuration: %s", err);
		return EX_CONFIG;
	}
	conf_resolve(&set, &cfg.s, &o.cli);
	apply_settings(&set, &ecfg);
	d.config_path = o.config_path;
	d.config_explicit = o.config_explicit;
	d.cli_policy = o.cli_policy;
	if (reload_config(&d, err, sizeof(err)) < 0) {
		log_err("configuration: %s", err);
		return EX_CONFIG;
	}
	if (!set.foreground)
		detach_start(&ready_fd);
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return EX_SOFTWARE;
	}
	if (set.keylog) {
		d.keylog = keylog_open(set.keylog, err, sizeof(err));
		if (!d.keylog) {
			log_err("key log %s", err);
			return EX_CANTCREAT;
		}
		log_warn("key log %s is ON: anyone who reads it can decrypt captured "
			 "connections", set.keylog);
	}
	sfd = make_signalfd();
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return EX_OSERR;
	}
	rc = injector_open(&d.inj, TC_MARK_INJECTED, err, sizeof(err));
	if (rc < 0) {
		log_err("%s", err);
		return EX_NOPERM;
	}
	if (rc > 0)
		log_warn("%s", err);
	if (set.state_file) {
		rc = flowstore_open(&d.store, set.state_file, ecfg.max_flows, err, sizeof(err));
		if (rc < 0) {
			log_err("state file: %s", err);
			return EX_CANTCREAT;
		}
		if (rc > 0)
			log_warn("%s: connections will not survive a restart", err);
		d.store_on = rc == 0;
		if (d.store_on && d.store.mlock_errno)
			log_warn("state file %s: cannot lock its %zu bytes in memory (%s): the "
				 "keys in it may be swapped out; raise RLIMIT_MEMLOCK "
				 "(LimitMEMLOCK= in the unit) or lower --max-flows", set.state_file,
				 d.store.map_len, strerror(d.store.mlock_errno));
	}
	if (engine_init_slots(&d.engine, &ecfg, &io, d.store_on ? d.store.slots : NULL,
			      d.store_on ? &d.store.hdr->slots_used : NULL) < 0) {
		log_err("cannot set up the engine: out of memory for the flow table, or "
			"OpenSSL's libcrypto lacks AES-128-CTR");
		return EX_OSERR;
	}
	lock_resumption_tables(&d.engine);
	/* The pool holds random bytes not yet handed out (nonces, private
	 * keys to be): kept out of swap like the secrets, best effort. */
	if (mlock(&d.rand, sizeof(d.rand)) < 0)
		log_warn("cannot lock the random pool in memory: %s", strerror(errno));
	{
		char list[32];

		snprintf(list, sizeof(list), "%s%s%s", conf_suite_name(ecfg.suites[0]),
			 ecfg.nsuites > 1 ? "," : "",
			 ecfg.nsuites > 1 ? conf_suite_name(ecfg.suites[1]) : "");
		log_info("cipher suites: %s", list);
		if (ecfg.resumption)
			log_info("session resumption: on, secrets kept %" PRIu64 " s",
				 ecfg.resume_lifetime_us / 1000000u);
		else
			log_info("session resumption: off");
	}
	d.mtu_fd[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	d.mtu_fd[1] = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d.store_on && d.store.adoptable) {
		size_t discarded, n = engine_resume(&d.engine, now_us(), &discarded);

		log_info("state file %s: resumed %zu flows, discarded %zu that could not "
			 "go on", set.state_file, n, discarded);
	} else if (d.store_on && d.store.why[0]) {
		log_warn("state file %s: %s; starting with an empty flow table", set.state_file,
			 d.store.why);
	}
	engine_set_policy(&d.engine, &d.policy);
	/* Without ctnetlink the daemon works as before (logged once). */
	if (ctnl_open(&d.ct, err, sizeof(err)) < 0)
		log_warn("conntrack: %s", err);
	if (nfqio_open(&d.nfq, (uint16_t)set.queue, QUEUE_MAXLEN) < 0)
		return EX_UNAVAILABLE;
	if (set.socket) {
		if (ctl_open(&d.ctl, set.socket, set.socket_group, &d.engine, &ops, err,
			     sizeof(err)) < 0) {
			log_err("control socket: %s", err);
			return EX_CANTCREAT;
		}
		d.ctl_on = true;
	}
	ep = make_epoll(&d, sfd);
	if (ep < 0)
		return EX_OSERR;
	if (!set.foreground)
		log_use_syslog("tcpcryptd");
	log_info("tcpcryptd %s ready queue=%u socket=%s", PACKAGE_VERSION, (unsigned)set.queue,
		 d.ctl_on ? d.ctl.path : "none");
	if (!set.foreground) {
		char msg[64];

		detach_finish(ready_fd);
		snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
		notify_systemd(msg);
	} else {
		notify_systemd("READY=1");
	}

	/* Lines logged while packets are handled wait for their verdicts. */
	log_defer(true);
	rc = run(&d, sfd, ep);
	log_defer(false);
	ctnl_close(&d.ct);

	if (d.ctl_on)
		ctl_close(&d.ctl);
	nfqio_flush(&d.nfq);
	/* The flows_active gauge as the daemon stops, before the table goes. */
	note_shell_counters(&d);
	final = engine_counters(&d.engine);
	/* With a state file the established flows stay in it for the next
	 * daemon; without, they are wiped now. */
	if (d.store_on) {
		engine_detach(&d.engine);
		flowstore_close(&d.store);
	} else {
		engine_free(&d.engine);
	}
	nfqio_flush(&d.nfq);
	log_counters(final);
	nfqio_close(&d.nfq);
	injector_close(&d.inj);
	if (d.keylog)
		fclose(d.keylog);
	close(sfd);
	policy_free(&d.policy);
	policy_free(&d.cli_policy);
	conf_free(&cfg);
	randpool_wipe(&d.rand);
	return rc;
}
