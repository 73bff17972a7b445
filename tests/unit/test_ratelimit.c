/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate limits: the token buckets themselves (burst, refill, per source,
 * global cap, the hash key), then the engine's use of them: spoofed SYNs
 * under policy private, malformed ENO options, lost-flow resets. */
#include "unit.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "ratelimit.h"

#define SEC 1000000u

static const uint8_t key0[RATELIMIT_KEY_LEN] = { 1, 2, 3 };

static unsigned burst_at(struct ratelimit *rl, enum ratelimit_class c, uint64_t now,
			 const uint8_t *addr, size_t len, unsigned tries)
{
	unsigned n = 0;

	while (tries--)
		n += ratelimit_allow(rl, c, now, addr, len);
	return n;
}

START_TEST(test_burst_then_one_per_second)
{
	static struct ratelimit rl;
	const uint8_t a[4] = { 192, 0, 2, 7 };
	uint64_t t = 5000 * (uint64_t)SEC;

	ratelimit_init(&rl, key0);
	ck_assert_uint_eq(ratelimit_per_source[RL_RST].burst, 10);
	ck_assert_uint_eq(ratelimit_per_source[RL_RST].interval_us, SEC);
	ck_assert_uint_eq(burst_at(&rl, RL_RST, t, a, 4, 50), 10);
	/* Just under a second later: still nothing; at the second: one. */
	ck_assert_uint_eq(burst_at(&rl, RL_RST, t + SEC - 1, a, 4, 5), 0);
	ck_assert_uint_eq(burst_at(&rl, RL_RST, t + SEC, a, 4, 5), 1);
	ck_assert_uint_eq(burst_at(&rl, RL_RST, t + 3 * SEC, a, 4, 5), 2);
	/* Quiet for long enough: the full burst again, never more. */
	ck_assert_uint_eq(burst_at(&rl, RL_RST, t + 100 * SEC, a, 4, 50), 10);
	/* Time zero is a time like any other. */
	ratelimit_init(&rl, key0);
	ck_assert_uint_eq(burst_at(&rl, RL_LOG, 0, a, 4, 50), 10);
}
END_TEST

START_TEST(test_sources_and_classes_apart)
{
	static struct ratelimit rl;
	const uint8_t a[4] = { 192, 0, 2, 7 }, b[4] = { 192, 0, 2, 8 };
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	ratelimit_init(&rl, key0);
	ck_assert_uint_eq(burst_at(&rl, RL_RST, 0, a, 4, 20), 10);
	/* Another class of the same source has its own bucket. */
	ck_assert_uint_eq(burst_at(&rl, RL_LOG, 0, a, 4, 20), 10);
	/* Other sources: their own buckets (with this key these addresses do
	 * not collide; colliding ones would share a bucket). */
	ck_assert_uint_eq(burst_at(&rl, RL_RST, 0, b, 4, 20), 10);
	ck_assert_uint_eq(burst_at(&rl, RL_RST, 0, v6, 16, 20), 10);
}
END_TEST

/* Many sources at once: the global bucket caps the sum. */
START_TEST(test_global_cap)
{
	static struct ratelimit rl;
	const struct ratelimit_rate *g = &ratelimit_global[RL_RST];
	unsigned i, n = 0;

	ratelimit_init(&rl, key0);
	for (i = 0; i < 5000; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 1 };
		n += ratelimit_allow(&rl, RL_RST, 0, a, 4);
	}
	ck_assert_uint_eq(n, g->burst);
	/* One interval later, one more in all. */
	n = 0;
	for (i = 0; i < 5000; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 2 };
		n += ratelimit_allow(&rl, RL_RST, g->interval_us, a, 4);
	}
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* A refused event takes no token: the global cap alone refusing does not
 * eat the source's burst. */
START_TEST(test_refusal_takes_nothing)
{
	static struct ratelimit rl;
	const struct ratelimit_rate *g = &ratelimit_global[RL_LOG];
	const uint8_t victim[4] = { 198, 51, 100, 1 };
	unsigned i;

	ratelimit_init(&rl, key0);
	for (i = 0; i < 5000; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 1 };
		ratelimit_allow(&rl, RL_LOG, 0, a, 4);
	}
	ck_assert(!ratelimit_allow(&rl, RL_LOG, 0, victim, 4));
	/* Once the global bucket has room again (ten tokens), the victim's
	 * own bucket is still full. */
	ck_assert_uint_eq(burst_at(&rl, RL_LOG, 10 * g->interval_us, victim, 4, 20), 10);
}
END_TEST

/* Which of many addresses share a bucket depends on the key: an attacker
 * who does not know it cannot pick addresses that use up a victim's. */
