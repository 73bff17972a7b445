/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP options: scanning, MSS lowering, SACK edge translation and
 * tcpopt_append's SACK trimming (doc/protocol.md sections 3.5, 6.7 and
 * 8).  The option sets are the ones Linux actually sends. */
#include "unit.h"

#include "eno.h"
#include "packet.h"
#include "tcpopt.h"

/* Linux SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
#define LINUX_SYN "02 04 05 b4  04 02  08 0a 00 0a 1b 2c 00 00 00 00  01  03 03 07"
/* Linux data segment: NOP NOP timestamps. */
#define LINUX_TS  "01 01 08 0a 00 0a 1b 2c 11 22 33 44"
#define MAC_OPT   "fd 10 74 63 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac"

static size_t opts_of(const char *hex, uint8_t out[64])
{
	return unit_unhex(hex, out, 64);
}

static const uint8_t mac_opt[MAC_OPT_LEN] = {
	0xfd, 0x10, 0x74, 0x63, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
};

/* NOP NOP SACK with n blocks, edges 1000*i.., after optional TS. */
static size_t sack_opts(uint8_t *out, bool with_ts, unsigned n)
{
	size_t len = 0;

	if (with_ts)
		len = opts_of(LINUX_TS, out);
	out[len++] = TCPOPT_NOP;
	out[len++] = TCPOPT_NOP;
	out[len++] = TCPOPT_SACK;
	out[len++] = (uint8_t)(2 + 8 * n);
	for (unsigned i = 0; i < n; i++) {
		/* Most recent block first (RFC 2018): block i = [L_i, R_i). */
		uint32_t l = 100000 + 10000 * (n - i), r = l + 1448;
		out[len++] = (uint8_t)(l >> 24);
		out[len++] = (uint8_t)(l >> 16);
		out[len++] = (uint8_t)(l >> 8);
		out[len++] = (uint8_t)l;
		out[len++] = (uint8_t)(r >> 24);
		out[len++] = (uint8_t)(r >> 16);
		out[len++] = (uint8_t)(r >> 8);
		out[len++] = (uint8_t)r;
	}
	return len;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ------------------------------------------------------------------------ */
/* Scanning */

START_TEST(test_scan_linux_syn)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_SYN, o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mss, 0);
	ck_assert_int_eq(info.wscale, 17);
	ck_assert_int_eq(info.sack, -1);
	ck_assert_int_eq(info.mac, -1);
	ck_assert_int_eq(info.eno_count, 0);
	ck_assert(!info.tfo);
	ck_assert(!info.mac_malformed);
	ck_assert_uint_eq(info.used, 20);
}
END_TEST

START_TEST(test_scan_linux_ts)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_TS, o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mss, -1);
	ck_assert_int_eq(info.wscale, -1);
	ck_assert_int_eq(info.sack, -1);
	ck_assert_int_eq(info.mac, -1);
	ck_assert_uint_eq(info.used, 12);
}
END_TEST

/* _i = number of SACK blocks 1..4, with and without timestamps. */
START_TEST(test_scan_sack_blocks)
{
	unsigned blocks = (unsigned)_i;
	struct tcpopt_info info;
	uint8_t o[64];
	size_t n;

	n = sack_opts(o, false, blocks);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.sack, 2);
	ck_assert_uint_eq(info.used, n);
	if (blocks <= 3) {	/* four blocks and timestamps exceed 40 bytes */
		n = sack_opts(o, true, blocks);
		ck_assert_uint_le(n, 40);
		ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
		ck_assert_int_eq(info.sack, 14);
		ck_assert_uint_eq(info.used, n);
	}
}
END_TEST

START_TEST(test_scan_trailing_padding_not_used)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_TS " 01 01 01 01", o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_uint_eq(info.used, 12);
}
END_TEST

