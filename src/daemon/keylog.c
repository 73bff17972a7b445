/* SPDX-License-Identifier: BSD-2-Clause */
#include "keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *refuse(int fd, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (fd >= 0)
		close(fd);
	return NULL;
}

FILE *keylog_open(const char *path, char *err, size_t errlen)
{
	/* O_NOFOLLOW: a symbolic link planted at the path (in a directory
	 * someone else can write) must not send the secrets elsewhere. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
		      O_NONBLOCK, 0600);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return refuse(-1, err, errlen, "%s: %s", path, errno == ELOOP ?
			      "is a symbolic link (refused)" : strerror(errno));
	if (fstat(fd, &st) < 0)
		return refuse(fd, err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(fd, err, errlen, "%s: not a regular file (refused)", path);
	if (st.st_uid != geteuid())
		return refuse(fd, err, errlen, "%s: owned by uid %u, not by this daemon's "
			      "uid %u (refused)", path, (unsigned)st.st_uid, (unsigned)geteuid());
	/* A file others could read may already be open in their hands:
	 * changing its mode now would not take the secrets back. */
	if (st.st_mode & 077)
		return refuse(fd, err, errlen, "%s: mode %04o gives access to group or "
			      "others (refused; it must be 0600 or stricter)", path,
			      (unsigned)(st.st_mode & 07777));
	f = fdopen(fd, "a");
	if (!f)
		return refuse(fd, err, errlen, "%s: %s", path, strerror(errno));
	return f;
}

void keylog_write(FILE *f, const uint8_t n_a[32], const uint8_t es[32])
{
	char a[65], b[65];

	sodium_bin2hex(a, sizeof(a), n_a, 32);
	sodium_bin2hex(b, sizeof(b), es, 32);
	fprintf(f, "TCPCRYPT_ES %s %s\n", a, b);
	/* Written before the first tagged segment leaves (doc/protocol.md
	 * section 10). */
	fflush(f);
	sodium_memzero(b, sizeof(b));
}

void keylog_write_ss(FILE *f, const uint8_t r_a[9], const uint8_t ss[32], uint16_t suite)
{
	char a[19], b[65];

	sodium_bin2hex(a, sizeof(a), r_a, 9);
	sodium_bin2hex(b, sizeof(b), ss, 32);
	fprintf(f, "TCPCRYPT_SS %s %s %04x\n", a, b, (unsigned)suite);
	fflush(f);
	sodium_memzero(b, sizeof(b));
}
