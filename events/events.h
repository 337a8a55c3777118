/*
 * The events program: one process, one epoll loop, many connections. It
 * serves the live views of an execution that must stay open (the web
 * server proxies them here, so they never hold a FastCGI process):
 *   GET /executions/{id}/events     Server-Sent Events
 *   GET /executions/{id}/ws         the same events over a WebSocket
 *   GET /executions/{id}?wait_ms=N  long-poll for the terminal state
 *   GET /submissions/{id}/events    a submission's verdicts as cases are judged
 *   GET /submissions/{id}?wait_ms=N long-poll for its terminal state
 * Live events arrive from the runners on a ZeroMQ SUB socket; the store is
 * the truth for replay, resume and the terminal state, so a stream that
 * missed a message (a slow client, a restart) catches up from it.
 */
#ifndef EVENTS_EVENTS_H
#define EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "event_msg.h"
#include "store.h"
#include "util.h"

enum {
	REQUEST_MAX = 8192,             /* request line and headers */
	OUT_MAX = 65536,                /* queued bytes of a stream before it drops to resync */
	CATCHUP_ROWS = 64,              /* stored events read per catch-up step */
	STATE_POLL_MS = 2000,           /* a live stream checks the store this often (plus jitter) */
	STATE_POLL_JITTER_MS = 500,     /* spreads the checks of streams opened together */
	RESYNC_MS = 30,                 /* a stream that missed events reads the store after this */
	SETTLE_MS = 100,                /* after a catch-up, read the store once more (stream.c) */
	TICK_MS = 50,                   /* the loop looks at every connection's timers this often */
	WAKE_MIN_MS = 2,                /* and for a timer due sooner (events_wake_at) at most this often */
	NOTES_RETRY_MS = 1000,          /* listening for other hosts' events again after a loss */
	WAIT_MS_MAX = 30000,
};

enum conn_mode { MODE_REQUEST, MODE_SSE, MODE_WS, MODE_WAIT, MODE_CLOSING };

struct conn {
	int fd;
	enum conn_mode mode;
	char *in;                       /* MODE_REQUEST: the request so far; MODE_WS: frames */
	size_t in_len;
	char execution_id[UUID_LEN + 1];
	int64_t last_id;                /* the last event sent */
	bool behind;                    /* missed live events: next_check reads the store */
	bool done;                      /* the final event or reply is queued */
	char *out;                      /* bytes not yet written */
	size_t out_len, out_off, out_cap;
	int64_t next_check;             /* mono_ms: read the store (catch up, terminal?) */
	int64_t next_keepalive;         /* mono_ms: SSE comment / WS ping */
	int64_t wait_until;             /* MODE_WAIT: answer by then */
	struct conn *prev, *next;       /* all connections */
	struct conn *watch_next;        /* connections of the same execution */
	char request_id[65];            /* echoed in X-Request-Id, like fcgi_app does */
	/* A submission's view (submission.c); execution_id holds the submission's id. */
	bool submission;
	unsigned char *sent;            /* MODE_SSE: per case, the verdict last sent (0: none) */
	size_t nsent;
	char sent_status[12];           /* MODE_SSE: the status last sent */
	struct principal who;           /* who opened it (stream_start checked the token) */
	char origin[256];               /* its request's Origin, for the CORS headers of its replies */
};

struct events {
	struct config cfg;
	struct auth *auth;              /* who may watch: the token verifier, or auth = none */
	struct store *store;
	void *zctx, *sub;
	int epfd, listen_fd, zfd;
	struct conn *conns;
	size_t nconns;
	struct conn **watch;            /* hash of execution (or submission) id -> its connections */
	size_t watch_size;
	size_t submission_watchers;     /* connections watching a submission */
	int64_t wake_at;                /* mono_ms: the earliest timer due before the next tick */
	/* Runners on other hosts: their batches and ends, announced through the store */
	struct store *notes;            /* a connection that only listens; NULL: not carried */
	int notes_fd;                   /* -1 while not listening */
	int64_t notes_retry_at;         /* mono_ms: when to listen again after a loss */
};

