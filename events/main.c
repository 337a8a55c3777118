/*
 * The events program's loop: accept on a unix socket (the web server
 * proxies to it), read each connection's one request, receive live events
 * on the ZeroMQ SUB socket the runners publish to, and run the timers
 * (store checks, keepalives, long-poll deadlines) every TICK_MS.
 */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "runner_endpoint.h"
#include "version.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* ---- the watch table: execution id -> its connections ---- */
static size_t watch_slot(const struct events *ev, const char *id)
{
	size_t h = 5381;
	for (int i = 0; i < UUID_LEN; i++)
		h = h * 33 + (unsigned char)id[i];
	return h & (ev->watch_size - 1);
}

void events_watch(struct events *ev, struct conn *c)
{
	size_t i = watch_slot(ev, c->execution_id);
	c->watch_next = ev->watch[i];
	ev->watch[i] = c;
}

static void unwatch(struct events *ev, struct conn *c)
{
	if (!c->execution_id[0])
		return;
	for (struct conn **p = &ev->watch[watch_slot(ev, c->execution_id)]; *p; p = &(*p)->watch_next)
		if (*p == c) {
			*p = c->watch_next;
			return;
		}
}

/* ---- connections ---- */
static void conn_close(struct events *ev, struct conn *c)
{
	unwatch(ev, c);
	if (c->submission)
		submission_closed(ev, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		ev->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	ev->nconns--;
}

static void accept_all(struct events *ev)
{
	for (;;) {
		int fd = accept4(ev->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		struct conn *c = calloc(1, sizeof *c);
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (!c || epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = ev->conns;
		if (ev->conns)
			ev->conns->prev = c;
		ev->conns = c;
		ev->nconns++;
	}
}

/* Reads what the client sent. Returns -1 when it is gone or broke the protocol. */
static int conn_read(struct events *ev, struct conn *c)
{
	char scratch[4096];
	for (;;) {
		char *dst = scratch;
		size_t room = sizeof scratch;
		if (c->mode == MODE_REQUEST || c->mode == MODE_WS) {
			if (!c->in && !(c->in = malloc(REQUEST_MAX)))
				return -1;
			dst = c->in + c->in_len;
			room = REQUEST_MAX - c->in_len;
			if (!room)
				return -1;
		}
		ssize_t n = recv(c->fd, dst, room, 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno == EINTR ? 0 : -1;
		if (dst != scratch)
			c->in_len += (size_t)n;
		if (c->mode == MODE_WS && ws_receive(ev, c) < 0)
			return -1;
		if (c->mode == MODE_REQUEST) {
			struct request req;
			int rc = request_parse(c->in, c->in_len, &req);
			if (rc == 0)
				continue;
			c->mode = MODE_CLOSING;
			if (rc == -2)
				reply_error(ev, c, 405, "METHOD_NOT_ALLOWED", NULL, "only GET is allowed here");
			else if (rc < 0)
				reply_error(ev, c, 400, "INVALID_REQUEST", NULL, "the request is malformed or too large");
			else {
				memcpy(c->request_id, req.request_id, sizeof c->request_id);
				memcpy(c->origin, req.origin, sizeof c->origin);
				if (preflight_reply(ev, c, &req))
					;
				else if (req.options)   /* a preflight from an origin not allowed */
					reply_error(ev, c, 405, "METHOD_NOT_ALLOWED", NULL, "only GET is allowed here");
				else
					stream_start(ev, c, &req);
			}
			if (c->mode != MODE_WS) {
				free(c->in);
				c->in = NULL;
			}
			c->in_len = 0;
		}
		/* Other modes ignore what arrives (a half-closed client is seen by EPOLLRDHUP). */
	}
}

/* Flushes and closes a connection that is finished or gone. */
static void conn_settle(struct events *ev, struct conn *c, bool gone)
{
	if (gone || conn_flush(c) < 0 || (c->done && c->out_len == c->out_off))
		conn_close(ev, c);
}

static void on_conn(struct events *ev, struct conn *c, uint32_t what)
{
	bool gone = false;
	if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		gone = conn_read(ev, c) < 0;
	if (what & (EPOLLHUP | EPOLLERR))
		gone = true;
	if (what & EPOLLRDHUP && c->mode != MODE_REQUEST)
		gone = true;
	conn_settle(ev, c, gone);
}

/* ---- live events ---- */
static void on_live(struct events *ev, const struct event_msg *m)
{
	struct conn *c = ev->watch[watch_slot(ev, m->execution_id)], *next;
	for (; c; c = next) {
		next = c->watch_next;
		if (strcmp(c->execution_id, m->execution_id) != 0)
			continue;
		stream_live(ev, c, m);
		conn_settle(ev, c, false);
	}
	/* A case's start and end also go to the watchers of its submission. */
	struct event_msg of_submission = *m;
	if ((m->kind == EVENT_STATUS || m->kind == EVENT_DONE) && ev->submission_watchers &&
	    submission_of_case(ev, m->execution_id, of_submission.execution_id) == 1)
		on_live(ev, &of_submission);
}

static void receive_live(struct events *ev)
{
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	while (zmq_msg_recv(&msg, ev->sub, ZMQ_DONTWAIT) >= 0) {
		struct event_msg m;
		if (event_msg_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &m) == 0)
			on_live(ev, &m);
	}
	zmq_msg_close(&msg);
}

/*
 * Runners on other hosts publish on their own host only; through a store
 * that hosts share they also announce each stored batch of events and
 * each end (STORE_CHANNEL_EVENTS). An announcement is taken as a done
 * message: the streams of that execution read the store at once (its
 * stored events, and the end if it ended), as they do for this host's.
 */
static void on_announced(void *ctx, const char *execution_id)
{
	struct event_msg m = { .kind = EVENT_DONE };
	if (strlen(execution_id) != UUID_LEN || !uuid_valid(execution_id, UUID_LEN))
		return;
	memcpy(m.execution_id, execution_id, UUID_LEN + 1);
	on_live(ctx, &m);
}

static void notes_listen(struct events *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &ev->notes_fd };
	ev->notes_fd = store_listen(ev->notes, STORE_CHANNEL_EVENTS);
	if (ev->notes_fd >= 0 && epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->notes_fd, &e) == 0)
		return;
	log_warn("events of other hosts: cannot listen (%s); streams read the store every %d ms",
		 store_errmsg(ev->notes), STATE_POLL_MS);
	ev->notes_fd = -1;
	ev->notes_retry_at = mono_ms() + NOTES_RETRY_MS;
}

/* Only where the store carries notifications (PostgreSQL); errors are not fatal. */
static void notes_open(struct events *ev)
{
	char err[256];
	ev->notes_fd = -1;
	if (!store_notify_available(ev->store))
		return;
	if (!(ev->notes = store_open(&ev->cfg, STORE_ROLE_API, err, sizeof err))) {
		log_warn("events of other hosts: %s", err);
		return;
	}
	notes_listen(ev);
}

static void notes_receive(struct events *ev)
{
	if (store_notifications(ev->notes, on_announced, ev) >= 0)
		return;
	log_warn("events of other hosts: connection lost (%s)", store_errmsg(ev->notes));
	epoll_ctl(ev->epfd, EPOLL_CTL_DEL, ev->notes_fd, NULL);
	ev->notes_fd = -1;
	ev->notes_retry_at = mono_ms() + NOTES_RETRY_MS;
}

void events_wake_at(struct events *ev, int64_t at)
{
	if (at < ev->wake_at)
		ev->wake_at = at;
}

/* Runs every connection's timers; notes the earliest one still to come. */
static void tick(struct events *ev)
{
	int64_t now = mono_ms();
	struct conn *c = ev->conns, *next;
	ev->wake_at = INT64_MAX;
	for (; c; c = next) {
		next = c->next;
		stream_tick(ev, c, now);
		/* Timers due before the next tick wake the loop for them. One
		 * already past waits for its client to drain, not for the clock. */
		if (!c->done && c->mode != MODE_REQUEST && c->next_check > now && c->next_check < now + TICK_MS)
			events_wake_at(ev, c->next_check);
		conn_settle(ev, c, false);
	}
}

/* ---- set-up ---- */
static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 4096) < 0) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int sub_open(struct events *ev, char *err, size_t errlen)
{
	char endpoint[CONFIG_PATH_MAX + 32];
	int hwm = 100000, linger = 0;
	size_t len = sizeof ev->zfd;

	if (events_endpoint(&ev->cfg, endpoint, sizeof endpoint) < 0) {
		snprintf(err, errlen, "data_dir is too long for an ipc endpoint");
		return -1;
	}
	ev->zctx = zmq_ctx_new();
	ev->sub = ev->zctx ? zmq_socket(ev->zctx, ZMQ_SUB) : NULL;
	if (!ev->sub || zmq_setsockopt(ev->sub, ZMQ_SUBSCRIBE, "", 0) != 0 ||
	    zmq_setsockopt(ev->sub, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
	    zmq_setsockopt(ev->sub, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
	    zmq_bind(ev->sub, endpoint) != 0 || zmq_getsockopt(ev->sub, ZMQ_FD, &ev->zfd, &len) != 0) {
		snprintf(err, errlen, "bind %.400s: %s", endpoint, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

static int open_all(struct events *ev, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	ev->watch_size = 4096;
	ev->watch = calloc(ev->watch_size, sizeof *ev->watch);
	ev->store = store_open_at_start(&ev->cfg, STORE_ROLE_API, err, errlen);
	if (!ev->watch || !ev->store || sub_open(ev, err, errlen) < 0)
		return -1;
	if (events_http_path(&ev->cfg, path, sizeof path) < 0) {
		snprintf(err, errlen, "data_dir is too long for a unix socket");
		return -1;
	}
	if ((ev->listen_fd = listen_unix(path, err, errlen)) < 0)
		return -1;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event l = { .events = EPOLLIN, .data.ptr = &ev->listen_fd };
	struct epoll_event z = { .events = EPOLLIN, .data.ptr = &ev->zfd };
	if (ev->epfd < 0 || epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->listen_fd, &l) < 0 ||
	    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->zfd, &z) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	notes_open(ev);
	log_info("events started: listening on %s", path);
	return 0;
}

static void serve(struct events *ev)
{
	struct epoll_event evs[256];
	int64_t next_tick = mono_ms() + TICK_MS, last_tick = 0;

	ev->wake_at = INT64_MAX;
	while (!stop_signal) {
		int64_t wake = ev->wake_at > last_tick + WAKE_MIN_MS ? ev->wake_at : last_tick + WAKE_MIN_MS;
		int64_t due = wake < next_tick ? wake : next_tick, left = due - mono_ms();
		int n = epoll_wait(ev->epfd, evs, 256, left > 0 ? (int)left : 0);
		bool announced = false;
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &ev->listen_fd)
				accept_all(ev);
			else if (p == &ev->notes_fd)
				announced = true;
			else if (p != &ev->zfd)
				on_conn(ev, p, evs[i].events);
		}
		/* Only after the batch: what they announce can end any stream and
		 * free its connection, which a later event of the batch names. */
		if (announced)
			notes_receive(ev);
		/* ZMQ_FD is edge-triggered and shared by all of libzmq's work: always drain. */
		receive_live(ev);
		int64_t now = mono_ms();
		if (ev->notes && ev->notes_fd < 0 && now >= ev->notes_retry_at)
			notes_listen(ev);
		if (now >= due) {
			tick(ev);
			last_tick = now;
			if (now >= next_tick)
				next_tick = now + TICK_MS;
		}
	}
}

int main(int argc, char **argv)
{
	static struct events ev;
	const char *config_path = config_default_path();
	char err[1024];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("code-exec-events %s (schema version %d)\n", ENGINE_VERSION, store_schema_version);
			return 0;
		} else {
			fprintf(stderr, "usage: events [--config FILE] [--version]\n");
			return 2;
		}
	}
	config_defaults(&ev.cfg);
	if (config_load(&ev.cfg, config_path, err, sizeof err) ||
	    !(ev.auth = auth_new(&ev.cfg, err, sizeof err))) {
		fprintf(stderr, "events: %s\n", err);
		return 1;
	}
	log_init("events", ev.cfg.log_level);
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (open_all(&ev, err, sizeof err) < 0) {
		log_error("refusing to start: %s", err);
		return 1;
	}
	serve(&ev);
	while (ev.conns)
		conn_close(&ev, ev.conns);
	zmq_close(ev.sub);
	zmq_ctx_term(ev.zctx);
	store_close(&ev.store);
	store_close(&ev.notes);
	free(ev.watch);
	auth_free(&ev.auth);
	log_info("stopped");
	return 0;
}
