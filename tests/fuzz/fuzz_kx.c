/* libFuzzer harness: Init1/Init2 parsing (src/kx.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "kx.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct kx_init1 i1;
	struct kx_init2 i2;
	enum kx_status st;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);

	st = kx_init1_parse(buf, size, &i1);
	FUZZ_CHECK(kx_status_str(st) != NULL);
	if (st == KX_OK) {
		FUZZ_CHECK(i1.len <= size && i1.len <= KX_INIT_MAX_LEN);
		FUZZ_CHECK(i1.nciphers >= 1);
		FUZZ_CHECK(FUZZ_INSIDE(i1.nonce, KX_NONCE_LEN, buf, i1.len));
		FUZZ_CHECK(FUZZ_INSIDE(i1.pub, KX_KEY_LEN, buf, i1.len));
		/* Re-encoding the parsed fields gives a message that parses the same. */
		uint8_t enc[KX_INIT1_LEN];
		struct kx_init1 again;
		FUZZ_CHECK(kx_init1_encode(enc, i1.nonce, i1.pub) == KX_INIT1_LEN);
		FUZZ_CHECK(kx_init1_parse(enc, sizeof(enc), &again) == KX_OK);
		FUZZ_CHECK(again.len == KX_INIT1_LEN);
		FUZZ_CHECK(memcmp(again.pub, i1.pub, KX_KEY_LEN) == 0);
		FUZZ_CHECK(memcmp(again.nonce, i1.nonce, KX_NONCE_LEN) == 0);
		/* Any shorter prefix than len is truncated. */
		FUZZ_CHECK(kx_init1_parse(buf, i1.len - 1, &again) != KX_OK);
	}

	st = kx_init2_parse(buf, size, &i2);
	FUZZ_CHECK(kx_status_str(st) != NULL);
	if (st == KX_OK) {
		FUZZ_CHECK(i2.len <= size && i2.len <= KX_INIT_MAX_LEN);
		FUZZ_CHECK(FUZZ_INSIDE(i2.nonce, KX_NONCE_LEN, buf, i2.len));
		FUZZ_CHECK(FUZZ_INSIDE(i2.pub, KX_KEY_LEN, buf, i2.len));
		uint8_t enc[KX_INIT2_LEN];
		struct kx_init2 again;
		FUZZ_CHECK(kx_init2_encode(enc, i2.nonce, i2.pub) == KX_INIT2_LEN);
		FUZZ_CHECK(kx_init2_parse(enc, sizeof(enc), &again) == KX_OK);
		FUZZ_CHECK(again.len == KX_INIT2_LEN);
		FUZZ_CHECK(kx_init2_parse(buf, i2.len - 1, &again) != KX_OK);
	}
	free(buf);
	return 0;
}