/* ---- http.c: the request and plain replies ---- */
struct request {
	char path[256];
	char query[256];
	char last_event_id[32];
	char ws_key[64];
	char request_id[65];            /* the client's X-Request-Id if valid, else a new UUID */
	bool upgrade_ws;
	char authorization[AUTH_TOKEN_MAX + 64]; /* the Authorization header, or "" */
	char origin[256];               /* the Origin header (a browser's cross-origin call), or "" */
	bool options;                   /* OPTIONS: a CORS preflight if it names a method */
	bool preflight;                 /* Access-Control-Request-Method was sent */
	bool authorization_bad;         /* sent twice, or too long to hold */
};

/* Parses a request. Returns 1 parsed (GET, or OPTIONS with req->options), 0 incomplete, -1 malformed, -2 another method. */
int request_parse(const char *buf, size_t len, struct request *req);

/* The head of an event stream's 200 (SSE), into out. Returns its length. */
int sse_head(struct events *ev, struct conn *c, char *out, size_t outlen);
/* A CORS preflight from an allowed origin: queues its 204 and returns true; else false. */
bool preflight_reply(struct events *ev, struct conn *c, const struct request *req);
/* Queues a complete JSON reply (body taken) and marks c done. */
void reply_json(struct events *ev, struct conn *c, int status, const char *json);
void reply_error(struct events *ev, struct conn *c, int status, const char *code, const char *field,
		 const char *message);

/* ---- conn.c: buffers and writing ---- */
/* Appends to c's output; false if it would pass OUT_MAX (unless force). */
bool conn_queue(struct conn *c, const char *data, size_t len, bool force);
/* Writes what it can. Returns 0, or -1 when the connection is gone. */
int conn_flush(struct conn *c);

/* ---- stream.c: what each mode sends ---- */
/* Routes a parsed request: starts a stream, a long-poll or replies an error. */
void stream_start(struct events *ev, struct conn *c, const struct request *req);
/* A live event for c's execution. */
void stream_live(struct events *ev, struct conn *c, const struct event_msg *m);
/* Timers: store checks, keepalives, long-poll deadlines. */
void stream_tick(struct events *ev, struct conn *c, int64_t now);
/* wait_ms of a query: 0..WAIT_MS_MAX, or -1 when absent, malformed or given twice. */
int parse_wait_ms(const char *query);

/* ---- submission.c: a submission's long-poll and event stream ---- */
/* Whether the path is under /submissions/ (then submission_start serves it). */
bool submission_request(const char *path);
void submission_start(struct events *ev, struct conn *c, const struct request *req);
/* Reads the submission and answers or streams what changed; settle: look again SETTLE_MS later. */
void submission_refresh(struct events *ev, struct conn *c, int64_t now, bool settle);
void submission_tick(struct events *ev, struct conn *c, int64_t now);
/* The submission case_id belongs to, into out. Returns 1, 0 if it is no case, -1 on a store error. */
int submission_of_case(struct events *ev, const char *case_id, char out[UUID_LEN + 1]);
/* A watching connection goes: frees its record. */
void submission_closed(struct events *ev, struct conn *c);

/* ---- ws.c ---- */
/* The Sec-WebSocket-Accept value of key. */
void ws_accept_key(const char *key, char out[29]);
/* A server frame of opcode (1 text, 9 ping) around payload into c's output. */
bool ws_queue_frame(struct conn *c, int opcode, const char *payload, size_t len, bool force);
/* Reads client frames from c->in; stdin and eof messages are forwarded. Returns -1 to close. */
int ws_receive(struct events *ev, struct conn *c);

/* ---- ws_input.c ---- */
/* A client's text message: {"stdin": "..."} and/or {"eof": true}. */
void ws_client_message(struct events *ev, struct conn *c, const char *text, size_t len);

/* ---- main.c ---- */
void events_watch(struct events *ev, struct conn *c);
/* A connection's timer is due at `at`: the loop runs its timers then, not only every TICK_MS
 * (a resync 30 ms after a gap must not wait for a 50 ms tick). */
void events_wake_at(struct events *ev, int64_t at);

#endif
