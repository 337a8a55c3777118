#include "event_sink.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "runner_endpoint.h"

void *event_pub_open(void *zctx, const struct config *cfg)
{
	char endpoint[CONFIG_PATH_MAX + 32];
	int hwm = 10000, linger = 0;
	void *pub = zctx ? zmq_socket(zctx, ZMQ_PUB) : NULL;

	if (!pub)
		return NULL;
	zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
	if (events_endpoint(cfg, endpoint, sizeof endpoint) < 0 || zmq_connect(pub, endpoint) != 0) {
		zmq_close(pub);
		return NULL;
	}
	return pub;
}

void event_publish(void *pub, const struct event_msg *ev)
{
	char head[160];

	if (!pub)
		return;
	int hlen = event_msg_header(ev, head, sizeof head);
	zmq_msg_t msg;
	if (hlen < 0 || zmq_msg_init_size(&msg, (size_t)hlen + ev->len) != 0)
		return;
	memcpy(zmq_msg_data(&msg), head, (size_t)hlen);
	if (ev->len)
		memcpy((char *)zmq_msg_data(&msg) + hlen, ev->data, ev->len);
	if (zmq_msg_send(&msg, pub, ZMQ_DONTWAIT) < 0)
		zmq_msg_close(&msg);
}

/* Sends one event of the sink's attempt to the events program. */
static void publish(struct event_sink *s, enum event_kind kind, int64_t event_id, int64_t offset,
		    const char *data, size_t len)
{
	struct event_msg ev = { .event_id = event_id, .attempt = s->attempt, .kind = kind, .offset = offset,
				.data = data, .len = len };

	memcpy(ev.execution_id, s->execution_id, sizeof ev.execution_id);
	event_publish(s->pub, &ev);
}

/* Publishes an event and queues it for the store (data is taken). */
static void emit(struct event_sink *s, enum event_kind kind, int64_t offset, char *data, size_t len)
{
	if (s->npending == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct pending_event *p = realloc(s->pending, cap * sizeof *p);
		if (!p) {
			free(data);
			return;
		}
		s->pending = p;
		s->cap = cap;
	}
	int64_t id = EVENT_ID(s->attempt, ++s->n);
	publish(s, kind, id, offset, data, len);
	s->pending[s->npending++] = (struct pending_event){ id, kind, offset, data, len };
	s->pending_bytes += len;
	if (s->flush_at == INT64_MAX)
		s->flush_at = mono_ms() + EVENT_BATCH_MS;
	if (s->pending_bytes >= EVENT_BATCH_BYTES)
		s->flush_at = 0;
}

static void drop_pending(struct event_sink *s)
{
	for (size_t i = 0; i < s->npending; i++)
		free(s->pending[i].data);
	s->npending = 0;
	s->pending_bytes = 0;
	s->flush_at = INT64_MAX;
}

int event_sink_write(struct event_sink *s)
{
	bool ok = true;

	for (size_t i = 0; i < s->npending && ok; i++) {
		const struct pending_event *e = &s->pending[i];
		struct store_query *q = store_query(s->store, STMT_EVENT_INSERT);
		store_bind_str(q, 1, s->execution_id);
		store_bind_int64(q, 2, e->event_id);
		store_bind_int64(q, 3, s->attempt);
		store_bind_str(q, 4, event_kind_name(e->kind));
		store_bind_int64(q, 5, e->offset);
		store_bind_text(q, 6, e->data, e->len);
		store_bind_str(q, 7, s->runner_id);
		ok = store_step(q) == STORE_DONE;
		store_reset(q);
	}
	return ok ? 0 : -1;
}

/* One transaction for the batch. A failure drops it: the result still
 * carries all output, only the replay of a running execution misses it. */
