/*
 * What a connection sends, per mode. A stream (SSE or WebSocket) starts
 * "behind": it reads the store from Last-Event-ID on, then follows the
 * live events in order. Whenever it cannot (a gap in the event ids, its
 * client too slow to take more than OUT_MAX) it drops what arrives live
 * and catches up from the store again: the runner stores every event
 * within EVENT_BATCH_MS of publishing it. The terminal state always comes
 * from the store, so a runner that died (RUNNER_LOST, or a retry) ends or
 * continues the stream by the periodic state check, never hangs it.
 */
#include "events.h"

#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "artifact.h"
#include "log.h"
#include "ownership.h"
#include "render.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define ATTEMPT_OF(id) ((int)((id) >> 32))
#define N_OF(id) ((id) & 0xffffffffLL)

/* When a stream (or long-poll) next looks at the store, spread out. */
static int64_t state_check_at(int64_t now)
{
	return now + STATE_POLL_MS + rand() % STATE_POLL_JITTER_MS;
}

/* When c next looks at the store; the loop wakes for it (events_wake_at). */
static void check_at(struct events *ev, struct conn *c, int64_t at)
{
	c->next_check = at;
	events_wake_at(ev, at);
}

/* The stream missed events: it reads the store again after RESYNC_MS. */
static void fall_behind(struct events *ev, struct conn *c)
{
	c->behind = true;
	check_at(ev, c, mono_ms() + RESYNC_MS);
}

static bool terminal(const char *status)
{
	return status && strcmp(status, "QUEUED") != 0 && strcmp(status, "RUNNING") != 0;
}

/* Frames one event for the connection's protocol. Returns false if it does not fit (yet). */
static bool queue_event(struct conn *c, int64_t id, const char *kind, json_object *data, bool force)
{
	const char *json = json_object_to_json_string_ext(data, JSON_FLAGS);
	bool ok;

	if (c->mode == MODE_WS) {
		json_object *msg = json_object_new_object();
		json_object_object_add(msg, "event", json_object_new_string(kind));
		json_object_object_add(msg, "id", json_object_new_int64(id));
		json_object_object_add(msg, "data", json_object_get(data));
		const char *text = json_object_to_json_string_ext(msg, JSON_FLAGS);
		ok = ws_queue_frame(c, 1, text, strlen(text), force);
		json_object_put(msg);
	} else {
		char head[96];
		int n = snprintf(head, sizeof head, "id: %" PRId64 "\nevent: %s\ndata: ", id, kind);
		size_t len = strlen(json);
		char *frame = malloc((size_t)n + len + 2);
		if (!frame)
			return false;
		memcpy(frame, head, (size_t)n);
		memcpy(frame + n, json, len);
		memcpy(frame + n + len, "\n\n", 2);
		ok = conn_queue(c, frame, (size_t)n + len + 2, force);
		free(frame);
	}
	return ok;
}

