/* Suite 0x7401 (PROTOCOL.md section 4): offset-indexed ChaCha20 keystream
 * and the truncated BLAKE2b segment tag. */
#include "seal.h"

#include <string.h>
#include <sodium.h>

#define CHACHA_BLOCK 64

/* TCP flag bits the pseudo header looks at. */
#define TH_ACK 0x10
#define TH_URG 0x20
/* FIN, SYN, RST, ACK, URG: PSH, ECE and CWR are left out because
 * middleboxes and the ECN machinery may change them in flight. */
#define SEAL_FLAG_MASK 0x37
#define SEAL_LAYOUT_V1 0x01
/* BLAKE2b output size before truncation to SEAL_TAG_LEN. */
#define SEAL_HASH_LEN 16

/* The stream is always keyed per direction, so one fixed nonce is enough. */
static const uint8_t zero_nonce[crypto_stream_chacha20_NONCEBYTES];

void seal_key_init(struct seal_key *k, const uint8_t traffic_key[64])
{
	memcpy(k->enc, traffic_key, SEAL_KEY_LEN);
	memcpy(k->mac, traffic_key + SEAL_KEY_LEN, SEAL_KEY_LEN);
}

void seal_key_wipe(struct seal_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* XORs the bytes [skip, skip + len) of keystream block `block` into buf;
 * for a segment that starts or ends inside a block. */
static void xor_partial(const struct seal_key *k, uint64_t block, unsigned skip,
			uint8_t *buf, size_t len)
{
	uint8_t ks[CHACHA_BLOCK] = { 0 };

	crypto_stream_chacha20_xor_ic(ks, ks, sizeof(ks), zero_nonce, block, k->enc);
	for (size_t i = 0; i < len; i++)
		buf[i] ^= ks[skip + i];
	sodium_memzero(ks, sizeof(ks));
}

void seal_xor(const struct seal_key *k, uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t block = off / CHACHA_BLOCK;
	unsigned skip = (unsigned)(off % CHACHA_BLOCK);

	if (len == 0)
		return;
	/* libsodium's stream always starts at byte 0 of a block, so a segment
	 * that starts mid-block gets its head from one separate block. */
	if (skip != 0) {
		size_t head = CHACHA_BLOCK - skip;

		if (head > len)
			head = len;
		xor_partial(k, block, skip, buf, head);
		buf += head;
		len -= head;
		block++;
	}
	/* The rest starts on a block boundary; libsodium handles a short last
	 * block itself, and the 64-bit counter carries past 2^32 blocks. */
	if (len > 0)
		crypto_stream_chacha20_xor_ic(buf, buf, len, zero_nonce, block, k->enc);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

void seal_pseudo_header(const struct seal_hdr *h, uint8_t out[SEAL_PSEUDO_LEN])
{
	uint64_t ack = (h->flags & TH_ACK) ? h->ack_off : 0;
	uint16_t urg = (h->flags & TH_URG) ? h->urg_ptr : 0;

	out[0] = SEAL_LAYOUT_V1;
	out[1] = h->flags & SEAL_FLAG_MASK;
	put_be(out + 2, h->seq_off, 8);
	put_be(out + 10, ack, 8);
	put_be(out + 18, h->payload_len, 2);
	put_be(out + 20, urg, 2);
}

void seal_tag(const struct seal_key *k, const struct seal_hdr *h,
	      const uint8_t *ct, size_t ct_len, uint8_t tag[SEAL_TAG_LEN])
{
	crypto_generichash_state st;
	uint8_t ph[SEAL_PSEUDO_LEN];
	uint8_t full[SEAL_HASH_LEN];

	seal_pseudo_header(h, ph);
	/* Streaming, so the payload is hashed where it lies in the packet. */
	crypto_generichash_init(&st, k->mac, SEAL_KEY_LEN, SEAL_HASH_LEN);
	crypto_generichash_update(&st, ph, sizeof(ph));
	if (ct_len > 0)
		crypto_generichash_update(&st, ct, ct_len);
	crypto_generichash_final(&st, full, sizeof(full));
	memcpy(tag, full, SEAL_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(full, sizeof(full));
}

bool seal_verify(const struct seal_key *k, const struct seal_hdr *h,
		 const uint8_t *ct, size_t ct_len, const uint8_t tag[SEAL_TAG_LEN])
{
	uint8_t expect[SEAL_TAG_LEN];
	bool ok;

	/* The pseudo header's length field must describe the bytes checked;
	 * a mismatch is a caller bug, and failing closed is the safe answer.
	 * Lengths are public, so this early exit leaks nothing. */
	if (ct_len != h->payload_len)
		return false;
	seal_tag(k, h, ct, ct_len, expect);
	ok = sodium_memcmp(expect, tag, SEAL_TAG_LEN) == 0;
	sodium_memzero(expect, sizeof(expect));
	return ok;
}
