/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP-ENO (RFC 8547) parsing and the negotiation decisions of
 * doc/protocol.md section 3.  Everything here works on untrusted bytes straight off the
 * wire, so every read is bounds-checked against the lengths we were given
 * and nothing is ever written outside the caller's buffers. */
#include "eno.h"

#include <string.h>

const uint8_t eno_syn_a[ENO_SYN_A_LEN] = { ENO_KIND, 5, 0xa0, 0x74, 0x32 };
const uint8_t eno_syn_b[ENO_SYN_B_LEN] = { ENO_KIND, 6, 0x01, 0xa0, 0x74, 0x32 };
const uint8_t eno_ack[ENO_ACK_LEN] = { ENO_KIND, 2 };

/* TCP option kinds we have to recognise besides ENO. */
#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_TFO		34	/* RFC 7413 */
#define OPT_MPTCP	30	/* RFC 8684 */
#define OPT_EXP		254	/* RFC 6994 experimental, TFO used ExID 0xf989 */
#define TFO_EXID_HI	0xf9
#define TFO_EXID_LO	0x89

/* Suboption byte layout (RFC 8547 section 4.1): v is the high bit, glt the
 * low seven.  glt < 0x20 is a global suboption (v=0) or a length byte (v=1);
 * glt >= 0x20 is a TEP identifier, v=1 meaning it carries data. */
#define SUB_V		0x80
#define SUB_GLT		0x7f
#define GLT_TEP_MIN	0x20
#define LEN_MASK	0x1f
#define GLOBAL_B	0x01

/* Our TEP's data begins with "t2", this protocol, version 2: exactly these
 * two bytes for a fresh key exchange, or followed by R (9) and n (4) for
 * a resumption offer or acceptance.  Any other length, or "t1", is some
 * other experiment or version: not valid for us. */
static const uint8_t our_tep_data[] = { 0x74, 0x32 };
#define OUR_DATA_FRESH	2
#define OUR_DATA_RESUME	15

static const char *const result_names[ENO_RESULT_MAX] = {
	[ENO_OK] = "ok",
	[ENO_ABSENT] = "absent",
	[ENO_DUPLICATE] = "duplicate",
	[ENO_MALFORMED] = "malformed",
	[ENO_SAME_ROLE] = "same-role",
	[ENO_VACUOUS] = "vacuous",
	[ENO_NO_COMMON_TEP] = "no-common-tep",
	[ENO_TFO] = "tfo",
	[ENO_SYN_DATA] = "syn-data",
	[ENO_MPTCP] = "mptcp",
};

const char *eno_result_str(enum eno_result r)
{
	/* Callers use these as counter names, so never hand back NULL even
	 * for a value that slipped past the enum. */
	if ((unsigned)r >= ENO_RESULT_MAX || !result_names[r])
		return "unknown";
	return result_names[r];
}

/* ------------------------------------------------------------------------
 * The options area */

/* Steps to the next option at or after *pos, skipping NOPs.  Returns 1 with
 * *opt / *opt_len set, 0 at the end of the area (its end or EOL), and -1 if
 * an option's length byte is missing, below 2 or runs past the end. */
static int opt_next(const uint8_t *opts, size_t opts_len, size_t *pos,
		    const uint8_t **opt, size_t *opt_len)
{
	while (*pos < opts_len) {
		uint8_t kind = opts[*pos];
		size_t len;

		if (kind == OPT_EOL)
			return 0;
		if (kind == OPT_NOP) {
			(*pos)++;
			continue;
		}
		if (opts_len - *pos < 2)
			return -1;
		len = opts[*pos + 1];
		if (len < 2 || len > opts_len - *pos)
			return -1;
		*opt = opts + *pos;
		*opt_len = len;
		*pos += len;
		return 1;
	}
	return 0;
}

int eno_find(const uint8_t *opts, size_t opts_len, const uint8_t **first, size_t *first_len)
{
	const uint8_t *opt = NULL;
	size_t opt_len = 0, pos = 0;
	int count = 0, r;

	if (first)
		*first = NULL;
	if (first_len)
		*first_len = 0;
	if (!opts)
		return opts_len ? -1 : 0;

	while ((r = opt_next(opts, opts_len, &pos, &opt, &opt_len)) > 0) {
		if (opt[0] != ENO_KIND)
			continue;
		if (count == 0) {
			if (first)
				*first = opt;
			if (first_len)
				*first_len = opt_len;
		}
		/* An options area holds at most 20 options, so no overflow. */
		count++;
	}
	if (r < 0) {
		/* Never leave a pointer into an area we just called broken. */
		if (first)
			*first = NULL;
		if (first_len)
			*first_len = 0;
		return -1;
	}
	return count;
}

