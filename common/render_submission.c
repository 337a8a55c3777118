/* What the learner sees of a submission (render_submission.h). */
#include "render_submission.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DIFF_SHOWN 80           /* bytes of each side a diff quotes */

struct submission_view {
	json_object *doc;               /* the document being built */
	json_object *suite_cases;       /* the suite version's cases (owned by body) */
	json_object *body;
	json_object *cases;             /* the rendered cases */
	int total, passed, judged, queued, unjudged_done;
	char verdict[16];               /* the first failing one in case order, or a compile error; "" none */
	char failure[32];               /* error code of a case that ended without a verdict */
	int64_t finished_at;
};

static json_object *time_json(int64_t ms)
{
	char buf[RFC3339_LEN];
	rfc3339(ms, buf);
	return json_object_new_string(buf);
}

struct submission_view *submission_view_new(struct store_query *q)
{
	struct submission_view *v = calloc(1, sizeof *v);
	if (!v)
		abort();
	v->doc = json_object_new_object();
	v->body = json_tokener_parse(store_column_text(q, SUBMISSION_BODY, NULL));
	v->suite_cases = json_object_object_get(v->body, "cases");
	v->total = (int)json_object_array_length(v->suite_cases);
	v->cases = json_object_new_array();
	json_object_object_add(v->doc, "submission_id", json_object_new_string(store_column_text(q, SUBMISSION_ID, NULL)));
	json_object_object_add(v->doc, "session_id", json_object_new_string(store_column_text(q, SUBMISSION_SESSION_ID, NULL)));
	json_object_object_add(v->doc, "suite_id", json_object_new_string(store_column_text(q, SUBMISSION_SUITE_ID, NULL)));
	json_object_object_add(v->doc, "suite_version", json_object_new_int64(store_column_int64(q, SUBMISSION_SUITE_VERSION)));
	json_object_object_add(v->doc, "stop_on_first_failure",
			       json_object_new_boolean(store_column_int64(q, SUBMISSION_STOP_ON_FIRST_FAILURE) != 0));
	json_object_object_add(v->doc, "queued_at", time_json(store_column_int64(q, SUBMISSION_QUEUED_AT)));
	return v;
}

/* How many bytes of s (len) fit in max without cutting a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Line n (from 1) of s, its start and length without the newline; false past the end. */
static bool line_at(const char *s, size_t len, int n, const char **line, size_t *llen)
{
	const char *p = s, *end = s + len;
	for (int i = 1; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return false;
		p = nl + 1;
	}
	if (p >= end && n > 1)
		return false;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*line = p;
	*llen = (size_t)((nl ? nl : end) - p);
	return true;
}

/* "line N: expected "...", got "..."" for the first line that differs (a wrong answer's). */
static json_object *diff_of(const char *expected, size_t elen, const char *got, size_t glen)
{
	for (int n = 1;; n++) {
		const char *a = "", *b = "";
		size_t al = 0, bl = 0;
		bool ha = line_at(expected, elen, n, &a, &al);
		bool hb = line_at(got, glen, n, &b, &bl);
		if (!ha && !hb)
			return json_object_new_string("the outputs differ only in whitespace");
		if (ha != hb || al != bl || memcmp(a, b, al) != 0) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "line", json_object_new_int(n));
			json_object_object_add(o, "expected", ha ? json_object_new_string_len(a, (int)utf8_cut(a, al, DIFF_SHOWN)) : NULL);
			json_object_object_add(o, "got", hb ? json_object_new_string_len(b, (int)utf8_cut(b, bl, DIFF_SHOWN)) : NULL);
			return o;
		}
	}
}

/* The members only a visible case shows: the program's stdout, what was expected, the diff. */
static void add_visible(json_object *out, json_object *suite_case, struct store_query *q, const char *verdict)
{
	size_t glen = 0;
	const char *got = store_column_text(q, CASE_RESULT_STDOUT, &glen);
	json_object *exp = json_object_object_get(suite_case, "expected_stdout");
	json_object_object_add(out, "stdin", json_object_get(json_object_object_get(suite_case, "stdin")));
	json_object_object_add(out, "expected", json_object_get(exp));
	json_object_object_add(out, "stdout", got ? json_object_new_string_len(got, (int)glen) : NULL);
	bool wrong = verdict && strcmp(verdict, "WRONG_ANSWER") == 0 && got;
	json_object_object_add(out, "diff", wrong ? diff_of(json_object_get_string(exp),
		(size_t)json_object_get_string_len(exp), got, glen) : NULL);
}

/* Counts the case toward the submission's status and verdict. */
static void tally(struct submission_view *v, const char *status, const char *verdict, struct store_query *q)
{
	if (strcmp(status, "QUEUED") == 0)
		v->queued++;
	if (strcmp(status, "QUEUED") == 0 || strcmp(status, "RUNNING") == 0)
		return;
	int64_t fin = store_column_int64(q, CASE_RESULT_FINISHED_AT);
	if (fin > v->finished_at)
		v->finished_at = fin;
	if (!verdict) {
		const char *code = store_column_text(q, CASE_RESULT_ERROR_CODE, NULL);
		v->unjudged_done++;
		snprintf(v->failure, sizeof v->failure, "%s", code ? code : "RUNNER_LOST");
		return;
	}
	v->judged++;
	if (strcmp(verdict, "ACCEPTED") == 0)
		v->passed++;
	else if (strcmp(verdict, "COMPILE_ERROR") == 0)
		snprintf(v->verdict, sizeof v->verdict, "COMPILE_ERROR");
	else if (strcmp(verdict, "SKIPPED") != 0 && !v->verdict[0])
		snprintf(v->verdict, sizeof v->verdict, "%s", verdict);
}

