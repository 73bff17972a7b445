/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: tcpcrypt-decrypt (src/tools/decrypt.c) on a capture
 * and a key log that both come from the input, the way a user runs it on
 * a capture somebody sent them.
 *
 * Input: the key log's text, a NUL byte, then the capture file (pcap or
 * pcapng).  Without a NUL the whole input is the key log and the capture
 * is empty.  Both are written to memfds and handed to the tool by path,
 * with -o to a third memfd and -v on.
 *
 * Oracles: the run returns 0, 1 or 2; when it returns 0 or 1, the output
 * capture holds as many packets as libpcap reads from the input, each with
 * the same captured and original length (the tool overwrites options and
 * payload in place, never adds or drops a byte).  ASan/UBSan and the leak
 * checker watch every path, the error paths included.
 *
 * The tool is compiled into the harness with its main renamed, so that
 * decrypt_capture (static there) can be called once per input. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define main tcpcrypt_decrypt_main
#include "../../src/tools/decrypt.c"
#undef main

#include "fuzz_common.h"

#define MAX_PKTS 100000

static int fd_keylog = -1, fd_in = -1, fd_out = -1;
static char path_keylog[64], path_in[64], path_out[64];
static FILE *devnull;

static int open_memfd(const char *name, char *path, size_t n)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(sodium_init() >= 0);
	fd_keylog = open_memfd("fuzz_keylog", path_keylog, sizeof(path_keylog));
	fd_in = open_memfd("fuzz_capture", path_in, sizeof(path_in));
	fd_out = open_memfd("fuzz_out", path_out, sizeof(path_out));
	devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull);
	verbose = 1;
	return 0;
}

static void put(int fd, const uint8_t *data, size_t len)
{
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, len, 0) == (ssize_t)len);
}

/* The lengths of every packet libpcap reads from path, or -1 when it
 * cannot read the file (or stops with an error part way). */
static long lengths(const char *path, uint32_t *caplen, uint32_t *len, long max)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *data;
	long n = 0;
	int rc;

	if (!p)
		return -1;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (n < max) {
			caplen[n] = h->caplen;
			len[n] = h->len;
		}
		n++;
	}
	pcap_close(p);
	return rc == -1 ? -1 : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t in_cap[MAX_PKTS], in_len[MAX_PKTS], out_cap[MAX_PKTS], out_len[MAX_PKTS];
	const uint8_t *nul = memchr(data, 0, size);
	size_t klen = nul ? (size_t)(nul - data) : size;
	FILE *saved = stderr;
	long n_in, n_out;
	int rc;

	put(fd_keylog, data, klen);
	put(fd_in, nul ? nul + 1 : data + size, nul ? size - klen - 1 : 0);
	FUZZ_CHECK(ftruncate(fd_out, 0) == 0);

	stderr = devnull;	/* the tool's messages; sanitizer reports use fd 2 */
	rc = decrypt_capture(path_in, path_keylog, path_out);
	stderr = saved;
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == 2);
	if (rc == 2)
		return 0;

	n_in = lengths(path_in, in_cap, in_len, MAX_PKTS);
	n_out = lengths(path_out, out_cap, out_len, MAX_PKTS);
	/* The tool finished both passes, so libpcap read the input whole. */
	FUZZ_CHECK(n_in >= 0);
	FUZZ_CHECK(n_out == n_in);
	for (long i = 0; i < n_in && i < MAX_PKTS; i++)
		FUZZ_CHECK(out_cap[i] == in_cap[i] && out_len[i] == in_len[i]);
	return 0;
}
