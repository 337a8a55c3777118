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

enum db_status db_suite_put(struct store *s, const char *id, json_object *body, json_object **out)
{
	size_t len;
	const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
	struct store_query *q = store_query(s, STMT_SUITE_PUT);
	store_bind_str(q, 1, id);
	store_bind_text(q, 2, text, len);
	store_bind_int64(q, 3, now_ms());
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	if (rc == STORE_ROW)
		*out = render_suite(q);
	else
		st = suite_failed(s, "put test suite");
	store_reset(q);
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
