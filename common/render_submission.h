/*
 * A submission as the learner sees it: its status and verdict derived from
 * its cases' rows, and each case with its verdict and time; a hidden
 * case's stdin, expected output and the program's output are never put in
 * the document (they are not even read into it).
 */
#ifndef ENGINE_RENDER_SUBMISSION_H
#define ENGINE_RENDER_SUBMISSION_H

#include <stdint.h>
#include <json.h>

#include "store.h"

struct submission_view;

/* A view of the current row of q (SUBMISSION_COLUMNS); NULL-safe to free. */
struct submission_view *submission_view_new(struct store_query *q);
/* Adds the current row of q (CASE_RESULT_COLUMNS), in case order. */
void submission_view_add_case(struct submission_view *v, struct store_query *q);
/* The document: {"submission_id", ..., "status", "verdict", "passed", "total", "score", "cases"}. */
json_object *submission_view_render(struct submission_view *v);
void submission_view_free(struct submission_view *v);

/*
 * The submission of the current row of row (SUBMISSION_COLUMNS) with its
 * cases read and rendered into *out. Returns STORE_DONE, or the failing rc.
 */
enum store_rc render_submission_row(struct store *s, struct store_query *row, json_object **out);

/* Submission id, rendered: STORE_ROW (*out set), STORE_DONE (no such submission), or a store error. */
enum store_rc render_submission_get(struct store *s, const char *id, json_object **out);

/* The 202 reply of a submit. */
json_object *render_submission_accepted(const char *id, const char *session_id, const char *suite_id,
					int64_t version, int ncases, int64_t queued_at);


#endif
