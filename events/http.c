/* The HTTP side: the one request of a connection, and complete replies. */
#include "events.h"

#include <json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "render.h"

/* Copies the header value (trimmed) into out if it fits; false if it does not. */
static bool copy_value(const char *v, size_t len, char *out, size_t outlen)
{
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len >= outlen)
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static bool header_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

/* One header line; false when a header we use does not fit. */
static bool take_header(const char *line, size_t len, struct request *req)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	size_t nlen = (size_t)(colon - line), vlen = len - nlen - 1;
	char upgrade[32];

	if (header_is(line, nlen, "Last-Event-ID"))
		return copy_value(colon + 1, vlen, req->last_event_id, sizeof req->last_event_id);
	if (header_is(line, nlen, "Authorization")) {
		/* One credential per request: a second header is refused, not chosen from. */
		req->authorization_bad |= req->authorization[0] != '\0' ||
			!copy_value(colon + 1, vlen, req->authorization, sizeof req->authorization);
		return true;
	}
	if (header_is(line, nlen, "Origin") && !copy_value(colon + 1, vlen, req->origin, sizeof req->origin))
		req->origin[0] = '\0';         /* too long for any listed origin: no CORS */
	if (header_is(line, nlen, "Access-Control-Request-Method"))
		req->preflight = true;
	if (header_is(line, nlen, "Sec-WebSocket-Key"))
		return copy_value(colon + 1, vlen, req->ws_key, sizeof req->ws_key);
	if (header_is(line, nlen, "X-Request-Id") &&
	    !copy_value(colon + 1, vlen, req->request_id, sizeof req->request_id))
		req->request_id[0] = '\0';
	if (header_is(line, nlen, "Upgrade") && copy_value(colon + 1, vlen, upgrade, sizeof upgrade))
		req->upgrade_ws = strcasecmp(upgrade, "websocket") == 0;
	return true;
}

static int parse_request_line(const char *line, size_t len, struct request *req)
{
	const char *sp1 = memchr(line, ' ', len);
	if (!sp1)
		return -1;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', len - (size_t)(target - line));
	if (!sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	size_t mlen = (size_t)(sp1 - line);
	req->options = mlen == 7 && memcmp(line, "OPTIONS", 7) == 0;
	if (!req->options && (mlen != 3 || memcmp(line, "GET", 3) != 0))
		return -2;              /* GET, and OPTIONS for a preflight: the caller answers 405 */
	size_t tlen = (size_t)(sp2 - target);
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen;
	if (plen >= sizeof req->path || (q && tlen - plen - 1 >= sizeof req->query))
		return -1;
	memcpy(req->path, target, plen);
	req->path[plen] = '\0';
	if (q) {
		memcpy(req->query, q + 1, tlen - plen - 1);
		req->query[tlen - plen - 1] = '\0';
	}
	return 0;
}

/* The same rule as fcgi_app's: 1-64 characters of A-Z a-z 0-9 . _ : - */
static bool request_id_valid(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > 64)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len;
}

int request_parse(const char *buf, size_t len, struct request *req)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len >= REQUEST_MAX ? -1 : 0;
	memset(req, 0, sizeof *req);
	const char *line = buf, *eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
	int rc = parse_request_line(line, (size_t)(eol - line), req);
	if (rc < 0)
		return rc;
	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
		if (!take_header(line, (size_t)(eol - line), req))
			return -1;
	}
	if (!request_id_valid(req->request_id))
		uuid_new(req->request_id);
	if (req->options && !req->preflight)
		return -2;
	return 1;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

int sse_head(struct events *ev, struct conn *c, char *out, size_t outlen)
{
	char cors[512];
	cors_headers(ev->cfg.allowed_origins, c->origin, NULL, cors, sizeof cors);
	return snprintf(out, outlen, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
			"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\n"
			"X-Request-Id: %s\r\n%sConnection: close\r\n\r\n", c->request_id, cors);
}

bool preflight_reply(struct events *ev, struct conn *c, const struct request *req)
{
	char head[1024], cors[512];
	if (!req->options || !cors_headers(ev->cfg.allowed_origins, c->origin, "GET", cors, sizeof cors))
		return false;
	int n = snprintf(head, sizeof head, "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\nX-Request-Id: %s\r\n%sConnection: close\r\n\r\n",
			 c->request_id, cors);
	conn_queue(c, head, (size_t)n, true);
	c->done = true;
	return true;
}

void reply_json(struct events *ev, struct conn *c, int status, const char *json)
{
	char head[1024], cors[512];
	size_t len = strlen(json);
	if (!c->request_id[0])
		uuid_new(c->request_id);
	cors_headers(ev->cfg.allowed_origins, c->origin, NULL, cors, sizeof cors);
	/* The body ends with a newline, as fcgi_app's do. */
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n"
			 "X-Request-Id: %s\r\n%s%s%sConnection: close\r\n\r\n", status, status_text(status),
			 len + 1, c->request_id, status == 405 ? "Allow: GET\r\n" : "",
			 status == 401 ? "WWW-Authenticate: Bearer realm=\"code-exec\", error=\"invalid_token\"\r\n" : "",
			 cors);
	conn_queue(c, head, (size_t)n, true);
	conn_queue(c, json, len, true);
	conn_queue(c, "\n", 1, true);
	c->done = true;
}

void reply_error(struct events *ev, struct conn *c, int status, const char *code, const char *field,
		 const char *message)
{
	json_object *o = render_error(code, message, field);
	reply_json(ev, c, status, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