START_TEST(test_scan_malformed)
{
	static const char *const bad[] = {
		"02 00 05 b4",			/* length 0 */
		"01 01 08 01 00 00",		/* length 1 */
		"02 04 05",			/* MSS runs past the end */
		"01 01 08 0a 00 00 00 00 00 00 00",	/* TS one byte short */
		"01 01 01 02",			/* lone kind byte at the end */
		"02 04 05 b4 03",		/* lone kind byte after an option */
		"05 0a 00 00 00 01 00 00 00",	/* SACK past the end */
		"fd 10 74 63 00 00",		/* MAC option past the end */
	};
	struct tcpopt_info info;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t o[64];
		size_t n = opts_of(bad[i], o);
		/* Exact-size copy so ASan catches any read past the end. */
		uint8_t *exact = malloc(n);
		memcpy(exact, o, n);
		ck_assert_msg(tcpopt_scan(exact, n, &info) == -1, "case %zu accepted", i);
		free(exact);
	}
}
END_TEST

/* Every truncation of a valid option area either parses or fails cleanly
 * without reading past the given length. */
START_TEST(test_scan_every_truncation)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_SYN, o);
	struct tcpopt_info info;

	for (size_t len = 0; len <= n; len++) {
		uint8_t *exact = malloc(len ? len : 1);
		int r;

		memcpy(exact, o, len);
		r = tcpopt_scan(exact, len, &info);
		ck_assert(r == 0 || r == -1);
		if (r == 0)
			ck_assert_uint_le(info.used, len);
		free(exact);
	}
}
END_TEST

START_TEST(test_scan_eol_stops)
{
	uint8_t o[64];
	/* Garbage after EOL (an option with length 0xff) must be ignored. */
	size_t n = opts_of("02 04 05 b4 00 05 ff 00", o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mss, 0);
	ck_assert_int_eq(info.sack, -1);
	ck_assert_uint_eq(info.used, 4);
}
END_TEST

START_TEST(test_scan_mac)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_TS MAC_OPT, o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mac, 12);
	ck_assert(!info.mac_malformed);
	ck_assert_uint_eq(info.used, 28);
}
END_TEST

START_TEST(test_scan_mac_malformed)
{
	uint8_t o[64];
	struct tcpopt_info info;
	size_t n;

	/* Our ExID with 14 and 20 bytes: not our MAC, but flagged. */
	n = opts_of("fd 0e 74 63 00 00 00 00 00 00 00 00 00 00 01 01", o);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mac, -1);
	ck_assert(info.mac_malformed);
	n = opts_of("fd 14 74 63 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", o);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mac, -1);
	ck_assert(info.mac_malformed);
	/* Another experiment's 16-byte option is neither. */
	n = opts_of("fd 10 12 34 00 00 00 00 00 00 00 00 00 00 00 00", o);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.mac, -1);
	ck_assert(!info.mac_malformed);
}
END_TEST

START_TEST(test_scan_tfo)
{
	uint8_t o[64];
	struct tcpopt_info info;
	size_t n;

	n = opts_of("22 0a 01 02 03 04 05 06 07 08", o);	/* kind 34 cookie */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(info.tfo);
	n = opts_of("02 04 05 b4 22 02 01 01", o);		/* cookie request */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(info.tfo);
	n = opts_of("fe 0c f9 89 01 02 03 04 05 06 07 08", o);	/* experimental TFO */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(info.tfo);
	n = opts_of("fe 06 12 34 00 00", o);			/* other experiment */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(!info.tfo);
}
END_TEST

