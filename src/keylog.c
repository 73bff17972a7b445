#include "keylog.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *keylog_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	/* An existing file may have been readable by others: not any more. */
	if (fchmod(fd, 0600) < 0) {
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

void keylog_write(FILE *f, const uint8_t n_a[32], const uint8_t es[32])
{
	char a[65], b[65];

	sodium_bin2hex(a, sizeof(a), n_a, 32);
	sodium_bin2hex(b, sizeof(b), es, 32);
	fprintf(f, "TCPCRYPT_ES %s %s\n", a, b);
	/* Written before the first tagged segment leaves (PROTOCOL.md 7). */
	fflush(f);
	sodium_memzero(b, sizeof(b));
}
