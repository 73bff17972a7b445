/* SPDX-License-Identifier: BSD-2-Clause */
/* The tcpcrypt key exchange of doc/protocol.md sections 4 and 5 (protocol
 * version 2): Init1/Init2 encoding and parsing, the choice of a cipher
 * suite, and the key schedule up to the master key mk (the traffic-key
 * chains that follow from mk are seal2.h's).  Pure code: random bytes and
 * key pairs are passed in by the caller. */
#ifndef TC_KX_H
#define TC_KX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KX_INIT1_MAGIC     0x15101a0eu
#define KX_INIT2_MAGIC     0x097105e0u
/* Init1 without its suite list: magic, len, nciphers, N_A, Pub_A. */
#define KX_INIT1_FIXED     73
/* Suites we know; we offer at most this many. */
#define KX_MAX_SUITES      2
/* Longest Init1 we send: 77 bytes with both suites. */
#define KX_INIT1_MAX_OWN   (KX_INIT1_FIXED + 2 * KX_MAX_SUITES)
#define KX_INIT2_LEN       74
/* Our own Init messages, whichever is longer. */
#define KX_OWN_INIT_MAX    KX_INIT1_MAX_OWN
#define KX_NONCE_LEN       32
#define KX_KEY_LEN         32	/* X25519 public and private keys */
#define KX_SESSID_LEN      33
#define KX_MK_LEN          32
/* Longest Init message we accept; the message must fit in one segment. */
#define KX_INIT_MAX_LEN    2048
/* Longest ENO transcript: two TCP options of at most 40 bytes each. */
#define KX_TRANSCRIPT_MAX  80

enum kx_status {
	KX_OK = 0,
	KX_ERR_TRUNCATED,	/* fewer bytes than the fixed part or than len */
	KX_ERR_MAGIC,		/* wrong magic: not an Init message */
	KX_ERR_LENGTH,		/* len smaller than the fixed part or > KX_INIT_MAX_LEN */
	KX_ERR_NO_SUITE,	/* Init1 offers no suite (nciphers 0), or none we
				 * support (kx_choose_suite) */
	KX_ERR_BAD_SUITE,	/* Init2 names a suite A did not offer */
	KX_ERR_ZERO_KEY,	/* X25519 output all zeros */
};

struct kx_init1 {
	uint32_t len;		/* whole message length from the len field */
	uint8_t nciphers;
	const uint8_t *suites;	/* nciphers big-endian 16-bit suites, A's order */
	const uint8_t *nonce;	/* N_A, points into the parsed buffer */
	const uint8_t *pub;	/* Pub_A */
};

struct kx_init2 {
	uint32_t len;
	uint16_t suite;
	const uint8_t *nonce;	/* N_B */
	const uint8_t *pub;	/* Pub_B */
};

/* Init1 offering suites[0..n) (1 <= n <= KX_MAX_SUITES) in that order of
 * preference: writes KX_INIT1_FIXED + 2 n bytes and returns that, 0 for a
 * bad n.  Init2 naming suite: KX_INIT2_LEN bytes. */
size_t kx_init1_encode(uint8_t out[KX_INIT1_MAX_OWN], const uint16_t *suites, unsigned n,
		       const uint8_t nonce[KX_NONCE_LEN], const uint8_t pub[KX_KEY_LEN]);
size_t kx_init2_encode(uint8_t out[KX_INIT2_LEN], uint16_t suite,
		       const uint8_t nonce[KX_NONCE_LEN], const uint8_t pub[KX_KEY_LEN]);

/* Parsers check magic and len (>= fixed part, <= buf_len,
 * <= KX_INIT_MAX_LEN), and that Init1 offers at least one suite; trailing
 * bytes up to len are ignored.  Which suites are acceptable is the
 * caller's choice (kx_choose_suite, kx_suite_listed).  On success the
 * message occupies out->len bytes of buf. */
enum kx_status kx_init1_parse(const uint8_t *buf, size_t buf_len, struct kx_init1 *out);
enum kx_status kx_init2_parse(const uint8_t *buf, size_t buf_len, struct kx_init2 *out);

const char *kx_status_str(enum kx_status s);

/* B's choice: the first suite in A's list that is among ours[0..n); 0 if
 * there is none. */
uint16_t kx_choose_suite(const struct kx_init1 *m, const uint16_t *ours, unsigned n);
/* Whether suite is one of list[0..n). */
bool kx_suite_listed(const uint16_t *list, unsigned n, uint16_t suite);

struct kx_secrets {
	uint8_t session_id[KX_SESSID_LEN];
	uint8_t mk[KX_MK_LEN];			/* seal2_chain_init's input */
	uint8_t ss1[32];			/* resumption (doc/protocol.md section 13) */
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
 * for which every shared secret is all zeros (doc/protocol.md section 4.4
 * aborts on those).  Lets B reject such a key before it sends Init2 and
 * compute the shared secret while Init2 is on its way. */
bool kx_pub_has_small_order(const uint8_t pub[KX_KEY_LEN]);

/* Runs the key schedule of doc/protocol.md section 5.  N_A (the HKDF salt) is
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
