/* One HTTP exchange over FastCGI: the parsed request and the reply being built. */
#ifndef FCGI_HTTP_H
#define FCGI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <fcgiapp.h>
#include <json.h>

#include "auth.h"
#include "util.h"
#include "validate.h"

#define PATH_MAX_LEN 2048             /* a file path of 255 bytes percent-encoded fits */
#define REQUEST_ID_MAX 64

struct request {
	const char *method;
	char path[PATH_MAX_LEN];        /* REQUEST_URI without the query */
	const char *query;              /* after '?', or "" */
	const char *content_type;       /* or NULL */
	const char *authorization;      /* the Authorization header, or NULL */
	const char *remote_addr;        /* the client's address as the web server saw it, or "" */
	const char *origin;             /* the Origin header (a browser's cross-origin call), or NULL */
	const char *preflight_method;   /* Access-Control-Request-Method of a CORS preflight, or NULL */
	struct principal who;           /* who sent it, once the router checked the token */
	char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id, the client's or a new UUID */
	long content_length;            /* -1 when absent or unparsable */
	char *body;                     /* NUL-terminated, owned */
	size_t body_len;
	char id[PATH_ID_MAX + 1];       /* the {id} of the route, if any */
	char file_path[FILE_PATH_MAX + 1]; /* the {path} of the route, decoded and checked */
	struct validated input;         /* the body's fields, checked by the router */
	struct query_values params;     /* the query's parameters, checked by the router */
};

struct response {
	int status;
	const char *allow;              /* 405 */
	const char *www_authenticate;   /* 401, 403: the Bearer challenge */
	const char *preflight_allow;    /* a CORS preflight's answer: the path's methods */
	char cors[512];                 /* CORS header lines for the request's origin (common/cors.c) */
	int retry_after;                /* seconds; 0 = no header */
	char location[128];
	json_object *body;              /* owned */
	char *text;                     /* owned; sent instead of body when set */
	size_t text_len;                /* its length; 0: strlen(text) */
	const char *content_type;       /* of text */
	char disposition[400];          /* a Content-Disposition header's value, or "" */
	const char *csp;                /* a Content-Security-Policy header's value, or NULL */
	const char *request_id;         /* echoed as X-Request-Id */
};

/* Fills req from the FastCGI environment. Returns 0, or -1 if the URI is unusable. */
int http_request_parse(struct request *req, FCGX_ParamArray envp);

/*
 * Reads the body, refusing (without reading it) one above max_bytes.
 * Returns 0, or -1 after setting an error reply in res.
 */
int http_read_body(struct request *req, FCGX_Stream *in, long max_bytes, struct response *res);

/* True if the request's Content-Type is application/json (parameters allowed). */
bool http_is_json(const struct request *req);

/* Sets a successful reply with body (ownership passes to res). */
void http_reply(struct response *res, int status, json_object *body);

/* Sets a successful non-JSON reply: text (malloc'd, ownership passes to res). */
void http_reply_text(struct response *res, int status, const char *content_type, char *text);

/* Sets a successful reply of len raw bytes (malloc'd, ownership passes to res). */
void http_reply_bytes(struct response *res, int status, const char *content_type, char *data, size_t len);

/* Writes headers and body to out and frees the reply. */
void http_send(struct response *res, FCGX_Stream *out);

void http_request_free(struct request *req);

#endif