START_TEST(test_scan_eno_count)
{
	uint8_t o[64];
	size_t n = opts_of("45 05 a0 74 31 45 02 01", o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(info.eno_count, 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* MSS */

START_TEST(test_lower_mss)
{
	uint8_t o[64];
	size_t n = opts_of(LINUX_SYN, o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(tcpopt_lower_mss(o, &info, 16));
	ck_assert_uint_eq(o[2] << 8 | o[3], 1444);
	/* The rest of the options is untouched. */
	ck_assert_uint_eq(o[0], 2);
	ck_assert_uint_eq(o[1], 4);
	ck_assert_uint_eq(o[19], 7);
}
END_TEST

START_TEST(test_lower_mss_floor)
{
	uint8_t o[64];
	struct tcpopt_info info;
	size_t n;

	n = opts_of("02 04 00 46", o);	/* 70: would go to 54, stops at 64 */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(tcpopt_lower_mss(o, &info, 16));
	ck_assert_uint_eq(o[2] << 8 | o[3], 64);
	ck_assert(!tcpopt_lower_mss(o, &info, 16));	/* already 64 */
	ck_assert_uint_eq(o[2] << 8 | o[3], 64);
	n = opts_of("02 04 00 28", o);	/* 40: below the floor, left alone */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(!tcpopt_lower_mss(o, &info, 16));
	ck_assert_uint_eq(o[2] << 8 | o[3], 40);
	n = opts_of(LINUX_TS, o);	/* no MSS at all */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert(!tcpopt_lower_mss(o, &info, 16));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* SACK edges */

START_TEST(test_sack_shift)
{
	uint8_t o[64], orig[64];
	size_t n = sack_opts(o, true, 3);
	struct tcpopt_info info;

	memcpy(orig, o, n);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	tcpopt_sack_shift(o, &info, 75);
	for (size_t e = 16; e < n; e += 4)
		ck_assert_uint_eq(be32(o + e), be32(orig + e) + 75);
	/* Timestamps and the SACK header did not move. */
	ck_assert_mem_eq(o, orig, 16);
	tcpopt_sack_unshift(o, &info, 75, 1);
	ck_assert_mem_eq(o, orig, n);
}
END_TEST

START_TEST(test_sack_shift_wraps)
{
	uint8_t o[64];
	size_t n = opts_of("01 01 05 0a ff ff ff e0 ff ff ff f0", o);
	struct tcpopt_info info;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	tcpopt_sack_shift(o, &info, 75);
	ck_assert_uint_eq(be32(o + 4), 0x2b);
	ck_assert_uint_eq(be32(o + 8), 0x3b);
	tcpopt_sack_unshift(o, &info, 75, 0xffffff00u);
	ck_assert_uint_eq(be32(o + 4), 0xffffffe0u);
	ck_assert_uint_eq(be32(o + 8), 0xfffffff0u);
}
END_TEST

/* Edges inside the peer's Init acknowledge nothing of our kernel's: they
 * are clamped to ISN + 1 (serial-number comparison, across the wrap). */
START_TEST(test_sack_unshift_floor)
{
	uint8_t o[64];
	struct tcpopt_info info;
	size_t n;

	n = opts_of("01 01 05 0a 00 00 03 f0 00 00 04 60", o);	/* 1008, 1120 */
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	tcpopt_sack_unshift(o, &info, 75, 1001);
	ck_assert_uint_eq(be32(o + 4), 1001);		/* 933 < 1001 */
	ck_assert_uint_eq(be32(o + 8), 1045);
	/* Floor just below the wrap: 0x10 - 0x30 is below it, 0x40 - 0x30
	 * is above it even though numerically smaller. */
	n = opts_of("01 01 05 0a 00 00 00 10 00 00 00 40", o);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	tcpopt_sack_unshift(o, &info, 0x30, 0xfffffff0u);
	ck_assert_uint_eq(be32(o + 4), 0xfffffff0u);
	ck_assert_uint_eq(be32(o + 8), 0x10);
}
END_TEST

START_TEST(test_sack_shift_without_sack)
{
	uint8_t o[64], orig[64];
	size_t n = opts_of(LINUX_TS, o);
	struct tcpopt_info info;

	memcpy(orig, o, n);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	tcpopt_sack_shift(o, &info, 75);
	tcpopt_sack_unshift(o, &info, 75, 5);
	ck_assert_mem_eq(o, orig, n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Appending */

/* Rescans an appended area and checks the MAC is intact and aligned. */
static void check_mac_at_end(const uint8_t *out, int len)
{
	struct tcpopt_info info;

	ck_assert_int_ge(len, MAC_OPT_LEN);
	ck_assert_int_le(len, TCP_MAX_OPT_LEN);
	ck_assert_int_eq(len % 4, 0);
	ck_assert_int_eq(tcpopt_scan(out, (size_t)len, &info), 0);
	ck_assert_int_ge(info.mac, 0);
	ck_assert_int_eq(info.mac % 4, 0);
	ck_assert_mem_eq(out + info.mac, mac_opt, MAC_OPT_LEN);
}

START_TEST(test_append_fits)
{
	uint8_t o[64], out[40];
	size_t n = opts_of(LINUX_TS, o);
	struct tcpopt_info info;
	unsigned dropped = 99;
	int len;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_int_eq(len, 28);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_mem_eq(out, o, 12);
	ck_assert_mem_eq(out + 12, mac_opt, MAC_OPT_LEN);
	check_mac_at_end(out, len);
}
END_TEST

START_TEST(test_append_to_nothing)
{
	uint8_t none[1] = { 0xee }, out[40];
	struct tcpopt_info info;
	int len;

	/* A segment without options (none[] is outside the given length). */
	ck_assert_int_eq(tcpopt_scan(none, 0, &info), 0);
	len = tcpopt_append(out, none, 0, &info, mac_opt, MAC_OPT_LEN, NULL);
	ck_assert_int_eq(len, 16);
	ck_assert_mem_eq(out, mac_opt, MAC_OPT_LEN);
}
END_TEST

/* A kernel segment with one SACK block and timestamps: exactly 40 bytes
 * with the MAC, nothing removed. */
START_TEST(test_append_sack1_exact_fit)
{
	uint8_t o[64], out[40];
	size_t n = sack_opts(o, true, 1);
	struct tcpopt_info info;
	unsigned dropped = 99;
	int len;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_int_eq(len, 40);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_mem_eq(out, o, n);
	check_mac_at_end(out, len);
}
END_TEST

/* _i = 2 or 3 SACK blocks after timestamps: the oldest (last) blocks go
 * until the MAC fits; the result is exactly 40 bytes. */
START_TEST(test_append_trims_sack_with_ts)
{
	unsigned blocks = (unsigned)_i;
	uint8_t o[64], out[40];
	size_t n = sack_opts(o, true, blocks);
	struct tcpopt_info info, after;
	unsigned dropped = 99;
	int len;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_int_eq(len, 40);
	ck_assert_uint_eq(dropped, blocks - 1);
	check_mac_at_end(out, len);
	ck_assert_int_eq(tcpopt_scan(out, (size_t)len, &after), 0);
	/* Timestamps survive; the most recent SACK block (first) is kept. */
	ck_assert_mem_eq(out, o, 14);
	ck_assert_int_eq(after.sack, 14);
	ck_assert_uint_eq(out[15], 10);
	ck_assert_mem_eq(out + 16, o + 16, 8);
	ck_assert_int_eq(after.mac, 24);
}
END_TEST

/* Four blocks (only possible without timestamps): two must go. */
START_TEST(test_append_trims_sack4)
{
	uint8_t o[64], out[40];
	size_t n = sack_opts(o, false, 4);
	struct tcpopt_info info, after;
	unsigned dropped = 99;
	int len;

	ck_assert_uint_eq(n, 36);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_uint_eq(dropped, 2);
	ck_assert_int_eq(len, 36);
	check_mac_at_end(out, len);
	ck_assert_int_eq(tcpopt_scan(out, (size_t)len, &after), 0);
	ck_assert_int_eq(after.sack, 2);
	ck_assert_uint_eq(out[3], 18);
	ck_assert_mem_eq(out + 4, o + 4, 16);	/* the two newest blocks */
}
END_TEST

/* SACK packed without NOPs after TS without NOPs: the cut lands the MAC
 * at an unaligned position unless padding is added. */
START_TEST(test_append_trims_unaligned)
{
	uint8_t o[64], out[40];
	size_t n = unit_unhex("08 0a 00 00 00 01 00 00 00 02"
			      "05 1a 00 00 00 10 00 00 00 20 00 00 00 30 00 00 00 40"
			      "00 00 00 50 00 00 00 60", o, sizeof(o));
	struct tcpopt_info info;
	unsigned dropped = 99;
	int len;

	ck_assert_uint_eq(n, 36);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_int_ge(len, 0);
	ck_assert_uint_ge(dropped, 1);
	check_mac_at_end(out, len);
}
END_TEST

/* Even without the whole SACK option the MAC does not fit: -1. */
START_TEST(test_append_cannot_fit)
{
	uint8_t o[64], out[40];
	struct tcpopt_info info;
	size_t n;

	/* TS (12) + a 12-byte foreign experiment + NOP NOP SACK(1 block). */
	n = unit_unhex(LINUX_TS "fd 0c 12 34 00 00 00 00 00 00 00 00"
		       "01 01 05 0a 00 00 00 01 00 00 00 02", o, sizeof(o));
	ck_assert_uint_eq(n, 36);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, NULL), -1);
	/* No SACK to remove at all. */
	n = unit_unhex(LINUX_TS "fd 10 12 34 00 00 00 00 00 00 00 00 00 00 00 00", o,
		       sizeof(o));
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, NULL), -1);
}
END_TEST

/* Removing the whole SACK option is enough: it goes entirely. */
START_TEST(test_append_removes_whole_sack)
{
	uint8_t o[64], out[40];
	struct tcpopt_info info, after;
	unsigned dropped = 99;
	size_t n;
	int len;

	n = unit_unhex(LINUX_TS "fd 08 12 34 00 00 00 00"
		       "01 01 05 0a 00 00 00 01 00 00 00 02", o, sizeof(o));
	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, &dropped);
	ck_assert_int_ge(len, 0);
	ck_assert_uint_eq(dropped, 1);
	check_mac_at_end(out, len);
	ck_assert_int_eq(tcpopt_scan(out, (size_t)len, &after), 0);
	ck_assert_int_eq(after.sack, -1);
	ck_assert_mem_eq(out, o, 20);		/* TS and the experiment stay */
}
END_TEST

/* A's ENO option (5 bytes) on a Linux SYN: appended, then NOP-padded. */
START_TEST(test_append_eno_syn_padded)
{
	uint8_t o[64], out[40];
	size_t n = opts_of(LINUX_SYN, o);
	struct tcpopt_info info, after;
	int len;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, eno_syn_a, ENO_SYN_A_LEN, NULL);
	ck_assert_int_eq(len, 28);
	ck_assert_mem_eq(out, o, 20);
	ck_assert_mem_eq(out + 20, eno_syn_a, ENO_SYN_A_LEN);
	ck_assert_uint_eq(out[25], TCPOPT_NOP);
	ck_assert_uint_eq(out[26], TCPOPT_NOP);
	ck_assert_uint_eq(out[27], TCPOPT_NOP);
	ck_assert_int_eq(tcpopt_scan(out, (size_t)len, &after), 0);
	ck_assert_int_eq(after.eno_count, 1);
	ck_assert_int_eq(after.mss, 0);
	ck_assert_int_eq(after.wscale, 17);
}
END_TEST

/* A fuller SYN (32 bytes: MSS, SACK-perm, TS, WS and an 8-byte foreign
 * option) leaves exactly room for ENO plus three NOPs. */
START_TEST(test_append_eno_full_syn)
{
	uint8_t o[64], out[40];
	size_t n = opts_of(LINUX_SYN "fd 08 12 34 00 00 00 00 01 01 01 01", o);
	struct tcpopt_info info;
	int len;

	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_uint_eq(info.used, 28);
	len = tcpopt_append(out, o, n, &info, eno_syn_b, ENO_SYN_B_LEN, NULL);
	ck_assert_int_eq(len, 36);
	ck_assert_mem_eq(out + 28, eno_syn_b, ENO_SYN_B_LEN);
	ck_assert_uint_eq(out[34], TCPOPT_NOP);
	ck_assert_uint_eq(out[35], TCPOPT_NOP);
	/* 36 used bytes + 5 do not fit. */
	n = opts_of(LINUX_SYN "fd 10 12 34 00 00 00 00 00 00 00 00 00 00 00 00", o);
	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	ck_assert_int_eq(tcpopt_append(out, o, n, &info, eno_syn_a, ENO_SYN_A_LEN, NULL), -1);
}
END_TEST

/* An options area ending at an odd byte: the MAC still lands aligned. */
START_TEST(test_append_aligns_mac)
{
	uint8_t o[64], out[40];
	size_t n = opts_of("02 04 05 b4 03 03 07", o);
	struct tcpopt_info info;
	int len;

	ck_assert_int_eq(tcpopt_scan(o, n, &info), 0);
	len = tcpopt_append(out, o, n, &info, mac_opt, MAC_OPT_LEN, NULL);
	ck_assert_int_eq(len, 24);
	ck_assert_uint_eq(out[7], TCPOPT_NOP);
	ck_assert_mem_eq(out + 8, mac_opt, MAC_OPT_LEN);
	check_mac_at_end(out, len);
}
END_TEST

static Suite *tcpopt_suite(void)
{
	Suite *s = suite_create("tcpopt");
	TCase *scan = tcase_create("scan");
	TCase *mss = tcase_create("mss");
	TCase *sack = tcase_create("sack");
	TCase *app = tcase_create("append");

	tcase_add_test(scan, test_scan_linux_syn);
	tcase_add_test(scan, test_scan_linux_ts);
	tcase_add_loop_test(scan, test_scan_sack_blocks, 1, 5);
	tcase_add_test(scan, test_scan_trailing_padding_not_used);
	tcase_add_test(scan, test_scan_malformed);
	tcase_add_test(scan, test_scan_every_truncation);
	tcase_add_test(scan, test_scan_eol_stops);
	tcase_add_test(scan, test_scan_mac);
	tcase_add_test(scan, test_scan_mac_malformed);
	tcase_add_test(scan, test_scan_tfo);
	tcase_add_test(scan, test_scan_eno_count);
	suite_add_tcase(s, scan);

	tcase_add_test(mss, test_lower_mss);
	tcase_add_test(mss, test_lower_mss_floor);
	suite_add_tcase(s, mss);

	tcase_add_test(sack, test_sack_shift);
	tcase_add_test(sack, test_sack_shift_wraps);
	tcase_add_test(sack, test_sack_unshift_floor);
	tcase_add_test(sack, test_sack_shift_without_sack);
	suite_add_tcase(s, sack);

	tcase_add_test(app, test_append_fits);
	tcase_add_test(app, test_append_to_nothing);
	tcase_add_test(app, test_append_sack1_exact_fit);
	tcase_add_loop_test(app, test_append_trims_sack_with_ts, 2, 4);
	tcase_add_test(app, test_append_trims_sack4);
	tcase_add_test(app, test_append_trims_unaligned);
	tcase_add_test(app, test_append_cannot_fit);
	tcase_add_test(app, test_append_removes_whole_sack);
	tcase_add_test(app, test_append_eno_syn_padded);
	tcase_add_test(app, test_append_eno_full_syn);
	tcase_add_test(app, test_append_aligns_mac);
	suite_add_tcase(s, app);
	return s;
}

UNIT_MAIN(tcpopt_suite)
