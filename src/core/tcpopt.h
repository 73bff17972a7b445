/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP options: scanning, MSS lowering, SACK edge translation, and building
 * an options area with one extra option (ENO or the MAC) appended, trimming
 * SACK blocks when the 40 bytes run out (doc/protocol.md section 6.7). */
#ifndef TC_TCPOPT_H
#define TC_TCPOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK  5
#define TCPOPT_TFO   34
#define TCPOPT_MPTCP 30
#define TCPOPT_EXP   253	/* RFC 6994 experimental, carries our MAC */
#define TCPOPT_EXP_TFO 254	/* experimental TFO (magic f989) */

#define MAC_OPT_LEN  16		/* fd 10 74 63 | tag(12) */
#define MAC_EXID     0x7463

struct tcpopt_info {
	int mss;		/* offset of the MSS option, or -1 */
	int wscale;		/* offset of the window scale option, or -1 */
	int sack;		/* offset of the SACK option, or -1 */
	int mac;		/* offset of our MAC option, or -1 */
	int eno_count;		/* ENO options seen */
	bool tfo;		/* a TCP Fast Open option is present */
	bool mptcp;		/* an MPTCP option (kind 30) is present */
	bool mac_malformed;	/* kind 253 with our ExID but a wrong length */
	size_t used;		/* bytes up to and including the last option
				 * (trailing NOP/EOL padding excluded) */
};

/* Returns 0, or -1 when an option runs past the end or has a length < 2. */
int tcpopt_scan(const uint8_t *opts, size_t len, struct tcpopt_info *info);

/* Lowers the MSS value by delta (not below 64); returns true if changed. */
bool tcpopt_lower_mss(uint8_t *opts, const struct tcpopt_info *info, uint16_t delta);

/* Adds delta (mod 2^32) to every SACK edge, or, with clamp_floor set, subtracts
 * -delta but never below floor (serial-number comparison). */
void tcpopt_sack_shift(uint8_t *opts, const struct tcpopt_info *info, uint32_t delta);
void tcpopt_sack_unshift(uint8_t *opts, const struct tcpopt_info *info, uint32_t delta,
			 uint32_t floor);

/* Writes opts (len bytes, described by info) followed by extra into out,
 * dropping SACK blocks from the end of the SACK option (RFC 2018 puts the
 * most recent block first) and then the whole SACK option until everything
 * fits in TCP_MAX_OPT_LEN; pads with NOPs to a multiple of 4.  Trailing
 * padding of the original is dropped.  Returns the new length, or -1 if it
 * cannot fit.  *sack_blocks_dropped counts what was removed. */
int tcpopt_append(uint8_t out[40], const uint8_t *opts, size_t len,
		  const struct tcpopt_info *info, const uint8_t *extra, size_t extra_len,
		  unsigned *sack_blocks_dropped);

#endif
