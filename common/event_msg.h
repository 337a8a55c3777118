/*
 * A live event as the runner publishes it over ZeroMQ to the events
 * program: one frame, a text header line then the data bytes.
 *
 *   "ev1 <execution id> <event id> <attempt> <kind> <offset>\n<data>"
 *
 * Kinds: status (data: the status name), stdout and stderr (data: the
 * chunk, UTF-8; offset: its byte offset in the stream), artifact (data:
 * {"path", "size", "content_type"} of a file the run left in out/, sent as
 * the run ends, before its final status), done (no data: the result is in
 * the store now). The store holds the same events (but done)
 * for replay, so a lost message costs only latency.
 */
#ifndef ENGINE_EVENT_MSG_H
#define ENGINE_EVENT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum event_kind { EVENT_STATUS, EVENT_STDOUT, EVENT_STDERR, EVENT_DONE, EVENT_ARTIFACT, EVENT__KINDS };

/* The id of the n-th event (from 1) of an attempt: ids increase across attempts. */
#define EVENT_ID(attempt, n) (((int64_t)(attempt) << 32) | (int64_t)(n))

struct event_msg {
	char execution_id[UUID_LEN + 1];
	int64_t event_id;
	int attempt;
	enum event_kind kind;
	int64_t offset;
	const char *data;               /* borrowed from the message */
	size_t len;
};

/* The kind's name as the API and the store spell it; kind_parse is its inverse (-1: unknown). */
const char *event_kind_name(enum event_kind kind);
int event_kind_parse(const char *name, size_t len);

/* The header of ev (its data follows it in the frame) into out. Returns its length, or -1. */
int event_msg_header(const struct event_msg *ev, char *out, size_t outlen);

/* Parses a received frame. Returns 0, or -1 if it is not a well-formed event. */
int event_msg_decode(const void *frame, size_t len, struct event_msg *ev);

#endif