static bool is_tfo(const uint8_t *opt, size_t opt_len)
{
	if (opt[0] == OPT_TFO)
		return true;
	/* The pre-RFC experimental encoding is only TFO with its ExID; other
	 * experiments share kind 254 and must not disable ENO. */
	return opt[0] == OPT_EXP && opt_len >= 4 &&
	       opt[2] == TFO_EXID_HI && opt[3] == TFO_EXID_LO;
}

static bool is_mptcp(const uint8_t *opt, size_t opt_len)
{
	(void)opt_len;
	return opt[0] == OPT_MPTCP;
}

/* Whether a well-formed options area carries an option is() accepts. */
static bool has_opt(const uint8_t *opts, size_t opts_len,
		    bool (*is)(const uint8_t *opt, size_t opt_len))
{
	const uint8_t *opt = NULL;
	size_t opt_len = 0, pos = 0;

	if (!opts)
		return false;
	while (opt_next(opts, opts_len, &pos, &opt, &opt_len) > 0)
		if (is(opt, opt_len))
			return true;
	return false;
}

bool eno_present(const uint8_t *opts, size_t opts_len)
{
	/* A malformed area yields -1: the segment counts as lacking ENO,
	 * which makes the connection fall back to plain TCP, the safe way. */
	return eno_find(opts, opts_len, NULL, NULL) > 0;
}

/* ------------------------------------------------------------------------
 * One SYN-form ENO option */

static bool tep_is_ours(uint8_t sub, const uint8_t *data, size_t data_len)
{
	return sub == (SUB_V | ENO_TEP_EXPERIMENT) &&
	       (data_len == OUR_DATA_FRESH || data_len == OUR_DATA_RESUME) &&
	       memcmp(data, our_tep_data, sizeof(our_tep_data)) == 0;
}

static void note_tep(struct eno_syn_opt *p, uint8_t sub, const uint8_t *data, size_t data_len)
{
	p->ntep++;
	if (tep_is_ours(sub, data, data_len)) {
		p->has_ours = true;
		/* We support no other TEP, so any later TEP suboption is
		 * invalid for us and ours stays the last valid one; of two of
		 * ours, the later counts. */
		p->ours_last_valid = true;
		p->ours_resume = data_len == OUR_DATA_RESUME;
		p->ours_data = data;
		p->ours_data_len = (uint8_t)data_len;
	}
}

/* Parses the suboption at opt[*pos] (opt_len bytes in all) and advances
 * *pos past it.  Returns false if it makes the option malformed. */
static bool parse_subopt(const uint8_t *opt, size_t opt_len, size_t *pos, struct eno_syn_opt *p)
{
	size_t i = *pos;
	uint8_t sub = opt[i];
	uint8_t glt = sub & SUB_GLT;

	if (glt < GLT_TEP_MIN && !(sub & SUB_V)) {
		/* A global suboption is recognised only as the first one
		 * (RFC 8547 4.1: otherwise there is an implicit 0x00).  We
		 * could not confirm whether the RFC has a later one ignored
		 * or the option rejected, so we take the strict reading: a
		 * second or misplaced global byte makes the option
		 * malformed, and the connection stays plain TCP. */
		if (i != 2)
			return false;
		p->global = sub;
		*pos = i + 1;
		return true;
	}
	if (glt < GLT_TEP_MIN) {
		/* Length byte: nnnnn data bytes follow the next suboption,
		 * which must be a TEP identifier with v=1. */
		size_t n = sub & LEN_MASK;
		uint8_t tep;

		if (opt_len - i < 2)
			return false;
		tep = opt[i + 1];
		if ((tep & SUB_GLT) < GLT_TEP_MIN || !(tep & SUB_V))
			return false;
		if (n > opt_len - i - 2)
			return false;
		note_tep(p, tep, opt + i + 2, n);
		*pos = i + 2 + n;
		return true;
	}
	if (!(sub & SUB_V)) {
		note_tep(p, sub, NULL, 0);
		*pos = i + 1;
		return true;
	}
	/* v=1 without a length byte: the data runs to the end of the option. */
	note_tep(p, sub, opt + i + 1, opt_len - i - 1);
	*pos = opt_len;
	return true;
}

enum eno_result eno_parse_syn_opt(const uint8_t *opt, size_t opt_len, struct eno_syn_opt *out)
{
	struct eno_syn_opt p = { 0 };
	size_t pos = 2;

