/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP-ENO (RFC 8547) as used by doc/protocol.md section 3: finding and parsing
 * ENO options, and the negotiation decisions of host A (active opener) and
 * host B (passive opener).  Pure code over the TCP options area. */
#ifndef TC_ENO_H
#define TC_ENO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENO_KIND          69
#define ENO_TEP_EXPERIMENT 0x20	/* our TEP identifier (glt) */
#define ENO_MAX_OPT_LEN   40

/* The exact option bytes this daemon sends. */
#define ENO_SYN_A_LEN 5
#define ENO_SYN_B_LEN 6
#define ENO_ACK_LEN   2
extern const uint8_t eno_syn_a[ENO_SYN_A_LEN];	/* 45 05 a0 74 32 */
extern const uint8_t eno_syn_b[ENO_SYN_B_LEN];	/* 45 06 01 a0 74 32 */
extern const uint8_t eno_ack[ENO_ACK_LEN];	/* 45 02 */

/* Why a connection runs in plaintext (or that it need not). */
enum eno_result {
	ENO_OK = 0,		/* our TEP is negotiated */
	ENO_ABSENT,		/* no ENO option at all */
	ENO_DUPLICATE,		/* more than one ENO option in a SYN */
	ENO_MALFORMED,		/* RFC 8547 4.6 malformed option */
	ENO_SAME_ROLE,		/* both hosts claim the same b bit */
	ENO_VACUOUS,		/* ENO without any TEP suboption */
	ENO_NO_COMMON_TEP,	/* TEPs present, but not ours as the last valid one */
	ENO_TFO,		/* the SYN carries TCP Fast Open */
	ENO_SYN_DATA,		/* the SYN carries data */
	ENO_MPTCP,		/* the SYN carries an MPTCP option (kind 30) */
	ENO_RESULT_MAX
};

const char *eno_result_str(enum eno_result r);

/* A parsed SYN-form ENO option. */
struct eno_syn_opt {
	uint8_t global;		/* explicit global suboption, or implicit 0x00 */
	bool role_b;		/* b bit of the global suboption */
	unsigned ntep;		/* number of TEP suboptions (any identifier) */
	bool ours_last_valid;	/* the last TEP suboption that we support is
				 * 0x20 with data "t2" (there is no other) */
	bool has_ours;		/* 0x20 with valid "t2" data appears */
	bool ours_resume;	/* ... and the last such carries R and n (a
				 * resumption offer or acceptance) */
	const uint8_t *ours_data;	/* that suboption's data ("t2" ...),
					 * pointing into opt; NULL without it */
	uint8_t ours_data_len;		/* 2, or 15 when ours_resume */
};

/* Parses one ENO option (opt points at the kind byte, opt_len is its length
 * byte's value) in SYN form.  Returns ENO_OK or ENO_MALFORMED. */
enum eno_result eno_parse_syn_opt(const uint8_t *opt, size_t opt_len, struct eno_syn_opt *out);

/* Scans a TCP options area (the bytes after the fixed 20-byte header) for
 * ENO options.  Returns how many there are (0, 1, 2...) or -1 if the options
 * area itself is malformed (an option running past the end).  The first
 * one's position is stored in *first / *first_len when not NULL. */
int eno_find(const uint8_t *opts, size_t opts_len, const uint8_t **first, size_t *first_len);

/* Host B's view of A's SYN (options area and whether the SYN carries data
 * or a TFO option).  On ENO_OK, *a_opt / *a_opt_len point at A's option
 * for the transcript. */
enum eno_result eno_check_syn(const uint8_t *opts, size_t opts_len, bool has_payload,
			      const uint8_t **a_opt, size_t *a_opt_len);

/* Host A's view of B's SYN-ACK.  On ENO_OK, *b_opt / *b_opt_len point at
 * B's option for the transcript. */
enum eno_result eno_check_synack(const uint8_t *opts, size_t opts_len, bool has_payload,
				 const uint8_t **b_opt, size_t *b_opt_len);

/* Whether a valid ENO option's negotiated TEP is ours in its resumption
 * form (data "t2" | R | n).  This implementation does not resume: as B it
 * declines such an offer with the fresh form, and as A, which never
 * offers, it aborts on such an answer. */
bool eno_opt_resumes(const uint8_t *opt, size_t opt_len);

/* Whether a non-SYN segment carries an ENO option (its contents are not
 * interpreted).  Malformed options areas count as absent. */
bool eno_present(const uint8_t *opts, size_t opts_len);

/* Builds the transcript A's option | B's option into out (at most
 * 2 * ENO_MAX_OPT_LEN bytes); returns its length. */
size_t eno_transcript(uint8_t *out, const uint8_t *a_opt, size_t a_len,
		      const uint8_t *b_opt, size_t b_len);

#endif
