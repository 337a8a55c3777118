/* GET /executions/{id}, GET /code-sessions/{id}/executions, GET /health. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

void execution_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_get(app, req->id, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "execution");
}

/* Parses a decimal query value in [min, max]. Returns 0, or -1. */
static int query_number(const char *s, size_t len, long long min, long long max, long long *out)
{
	char buf[24];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
	errno = 0;
	long long v = strtoll(buf, NULL, 10);
	if (errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

struct page { long long limit, before; };

/* Reads limit and cursor from the query string. Returns 0, or -1 with the reply set. */
static int page_parse(const struct app *app, const char *query, struct page *p, struct response *res)
{
	p->limit = app->cfg.page_size_default;
	p->before = 0;
	while (*query) {
		size_t len = strcspn(query, "&");
		const char *eq = memchr(query, '=', len);
		size_t klen = eq ? (size_t)(eq - query) : len;
		const char *val = eq ? eq + 1 : query + len;
		size_t vlen = (size_t)(query + len - val);
		if (klen == 5 && memcmp(query, "limit", 5) == 0 &&
		    query_number(val, vlen, 1, app->cfg.page_size_max, &p->limit)) {
			http_error(res, 400, "INVALID_QUERY", "limit", "limit must be an integer from 1 to %d",
				   app->cfg.page_size_max);
			return -1;
		}
		if (klen == 6 && memcmp(query, "cursor", 6) == 0 &&
		    query_number(val, vlen, 1, INT64_MAX, &p->before)) {
			http_error(res, 400, "INVALID_QUERY", "cursor",
				   "cursor must be the next_cursor of a previous page");
			return -1;
		}
		query += len + (query[len] == '&');
	}
	return 0;
}

void execution_list(struct app *app, struct request *req, struct response *res)
{
	struct page p;
	if (page_parse(app, req->query, &p, res))
		return;
	json_object *out = NULL;
	enum db_status s = db_execution_list(app, req->id, p.before, (int)p.limit, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "session");
}

void health_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	json_object *out = NULL;
	if (db_health(app, &out) != DB_OK) {
		out = json_object_new_object();
		json_object_object_add(out, "status", json_object_new_string("unavailable"));
		json_object_object_add(out, "db", json_object_new_string("error"));
		res->retry_after = 1;
		http_reply(res, 503, out);
		return;
	}
	bool alive = json_object_get_int(json_object_object_get(out, "runners_alive")) > 0;
	json_object_object_add(out, "status", json_object_new_string(alive ? "ok" : "unavailable"));
	json_object_object_add(out, "db", json_object_new_string("ok"));
	if (!alive)
		res->retry_after = 1;
	http_reply(res, alive ? 200 : 503, out);
}

void reply_db_status(struct response *res, enum db_status s, const char *what)
{
	switch (s) {
	case DB_OK:
		abort();        /* callers reply themselves on success */
	case DB_NOT_FOUND:
		http_error(res, 404, "NOT_FOUND", NULL, "no %s with this id", what);
		break;
	case DB_SESSION_BUSY:
		res->retry_after = 1;
		http_error(res, 429, "TOO_MANY_RUNS", NULL,
			   "this session already has the maximum number of runs queued or running");
		break;
	case DB_QUEUE_FULL:
		res->retry_after = 2;
		http_error(res, 503, "QUEUE_FULL", NULL, "the execution queue is full; retry later");
		break;
	case DB_ERROR:
		res->retry_after = 1;
		http_error(res, 503, "STORE_UNAVAILABLE", NULL, "the store is unavailable; retry later");
		break;
	}
}
