/* The configuration file tcpcryptd.conf (see tcpcryptd.conf(5)): one
 * directive per line, '#' starts a comment.  Errors name FILE:LINE. */
#ifndef TC_CONF_H
#define TC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Cipher suites there are (0x7403 "aes128", 0x7402 "chacha20"). */
#define CONF_MAX_SUITES 2

struct tc_config {
	/* Each *_set flag says the file gave the value (the command line
	 * overrides the file, the file overrides built-in defaults). */
	bool queue_set;
	uint16_t queue;			/* queue N */
	char *keylog_path;		/* keylog FILE */
	char *socket_path;		/* socket PATH ("none" disables) */
	char *socket_group;		/* socket-group NAME */
	bool idle_timeout_set;
	uint64_t idle_timeout_s;	/* idle-timeout SECONDS (1..2592000) */
	bool max_flows_set;
	size_t max_flows;		/* max-flows N (16..16777216) */
	bool rst_set;
	bool rst_authenticated;		/* rst authenticated|kernel */
	bool linger_set;
	uint64_t linger_s;		/* linger SECONDS (0..3600) */
	char *state_file;		/* state-file PATH ("none" disables) */
	bool suites_set;
	uint16_t suites[CONF_MAX_SUITES];	/* suites LIST, in order of preference */
	unsigned nsuites;
	struct policy policy;		/* policy ACTION [addr P] [port N[-M]], in order */
};

/* Reads path into out (zeroed first).  A missing file is not an error when
 * missing_ok (out stays empty).  Returns 0, or -1 with err set to
 * "FILE:LINE: reason" (or "FILE: strerror") and out left empty. */
int conf_load(const char *path, bool missing_ok, struct tc_config *out, char *err, size_t errlen);
void conf_free(struct tc_config *c);

/* Values shared with the command line, so both accept the same.
 * A number: decimal digits only (no sign, no spaces) in lo..hi; -1
 * otherwise. */
int conf_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* A suite list, "aes128,chacha20": names separated by commas, each at most
 * once, in order of preference.  0 with out/n filled, or -1. */
int conf_parse_suites(const char *s, uint16_t out[CONF_MAX_SUITES], unsigned *n);
/* The name of a suite ("aes128", "chacha20"), "-" for any other value. */
const char *conf_suite_name(uint16_t suite);
/* A state file: an absolute path, or "none". */
bool conf_state_file_valid(const char *s);
/* NULL for "none" (state file, control socket), else s. */
const char *conf_path_or_none(const char *s);

#endif