/* A status, output or artifact event; force: the first of a catch-up always goes. */
static bool send_event(struct events *ev, struct conn *c, int64_t id, int attempt, const char *kind,
		       int64_t offset, const char *data, size_t len, bool force)
{
	json_object *o = json_object_new_object();
	json_object *artifact;
	if (strcmp(kind, "status") == 0) {
		json_object_object_add(o, "status", json_object_new_string_len(data, (int)len));
	} else if (strcmp(kind, "artifact") == 0 && (artifact = json_tokener_parse(data))) {
		/* {"path", "size", "content_type"}, as the execution lists it */
		json_object_object_foreach(artifact, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_put(artifact);
	} else {
		json_object_object_add(o, "data", json_object_new_string_len(data, (int)len));
		json_object_object_add(o, "offset", json_object_new_int64(offset));
	}
	json_object_object_add(o, "attempt", json_object_new_int(attempt));
	bool ok = queue_event(c, id, kind, o, force);
	json_object_put(o);
	if (ok) {
		c->last_id = id;
		c->next_keepalive = mono_ms() + ev->cfg.events_keepalive_ms;
	}
	return ok;
}

/* The execution as GET /executions/{id} answers it; NULL if gone or the store failed. */
static json_object *execution_object(struct events *ev, const char *id)
{
	struct store_query *q = store_query(ev->store, STMT_EXECUTION_GET);
	store_bind_str(q, 1, id);
	json_object *o = store_step(q) == STORE_ROW ? render_execution(q) : NULL;
	store_reset(q);
	if (o && artifacts_add(ev->store, id, o) < 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* Status and attempt of the execution. Returns 1, 0 if there is none, -1 on a store error. */
static int execution_state(struct events *ev, const char *id, char status[16], int *attempt)
{
	struct store_query *q = store_query(ev->store, STMT_EXECUTION_STATE);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		snprintf(status, 16, "%s", store_column_text(q, EXECUTION_STATE_STATUS, NULL));
		*attempt = (int)store_column_int64(q, EXECUTION_STATE_ATTEMPT);
	}
	store_reset(q);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

static void send_done(struct events *ev, struct conn *c)
{
	json_object *o = execution_object(ev, c->execution_id);
	if (!o)
		return;
	queue_event(c, c->last_id + 1, "done", o, true);
	json_object_put(o);
	/* A WebSocket ends with a close frame: 1000, normal closure. */
	if (c->mode == MODE_WS)
		ws_queue_frame(c, 8, "\x03\xe8", 2, true);
	c->done = true;
}

/* Sends stored events after last_id while they fit. Returns true if all were sent. */
static bool replay_stored(struct events *ev, struct conn *c)
{
	for (;;) {
		struct store_query *q = store_query(ev->store, STMT_EVENTS_AFTER);
		store_bind_str(q, 1, c->execution_id);
		store_bind_int64(q, 2, c->last_id);
		store_bind_int64(q, 3, CATCHUP_ROWS);
		int rows = 0;
		enum store_rc rc;
		while ((rc = store_step(q)) == STORE_ROW) {
			size_t len;
			const char *kind = store_column_text(q, EVENT_KIND, NULL);
			const char *data = store_column_text(q, EVENT_DATA, &len);
			bool first = c->out_len == c->out_off;
			if (!send_event(ev, c, store_column_int64(q, EVENT_ID), (int)store_column_int64(q, EVENT_ATTEMPT),
					kind ? kind : "status", store_column_int64(q, EVENT_OFFSET), data ? data : "",
					data ? len : 0, first)) {
				store_reset(q);
				return false;
			}
			rows++;
		}
		store_reset(q);
		if (rc != STORE_DONE) {
			log_warn("events of %s: %s", c->execution_id, store_errmsg(ev->store));
			return false;
		}
		if (rows < CATCHUP_ROWS)
			return true;
	}
}

/*
 * Reads the store up to now: stored events, then done if the execution
 * ended. An event the runner published before this stream was listening
 * (or while it was behind) and stored only after this replay would
 * otherwise wait for the next live event -- for ever, if the program is
 * blocked on input after its prompt. The runner stores every event within
 * EVENT_BATCH_MS, so one more replay SETTLE_MS later picks it up; the
 * periodic state check replays too, as a bound for a slow store.
 */
static void catch_up(struct events *ev, struct conn *c, bool settle)
{
	char status[16];
	int attempt;
	int64_t now = mono_ms();

	c->next_check = state_check_at(now);
	if (c->done)
		return;
	/* Every execution starts QUEUED: its first event, attempt 0. */
	if (c->last_id < 1 && !send_event(ev, c, 1, 0, "status", 0, "QUEUED", 6, true))
		return;
	/* The state first: events stored before a terminal state are all stored. */
	/* Another learner's execution is as unknown as one that does not exist. */
	int visible = ownership_visible(ev->store, OWNED_EXECUTION, c->execution_id, &c->who);
	int found = visible <= 0 ? visible : execution_state(ev, c->execution_id, status, &attempt);
	if (!replay_stored(ev, c)) {
		fall_behind(ev, c);
		return;
	}
	c->behind = false;
	if (found == 1 && terminal(status)) {
		send_done(ev, c);
	} else if (settle) {
		check_at(ev, c, now + SETTLE_MS);
	}
}

static bool parse_last_event_id(const char *s, int64_t *out)
{
	int64_t v = 0;
	if (!*s) {
		*out = 0;
		return true;
	}
	for (int i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* wait_ms from the query: -1 if absent or not an integer 0..WAIT_MS_MAX, or given twice. */
int parse_wait_ms(const char *query)
{
	int found = -1, seen = 0;
	for (const char *p = query; *p; ) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > 8 && strncmp(p, "wait_ms=", 8) == 0) {
			long v = 0;
			size_t i;
			for (i = 8; i < len && i < 14 && p[i] >= '0' && p[i] <= '9'; i++)
				v = v * 10 + (p[i] - '0');
			found = i == len && v <= WAIT_MS_MAX ? (int)v : -2;
			seen++;
		} else if (len >= 7 && strncmp(p, "wait_ms", 7) == 0 && (len == 7 || p[7] == '=')) {
			found = -2;
			seen++;
		}
		p += len + (amp ? 1 : 0);
	}
	return seen == 1 && found >= 0 ? found : -1;
}

/* The long-poll's answer: the execution as it is now. */
static void answer_wait(struct events *ev, struct conn *c)
{
	json_object *o = execution_object(ev, c->execution_id);
	if (!o) {
		reply_error(ev, c, 503, "STORE_UNAVAILABLE", NULL, "the store did not answer");
		return;
	}
	reply_json(ev, c, 200, json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
}

/* A long-poll looks at the store periodically, and answers at wait_until at the latest. */
static void wait_check_at(struct events *ev, struct conn *c, int64_t now)
{
	int64_t at = state_check_at(now);
	check_at(ev, c, at < c->wait_until ? at : c->wait_until);
}

static void check_wait(struct events *ev, struct conn *c, int64_t now)
{
	char status[16];
	int attempt;
	if (now >= c->wait_until || execution_state(ev, c->execution_id, status, &attempt) != 1 ||
	    terminal(status))
		answer_wait(ev, c);
	else
		wait_check_at(ev, c, now);
}

static void start_stream(struct events *ev, struct conn *c, const struct request *req, bool ws)
{
	char head[1024];
	int n;

	if (ws) {
		char accept[29];
		ws_accept_key(req->ws_key, accept);
		n = snprintf(head, sizeof head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	} else {
		n = sse_head(ev, c, head, sizeof head);
	}
	conn_queue(c, head, (size_t)n, true);
	c->mode = ws ? MODE_WS : MODE_SSE;
	c->next_keepalive = mono_ms() + ev->cfg.events_keepalive_ms;
	events_watch(ev, c);
	catch_up(ev, c, true);
}

/*
 * Splits /executions/{id}[/events|/ws]: returns the suffix ("" for the
 * execution itself) or NULL for another path; *id_ok says whether {id} is
 * a UUID (copied into id).
 */
static const char *execution_path(const char *path, char id[UUID_LEN + 1], bool *id_ok)
{
	static const char prefix[] = "/executions/";
	static const char *const suffixes[] = { "", "/events", "/ws" };
	size_t plen = sizeof prefix - 1;
	if (strncmp(path, prefix, plen) != 0)
		return NULL;
	const char *seg = path + plen, *slash = strchr(seg, '/');
	size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
	const char *rest = seg + len;
	*id_ok = len == UUID_LEN && uuid_valid(seg, len);
	if (*id_ok) {
		memcpy(id, seg, UUID_LEN);
		id[UUID_LEN] = '\0';
	}
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (strcmp(rest, suffixes[i]) == 0)
			return rest;
	return NULL;
}

/* Checks the request's token, the same rule as fcgi_app's. Returns false with a 401 queued. */
static bool caller_accept(struct events *ev, struct conn *c, const struct request *req)
{
	const char *why = req->authorization_bad && auth_required(ev->auth)
		? "the Authorization header is sent twice, or longer than a token may be"
		: auth_check(ev->auth, req->authorization[0] ? req->authorization : NULL, time(NULL), &c->who);
	if (why)
		reply_error(ev, c, 401, "UNAUTHORIZED", NULL, why);
	return why == NULL;
}

void stream_start(struct events *ev, struct conn *c, const struct request *req)
{
	char status[16];
	int attempt, wait_ms = -1;
	int64_t last_id = 0;
	bool id_ok;
	if (!caller_accept(ev, c, req))
		return;
	if (submission_request(req->path)) {
		submission_start(ev, c, req);
		return;
	}
	const char *rest = execution_path(req->path, c->execution_id, &id_ok);

	if (!rest) {
		reply_error(ev, c, 404, "NOT_FOUND", NULL, "no such resource");
		return;
	}
	if (!id_ok) {
		reply_error(ev, c, 400, "INVALID_ID", "id", "the execution id in the path is not a UUID");
		return;
	}
	bool ws = strcmp(rest, "/ws") == 0, wait = *rest == '\0';
	if (wait && (wait_ms = parse_wait_ms(req->query)) < 0) {
		reply_error(ev, c, 400, "INVALID_QUERY", "wait_ms", "wait_ms must be an integer from 0 to 30000");
		return;
	}
	/* Another learner's execution is as unknown as one that does not exist. */
	int visible = ownership_visible(ev->store, OWNED_EXECUTION, c->execution_id, &c->who);
	int found = visible <= 0 ? visible : execution_state(ev, c->execution_id, status, &attempt);
	if (found < 0) {
		reply_error(ev, c, 503, "STORE_UNAVAILABLE", NULL, "the store did not answer");
		return;
	}
	if (found == 0) {
		reply_error(ev, c, 404, "NOT_FOUND", NULL, "no execution with this id");
		return;
	}
	if (!wait && !parse_last_event_id(req->last_event_id, &last_id)) {
		reply_error(ev, c, 400, "INVALID_HEADER", "Last-Event-ID",
			    "Last-Event-ID must be the id of an event (a non-negative integer)");
		return;
	}
	if (ws && (!req->upgrade_ws || !req->ws_key[0] || strlen(req->ws_key) > 40)) {
		reply_error(ev, c, 400, "INVALID_HEADER", "Upgrade",
			    "a WebSocket handshake (Upgrade: websocket, Sec-WebSocket-Key) is required");
		return;
	}
	if (wait) {
		c->mode = MODE_WAIT;
		c->wait_until = mono_ms() + wait_ms;
		if (wait_ms == 0 || terminal(status)) {
			answer_wait(ev, c);
			return;
		}
		wait_check_at(ev, c, mono_ms());
		events_watch(ev, c);
		return;
	}
	c->last_id = last_id;
	start_stream(ev, c, req, ws);
}

/*
 * True if id follows last without a gap: the next of the attempt, or the
 * first of a later one -- event 0 (the QUEUED the sweep stores when it
 * requeues), or for attempt 1 event 1 (its RUNNING follows the QUEUED every
 * execution starts with). A retry's RUNNING seen before its QUEUED is a gap:
 * the stream reads the store, which has the QUEUED since the requeue.
 */
static bool follows(int64_t last, int64_t id)
{
	if (id == last + 1)
		return true;
	return ATTEMPT_OF(id) > ATTEMPT_OF(last) && (N_OF(id) == 0 || (N_OF(id) == 1 && ATTEMPT_OF(id) == 1));
}

void stream_live(struct events *ev, struct conn *c, const struct event_msg *m)
{
	if (c->done || c->mode == MODE_REQUEST || c->mode == MODE_CLOSING)
		return;
	if (c->submission) {
		/* One of its cases started or ended (main.c routed it here). */
		submission_refresh(ev, c, mono_ms(), m->kind == EVENT_DONE);
		return;
	}
	if (c->mode == MODE_WAIT) {
		if (m->kind == EVENT_DONE)
			check_wait(ev, c, mono_ms());
		return;
	}
	if (m->kind == EVENT_DONE) {
		catch_up(ev, c, false);
		return;
	}
	if (c->behind || m->event_id <= c->last_id)
		return;
	/* A gap: what was missed (published before this stream listened, a
	 * retry's QUEUED) is most often stored by now; read it at once rather
	 * than RESYNC_MS later, then this event may follow it. */
	if (!follows(c->last_id, m->event_id) && !replay_stored(ev, c)) {
		fall_behind(ev, c);
		return;
	}
	if (m->event_id <= c->last_id)
		return;
	if (!follows(c->last_id, m->event_id) ||
	    !send_event(ev, c, m->event_id, m->attempt, event_kind_name(m->kind), m->offset, m->data, m->len,
			false))
		fall_behind(ev, c);
}

static void keepalive(struct events *ev, struct conn *c, int64_t now)
{
	if (c->mode == MODE_WS)
		ws_queue_frame(c, 9, "", 0, false);
	else
		conn_queue(c, ": keepalive\n\n", 13, false);
	c->next_keepalive = now + ev->cfg.events_keepalive_ms;
}

void stream_tick(struct events *ev, struct conn *c, int64_t now)
{
	if (c->done || c->mode == MODE_REQUEST || c->mode == MODE_CLOSING)
		return;
	if (c->submission) {
		submission_tick(ev, c, now);
		return;
	}
	if (c->mode == MODE_WAIT) {
		if (now >= c->next_check)
			check_wait(ev, c, now);
		return;
	}
	if (now >= c->next_check) {
		/* A behind stream whose client has not taken what it has
		 * waits for it; one that is not behind looks at the store
		 * (stored events not sent yet, a new attempt, the end). */
		if (c->behind && c->out_len == c->out_off)
			catch_up(ev, c, true);
		else if (!c->behind)
			catch_up(ev, c, false);
	}
	if (!c->done && now >= c->next_keepalive)
		keepalive(ev, c, now);
}