START_TEST(test_key_changes_buckets)
{
	static struct ratelimit r1, r2;
	const uint8_t key1[RATELIMIT_KEY_LEN] = { 9, 9, 9 };
	const uint8_t victim[4] = { 198, 51, 100, 1 };
	unsigned i, same = 0, colliding = 0;

	for (i = 0; i < 2048; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };

		ratelimit_init(&r1, key0);
		ratelimit_init(&r2, key1);
		burst_at(&r1, RL_RST, 0, a, 4, 10);
		burst_at(&r2, RL_RST, 0, a, 4, 10);
		/* Collides under key0? */
		if (!ratelimit_allow(&r1, RL_RST, 0, victim, 4)) {
			colliding++;
			same += !ratelimit_allow(&r2, RL_RST, 0, victim, 4);
		}
	}
	/* About 2048/256 collide with either key, hardly the same ones. */
	ck_assert_uint_gt(colliding, 0);
	ck_assert_uint_lt(colliding, 40);
	ck_assert_uint_lt(same, colliding);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The engine */

static struct engine eng;
static unsigned n_rst, n_injected;
static uint64_t rng;
static char logpath[64];
static int saved_stderr = -1;

static int io_inject(void *ctx, const uint8_t *buf, size_t len)
{
	struct pkt p;

	(void)ctx;
	n_injected++;
	if (pkt_parse(&p, (uint8_t *)buf, len, len) == PKT_OK && (pkt_flags(&p) & TCP_RST))
		n_rst++;
	return 0;
}

static void io_release(void *ctx, uint32_t id, bool accept, const uint8_t *pkt, size_t len)
{
	(void)ctx; (void)id; (void)accept; (void)pkt; (void)len;
}

static void io_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (uint8_t)(rng >> 56);
	}
}

static void io_keylog(void *ctx, const uint8_t n_a[32], const uint8_t es[32])
{
	(void)ctx; (void)n_a; (void)es;
}

