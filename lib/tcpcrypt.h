/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpcrypt.h -- libtcpcrypt: read the session ID of a tcpcrypt connection.
 *
 * Every TCP connection that tcpcryptd encrypts has a session ID: 33 bytes,
 * identical on both ends and different for every connection.  Two endpoints
 * that see the same session ID talk to each other with nobody in between, so
 * applications that need protection against active attackers authenticate
 * it (channel binding): compare it out of band, or bind it into their own
 * authentication (sign it, MAC it with a shared password, ...).
 *
 * The library asks the local tcpcryptd over its control socket (see
 * doc/control.md, the `lookup` command).  It keeps no state of its own: every
 * function is thread-safe and may be called from any number of threads.
 *
 * Link with `pkg-config --cflags --libs libtcpcrypt`.
 */
#ifndef TCPCRYPT_H
#define TCPCRYPT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Length of a session ID in bytes (the first byte names the cipher suite). */
#define TCPCRYPT_SESSID_LEN 33

/* Length of the hex form of a session ID, without the terminating NUL. */
#define TCPCRYPT_SESSID_HEXLEN (2 * TCPCRYPT_SESSID_LEN)

/* Default path of tcpcryptd's control socket. */
#define TCPCRYPT_DEFAULT_SOCKET "/run/tcpcrypt/tcpcryptd.sock"

/* Which side of the key exchange this end played.  A is the end that sent
 * the first SYN (normally the connecting end), B the other one; both derive
 * the same session ID. */
enum tcpcrypt_role {
	TCPCRYPT_ROLE_A = 0,
	TCPCRYPT_ROLE_B = 1
};

/*
 * tcpcrypt_getsessid: the session ID of connected TCP socket fd.
 *
 * On success stores the 33-byte session ID in sid, this end's role in *role
 * (role may be NULL) and returns 0.  A connection that is still lingering
 * after close (state closed or failed) but had finished its key exchange
 * still reports its session ID.
 *
 * On failure returns -1 and sets errno; sid and *role are then left
 * untouched (never partially written, never zeroed):
 *   EBADF, ENOTSOCK, ENOTCONN  from getsockname()/getpeername() on fd
 *   EAFNOSUPPORT  fd is not an IPv4/IPv6 TCP socket
 *   ENODATA       the connection is not encrypted: tcpcryptd has no state
 *                 for it (it runs in plaintext), or it ended without keys
 *   EINPROGRESS   the connection is still negotiating; try again later
 *                 (after the first bytes have been exchanged)
 *   ECONNREFUSED, ENOENT, EACCES, ...
 *                 tcpcryptd cannot be reached: errno of connect() on the
 *                 control socket
 *   ETIMEDOUT     tcpcryptd did not accept or answer within 2 seconds
 *   EPROTO        tcpcryptd's answer could not be parsed (or it reported
 *                 an unexpected error)
 *   ENAMETOOLONG  the control socket path is too long for a unix socket
 *   EINVAL        sid is NULL
 *
 * The control socket is the one tcpcrypt_socket_path() returns.
 */
int tcpcrypt_getsessid(int fd, unsigned char sid[TCPCRYPT_SESSID_LEN],
		       enum tcpcrypt_role *role);

/*
 * tcpcrypt_socket_path: the control socket path the library uses: the value
 * of the environment variable TCPCRYPT_SOCKET when it is set and not empty,
 * else TCPCRYPT_DEFAULT_SOCKET.  In a set-user-ID or set-group-ID program the
 * variable is ignored (secure_getenv), so that whoever runs it cannot point
 * it at a fake daemon that hands out session IDs of its choosing.  The
 * returned string must not be modified or freed; it points into the
 * environment (or is a constant) and stays valid as long as TCPCRYPT_SOCKET
 * is not changed.  Like getenv(), it must not race with setenv()/putenv().
 */
const char *tcpcrypt_socket_path(void);

/*
 * tcpcrypt_sessid_hex: writes the 66 lowercase hex digits of sid and a
 * terminating NUL to out.  Returns TCPCRYPT_SESSID_HEXLEN (66); -1 with errno
 * EINVAL when sid or out is NULL.
 */
int tcpcrypt_sessid_hex(const unsigned char sid[TCPCRYPT_SESSID_LEN],
			char out[2 * TCPCRYPT_SESSID_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif /* TCPCRYPT_H */
