/* SPDX-License-Identifier: BSD-2-Clause */
/* The debug key log: created 0600 and written line by line; a symbolic
 * link, a file others may read or write, a file of another user and
 * anything but a regular file are refused with a message naming it. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keylog.h"

static char dir[64], path[96], target[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tc-keylog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys.log", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(path);
	unlink(target);
	rmdir(dir);
}

static void assert_refused(const char *why)
{
	char err[256] = "";
	FILE *f = keylog_open(path, err, sizeof(err));

	if (f)
		fclose(f);
	ck_assert_msg(f == NULL, "%s: opened", why);
	ck_assert_msg(strstr(err, path) != NULL, "%s: message \"%s\" does not name the file",
		      why, err);
}

START_TEST(test_created_0600_and_written)
{
	uint8_t n_a[32], es[32];
	char err[256], line[200];
	struct stat st;
	FILE *f;

	memset(n_a, 0xab, sizeof(n_a));
	memset(es, 0x01, sizeof(es));
	f = keylog_open(path, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	keylog_write(f, n_a, es);
	fclose(f);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	/* Appending to our own 0600 file is fine. */
	f = keylog_open(path, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	keylog_write(f, n_a, es);
	fclose(f);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_int_eq(strncmp(line, "TCPCRYPT_ES abab", 16), 0);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
}
END_TEST

START_TEST(test_symlink_refused)
{
	struct stat st;

	/* Dangling (would be created through the link) and pointing at an
	 * existing file of ours: both refused, nothing created or written. */
	ck_assert_int_eq(symlink(target, path), 0);
	assert_refused("dangling symlink");
	ck_assert_int_eq(lstat(target, &st), -1);
	close(open(target, O_WRONLY | O_CREAT, 0600));
	assert_refused("symlink to a 0600 file");
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

START_TEST(test_open_mode_refused)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0660 };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char why[32];

		close(open(path, O_WRONLY | O_CREAT, 0600));
		ck_assert_int_eq(chmod(path, modes[i]), 0);
		snprintf(why, sizeof(why), "mode %04o", (unsigned)modes[i]);
		assert_refused(why);
		/* Left as it was: not "repaired", not written. */
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 07777, modes[i]);
		ck_assert_int_eq(st.st_size, 0);
		unlink(path);
	}
}
END_TEST

START_TEST(test_not_regular_refused)
{
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	assert_refused("fifo");
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_refused("directory");
}
END_TEST

START_TEST(test_foreign_owner_refused)
{
	/* Only root can give a file away. */
	if (geteuid() != 0)
		return;
	close(open(path, O_WRONLY | O_CREAT, 0600));
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	assert_refused("owned by another user");
}
END_TEST

static Suite *keylog_suite(void)
{
	Suite *s = suite_create("keylog");
	TCase *tc = tcase_create("open");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_created_0600_and_written);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_open_mode_refused);
	tcase_add_test(tc, test_not_regular_refused);
	tcase_add_test(tc, test_foreign_owner_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(keylog_suite)
