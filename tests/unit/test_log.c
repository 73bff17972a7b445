/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging to stderr: one line per message, held while deferring and
 * written in order by log_flush, when the buffer fills, and when
 * deferring stops. */
#include "unit.h"

#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* stderr into a temporary file; returns the file to read back. */
static FILE *capture(void)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	return f;
}

static size_t written(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(stderr);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	return n;
}

START_TEST(test_immediate_without_defer)
{
	FILE *f = capture();
	char buf[256];

	log_init(LOG_LVL_INFO);
	log_info("one %d", 1);
	log_debug("not shown");
	log_warn("two");
	written(f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one 1\nwarning: two\n");
}
END_TEST

START_TEST(test_held_until_flush)
{
	FILE *f = capture();
	char buf[256];

	log_init(LOG_LVL_INFO);
	log_defer(true);
	log_info("first");
	log_err("second");
	ck_assert_uint_eq(written(f, buf, sizeof(buf)), 0);
	log_flush();
	written(f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "first\nerror: second\n");
	log_info("third");
	log_defer(false);	/* writes what is held */
	written(f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "first\nerror: second\nthird\n");
	log_info("fourth");	/* and from now on at once */
	written(f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "first\nerror: second\nthird\nfourth\n");
}
END_TEST

/* More than the buffer holds: the older lines go out first, nothing is
 * lost or reordered. */
START_TEST(test_overflow_keeps_order)
{
	FILE *f = capture();
	static char buf[64 * 1024];
	char want[32];
	const char *p;

	log_init(LOG_LVL_INFO);
	log_defer(true);
	for (int i = 0; i < 1000; i++)
		log_info("line %04d of a long run of lines", i);
	ck_assert_uint_gt(written(f, buf, sizeof(buf)), 0);
	log_flush();
	written(f, buf, sizeof(buf));
	p = buf;
	for (int i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "line %04d of", i);
		ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "line %d", i);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	ck_assert_str_eq(p, "");
	log_defer(false);
}
END_TEST

/* A held line is written at exit() too: a child logs and exits. */
START_TEST(test_written_at_exit)
{
	FILE *f = capture();
	char buf[256];
	pid_t pid;
	int status;

	log_init(LOG_LVL_INFO);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		log_defer(true);
		log_info("at exit");
		exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	written(f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "at exit\n");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_immediate_without_defer);
	tcase_add_test(tc, test_held_until_flush);
	tcase_add_test(tc, test_overflow_keeps_order);
	tcase_add_test(tc, test_written_at_exit);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(log_suite)
