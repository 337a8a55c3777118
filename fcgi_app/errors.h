/*
 * Every error fcgi_app answers with, in one place: which HTTP status and
 * JSON error code each one is, which come with Retry-After, how a store
 * outcome maps to one, and the status line texts. Validation's own errors
 * (400 with a code and a field per rule) come from validate.c as a
 * struct verror and are sent by reply_invalid.
 */
#ifndef FCGI_ERRORS_H
#define FCGI_ERRORS_H

#include "db.h"

struct response;
struct verror;

enum api_error {
	ERR_NOT_FOUND,                  /* unknown path or id */
	ERR_METHOD_NOT_ALLOWED,         /* with Allow (set res->allow first) */
	ERR_PAYLOAD_TOO_LARGE,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_BODY_INCOMPLETE,            /* shorter than its Content-Length */
	ERR_OUT_OF_MEMORY,
	ERR_TOO_MANY_RUNS,              /* per-session cap; Retry-After */
	ERR_QUEUE_FULL,                 /* global queue cap; Retry-After */
	ERR_STORE_UNAVAILABLE,          /* Retry-After */
	ERR_NOT_RUNNING,                /* cancel or stdin of an execution that has finished */
	ERR_UNAUTHORIZED,               /* no valid bearer token; WWW-Authenticate */
	ERR_FORBIDDEN,                  /* a valid token without the scope the route needs */
	ERR_RUN_RATE_LIMITED,           /* a learner's quotas (Retry-After): quota_runs_per_minute */
	ERR_CONCURRENT_RUNS_LIMITED,    /* quota_concurrent_runs */
	ERR_SESSION_RATE_LIMITED,       /* quota_sessions_per_hour */
	ERR_SOURCE_QUOTA_EXCEEDED,      /* quota_source_bytes */
	ERR_ENTRY_FILE,                 /* the entry file of a session cannot be deleted */
	ERR__MAX
};

/* Replaces the reply with error e: {"error":{"code","message","field"}}. */
void reply_error(struct response *res, enum api_error e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Replaces the reply with what validation found. */
void reply_invalid(struct response *res, const struct verror *err);

/* Replaces the reply with the error a store outcome other than DB_OK means; what names the id's kind. */
void reply_db_status(struct response *res, enum db_status s, const char *what);

/* As reply_db_status, and for a quota's refusal, which limit of lq and when to retry. */
void reply_refused(struct response *res, enum db_status s, const char *what, const struct learner_quota *lq);

/* Replies status with out (taken) on DB_OK, else as reply_db_status. */
void reply_db_result(struct response *res, enum db_status s, int status, json_object *out,
		     const char *what);

/* "Not Found" for 404, and so on. */
const char *http_status_text(int status);

#endif
