/* tcpcryptd: wires the engine to NFQUEUE, the raw socket, the clock, the
 * RNG and signals, in one epoll loop. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "inject.h"
#include "keylog.h"
#include "log.h"
#include "nfq.h"

#define DEFAULT_QUEUE 666
#define QUEUE_MAXLEN 4096
#define PKT_BUF_SIZE (65535 + ENGINE_HEADROOM)

struct daemon {
	struct engine engine;
	struct nfqio nfq;
	struct injector inj;
	FILE *keylog;
	uint8_t pkt_buf[PKT_BUF_SIZE];
};

struct options {
	uint16_t queue;
	const char *keylog_path;
	int verbose;
	struct engine_config ecfg;
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
	(void)ctx;
	randombytes_buf(buf, len);
}

static void io_keylog(void *ctx, const uint8_t n_a[32], const uint8_t es[32])
{
	struct daemon *d = ctx;

	if (d->keylog)
		keylog_write(d->keylog, n_a, es);
}

/* --- packets ----------------------------------------------------------- */

static void on_packet(void *ctx, const struct nfqio_packet *np)
{
	struct daemon *d = ctx;
	enum engine_verdict v;
	struct pkt p;
	bool modified = false;
	bool outgoing = np->hook == NF_INET_LOCAL_OUT || np->hook == NF_INET_POST_ROUTING;
	size_t len = np->len < 65535 ? np->len : 65535;

	memcpy(d->pkt_buf, np->data, len);
	if (pkt_parse(&p, d->pkt_buf, len, sizeof(d->pkt_buf)) != PKT_OK) {
		/* Not a TCP segment we can read: the kernel decides. */
		d->engine.ctr.malformed++;
		nfqio_verdict(&d->nfq, np->id, NF_ACCEPT, false, 0, NULL, 0);
		return;
	}
	v = engine_handle(&d->engine, now_us(), outgoing, np->mark & TC_MARK_ENCRYPTED, np->id,
			  &p, &modified);
	if (v == EV_ACCEPT_ENCRYPTED && !(np->mark & TC_MARK_ENCRYPTED)) {
		/* First segments of an encrypted connection: NF_REPEAT with the
		 * mark makes the rules record it in the connmark. */
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
		/* NF_REPEAT runs the chain again, whose first rules save the
		 * mark to the connection and skip the queue from now on. */
		nfqio_verdict(&d->nfq, np->id, NF_REPEAT, true, np->mark | TC_MARK_PLAINTEXT,
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
		"\n"
		"  -q, --queue N          NFQUEUE number to bind (default %u)\n"
		"  -k, --keylog FILE      append per-connection secrets to FILE (debugging\n"
		"                         only: it defeats the encryption of those connections)\n"
		"      --idle-timeout S   forget established flows idle for S seconds (default 7200)\n"
		"      --max-flows N      size of the flow table (default 65536)\n"
		"      --rst-authenticated  drop RSTs without a valid MAC on encrypted flows\n"
		"  -v, --verbose          also log debug messages\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the version and exit\n",
		DEFAULT_QUEUE);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_IDLE = 256, OPT_MAX_FLOWS, OPT_RST_AUTH };
	static const struct option longopts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "rst-authenticated", no_argument, NULL, OPT_RST_AUTH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	o->queue = DEFAULT_QUEUE;
	engine_config_defaults(&o->ecfg);
	while ((c = getopt_long(argc, argv, "q:k:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_uint(optarg, 65535, &v) < 0) {
				fprintf(stderr, "tcpcryptd: --queue: not a queue number: %s\n", optarg);
				return EX_USAGE;
			}
			o->queue = (uint16_t)v;
			break;
		case 'k':
			o->keylog_path = optarg;
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, 30UL * 86400, &v) < 0 || v == 0) {
				fprintf(stderr, "tcpcryptd: --idle-timeout: bad number of seconds: %s\n",
					optarg);
				return EX_USAGE;
			}
			o->ecfg.idle_us = (uint64_t)v * 1000000u;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint(optarg, 1UL << 24, &v) < 0 || v < 16) {
				fprintf(stderr, "tcpcryptd: --max-flows: need 16..16777216: %s\n", optarg);
				return EX_USAGE;
			}
			o->ecfg.max_flows = v;
			break;
		case OPT_RST_AUTH:
			o->ecfg.rst_authenticated = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("tcpcryptd %s\n", PACKAGE_VERSION);
			exit(EX_OK);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpcryptd: unexpected argument: %s\n", argv[optind]);
		return EX_USAGE;
	}
	return 0;
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

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: shutting down", si.ssi_signo);
			return true;
		case SIGUSR1:
			counters_print(&d->engine.ctr, stderr);
			break;
		default:
			break;
		}
	}
	return false;
}

static int run(struct daemon *d, int sfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };

	if (ep < 0)
		return EX_OSERR;
	ev.data.fd = nfqio_fd(&d->nfq);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

	for (;;) {
		struct epoll_event events[4];
		uint64_t now = now_us();
		uint64_t next = engine_tick(&d->engine, now);
		int timeout = next > now ? (int)((next - now + 999) / 1000) : 0;
		int i, n;

		nfqio_flush(&d->nfq);
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
			} else if (nfqio_receive(&d->nfq, on_packet, d) < 0) {
				close(ep);
				return EX_OSERR;
			}
		}
		d->engine.ctr.queue_enobufs = d->nfq.enobufs;
	}
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct options o = { 0 };
	struct engine_io io = {
		.ctx = &d, .inject = io_inject, .release = io_release,
		.random = io_random, .keylog = io_keylog,
	};
	int rc, sfd;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	log_init(o.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return EX_SOFTWARE;
	}
	if (o.keylog_path) {
		d.keylog = keylog_open(o.keylog_path);
		if (!d.keylog) {
			log_err("key log %s: %s", o.keylog_path, strerror(errno));
			return EX_CANTCREAT;
		}
		log_warn("key log %s is ON: anyone who reads it can decrypt captured "
			 "connections", o.keylog_path);
	}
	sfd = make_signalfd();
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return EX_OSERR;
	}
	if (injector_open(&d.inj, TC_MARK_INJECTED) < 0)
		return EX_NOPERM;
	if (engine_init(&d.engine, &o.ecfg, &io) < 0) {
		log_err("out of memory for the flow table");
		return EX_OSERR;
	}
	if (nfqio_open(&d.nfq, o.queue, QUEUE_MAXLEN) < 0)
		return EX_UNAVAILABLE;
	log_info("tcpcryptd %s ready queue=%u", PACKAGE_VERSION, o.queue);

	rc = run(&d, sfd);

	nfqio_flush(&d.nfq);
	engine_free(&d.engine);
	nfqio_flush(&d.nfq);
	counters_print(&d.engine.ctr, stderr);
	nfqio_close(&d.nfq);
	injector_close(&d.inj);
	if (d.keylog)
		fclose(d.keylog);
	close(sfd);
	return rc;
}
