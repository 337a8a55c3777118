/*
 * The live views of a submission, for a learner watching it be judged:
 *   GET /submissions/{id}?wait_ms=N   long-poll: answers as soon as it is
 *                                     COMPLETED or FAILED, or after N ms
 *   GET /submissions/{id}/events      Server-Sent Events: status, case, done
 * Both show exactly what GET /submissions/{id} shows (render_submission.c
 * never puts a hidden case's stdin, expected output or output in it).
 *
 * The store is the only source. When a runner (or the sweep) publishes a
 * case's status (it started, or waits for a retry) or its done, the
 * watchers of its submission read it again; after a done once more
 * SETTLE_MS later, since the cases a failure skips are written just after
 * its done goes out. Every STATE_POLL_MS they read it anyway, so a lost
 * message costs only latency. An event stream has no ids: a client that
 * reconnects gets every judged case again (cases carry their index).
 */
#include "events.h"
#include "ownership.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render_submission.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char prefix[] = "/submissions/";

/* A case's verdict as a small code for the per-stream record of what was sent (0: none yet). */
static unsigned char verdict_code(const char *verdict)
{
	static const char *const names[] = { "ACCEPTED", "WRONG_ANSWER", "RUNTIME_ERROR", "TIME_LIMIT",
					     "MEMORY_LIMIT", "COMPILE_ERROR", "SKIPPED" };
	if (!verdict)
		return 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(verdict, names[i]) == 0)
			return (unsigned char)(i + 1);
	return 255;
}

static const char *status_of(json_object *doc)
{
	return json_object_get_string(json_object_object_get(doc, "status"));
}

static bool terminal(const char *status)
{
	return status && (strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0);
}

static int64_t poll_at(int64_t now)
{
	return now + STATE_POLL_MS + rand() % STATE_POLL_JITTER_MS;
}

bool submission_request(const char *path)
{
	return strncmp(path, prefix, sizeof prefix - 1) == 0;
}

int submission_of_case(struct events *ev, const char *case_id, char out[UUID_LEN + 1])
{
	struct store_query *q = store_query(ev->store, STMT_CASE_SUBMISSION);
	store_bind_str(q, 1, case_id);
	enum store_rc rc = store_step(q);
	const char *id = rc == STORE_ROW ? store_column_text(q, 0, NULL) : NULL;
	int found = id && strlen(id) == UUID_LEN;
	if (found)
		memcpy(out, id, UUID_LEN + 1);
	store_reset(q);
	return found ? 1 : rc == STORE_ROW || rc == STORE_DONE ? 0 : -1;
}

/* One Server-Sent Event; forced: the stream only writes when its client took what it had. */
static void send_event(struct conn *c, const char *kind, json_object *data)
{
	const char *json = json_object_to_json_string_ext(data, JSON_FLAGS);
	char head[48];
	int n = snprintf(head, sizeof head, "event: %s\ndata: ", kind);
	conn_queue(c, head, (size_t)n, true);
	conn_queue(c, json, strlen(json), true);
	conn_queue(c, "\n\n", 2, true);
}

static void send_status(struct conn *c, const char *status)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	send_event(c, "status", o);
	json_object_put(o);
	snprintf(c->sent_status, sizeof c->sent_status, "%s", status);
}

/* A case event for each case whose verdict is not the one last sent (a skip can change one). */
static void send_cases(struct conn *c, json_object *doc)
{
	json_object *cases = json_object_object_get(doc, "cases");
	size_t n = json_object_array_length(cases);
	if (!c->sent) {
		c->sent = calloc(n ? n : 1, 1);
		c->nsent = c->sent ? n : 0;
	}
	for (size_t i = 0; i < n && i < c->nsent; i++) {
		json_object *one = json_object_array_get_idx(cases, i);
		unsigned char code = verdict_code(json_object_get_string(json_object_object_get(one, "verdict")));
		if (code == c->sent[i])
			continue;
		json_object_object_add(one, "index", json_object_new_int((int)i));
		send_event(c, "case", one);
		json_object_object_del(one, "index");  /* the done event shows cases as GET does */
		c->sent[i] = code;
	}
}

/* The stream's events for the submission as it is now; the done event ends it. */
static void stream_update(struct conn *c, json_object *doc)
{
	const char *status = status_of(doc);
	if (!terminal(status) && status && strcmp(status, c->sent_status) != 0)
		send_status(c, status);
	send_cases(c, doc);
	if (terminal(status)) {
		send_event(c, "done", doc);
		c->done = true;
	}
}

