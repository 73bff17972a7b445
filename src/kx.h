/* The tcpcrypt key exchange of PROTOCOL.md sections 2 and 3: Init1/Init2
 * encoding and parsing, and the key schedule.  Pure code: random bytes and
 * key pairs are passed in by the caller. */
#ifndef TC_KX_H
#define TC_KX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KX_SUITE_V1        0x7401
#define KX_INIT1_MAGIC     0x15101a0eu
#define KX_INIT2_MAGIC     0x097105e0u
#define KX_INIT1_LEN       75	/* with one suite, as we send it */
#define KX_INIT2_LEN       74
#define KX_NONCE_LEN       32
#define KX_KEY_LEN         32	/* X25519 public and private keys */
#define KX_SESSID_LEN      33
#define KX_TRAFFIC_KEY_LEN 64	/* K_enc (32) | K_mac (32) */
/* Longest Init message we accept; the message must fit in one segment. */
#define KX_INIT_MAX_LEN    2048
/* Longest ENO transcript: two TCP options of at most 40 bytes each. */
#define KX_TRANSCRIPT_MAX  80

enum kx_status {
	KX_OK = 0,
	KX_ERR_TRUNCATED,	/* fewer bytes than the fixed part or than len */
	KX_ERR_MAGIC,		/* wrong magic: not an Init message */
	KX_ERR_LENGTH,		/* len smaller than the fixed part or > KX_INIT_MAX_LEN */
	KX_ERR_NO_SUITE,	/* Init1 offers no suite we support (nciphers 0 too) */
	KX_ERR_BAD_SUITE,	/* Init2 names a suite A did not offer */
	KX_ERR_ZERO_KEY,	/* X25519 output all zeros */
};

struct kx_init1 {
	uint32_t len;		/* whole message length from the len field */
	uint8_t nciphers;
	const uint8_t *nonce;	/* N_A, points into the parsed buffer */
	const uint8_t *pub;	/* Pub_A */
};

struct kx_init2 {
	uint32_t len;
	uint16_t suite;
	const uint8_t *nonce;	/* N_B */
	const uint8_t *pub;	/* Pub_B */
};

/* Encoders write exactly KX_INIT1_LEN / KX_INIT2_LEN bytes and return that. */
size_t kx_init1_encode(uint8_t out[KX_INIT1_LEN], const uint8_t nonce[KX_NONCE_LEN],
		       const uint8_t pub[KX_KEY_LEN]);
size_t kx_init2_encode(uint8_t out[KX_INIT2_LEN], const uint8_t nonce[KX_NONCE_LEN],
		       const uint8_t pub[KX_KEY_LEN]);

/* Parsers check magic, len (>= fixed part, <= buf_len, <= KX_INIT_MAX_LEN)
 * and the suites; trailing bytes up to len are ignored.  On success the
 * message occupies out->len bytes of buf. */
enum kx_status kx_init1_parse(const uint8_t *buf, size_t buf_len, struct kx_init1 *out);
enum kx_status kx_init2_parse(const uint8_t *buf, size_t buf_len, struct kx_init2 *out);

const char *kx_status_str(enum kx_status s);

struct kx_secrets {
	uint8_t session_id[KX_SESSID_LEN];
	uint8_t k_ab[KX_TRAFFIC_KEY_LEN];	/* A -> B */
	uint8_t k_ba[KX_TRAFFIC_KEY_LEN];	/* B -> A */
	uint8_t ss1[32];			/* kept for resumption (unused in v1) */
};

struct kx_input {
	const uint8_t *own_priv;	/* 32 bytes */
	const uint8_t *peer_pub;	/* 32 bytes */
	const uint8_t *transcript;	/* A's ENO option | B's ENO option */
	size_t transcript_len;
	const uint8_t *init1;		/* exactly as sent, all len bytes */
	size_t init1_len;
	const uint8_t *init2;
	size_t init2_len;
};

/* Whether an X25519 public key is one of the few points of small order,
 * for which every shared secret is all zeros (PROTOCOL.md section 2
 * aborts on those).  Lets B reject such a key before it sends Init2 and
 * compute the shared secret while Init2 is on its way. */
bool kx_pub_has_small_order(const uint8_t pub[KX_KEY_LEN]);

/* Runs the key schedule of PROTOCOL.md section 3.  N_A (the HKDF salt) is
 * read from init1.  If es_out is not NULL the shared secret ES is copied
 * there for the debug key log.  Intermediate secrets are wiped.
 * Returns KX_OK or KX_ERR_ZERO_KEY. */
enum kx_status kx_derive(const struct kx_input *in, struct kx_secrets *out,
			 uint8_t es_out[KX_KEY_LEN]);

/* The two halves of kx_derive, for a caller that keeps ES (escache.h):
 * ES = X25519(own_priv, peer_pub), KX_ERR_ZERO_KEY (es wiped) when that
 * is all zeros; and the rest of the key schedule from a given ES
 * (in->own_priv and in->peer_pub are not used). */
enum kx_status kx_shared_secret(uint8_t es[KX_KEY_LEN], const uint8_t own_priv[KX_KEY_LEN],
				const uint8_t peer_pub[KX_KEY_LEN]);
enum kx_status kx_derive_from_es(const struct kx_input *in, const uint8_t es[KX_KEY_LEN],
				 struct kx_secrets *out);

/* X25519 key pair: priv from 32 random bytes (clamped by X25519 itself). */
void kx_keypair_from_seed(uint8_t pub[KX_KEY_LEN], const uint8_t priv[KX_KEY_LEN]);

#endif
