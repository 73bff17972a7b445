/* SPDX-License-Identifier: BSD-2-Clause */
/* The flow state file: created 0600 on tmpfs, slots survive a close and
 * reopen, anything that does not match is discarded whole, two users are
 * refused, and a disk file system is refused. */
#include "unit.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow.h"
#include "flowstore.h"

static char dir[64], path[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/dev/shm/tc-flowstore-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/flows", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

START_TEST(test_create_reopen_adopt)
{
	struct flowstore s;
	struct stat st;
	char err[256];

	ck_assert_int_eq(flowstore_open(&s, path, 100, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_str_eq(s.why, "");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(s.hdr->slots_used, 0);
	/* A slot written through the map is in the file. */
	s.slots[7].slot_magic = FLOW_SLOT_MAGIC;
	s.slots[7].bytes_in = 12345;
	s.hdr->slots_used = 8;
	flowstore_close(&s);

	ck_assert_int_eq(flowstore_open(&s, path, 100, err, sizeof(err)), 0);
	ck_assert(s.adoptable);
	ck_assert_uint_eq(s.hdr->slots_used, 8);
	ck_assert_uint_eq(s.slots[7].slot_magic, FLOW_SLOT_MAGIC);
	ck_assert_uint_eq(s.slots[7].bytes_in, 12345);
	flowstore_close(&s);

	/* Another table size: discarded, nothing of the old slots left. */
	ck_assert_int_eq(flowstore_open(&s, path, 200, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "max-flows"));
	ck_assert_uint_eq(s.hdr->slots_used, 0);
	ck_assert_uint_eq(s.slots[7].slot_magic, 0);
	ck_assert_uint_eq(s.slots[7].bytes_in, 0);
	flowstore_close(&s);
}
END_TEST

START_TEST(test_foreign_or_damaged_file_discarded)
{
	struct flowstore s;
	char err[256];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("not a state file", f);
	fclose(f);
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "too short"));
	flowstore_close(&s);

	/* Right size, wrong version. */
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	s.hdr->version = FLOWSTORE_VERSION + 1;
	flowstore_close(&s);
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "incompatible"));
	flowstore_close(&s);

	/* Same version and slot size, but the slots laid out otherwise (a
	 * reordering of struct flow's fields): refused, and the reason says
	 * so.  The slots go with the rest. */
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(s.adoptable);
	ck_assert_uint_eq(s.hdr->flow_layout, FLOW_LAYOUT_FINGERPRINT);
	s.slots[3].slot_magic = FLOW_SLOT_MAGIC;
	s.hdr->slots_used = 4;
	s.hdr->flow_layout = FLOW_LAYOUT_FINGERPRINT ^ 0x10;
	flowstore_close(&s);
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "another flow layout"));
	ck_assert_uint_eq(s.hdr->version, FLOWSTORE_VERSION);
	ck_assert_uint_eq(s.hdr->flow_layout, FLOW_LAYOUT_FINGERPRINT);
	ck_assert_uint_eq(s.hdr->slots_used, 0);
	ck_assert_uint_eq(s.slots[3].slot_magic, 0);
	flowstore_close(&s);
	/* A header from before the fingerprint existed. */
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	s.hdr->flow_layout = 0;
	flowstore_close(&s);
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "without a flow layout fingerprint"));
	flowstore_close(&s);

	/* Another boot. */
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	s.hdr->boot_id[0] ^= 1;
	flowstore_close(&s);
	ck_assert_int_eq(flowstore_open(&s, path, 50, err, sizeof(err)), 0);
	ck_assert(!s.adoptable);
	ck_assert_ptr_nonnull(strstr(s.why, "earlier boot"));
	flowstore_close(&s);
}
END_TEST

START_TEST(test_second_user_refused)
{
	struct flowstore s1, s2;
	char err[256];

	ck_assert_int_eq(flowstore_open(&s1, path, 10, err, sizeof(err)), 0);
	ck_assert_int_eq(flowstore_open(&s2, path, 10, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "in use by another tcpcryptd"));
	flowstore_close(&s1);
	ck_assert_int_eq(flowstore_open(&s2, path, 10, err, sizeof(err)), 0);
	flowstore_close(&s2);
}
END_TEST

