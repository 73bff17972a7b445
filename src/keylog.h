/* The debug key log of PROTOCOL.md section 7.  Off unless configured. */
#ifndef TC_KEYLOG_H
#define TC_KEYLOG_H

#include <stdint.h>
#include <stdio.h>

/* Opens (creating with mode 0600) for appending; NULL on error. */
FILE *keylog_open(const char *path);
/* Appends "TCPCRYPT_ES <N_A hex> <ES hex>" and flushes it. */
void keylog_write(FILE *f, const uint8_t n_a[32], const uint8_t es[32]);

#endif
