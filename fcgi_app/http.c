/* HTTP over FastCGI: request parsing, bounded body reads, writing the reply. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

static const char *param(FCGX_ParamArray envp, const char *name)
{
	return FCGX_GetParam(name, envp);
}

static long parse_length(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	return *end || v < 0 ? -1 : v;
}

/*
 * A client's X-Request-Id is kept only if it is short and made of safe
 * characters: it is echoed in a header and written to logs, so it must not
 * carry CR, LF or anything a log reader could misparse.
 */
static bool request_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > REQUEST_ID_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

int http_request_parse(struct request *req, FCGX_ParamArray envp)
{
	memset(req, 0, sizeof(*req));
	req->method = param(envp, "REQUEST_METHOD");
	req->content_type = param(envp, "CONTENT_TYPE");
	req->authorization = param(envp, "HTTP_AUTHORIZATION");
	req->remote_addr = param(envp, "REMOTE_ADDR");
	req->origin = param(envp, "HTTP_ORIGIN");
	req->preflight_method = param(envp, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
	if (!req->remote_addr)
		req->remote_addr = "";
	const char *rid = param(envp, "HTTP_X_REQUEST_ID");
	if (request_id_ok(rid))
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	else
		uuid_new(req->request_id);
	req->content_length = parse_length(param(envp, "CONTENT_LENGTH"));
	if (!req->method)
		req->method = "";
	const char *uri = param(envp, "REQUEST_URI");
	if (!uri)
		uri = "/";
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	req->query = q ? q + 1 : "";
	if (plen >= sizeof(req->path))
		return -1;
	memcpy(req->path, uri, plen);
	req->path[plen] = '\0';
	/* "/a/" and "/a" name the same resource. */
	if (plen > 1 && req->path[plen - 1] == '/')
		req->path[plen - 1] = '\0';
	return 0;
}

int http_read_body(struct request *req, FCGX_Stream *in, long max_bytes, struct response *res)
{
	long len = req->content_length < 0 ? 0 : req->content_length;
	if (len > max_bytes) {
		reply_error(res, ERR_PAYLOAD_TOO_LARGE, NULL,
			    "request body is %ld bytes; the limit is %ld", len, max_bytes);
		return -1;
	}
	req->body = malloc((size_t)len + 1);
	if (!req->body) {
		reply_error(res, ERR_OUT_OF_MEMORY, NULL, "cannot hold the request body");
		return -1;
	}
	int got = len ? FCGX_GetStr(req->body, (int)len, in) : 0;
	if (got != len) {
		reply_error(res, ERR_BODY_INCOMPLETE, NULL, "request body ended after %d of %ld bytes",
			    got, len);
		return -1;
	}
	req->body[len] = '\0';
	req->body_len = (size_t)len;
	return 0;
}

bool http_is_json(const struct request *req)
{
	const char *ct = req->content_type;
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void http_reply(struct response *res, int status, json_object *body)
{
	json_object_put(res->body);
	free(res->text);
	res->text = NULL;
	res->text_len = 0;
	res->status = status;
	res->body = body;
}

void http_reply_text(struct response *res, int status, const char *content_type, char *text)
{
	http_reply(res, status, NULL);
	res->text = text;
	res->content_type = content_type;
}

void http_reply_bytes(struct response *res, int status, const char *content_type, char *data, size_t len)
{
	http_reply_text(res, status, content_type, data);
	res->text_len = len;
}

/* The headers of a reply that only some carry, after the fixed ones. */
static int optional_headers(const struct response *res, char *head, size_t size)
{
	int n = 0;
	if (res->request_id)
		n += snprintf(head + n, size - (size_t)n, "X-Request-Id: %s\r\n", res->request_id);
	if (res->allow)
		n += snprintf(head + n, size - (size_t)n, "Allow: %s\r\n", res->allow);
	if (res->www_authenticate)
		n += snprintf(head + n, size - (size_t)n, "WWW-Authenticate: %s\r\n", res->www_authenticate);
	if (res->retry_after > 0)
		n += snprintf(head + n, size - (size_t)n, "Retry-After: %d\r\n", res->retry_after);
	if (res->location[0])
		n += snprintf(head + n, size - (size_t)n, "Location: %s\r\n", res->location);
	if (res->disposition[0])
		n += snprintf(head + n, size - (size_t)n, "Content-Disposition: %s\r\n", res->disposition);
	if (res->csp)
		n += snprintf(head + n, size - (size_t)n, "Content-Security-Policy: %s\r\n", res->csp);
	return n;
}

void http_send(struct response *res, FCGX_Stream *out)
{
	size_t len = 0;
	const char *body = res->body ? json_object_to_json_string_length(res->body,
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len) : "";
	bool text = res->text != NULL;
	if (text) {
		body = res->text;
		len = res->text_len ? res->text_len : strlen(body);
	}
	bool empty = res->status == 204;        /* a preflight's answer: no body at all */
	/* libfcgi's own printf lacks %zu and friends: format headers with ours. */
	char head[2048];
	int n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: %s\r\n"
			 "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n%s",
			 res->status, http_status_text(res->status),
			 text ? res->content_type : "application/json", empty ? 0 : text ? len : len + 1, res->cors);
	n += optional_headers(res, head + n, sizeof(head) - (size_t)n);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	FCGX_PutStr(head, n, out);
	if (!empty) {
		FCGX_PutStr(body, (int)len, out);
		if (!text)
			FCGX_PutChar('\n', out);
	}
	json_object_put(res->body);
	res->body = NULL;
	free(res->text);
	res->text = NULL;
	res->text_len = 0;
}

void http_request_free(struct request *req)
{
	free(req->body);
	req->body = NULL;
	validated_free(&req->input);
}