void submission_view_add_case(struct submission_view *v, struct store_query *q)
{
	int i = (int)store_column_int64(q, CASE_RESULT_INDEX);
	json_object *sc = json_object_array_get_idx(v->suite_cases, (size_t)i);
	const char *status = store_column_text(q, CASE_RESULT_STATUS, NULL);
	const char *verdict = store_column_text(q, CASE_RESULT_VERDICT, NULL);
	bool hidden = json_object_get_boolean(json_object_object_get(sc, "hidden"));
	bool ran = verdict && strcmp(verdict, "SKIPPED") != 0;
	json_object *out = json_object_new_object();

	json_object_object_add(out, "name", json_object_get(json_object_object_get(sc, "name")));
	json_object_object_add(out, "hidden", json_object_new_boolean(hidden));
	json_object_object_add(out, "verdict", verdict ? json_object_new_string(verdict) : NULL);
	json_object_object_add(out, "time_ms", ran ? json_object_new_int64(store_column_int64(q, CASE_RESULT_TIME_MS)) : NULL);
	json_object_object_add(out, "memory_kb", ran ? json_object_new_int64(store_column_int64(q, CASE_RESULT_MEMORY_KB)) : NULL);
	if (!hidden)
		add_visible(out, sc, q, verdict);
	json_object_array_add(v->cases, out);
	tally(v, status, verdict, q);
}

/* QUEUED (nothing started), RUNNING, COMPLETED (every case judged) or FAILED (some case could not be). */
static const char *status_of(const struct submission_view *v)
{
	if (v->judged + v->unjudged_done < v->total)
		return v->queued == v->total ? "QUEUED" : "RUNNING";
	return v->unjudged_done ? "FAILED" : "COMPLETED";
}

json_object *submission_view_render(struct submission_view *v)
{
	const char *status = status_of(v);
	bool done = strcmp(status, "COMPLETED") == 0;
	char score[16];

	json_object_object_add(v->doc, "status", json_object_new_string(status));
	json_object_object_add(v->doc, "verdict", done ? json_object_new_string(v->verdict[0] ? v->verdict : "ACCEPTED") : NULL);
	json_object_object_add(v->doc, "passed", json_object_new_int(v->passed));
	json_object_object_add(v->doc, "total", json_object_new_int(v->total));
	snprintf(score, sizeof score, "%.2f", v->total ? 100.0 * v->passed / v->total : 0.0);
	json_object_object_add(v->doc, "score", json_object_new_double_s(strtod(score, NULL), score));
	json_object_object_add(v->doc, "error", strcmp(status, "FAILED") == 0 ? json_object_new_string(v->failure) : NULL);
	json_object_object_add(v->doc, "finished_at", done || strcmp(status, "FAILED") == 0 ? time_json(v->finished_at) : NULL);
	json_object_object_add(v->doc, "cases", json_object_get(v->cases));
	return json_object_get(v->doc);
}

void submission_view_free(struct submission_view *v)
{
	if (!v)
		return;
	json_object_put(v->doc);
	json_object_put(v->cases);
	json_object_put(v->body);
	free(v);
}

enum store_rc render_submission_row(struct store *s, struct store_query *row, json_object **out)
{
	struct store_query *q = store_query(s, STMT_SUBMISSION_CASES);
	store_bind_str(q, 1, store_column_text(row, SUBMISSION_ID, NULL));
	struct submission_view *v = submission_view_new(row);
	enum store_rc rc;
	while ((rc = store_step(q)) == STORE_ROW)
		submission_view_add_case(v, q);
	store_reset(q);
	if (rc == STORE_DONE)
		*out = submission_view_render(v);
	submission_view_free(v);
	return rc;
}

enum store_rc render_submission_get(struct store *s, const char *id, json_object **out)
{
	struct store_query *q = store_query(s, STMT_SUBMISSION_GET);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		enum store_rc cases = render_submission_row(s, q, out);
		rc = cases == STORE_DONE ? STORE_ROW : cases;
	}
	store_reset(q);
	return rc;
}

json_object *render_submission_accepted(const char *id, const char *session_id, const char *suite_id,
					int64_t version, int ncases, int64_t queued_at)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "submission_id", json_object_new_string(id));
	json_object_object_add(o, "session_id", json_object_new_string(session_id));
	json_object_object_add(o, "suite_id", json_object_new_string(suite_id));
	json_object_object_add(o, "suite_version", json_object_new_int64(version));
	json_object_object_add(o, "status", json_object_new_string("QUEUED"));
	json_object_object_add(o, "total", json_object_new_int(ncases));
	json_object_object_add(o, "queued_at", time_json(queued_at));
	return o;
}