static void flush(struct event_sink *s)
{
	if (!s->npending)
		return;
	if (store_begin_fenced(s->store) < 0) {
		log_warn("execution %s: events not stored: %s", s->execution_id, store_errmsg(s->store));
		drop_pending(s);
		return;
	}
	/* Events programs on other hosts hear of the batch. */
	if (event_sink_write(s) < 0 ||
	    store_commit_notify(s->store, STORE_CHANNEL_EVENTS, s->execution_id) < 0) {
		log_warn("execution %s: events not stored: %s", s->execution_id, store_errmsg(s->store));
		store_rollback(s->store);
	}
	drop_pending(s);
}

void event_sink_begin(struct event_sink *s, void *pub, struct store *store, const char *runner_id,
		      const char *execution_id, int attempt)
{
	memset(s, 0, sizeof *s);
	s->pub = pub;
	s->store = store;
	s->runner_id = runner_id;
	memcpy(s->execution_id, execution_id, UUID_LEN);
	s->attempt = attempt;
	s->flush_at = INT64_MAX;
	char *running = strdup("RUNNING");
	if (running)
		emit(s, EVENT_STATUS, 0, running, strlen(running));
}

/* Length of the UTF-8 sequence a lead byte starts (1 for anything else). */
static size_t seq_len(unsigned char c)
{
	return c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
}

/* How many bytes at the end of buf are a sequence not yet complete. */
static size_t incomplete_tail(const unsigned char *buf, size_t len)
{
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = buf[len - back];
		if ((c & 0xC0) != 0x80)
			return seq_len(c) > back && c >= 0xC2 ? back : 0;
	}
	return 0;
}

/* Emits raw bytes (held bytes first) as one chunk of valid UTF-8. */
static void emit_chunk(struct event_sink *s, int stream, const unsigned char *raw, size_t len)
{
	char *text = malloc(3 * len + 1);
	if (!text)
		return;
	size_t tlen = utf8_sanitize((const char *)raw, len, text);
	emit(s, stream ? EVENT_STDERR : EVENT_STDOUT, s->offset[stream], text, tlen);
	s->offset[stream] += (int64_t)len;
}

void event_sink_output(struct event_sink *s, int stream, const char *p, size_t n)
{
	if (!s || n == 0 || stream < 0 || stream > 1)
		return;
	size_t held = s->hold_len[stream], len = held + n;
	unsigned char *raw = malloc(len);
	if (!raw)
		return;
	memcpy(raw, s->hold[stream], held);
	memcpy(raw + held, p, n);
	size_t tail = incomplete_tail(raw, len), at = 0;
	while (at < len - tail) {
		size_t end = len - tail;
		if (end - at > EVENT_CHUNK_BYTES) {
			end = at + EVENT_CHUNK_BYTES;
			/* Back off to the start of a character (at most 3 bytes). */
			for (int i = 0; i < 3 && (raw[end] & 0xC0) == 0x80; i++)
				end--;
		}
		emit_chunk(s, stream, raw + at, end - at);
		at = end;
	}
	memcpy(s->hold[stream], raw + len - tail, tail);
	s->hold_len[stream] = tail;
	free(raw);
}

int64_t event_sink_due(const struct event_sink *s)
{
	return s ? s->flush_at : INT64_MAX;
}

void event_sink_tick(struct event_sink *s)
{
	if (s && mono_ms() >= s->flush_at)
		flush(s);
}

void event_sink_artifact(struct event_sink *s, const char *path, size_t size, const char *content_type)
{
	if (!s)
		return;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "content_type", json_object_new_string(content_type));
	size_t len;
	const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
							     &len);
	char *data = strndup(text, len);
	if (data)
		emit(s, EVENT_ARTIFACT, 0, data, len);
	json_object_put(o);
}

void event_sink_end(struct event_sink *s)
{
	for (int stream = 0; stream < 2; stream++) {
		if (s->hold_len[stream])
			emit_chunk(s, stream, s->hold[stream], s->hold_len[stream]);
		s->hold_len[stream] = 0;
	}
	s->flush_at = INT64_MAX;
}

void event_sink_done(struct event_sink *s)
{
	publish(s, EVENT_DONE, EVENT_ID(s->attempt, s->n + 1), 0, "", 0);
	drop_pending(s);
	free(s->pending);
	s->pending = NULL;
	s->cap = 0;
}
