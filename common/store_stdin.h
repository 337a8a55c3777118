/*
 * Input sent to an interactive execution's stdin, through the store: the
 * one way in for POST /executions/{id}/stdin (fcgi_app) and for the
 * WebSocket's {"stdin"} and {"eof"} messages (the events program). The
 * runner slot running the execution reads the rows in order and writes
 * them to the program (runner/claims.c).
 */
#ifndef ENGINE_STORE_STDIN_H
#define ENGINE_STORE_STDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum stdin_send_rc {
	STDIN_SENT,             /* committed; the runner will write it */
	STDIN_NO_EXECUTION,     /* no execution with this id */
	STDIN_NOT_OPEN,         /* not interactive, finished, or eof was sent already */
	STDIN_OVER_LIMIT,       /* all input sent would pass max_bytes: nothing written */
	STDIN_STORE_ERROR,      /* nothing written; store_errmsg says why */
};

/*
 * Appends len bytes of data (UTF-8, may be 0) and, if eof, the end of
 * input to the stdin of execution_id, which must be interactive and
 * QUEUED or RUNNING (what is sent to a QUEUED one waits for its start).
 * max_bytes bounds the Run's stdin and everything sent, together. One
 * IMMEDIATE transaction: two senders cannot both slip under the limit, and
 * their sends keep the order of their commits.
 */
enum stdin_send_rc store_stdin_send(struct store *s, const char *execution_id, const char *data,
				    size_t len, bool eof, int64_t max_bytes);

#endif
