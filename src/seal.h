/* Length-preserving data protection of suite 0x7401 (PROTOCOL.md section 4):
 * ChaCha20 keystream indexed by stream offset, and the 12-byte BLAKE2b
 * segment tag.  Pure code over byte buffers. */
#ifndef TC_SEAL_H
#define TC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_TAG_LEN     12
#define SEAL_KEY_LEN     32
#define SEAL_PSEUDO_LEN  22

struct seal_key {
	uint8_t enc[SEAL_KEY_LEN];
	uint8_t mac[SEAL_KEY_LEN];
};

/* What the tag covers besides the ciphertext.  flags are the raw TCP flags
 * byte; seal_pseudo_header applies the 0x37 mask and zeroes ack_off when
 * ACK is clear and urg_ptr when URG is clear, so callers pass what the
 * segment says. */
struct seal_hdr {
	uint8_t flags;
	uint64_t seq_off;
	uint64_t ack_off;
	uint16_t payload_len;
	uint16_t urg_ptr;
};

/* Splits a 64-byte traffic key into K_enc and K_mac. */
void seal_key_init(struct seal_key *k, const uint8_t traffic_key[64]);
void seal_key_wipe(struct seal_key *k);

/* XORs buf (len bytes, whose first byte sits at stream offset off) with
 * the keystream, in place.  Encrypts and decrypts. */
void seal_xor(const struct seal_key *k, uint64_t off, uint8_t *buf, size_t len);

/* Serialises the 22-byte pseudo header. */
void seal_pseudo_header(const struct seal_hdr *h, uint8_t out[SEAL_PSEUDO_LEN]);

/* tag = first 12 bytes of BLAKE2b-128(key = K_mac, pseudo_header | ct). */
void seal_tag(const struct seal_key *k, const struct seal_hdr *h,
	      const uint8_t *ct, size_t ct_len, uint8_t tag[SEAL_TAG_LEN]);

/* Constant-time comparison of the expected tag with the received one. */
bool seal_verify(const struct seal_key *k, const struct seal_hdr *h,
		 const uint8_t *ct, size_t ct_len, const uint8_t tag[SEAL_TAG_LEN]);

#endif
