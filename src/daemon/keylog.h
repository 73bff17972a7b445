/* SPDX-License-Identifier: BSD-2-Clause */
/* The debug key log of doc/protocol.md section 10.  Off unless configured. */
#ifndef TC_KEYLOG_H
#define TC_KEYLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Opens (creating with mode 0600) for appending.  Refuses a symbolic link,
 * anything but a regular file, a file owned by another user and a file
 * that group or others may read or write.  NULL on error, with a message
 * naming the file in err. */
FILE *keylog_open(const char *path, char *err, size_t errlen);
/* Appends "TCPCRYPT_ES <N_A hex> <ES hex>" and flushes it. */
void keylog_write(FILE *f, const uint8_t n_a[32], const uint8_t es[32]);
/* Appends "TCPCRYPT_SS <R_A hex> <ss[i] hex> <suite, 4 hex digits>" (a
 * resumed connection) and flushes it. */
void keylog_write_ss(FILE *f, const uint8_t r_a[9], const uint8_t ss[32], uint16_t suite);

#endif