void submission_refresh(struct events *ev, struct conn *c, int64_t now, bool settle)
{
	json_object *doc = NULL;

	if (c->done)
		return;
	if (c->mode == MODE_SSE && c->out_len != c->out_off) {
		/* Its client has not taken the last events yet: nothing is lost by waiting. */
		c->next_check = now + RESYNC_MS;
		return;
	}
	enum store_rc rc = render_submission_get(ev->store, c->execution_id, &doc);
	if (rc != STORE_ROW) {
		log_warn("submission %s: %s", c->execution_id, rc == STORE_DONE ? "gone" : store_errmsg(ev->store));
		if (c->mode == MODE_WAIT)
			reply_error(ev, c, 503, "STORE_UNAVAILABLE", NULL, "the store did not answer");
		c->next_check = now + RESYNC_MS;
		return;
	}
	if (c->mode == MODE_SSE)
		stream_update(c, doc);
	else if (terminal(status_of(doc)) || now >= c->wait_until)
		reply_json(ev, c, 200, json_object_to_json_string_ext(doc, JSON_FLAGS));
	json_object_put(doc);
	c->next_check = settle ? now + SETTLE_MS : poll_at(now);
	if (c->mode == MODE_WAIT && c->next_check > c->wait_until)
		c->next_check = c->wait_until;
}

void submission_tick(struct events *ev, struct conn *c, int64_t now)
{
	if (c->done || (c->mode != MODE_SSE && c->mode != MODE_WAIT))
		return;
	if (now >= c->next_check)
		submission_refresh(ev, c, now, false);
	if (!c->done && c->mode == MODE_SSE && now >= c->next_keepalive) {
		conn_queue(c, ": keepalive\n\n", 13, false);
		c->next_keepalive = now + ev->cfg.events_keepalive_ms;
	}
}

/* {id} of /submissions/{id}[/events] into c->execution_id: the suffix, or NULL for another path. */
static const char *parse_path(const char *path, struct conn *c, bool *id_ok)
{
	const char *seg = path + sizeof prefix - 1, *slash = strchr(seg, '/');
	size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
	const char *rest = seg + len;
	*id_ok = len == UUID_LEN && uuid_valid(seg, len);
	if (*id_ok) {
		memcpy(c->execution_id, seg, UUID_LEN);
		c->execution_id[UUID_LEN] = '\0';
	}
	return strcmp(rest, "") == 0 || strcmp(rest, "/events") == 0 ? rest : NULL;
}

/* Whether the submission exists and is the caller's to see; replies the error and returns false if not (or no store). */
static bool submission_exists(struct events *ev, struct conn *c)
{
	json_object *doc = NULL;
	int visible = ownership_visible(ev->store, OWNED_SUBMISSION, c->execution_id, &c->who);
	enum store_rc rc = visible < 0 ? STORE_ERROR : visible == 0 ? STORE_DONE
		: render_submission_get(ev->store, c->execution_id, &doc);
	json_object_put(doc);
	if (rc == STORE_DONE)
		reply_error(ev, c, 404, "NOT_FOUND", NULL, "no submission with this id");
	else if (rc != STORE_ROW)
		reply_error(ev, c, 503, "STORE_UNAVAILABLE", NULL, "the store did not answer");
	return rc == STORE_ROW;
}

static void start_events(struct events *ev, struct conn *c)
{
	char head[1024];
	int n = sse_head(ev, c, head, sizeof head);
	conn_queue(c, head, (size_t)n, true);
	c->mode = MODE_SSE;
	c->next_keepalive = mono_ms() + ev->cfg.events_keepalive_ms;
}

void submission_start(struct events *ev, struct conn *c, const struct request *req)
{
	bool id_ok;
	int wait_ms = 0;
	const char *rest = parse_path(req->path, c, &id_ok);

	if (!rest) {
		reply_error(ev, c, 404, "NOT_FOUND", NULL, "no such resource");
		return;
	}
	if (!id_ok) {
		reply_error(ev, c, 400, "INVALID_ID", "id", "the submission id in the path is not a UUID");
		return;
	}
	bool wait = *rest == '\0';
	if (wait && (wait_ms = parse_wait_ms(req->query)) < 0) {
		reply_error(ev, c, 400, "INVALID_QUERY", "wait_ms", "wait_ms must be an integer from 0 to 30000");
		return;
	}
	if (!submission_exists(ev, c))
		return;
	c->submission = true;
	ev->submission_watchers++;
	events_watch(ev, c);
	if (wait) {
		c->mode = MODE_WAIT;
		c->wait_until = mono_ms() + wait_ms;
	} else {
		start_events(ev, c);
	}
	submission_refresh(ev, c, mono_ms(), false);
}

void submission_closed(struct events *ev, struct conn *c)
{
	ev->submission_watchers--;
	free(c->sent);
	c->sent = NULL;
}
