/* Bearer tokens: the key read once at start, each request's token checked against it. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <jwt.h>
#include <json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define KEY_FILE_MAX 65536
#define SECRET_MIN 32                   /* bytes: HS256's own output size (RFC 7518, 3.2) */

struct auth {
	bool required;
	unsigned char *key;             /* the secret, or the public key's PEM text */
	size_t key_len;
	jwt_alg_t alg;                  /* the one algorithm tokens may use: the key decides, never the token */
	char issuer[256], audience[256];
};

/* Reads path (at most KEY_FILE_MAX bytes) into a new buffer. Returns NULL with why set. */
static unsigned char *read_key_file(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(KEY_FILE_MAX + 1);
	if (!f || !buf) {
		*why = f ? "out of memory" : strerror(errno);
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, KEY_FILE_MAX + 1, f);
	fclose(f);
	if (*len > KEY_FILE_MAX) {
		*why = "larger than 64 KiB";
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* The shared secret: the file's bytes without trailing line ends, kept from group and others. */
static const char *secret_load(struct auth *a, const char *path)
{
	struct stat st;
	const char *why = NULL;
	if (stat(path, &st) != 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return "readable or writable by group or others (chmod 600 it)";
	if (!(a->key = read_key_file(path, &a->key_len, &why)))
		return why;
	while (a->key_len && (a->key[a->key_len - 1] == '\n' || a->key[a->key_len - 1] == '\r'))
		a->key[--a->key_len] = '\0';
	if (a->key_len < SECRET_MIN)
		return "shorter than 32 bytes";
	a->alg = JWT_ALG_HS256;
	return NULL;
}

/* The algorithm a public key verifies: RS256 for RSA of 2048 bits or more, ES256 for P-256. */
static const char *public_key_alg(EVP_PKEY *pkey, jwt_alg_t *alg)
{
	char group[64] = "";
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return "an RSA key shorter than 2048 bits";
		*alg = JWT_ALG_RS256;
		return NULL;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
		    strcmp(group, "prime256v1") != 0)
			return "an EC key on another curve than P-256";
		*alg = JWT_ALG_ES256;
		return NULL;
	case EVP_PKEY_ED25519:
		return "an Ed25519 key: Debian 12's libjwt (1.10) has no EdDSA; use RSA (RS256) or EC P-256 (ES256)";
	default:
		return "neither an RSA nor an EC P-256 public key";
	}
}

static const char *public_key_load(struct auth *a, const char *path)
{
	const char *why = NULL;
	if (!(a->key = read_key_file(path, &a->key_len, &why)))
		return why;
	BIO *bio = BIO_new_mem_buf(a->key, (int)a->key_len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	why = pkey ? public_key_alg(pkey, &a->alg) : "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return why;
}

/* Reads the one key auth = token needs. Returns NULL, or why not with the key named in err's prefix. */
static const char *key_load(struct auth *a, const struct config *cfg, const char **key)
{
	bool secret = cfg->auth_hs256_secret_file[0], pub = cfg->auth_public_key_file[0];
	*key = "auth";
	if (!secret && !pub)
		return "auth = token needs auth_hs256_secret_file or auth_public_key_file";
	if (secret && pub) {
		*key = "auth_public_key_file";
		return "set auth_hs256_secret_file or auth_public_key_file, not both";
	}
	*key = secret ? "auth_hs256_secret_file" : "auth_public_key_file";
	return secret ? secret_load(a, cfg->auth_hs256_secret_file)
		      : public_key_load(a, cfg->auth_public_key_file);
}

struct auth *auth_new(const struct config *cfg, char *err, size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));
	const char *key = "auth", *why = NULL;
	char where[CONFIG_PATH_MAX + 16];

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->required = strcmp(cfg->auth, "token") == 0;
	snprintf(a->issuer, sizeof(a->issuer), "%s", cfg->auth_issuer);
	snprintf(a->audience, sizeof(a->audience), "%s", cfg->auth_audience);
	if (a->required && (why = key_load(a, cfg, &key))) {
		config_where(cfg, key, where, sizeof(where));
		if (strcmp(key, "auth") == 0)
			snprintf(err, errlen, "%s: %s", where, why);
		else
			snprintf(err, errlen, "%s: %s %s: %s", where, key,
				 strcmp(key, "auth_hs256_secret_file") == 0 ? cfg->auth_hs256_secret_file
									    : cfg->auth_public_key_file, why);
		auth_free(&a);
	}
	return a;
}

void auth_free(struct auth **a)
{
	if (!*a)
		return;
	if ((*a)->key)
		memset((*a)->key, 0, (*a)->key_len);
	free((*a)->key);
	free(*a);
	*a = NULL;
}

bool auth_required(const struct auth *a)
{
	return a && a->required;
}

/*
 * The token of "Bearer <token>": a compact JWS, three non-empty parts of
 * base64url. Anything else (another scheme, a second header merged in with
 * a comma, bytes outside ASCII, an empty signature as alg "none" has) is
 * refused before any parsing.
 */
