/*
 * Test suites in the store: each PUT adds a version (db.h). The suite's
 * body was validated and completed by validate_suite before it gets here.
 */
#include "db.h"

#include "log.h"
#include "render.h"

static enum db_status suite_failed(struct store *s, const char *what)
{
	log_error("store: %s: %s", what, store_errmsg(s));
	return DB_ERROR;
}

/* A PUT and what it needs (db_transaction's ctx). */
struct suite_put {
	const char *id;
	json_object *body;
	json_object **out;
};

/* The next version is read and written in one statement; the write
 * transaction around it keeps two PUTs of one suite from both reading the
 * same last version (PostgreSQL runs statements concurrently). */
static enum db_status suite_put_locked(struct store *s, void *ctx)
{
	struct suite_put *p = ctx;
	size_t len;
	const char *text = json_object_to_json_string_length(p->body, JSON_C_TO_STRING_PLAIN, &len);
	struct store_query *q = store_query(s, STMT_SUITE_PUT);
	store_bind_str(q, 1, p->id);
	store_bind_text(q, 2, text, len);
	store_bind_int64(q, 3, now_ms());
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	if (rc == STORE_ROW)
		*p->out = render_suite(q);
	else
		st = suite_failed(s, "put test suite");
	store_reset(q);
	return st;
}

enum db_status db_suite_put(struct store *s, const char *id, json_object *body, json_object **out)
{
	struct suite_put p = { id, body, out };
	*out = NULL;
	enum db_status st = db_transaction(s, suite_put_locked, &p);
	if (st != DB_OK && *out) {
		json_object_put(*out);
		*out = NULL;
	}
	return st;
}

enum db_status db_suite_get(struct store *s, const char *id, json_object **out)
{
	struct store_query *q = store_query(s, STMT_SUITE_GET);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	if (rc == STORE_ROW)
		*out = render_suite(q);
	else
		st = rc == STORE_DONE ? DB_NOT_FOUND : suite_failed(s, "get test suite");
	store_reset(q);
	return st;
}

enum db_status db_suite_delete(struct store *s, const char *id)
{
	struct store_query *q = store_query(s, STMT_SUITE_DELETE);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	int64_t changed = rc == STORE_DONE ? store_changes(q) : -1;
	store_reset(q);
	if (changed < 0)
		return suite_failed(s, "delete test suite");
	return changed > 0 ? DB_OK : DB_NOT_FOUND;
}
