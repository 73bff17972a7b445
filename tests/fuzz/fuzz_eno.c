/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: TCP-ENO option parsing and negotiation (src/core/eno.c).
 * The input is a TCP options area; every pointer handed back must lie
 * inside it. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "eno.h"
#include "fuzz_common.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	return 0;
}

static void check_syn_opt(const uint8_t *opt, size_t opt_len)
{
	struct eno_syn_opt so;
	enum eno_result r;

	memset(&so, 0xa5, sizeof(so));
	r = eno_parse_syn_opt(opt, opt_len, &so);
	FUZZ_CHECK(r == ENO_OK || r == ENO_MALFORMED);
	if (r == ENO_OK) {
		FUZZ_CHECK(so.ntep <= opt_len);
		FUZZ_CHECK(!so.ours_last_valid || so.has_ours);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy: any over-read is an ASan report. */
	uint8_t *opts = malloc(size ? size : 1);
	const uint8_t *first = NULL, *o = NULL;
	size_t first_len = 0, o_len = 0;
	int n;
	enum eno_result r;
	bool has_payload = size & 1;
	uint8_t transcript[2 * ENO_MAX_OPT_LEN];

	FUZZ_CHECK(opts);
	memcpy(opts, data, size);

	n = eno_find(opts, size, &first, &first_len);
	FUZZ_CHECK(n >= -1);
	if (n > 0) {
		FUZZ_CHECK(first && FUZZ_INSIDE(first, first_len, opts, size));
		FUZZ_CHECK(first_len >= 2 && first[0] == ENO_KIND && first[1] == first_len);
		check_syn_opt(first, first_len);
	}
	(void)eno_find(opts, size, NULL, NULL);

	for (int pl = 0; pl < 2; pl++) {
		bool hp = pl ? has_payload : false;

		o = NULL;
		o_len = 0;
		r = eno_check_syn(opts, size, hp, &o, &o_len);
		FUZZ_CHECK((unsigned)r < ENO_RESULT_MAX);
		FUZZ_CHECK(strcmp(eno_result_str(r), "unknown") != 0);
		if (r == ENO_OK) {
			FUZZ_CHECK(n == 1);
			FUZZ_CHECK(o && FUZZ_INSIDE(o, o_len, opts, size));
			FUZZ_CHECK(o_len <= ENO_MAX_OPT_LEN);
			size_t tl = eno_transcript(transcript, o, o_len, eno_syn_b, ENO_SYN_B_LEN);
			FUZZ_CHECK(tl == o_len + ENO_SYN_B_LEN);
			FUZZ_CHECK(memcmp(transcript, o, o_len) == 0);
		}

		o = NULL;
		o_len = 0;
		r = eno_check_synack(opts, size, hp, &o, &o_len);
		FUZZ_CHECK((unsigned)r < ENO_RESULT_MAX);
		if (r == ENO_OK) {
			FUZZ_CHECK(n == 1);
			FUZZ_CHECK(o && FUZZ_INSIDE(o, o_len, opts, size));
			FUZZ_CHECK(o_len <= ENO_MAX_OPT_LEN);
			size_t tl = eno_transcript(transcript, eno_syn_a, ENO_SYN_A_LEN, o, o_len);
			FUZZ_CHECK(tl == o_len + ENO_SYN_A_LEN);
		}
	}

	if (eno_present(opts, size))
		FUZZ_CHECK(n >= 1);

	/* The whole input as one option (its kind and length bytes as given). */
	if (size >= 2 && size <= ENO_MAX_OPT_LEN && data[1] == size)
		check_syn_opt(opts, size);

	free(opts);
	return 0;
}
