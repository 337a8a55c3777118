/* Sending input to an interactive execution (store_stdin.h). */
#include "store_stdin.h"

#include <string.h>

/* Inside the transaction: checks the execution and appends one row. */
static enum stdin_send_rc send_locked(struct store *s, const char *id, const char *data, size_t len,
				      bool eof, int64_t max_bytes)
{
	struct store_query *q = store_query(s, STMT_STDIN_STATE);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	if (rc != STORE_ROW) {
		store_reset(q);
		return rc == STORE_DONE ? STDIN_NO_EXECUTION : STDIN_STORE_ERROR;
	}
	const char *status = store_column_text(q, STDIN_STATE_STATUS, NULL);
	bool open = store_column_int64(q, STDIN_STATE_INTERACTIVE) && !store_column_int64(q, STDIN_STATE_CLOSED) &&
		    status && (strcmp(status, "QUEUED") == 0 || strcmp(status, "RUNNING") == 0);
	int64_t sent = store_column_int64(q, STDIN_STATE_SENT);
	int64_t seq = store_column_int64(q, STDIN_STATE_LAST_SEQ) + 1;
	store_reset(q);
	if (!open)
		return STDIN_NOT_OPEN;
	if (sent + (int64_t)len > max_bytes)
		return STDIN_OVER_LIMIT;
	q = store_query(s, STMT_STDIN_INSERT);
	store_bind_str(q, 1, id);
	store_bind_int64(q, 2, seq);
	store_bind_text(q, 3, data ? data : "", len);
	store_bind_int64(q, 4, (int64_t)len);
	store_bind_int64(q, 5, eof);
	rc = store_step(q);
	store_reset(q);
	return rc == STORE_DONE ? STDIN_SENT : STDIN_STORE_ERROR;
}

enum stdin_send_rc store_stdin_send(struct store *s, const char *execution_id, const char *data,
				    size_t len, bool eof, int64_t max_bytes)
{
	if (store_begin(s))
		return STDIN_STORE_ERROR;
	enum stdin_send_rc rc = send_locked(s, execution_id, data, len, eof, max_bytes);
	if (rc == STDIN_SENT && store_commit(s))
		rc = STDIN_STORE_ERROR;
	if (rc != STDIN_SENT)
		store_rollback(s);
	return rc;
}