static const char *bearer_token(const char *h, const char **token)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	if (!h || !*h)
		return "this request needs an Authorization: Bearer token";
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return "the Authorization header must be Bearer <token>";
	h += 7;
	while (*h == ' ')
		h++;
	*token = h;
	if (strlen(h) > AUTH_TOKEN_MAX)
		return "the token is longer than 4096 bytes";
	for (int part = 0; part < 3; part++) {
		size_t n = strspn(h, b64url);
		if (n == 0 || (part < 2 && h[n] != '.') || (part == 2 && h[n] != '\0'))
			return "the token is not a signed JWT (header.payload.signature in base64url)";
		h += n + 1;
	}
	return NULL;
}

/* True if the token's aud, a string or an array of strings, holds want. */
static bool audience_holds(jwt_t *jwt, const char *want)
{
	const char *one = jwt_get_grant(jwt, "aud");
	if (one)
		return strcmp(one, want) == 0;
	char *text = jwt_get_grants_json(jwt, "aud");
	json_object *arr = text ? json_tokener_parse(text) : NULL;
	bool found = false;
	for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		found |= json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), want) == 0;
	}
	json_object_put(arr);
	free(text);
	return found;
}

/*
 * A claim holding an integer NumericDate. Returns 1 with *v, 0 if absent,
 * -1 if it is anything else (libjwt's own getter answers -1 for a string).
 */
static int time_claim(jwt_t *jwt, const char *name, long *v)
{
	char *text = jwt_get_grants_json(jwt, name);
	json_object *o = text ? json_tokener_parse(text) : NULL;
	int rc = !text ? 0 : json_object_is_type(o, json_type_int) ? 1 : -1;
	if (rc == 1)
		*v = (long)json_object_get_int64(o);
	json_object_put(o);
	free(text);
	return rc;
}

static const char *times_check(jwt_t *jwt, time_t now)
{
	long exp, nbf;
	if (time_claim(jwt, "exp", &exp) != 1)
		return "the token has no exp (an integer time)";
	if ((long)now >= exp)
		return "the token has expired";
	int has_nbf = time_claim(jwt, "nbf", &nbf);
	if (has_nbf < 0)
		return "the token's nbf is not an integer time";
	if (has_nbf && (long)now < nbf)
		return "the token is not valid yet (nbf)";
	return NULL;
}

/* The scope claim's words: learner, grader, admin; others are ignored; none means learner. */
static unsigned scopes_of(const char *scope)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{ "learner", SCOPE_LEARNER }, { "grader", SCOPE_GRADER }, { "admin", SCOPE_ADMIN },
	};
	unsigned bits = 0;
	for (const char *w = scope; w && *w; w += strcspn(w, " "), w += strspn(w, " ")) {
		size_t n = strcspn(w, " ");
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == n && strncmp(w, words[i].word, n) == 0)
				bits |= words[i].bit;
	}
	return bits ? bits : SCOPE_LEARNER;
}

static const char *identity_check(jwt_t *jwt, struct principal *who)
{
	const char *sub = jwt_get_grant(jwt, "sub");
	if (!sub || !*sub)
		return "the token has no sub (a string naming the learner)";
	if (strlen(sub) > AUTH_SUB_MAX)
		return "the token's sub is longer than 128 bytes";
	for (const unsigned char *p = (const unsigned char *)sub; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "the token's sub holds a control character";
	errno = 0;
	const char *scope = jwt_get_grant(jwt, "scope");
	if (!scope && errno != ENOENT)
		return "the token's scope is not a string";
	snprintf(who->sub, sizeof(who->sub), "%s", sub);
	who->scopes = scopes_of(scope);
	return NULL;
}

static const char *claims_check(const struct auth *a, jwt_t *jwt, time_t now, struct principal *who)
{
	const char *why;
	if (jwt_get_alg(jwt) != a->alg)
		return "the token is not signed with the algorithm this server accepts";
	if ((why = times_check(jwt, now)))
		return why;
	const char *iss = jwt_get_grant(jwt, "iss");
	if (a->issuer[0] && (!iss || strcmp(iss, a->issuer) != 0))
		return "the token's issuer (iss) is not the one this server accepts";
	if (a->audience[0] && !audience_holds(jwt, a->audience))
		return "the token's audience (aud) does not name this server";
	return identity_check(jwt, who);
}

const char *auth_check(const struct auth *a, const char *authorization, time_t now,
		       struct principal *who)
{
	const char *token = NULL, *why;
	jwt_t *jwt = NULL;

	memset(who, 0, sizeof(*who));
	if (!auth_required(a)) {
		who->scopes = SCOPE_ALL;
		return NULL;
	}
	if ((why = bearer_token(authorization, &token)))
		return why;
	/* libjwt checks the signature with the key for the algorithm the token
	 * names; claims_check then refuses any algorithm but the key's own, so
	 * a token "signed" with alg none or with the public key as an HMAC
	 * secret never passes. */
	if (jwt_decode(&jwt, token, a->key, (int)a->key_len) != 0)
		return "the token's signature does not verify, or the token is malformed";
	why = claims_check(a, jwt, now, who);
	jwt_free(jwt);
	return why;
}

bool auth_owns(const struct principal *who, const char *owner)
{
	return (who->scopes & SCOPE_ADMIN) || strcmp(who->sub, owner ? owner : "") == 0;
}
