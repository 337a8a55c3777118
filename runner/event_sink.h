/*
 * The live events of one attempt, from the slot running it: status
 * changes and output chunks as the sandbox reads them. Each event is
 * published at once on the slot's ZeroMQ PUB socket (the fast path; a PUB
 * socket drops instead of blocking when the events program is slow or
 * absent) and written to the store in batches (at most every
 * EVENT_BATCH_MS or EVENT_BATCH_BYTES, whichever first), fenced like the
 * result, for replay and resume.
 *
 * Chunks are cut at UTF-8 character boundaries (an incomplete sequence at
 * the end of a read waits for the next read) and invalid bytes become
 * U+FFFD, so every event is valid UTF-8 and its offset is the byte offset
 * of the chunk in what the program wrote.
 */
#ifndef RUNNER_EVENT_SINK_H
#define RUNNER_EVENT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event_msg.h"
#include "store.h"

/* A chunk holds at most EVENT_CHUNK_BYTES of output (a larger read is
 * split), so one event stays small for the events program's buffers. */
enum { EVENT_BATCH_MS = 20, EVENT_BATCH_BYTES = 4096, EVENT_CHUNK_BYTES = 4096 };

struct pending_event {
	int64_t event_id;
	enum event_kind kind;
	int64_t offset;
	char *data;                     /* malloc'd UTF-8 */
	size_t len;
};

struct event_sink {
	void *pub;                      /* the slot's PUB socket; NULL: store only */
	struct store *store;            /* the slot's connection */
	const char *runner_id;
	char execution_id[UUID_LEN + 1];
	int attempt;
	uint32_t n;                     /* events of this attempt so far */
	int64_t offset[2];              /* bytes written so far to stdout, stderr */
	unsigned char hold[2][4];       /* an incomplete UTF-8 sequence per stream */
	size_t hold_len[2];
	struct pending_event *pending;  /* not yet in the store */
	size_t npending, cap, pending_bytes;
	int64_t flush_at;               /* mono_ms; INT64_MAX: nothing pending */
};

/*
 * A PUB socket in zctx to the events program (one per thread: ZeroMQ
 * sockets are not shared). It connects in the background and reconnects
 * by itself; with no events program (or a slow one) messages are dropped,
 * never queued without bound: the store keeps the events for replay. NULL
 * if it cannot be made (events go to the store only).
 */
void *event_pub_open(void *zctx, const struct config *cfg);

/* Sends one event on pub; never blocks (dropped if it cannot go now). NULL-safe on pub. */
void event_publish(void *pub, const struct event_msg *ev);

/* Starts the events of an attempt with its RUNNING status. */
void event_sink_begin(struct event_sink *s, void *pub, struct store *store, const char *runner_id,
		      const char *execution_id, int attempt);

/* Bytes the program wrote to stdout (stream 0) or stderr (stream 1). NULL-safe on s. */
void event_sink_output(struct event_sink *s, int stream, const char *p, size_t n);

/* When the batch is due, in mono_ms (INT64_MAX: nothing pending, or s NULL). */
int64_t event_sink_due(const struct event_sink *s);

/* Writes the batch if it is due. NULL-safe. */
void event_sink_tick(struct event_sink *s);

/* A file the run left in out/, kept as an artifact: path, size and content type. NULL-safe on s. */
void event_sink_artifact(struct event_sink *s, const char *path, size_t size, const char *content_type);

/* Output ended: sends what an incomplete sequence held. The last batch
 * stays pending: the result's transaction writes it (claims_finish), so a
 * short run's events and result are one commit. */
void event_sink_end(struct event_sink *s);

/* Inserts the pending events in the caller's transaction, fenced by the
 * attempt; they stay pending. Returns 0, or -1. */
int event_sink_write(struct event_sink *s);

/* The result is in the store: tells the events program, frees everything. */
void event_sink_done(struct event_sink *s);

#endif