/* The engine with one policy rule; its log lines go to a file. */
static void engine_setup(const char *rule)
{
	static struct policy pol;
	struct engine_io io = {
		.inject = io_inject, .release = io_release, .random = io_random,
		.keylog = io_keylog,
	};
	struct engine_config cfg;
	struct policy_rule r;
	char err[128];
	int fd;

	engine_config_defaults(&cfg);
	cfg.max_flows = 64;
	ck_assert_int_eq(engine_init(&eng, &cfg, &io), 0);
	policy_free(&pol);
	ck_assert_int_eq(policy_parse_rule(rule, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_add(&pol, &r), 0);
	engine_set_policy(&eng, &pol);
	n_rst = n_injected = 0;
	log_init(LOG_LVL_INFO);
	snprintf(logpath, sizeof(logpath), "/tmp/tc-ratelimit-XXXXXX");
	fd = mkstemp(logpath);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Restores stderr; returns how many log lines contain needle. */
static unsigned engine_teardown(const char *needle)
{
	char line[512];
	unsigned n = 0;
	FILE *f;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	f = fopen(logpath, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	unlink(logpath);
	engine_free(&eng);
	return n;
}

/* A segment from (src, sport) to 198.51.100.1:22. */
static enum engine_verdict feed(uint64_t now, bool outgoing, bool conn_enc, const uint8_t src[4],
				uint16_t sport, uint8_t flags, const uint8_t *opts, size_t opts_len)
{
	static uint8_t buf[256];
	const uint8_t local[4] = { 198, 51, 100, 1 };
	struct pkt_build b = {
		.family = AF_INET, .saddr = outgoing ? local : src, .daddr = outgoing ? src : local,
		.sport = outgoing ? 22 : sport, .dport = outgoing ? sport : 22,
		.seq = 1000, .ack = flags & TCP_ACK ? 5000 : 0, .flags = flags,
		.window = 1000, .opts = opts, .opts_len = opts_len,
	};
	struct pkt p;
	bool modified;

	ck_assert_uint_gt(pkt_build(buf, sizeof(buf), &b, &p), 0);
	return engine_handle(&eng, now, outgoing, conn_enc, 1, &p, &modified);
}

/* A flood of SYNs without ENO from one (spoofed) source at a port under
 * "private": every SYN is dropped, ten get an RST and a log line, the rest
 * are counted; the next second brings one more of each, and another
 * source is not affected. */
START_TEST(test_refused_syns_limited)
{
	const uint8_t src[4] = { 203, 0, 113, 5 }, other[4] = { 203, 0, 113, 99 };
	uint64_t t = 77 * (uint64_t)SEC;
	unsigned i;

	engine_setup("private port 22");
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(feed(t, false, false, src, (uint16_t)(1000 + i), TCP_SYN, NULL, 0),
				 EV_DROP);
	ck_assert_uint_eq(eng.ctr.policy_refused, 50);
	ck_assert_uint_eq(n_rst, 10);
	ck_assert_uint_eq(eng.ctr.rst_suppressed, 40);
	ck_assert_uint_eq(eng.ctr.log_suppressed, 40);
	ck_assert_int_eq(feed(t + SEC, false, false, src, 2000, TCP_SYN, NULL, 0), EV_DROP);
	ck_assert_int_eq(feed(t + SEC, false, false, src, 2001, TCP_SYN, NULL, 0), EV_DROP);
	ck_assert_uint_eq(n_rst, 11);
	ck_assert_uint_eq(eng.ctr.rst_suppressed, 41);
	/* Another source (its own bucket with this key). */
	for (i = 0; i < 5; i++)
		feed(t + SEC, false, false, other, (uint16_t)(3000 + i), TCP_SYN, NULL, 0);
	ck_assert_uint_eq(n_rst, 16);
	ck_assert_uint_eq(eng.ctr.rst_suppressed, 41);
	ck_assert_uint_eq(engine_teardown("refused 198.51.100.1:22 -> 203.0.113."), n_rst);
}
END_TEST

/* SYNs with a malformed ENO option: passed in plaintext, one log line
 * each up to the burst, then counted. */
START_TEST(test_malformed_eno_log_limited)
{
	/* ENO (kind 69) with a TEP byte for an unknown suite and the
	 * length of a truncated option: whatever eno_check_syn calls it, it
	 * is neither OK nor absent. */
	const uint8_t opts[4] = { 69, 2, 1, 1 };
	const uint8_t src[4] = { 203, 0, 113, 5 };
	unsigned i, lines;

	engine_setup("private-or-clear");
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(feed(SEC, false, false, src, (uint16_t)(1000 + i), TCP_SYN,
				      opts, sizeof(opts)), EV_ACCEPT_PLAIN);
	ck_assert_uint_eq(eng.ctr.plaintext_flows, 30);
	ck_assert_uint_eq(eng.ctr.log_suppressed, 20);
	lines = engine_teardown("plaintext 198.51.100.1:22 -> 203.0.113.5");
	ck_assert_uint_eq(lines, 10);
}
END_TEST

/* Segments of a connection the connmark calls encrypted, without state:
 * each brings a round of RSTs, so many rounds per peer, then counted. */
START_TEST(test_lost_flow_rounds_limited)
{
	const uint8_t peer[4] = { 203, 0, 113, 5 };
	const struct ratelimit_rate *r = &ratelimit_per_source[RL_LOST];
	unsigned i;

	engine_setup("private-or-clear");
	for (i = 0; i < r->burst + 5; i++)
		ck_assert_int_eq(feed(SEC, true, true, peer, 1234, TCP_ACK, NULL, 0), EV_DROP);
	ck_assert_uint_eq(eng.ctr.lost_flow_drop, r->burst + 5);
	ck_assert_uint_eq(eng.ctr.lost_flow_reset, 17 * r->burst);
	ck_assert_uint_eq(eng.ctr.rst_suppressed, 17 * 5);
	ck_assert_uint_eq(n_injected, 17 * r->burst);
	/* The peer's own segments: four RSTs (one per Init length we may
	 * have sent, 0 for a resumed connection) and an ACK per round. */
	feed(SEC + r->interval_us, false, true, peer, 1234, TCP_ACK, NULL, 0);
	ck_assert_uint_eq(n_injected, 17 * r->burst + 5);
	feed(SEC + r->interval_us, false, true, peer, 1234, TCP_ACK, NULL, 0);
	ck_assert_uint_eq(eng.ctr.rst_suppressed, 17 * 5 + 5);
	engine_teardown("");
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("buckets");
	TCase *te = tcase_create("engine");

	tcase_add_test(tc, test_burst_then_one_per_second);
	tcase_add_test(tc, test_sources_and_classes_apart);
	tcase_add_test(tc, test_global_cap);
	tcase_add_test(tc, test_refusal_takes_nothing);
	tcase_add_test(tc, test_key_changes_buckets);
	suite_add_tcase(s, tc);
	tcase_add_test(te, test_refused_syns_limited);
	tcase_add_test(te, test_malformed_eno_log_limited);
	tcase_add_test(te, test_lost_flow_rounds_limited);
	suite_add_tcase(s, te);
	return s;
}

UNIT_MAIN(ratelimit_suite)