/* VmLck of this process in kB, from /proc/self/status. */
static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The keys in the map stay out of swap (when RLIMIT_MEMLOCK allows it or
 * we have CAP_IPC_LOCK) and out of core dumps; closing unlocks. */
START_TEST(test_locked_in_memory)
{
	struct flowstore s;
	char err[256];
	long before = vm_locked_kb();

	ck_assert_int_ge(before, 0);
	ck_assert_int_eq(flowstore_open(&s, path, 1000, err, sizeof(err)), 0);
	ck_assert_int_eq(s.dontdump_errno, 0);
	if (geteuid() == 0)
		ck_assert_int_eq(s.mlock_errno, 0);
	if (s.mlock_errno == 0) {
#ifndef __SANITIZE_ADDRESS__	/* ASan turns mlock into a no-op */
		ck_assert_int_ge(vm_locked_kb() - before, (long)(s.map_len / 1024));
#endif
	} else {
		ck_assert(s.mlock_errno == ENOMEM || s.mlock_errno == EPERM ||
			  s.mlock_errno == EAGAIN);
	}
	flowstore_close(&s);
	ck_assert_int_eq(vm_locked_kb(), before);
}
END_TEST

START_TEST(test_disk_refused)
{
	struct flowstore s;
	char err[256], disk[4096];

	int rc;

	/* The build directory is not tmpfs on the machines we run on; if it
	 * is, there is nothing to check here. */
	ck_assert_ptr_nonnull(getcwd(disk, sizeof(disk) - 8));
	strcat(disk, "/flows");
	rc = flowstore_open(&s, disk, 10, err, sizeof(err));
	if (rc == 0) {
		flowstore_close(&s);
		unlink(disk);
		return;
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_ptr_nonnull(strstr(err, "not on a memory file system"));
	ck_assert_int_eq(access(disk, F_OK), -1);
}
END_TEST

/* Lookups stay right whatever the flows the last lookups found became:
 * removed, replaced by another flow with the same ports, or in another
 * table with the same keys; a table started again where one was. */
static void key_of(struct flow_key *k, uint16_t lport, uint16_t rport, uint8_t last)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	k->lport = lport;
	k->rport = rport;
	k->laddr[0] = 10;
	k->raddr[0] = 10;
	k->raddr[3] = last;
}

static void no_evict(void *ctx, struct flow *f)
{
	(void)ctx;
	(void)f;
	ck_abort_msg("nothing is evicted here");
}

