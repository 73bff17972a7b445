/* SPDX-License-Identifier: BSD-2-Clause */
/* A memo of X25519 shared secrets for the daemon's current key pair.
 *
 * A key pair lives up to 60 s (doc/protocol.md section 4.4) and the peer's does
 * too, so between two hosts every connection of such a minute computes
 * the same ES = X25519(own private key, peer public key).  The memo keeps
 * the ES per peer public key while the own key pair stays the same, and
 * saves the one X25519 multiplication of each further handshake; nonces,
 * Init messages and traffic keys are still new for every connection.
 *
 * An entry is as secret as the private key it came from (with it, ES can
 * be recomputed at will), and goes with it: escache_clear wipes every
 * entry when the key pair is renewed, so no ES outlives its key pair.
 * Pure code: no I/O, no clock. */
#ifndef TC_ESCACHE_H
#define TC_ESCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "kx.h"

/* Direct-mapped: a peer whose public key lands on a slot another peer
 * holds evicts it (both then simply compute).  64 peers active within a
 * key pair's minute cover a host's usual partners; the cost is 64 x 72
 * bytes. */
#define ESCACHE_SLOTS 64

struct escache_entry {
	uint8_t peer_pub[KX_KEY_LEN];
	uint8_t es[KX_KEY_LEN];
	bool used;
};

struct escache {
	uint64_t keypair_gen;	/* the key pair the entries belong to; 0: none */
	struct escache_entry slot[ESCACHE_SLOTS];
};

/* Wipes every entry; from now on the memo serves key pair generation
 * keypair_gen (the caller counts its key pairs; 0 turns the memo off).
 * Called with the current generation whenever the key pair changes. */
void escache_reset(struct escache *c, uint64_t keypair_gen);

/* ES = X25519(own_priv, peer_pub), where own_priv belongs to key pair
 * generation keypair_gen.  From the memo when it holds ES for this peer
 * and keypair_gen is the memo's generation, else computed, and
 * remembered only for the memo's generation (a handshake that began
 * under the previous key pair computes, and leaves nothing behind).
 * *hit (if not NULL) says which.  Returns KX_OK, or KX_ERR_ZERO_KEY
 * (es wiped, nothing remembered). */
enum kx_status escache_shared_secret(struct escache *c, uint64_t keypair_gen,
				     const uint8_t own_priv[KX_KEY_LEN],
				     const uint8_t peer_pub[KX_KEY_LEN], uint8_t es[KX_KEY_LEN],
				     bool *hit);

#endif
