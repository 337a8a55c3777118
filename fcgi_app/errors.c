#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "render.h"
#include "validate.h"

static const struct {
	int status;
	const char *code;
	int retry_after;                /* seconds; 0 = no header */
} api_errors[ERR__MAX] = {
	[ERR_NOT_FOUND] = { 404, "NOT_FOUND", 0 },
	[ERR_METHOD_NOT_ALLOWED] = { 405, "METHOD_NOT_ALLOWED", 0 },
	[ERR_PAYLOAD_TOO_LARGE] = { 413, "PAYLOAD_TOO_LARGE", 0 },
	[ERR_UNSUPPORTED_MEDIA_TYPE] = { 415, "UNSUPPORTED_MEDIA_TYPE", 0 },
	[ERR_BODY_INCOMPLETE] = { 400, "INVALID_JSON", 0 },
	[ERR_OUT_OF_MEMORY] = { 503, "OUT_OF_MEMORY", 0 },
	[ERR_TOO_MANY_RUNS] = { 429, "TOO_MANY_RUNS", 1 },
	[ERR_QUEUE_FULL] = { 503, "QUEUE_FULL", 2 },
	[ERR_STORE_UNAVAILABLE] = { 503, "STORE_UNAVAILABLE", 1 },
	[ERR_NOT_RUNNING] = { 409, "NOT_RUNNING", 0 },
	[ERR_UNAUTHORIZED] = { 401, "UNAUTHORIZED", 0 },
	[ERR_FORBIDDEN] = { 403, "FORBIDDEN", 0 },
	/* Retry-After: reply_refused's, from the quota's window. */
	[ERR_RUN_RATE_LIMITED] = { 429, "RUN_RATE_LIMITED", 0 },
	[ERR_CONCURRENT_RUNS_LIMITED] = { 429, "CONCURRENT_RUNS_LIMITED", 0 },
	[ERR_SESSION_RATE_LIMITED] = { 429, "SESSION_RATE_LIMITED", 0 },
	[ERR_SOURCE_QUOTA_EXCEEDED] = { 429, "SOURCE_QUOTA_EXCEEDED", 0 },
	[ERR_ENTRY_FILE] = { 409, "ENTRY_FILE", 0 },
};

static void reply_body(struct response *res, int status, const char *code, const char *field,
		       const char *message)
{
	http_reply(res, status, render_error(code, message, field));
}

void reply_error(struct response *res, enum api_error e, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (api_errors[e].retry_after)
		res->retry_after = api_errors[e].retry_after;
	/* RFC 6750: the challenge says which scheme and what was wrong. */
	if (e == ERR_UNAUTHORIZED)
		res->www_authenticate = "Bearer realm=\"code-exec\", error=\"invalid_token\"";
	else if (e == ERR_FORBIDDEN)
		res->www_authenticate = "Bearer realm=\"code-exec\", error=\"insufficient_scope\"";
	reply_body(res, api_errors[e].status, api_errors[e].code, field, msg);
}

void reply_invalid(struct response *res, const struct verror *err)
{
	reply_body(res, err->status, err->code, err->field, err->message);
}

void reply_db_status(struct response *res, enum db_status s, const char *what)
{
	switch (s) {
	case DB_OK:
		abort();        /* callers reply themselves on success */
	case DB_NOT_FOUND:
		reply_error(res, ERR_NOT_FOUND, NULL, "no %s with this id", what);
		break;
	case DB_SESSION_BUSY:
		reply_error(res, ERR_TOO_MANY_RUNS, NULL,
			    "this session already has the maximum number of runs queued or running");
		break;
	case DB_QUEUE_FULL:
		reply_error(res, ERR_QUEUE_FULL, NULL, "the execution queue is full; retry later");
		break;
	case DB_NOT_RUNNING:
		reply_error(res, ERR_NOT_RUNNING, NULL, "the %s has finished", what);
		break;
	case DB_SUITE_NOT_FOUND:
		reply_error(res, ERR_NOT_FOUND, "suite_id", "no test suite with this id");
		break;
	case DB_FILE_NOT_FOUND:
		reply_error(res, ERR_NOT_FOUND, "path", "the session has no file at this path");
		break;
	case DB_ENTRY_FILE:
		reply_error(res, ERR_ENTRY_FILE, "path", "the entry file is what runs; it can be replaced, "
			    "not deleted");
		break;
	case DB_INVALID:        /* the handler replies with its verror; this is a fallback */
	case DB_ERROR:
		reply_error(res, ERR_STORE_UNAVAILABLE, NULL, "the store is unavailable; retry later");
		break;
	case DB_RUN_RATE_LIMITED:
	case DB_CONCURRENT_RUNS_LIMITED:
	case DB_SESSION_RATE_LIMITED:
	case DB_SOURCE_QUOTA_EXCEEDED:
		abort();        /* only quota checks refuse so; their callers reply with reply_refused */
	}
}

/* What a learner's quota refusal says, by the status its check returned; %lld: the limit. */
static const struct {
	enum db_status status;
	enum api_error error;
	const char *message;
} quota_refusals[] = {
	{ DB_RUN_RATE_LIMITED, ERR_RUN_RATE_LIMITED,
	  "this learner started %lld runs in the last 60 seconds, the most quota_runs_per_minute allows" },
	{ DB_CONCURRENT_RUNS_LIMITED, ERR_CONCURRENT_RUNS_LIMITED,
	  "this learner has %lld runs queued or running, the most quota_concurrent_runs allows" },
	{ DB_SESSION_RATE_LIMITED, ERR_SESSION_RATE_LIMITED,
	  "this learner created %lld sessions in the last hour, the most quota_sessions_per_hour allows" },
	{ DB_SOURCE_QUOTA_EXCEEDED, ERR_SOURCE_QUOTA_EXCEEDED,
	  "this learner's sessions would hold more than %lld bytes of source code (quota_source_bytes); "
	  "shorten or empty one first" },
};

void reply_refused(struct response *res, enum db_status s, const char *what, const struct learner_quota *lq)
{
	for (size_t i = 0; i < sizeof(quota_refusals) / sizeof(quota_refusals[0]); i++) {
		if (quota_refusals[i].status != s)
			continue;
		reply_error(res, quota_refusals[i].error, NULL, quota_refusals[i].message,
			    (long long)lq->refused.limit);
		res->retry_after = lq->refused.retry_after_s;
		return;
	}
	reply_db_status(res, s, what);
}

void reply_db_result(struct response *res, enum db_status s, int status, json_object *out,
		     const char *what)
{
	if (s == DB_OK)
		http_reply(res, status, out);
	else
		reply_db_status(res, s, what);
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}