START_TEST(test_lookup_after_changes)
{
	static const uint8_t hk[16] = { 1 };
	struct flow_table t1, t2;
	struct flow_key a, b, c, d;
	struct flow *fa, *fb, *fc, *ga;

	key_of(&a, 1000, 80, 1);
	key_of(&b, 1000, 80, 2);	/* same ports: same cache entry */
	key_of(&c, 1004, 80, 1);
	key_of(&d, 1000, 80, 3);
	ck_assert_int_eq(flow_table_init(&t1, 16, hk, NULL, NULL), 0);
	ck_assert_int_eq(flow_table_init(&t2, 16, hk, NULL, NULL), 0);
	fa = flow_insert(&t1, &a, 1, no_evict, NULL);
	ck_assert_ptr_nonnull(fa);
	ck_assert_ptr_eq(flow_lookup(&t1, &a), fa);
	ck_assert_ptr_eq(flow_lookup(&t1, &a), fa);
	ck_assert_ptr_null(flow_lookup(&t1, &b));
	ck_assert_ptr_null(flow_lookup(&t2, &a));
	ga = flow_insert(&t2, &a, 1, no_evict, NULL);
	ck_assert_ptr_eq(flow_lookup(&t2, &a), ga);
	ck_assert_ptr_eq(flow_lookup(&t1, &a), fa);
	ck_assert_ptr_eq(flow_lookup(&t2, &a), ga);
	fb = flow_insert(&t1, &b, 2, no_evict, NULL);
	fc = flow_insert(&t1, &c, 3, no_evict, NULL);
	ck_assert_ptr_eq(flow_lookup(&t1, &b), fb);
	ck_assert_ptr_eq(flow_lookup(&t1, &a), fa);
	ck_assert_ptr_eq(flow_lookup(&t1, &c), fc);
	/* Removed: gone, and its slot taken by another key. */
	flow_remove(&t1, fa);
	ck_assert_ptr_null(flow_lookup(&t1, &a));
	ck_assert_ptr_eq(flow_lookup(&t1, &b), fb);
	ck_assert_ptr_eq(flow_insert(&t1, &d, 4, no_evict, NULL), fa);	/* slot reused */
	ck_assert_ptr_null(flow_lookup(&t1, &a));
	ck_assert_ptr_eq(flow_lookup(&t1, &d), fa);
	ck_assert_ptr_eq(flow_lookup(&t1, &b), fb);
	ck_assert_ptr_null(flow_lookup(&t1, &a));
	flow_remove(&t1, fa);
	ck_assert_ptr_null(flow_lookup(&t1, &d));
	/* A table ended and another started at the same address. */
	ck_assert_ptr_eq(flow_lookup(&t2, &a), ga);
	flow_table_free(&t2);
	ck_assert_int_eq(flow_table_init(&t2, 16, hk, NULL, NULL), 0);
	ck_assert_ptr_null(flow_lookup(&t2, &a));
	ck_assert_ptr_eq(flow_lookup(&t1, &c), fc);
	flow_table_free(&t1);
	flow_table_free(&t2);
}
END_TEST

/* The walk the control socket's "list" makes: every flow exactly once,
 * however small the bucket budget of each call and wherever it pauses. */
START_TEST(test_walk_sees_each_flow_once)
{
	static const uint8_t hk[16] = { 2 };
	enum { N = 40 };
	struct flow_table t;
	struct flow_key k;
	struct flow *fl[N];
	unsigned seen[N] = { 0 };
	struct flow_walk w = { 0 };
	const struct flow *f;
	size_t budget, calls = 0, n = 0;

	ck_assert_int_eq(flow_table_init(&t, 64, hk, NULL, NULL), 0);
	budget = t.nbuckets;
	ck_assert_ptr_null(flow_walk_at(&t, &w, &budget));	/* empty: over at once */
	ck_assert(flow_walk_done(&t, &w));
	ck_assert_uint_eq(budget, 0);
	for (unsigned i = 0; i < N; i++) {
		key_of(&k, (uint16_t)(2000 + i), 443, (uint8_t)i);
		fl[i] = flow_insert(&t, &k, i, no_evict, NULL);
		ck_assert_ptr_nonnull(fl[i]);
	}
	w = (struct flow_walk){ 0 };
	while (!flow_walk_done(&t, &w)) {
		ck_assert_uint_lt(calls++, 10 * t.nbuckets);
		budget = 1;
		f = flow_walk_at(&t, &w, &budget);
		if (!f)
			continue;
		/* Pausing in front of a flow: the next call finds it again. */
		budget = 1;
		ck_assert_ptr_eq(flow_walk_at(&t, &w, &budget), f);
		ck_assert_uint_eq(budget, 1);
		for (unsigned i = 0; i < N; i++)
			if (fl[i] == f)
				seen[i]++;
		n++;
		flow_walk_next(&w);
	}
	ck_assert_uint_eq(n, N);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(seen[i], 1);
	/* Each call leaves at most its budget of buckets behind. */
	ck_assert_uint_ge(calls, t.nbuckets);
	flow_table_free(&t);
}
END_TEST

static Suite *flowstore_suite(void)
{
	Suite *s = suite_create("flowstore");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_reopen_adopt);
	tcase_add_test(tc, test_foreign_or_damaged_file_discarded);
	tcase_add_test(tc, test_second_user_refused);
	tcase_add_test(tc, test_locked_in_memory);
	tcase_add_test(tc, test_disk_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_test(tc, test_lookup_after_changes);
	tcase_add_test(tc, test_walk_sees_each_flow_once);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(flowstore_suite)