	if (out)
		memset(out, 0, sizeof(*out));
	/* An ENO option longer than the whole options area cannot have come
	 * off the wire; refusing it also keeps transcripts within bounds. */
	if (!opt || opt_len < 2 || opt_len > ENO_MAX_OPT_LEN ||
	    opt[0] != ENO_KIND || opt[1] != opt_len)
		return ENO_MALFORMED;

	/* The implicit global suboption, replaced if the first byte is an
	 * explicit one. */
	p.global = 0x00;
	while (pos < opt_len)
		if (!parse_subopt(opt, opt_len, &pos, &p))
			return ENO_MALFORMED;
	p.role_b = p.global & GLOBAL_B;
	if (out)
		*out = p;
	return ENO_OK;
}

/* ------------------------------------------------------------------------
 * Negotiation */

/* The checks shared by both sides, in the order that decides which reason
 * is reported when several apply.  peer_b is the b bit the peer must have
 * set: 0 for A's SYN, 1 for B's SYN-ACK (version 1 never sets b=1 on A). */
static enum eno_result check_syn_segment(const uint8_t *opts, size_t opts_len, bool has_payload,
					 bool peer_b, const uint8_t **opt_out, size_t *len_out)
{
	const uint8_t *opt = NULL;
	size_t opt_len = 0;
	struct eno_syn_opt p;
	int n;

	if (opt_out)
		*opt_out = NULL;
	if (len_out)
		*len_out = 0;

	n = eno_find(opts, opts_len, &opt, &opt_len);
	if (n < 0)
		return ENO_MALFORMED;
	/* doc/protocol.md section 3.3: no SYN data, and TFO and MPTCP get no
	 * ENO (MPTCP's options and subflows do not survive a per-segment
	 * rewrite).  These outrank the ENO option itself, which may well be
	 * fine. */
	if (has_opt(opts, opts_len, is_tfo))
		return ENO_TFO;
	if (has_opt(opts, opts_len, is_mptcp))
		return ENO_MPTCP;
	if (has_payload)
		return ENO_SYN_DATA;
	if (n == 0)
		return ENO_ABSENT;
	/* RFC 8547: more than one ENO option in a SYN means ENO is off. */
	if (n > 1)
		return ENO_DUPLICATE;
	if (eno_parse_syn_opt(opt, opt_len, &p) != ENO_OK)
		return ENO_MALFORMED;
	if (p.role_b != peer_b)
		return ENO_SAME_ROLE;
	if (p.ntep == 0)
		return ENO_VACUOUS;
	/* B picks ours from A's list; A accepts B's choice only if ours is
	 * the last valid TEP in it.  With a single supported TEP both reduce
	 * to ours being present. */
	if (peer_b ? !p.ours_last_valid : !p.has_ours)
		return ENO_NO_COMMON_TEP;

	if (opt_out)
		*opt_out = opt;
	if (len_out)
		*len_out = opt_len;
	return ENO_OK;
}

enum eno_result eno_check_syn(const uint8_t *opts, size_t opts_len, bool has_payload,
			      const uint8_t **a_opt, size_t *a_opt_len)
{
	return check_syn_segment(opts, opts_len, has_payload, false, a_opt, a_opt_len);
}

bool eno_opt_resumes(const uint8_t *opt, size_t opt_len)
{
	struct eno_syn_opt p;

	return eno_parse_syn_opt(opt, opt_len, &p) == ENO_OK && p.ours_last_valid &&
	       p.ours_resume;
}

enum eno_result eno_check_synack(const uint8_t *opts, size_t opts_len, bool has_payload,
				 const uint8_t **b_opt, size_t *b_opt_len)
{
	/* A SYN-ACK is a SYN segment too: the same single-ENO, no-data and
	 * no-TFO rules apply (a TFO cookie there means TFO was requested). */
	return check_syn_segment(opts, opts_len, has_payload, true, b_opt, b_opt_len);
}

size_t eno_transcript(uint8_t *out, const uint8_t *a_opt, size_t a_len,
		      const uint8_t *b_opt, size_t b_len)
{
	/* out holds 2 * ENO_MAX_OPT_LEN bytes; anything larger (or a missing
	 * buffer) is a caller bug we refuse rather than overflow on. */
	if (!out || a_len > ENO_MAX_OPT_LEN || b_len > ENO_MAX_OPT_LEN ||
	    (a_len && !a_opt) || (b_len && !b_opt))
		return 0;
	if (a_len)
		memcpy(out, a_opt, a_len);
	if (b_len)
		memcpy(out + a_len, b_opt, b_len);
	return a_len + b_len;
}
