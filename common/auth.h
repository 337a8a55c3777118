/*
 * Who sends a request: with auth = token, the bearer token of its
 * Authorization header, a JWT the platform signed, checked against the
 * configured key, issuer and audience (libjwt verifies the signature).
 * With auth = none everyone is an anonymous caller who may do everything.
 */
#ifndef ENGINE_AUTH_H
#define ENGINE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

#define AUTH_SUB_MAX 128                /* bytes of a token's sub */
#define AUTH_TOKEN_MAX 4096             /* bytes of a token; a longer one is refused unread */

/* What a caller may do, from the token's scope claim (OR-ed). */
enum auth_scope {
	SCOPE_LEARNER = 1,              /* their own sessions, executions, submissions */
	SCOPE_GRADER = 2,               /* test suites */
	SCOPE_ADMIN = 4,                /* everything, everyone's */
	SCOPE_ALL = SCOPE_LEARNER | SCOPE_GRADER | SCOPE_ADMIN,
};

struct principal {
	char sub[AUTH_SUB_MAX + 1];     /* the learner; "" when auth = none */
	unsigned scopes;                /* enum auth_scope bits */
};

struct auth;

/*
 * Reads the key auth_hs256_secret_file or auth_public_key_file names, when
 * auth = token. Returns the verifier, or NULL with "file:line: reason" in
 * err (the key's line of the configuration): auth = token without exactly
 * one key file, a secret readable by group or others or shorter than 32
 * bytes, a public key that is neither RSA nor EC P-256.
 */
struct auth *auth_new(const struct config *cfg, char *err, size_t errlen);

/* Frees a and NULLs the caller's pointer. */
void auth_free(struct auth **a);

/* True when requests must carry a token (auth = token); a NULL a is auth = none (unit tests). */
bool auth_required(const struct auth *a);

/*
 * Checks an Authorization header value (NULL when absent) at time now.
 * Returns NULL and fills who when it carries a valid token (or auth =
 * none), else the reason it is refused, a static string for the 401's
 * message. Whether a secret matched is decided by libjwt in constant time.
 */
const char *auth_check(const struct auth *a, const char *authorization, time_t now,
		       struct principal *who);

/* True if who may see a row owned by owner: its owner, an admin, or anyone without auth. */
bool auth_owns(const struct principal *who, const char *owner);

#endif
