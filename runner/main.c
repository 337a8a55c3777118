/*
 * runner: binds the ZeroMQ PULL endpoint, runs `slots` slot threads that
 * claim and execute work, and in this thread heartbeats and sweeps.
 *
 *   runner [--config FILE]                 run (FILE defaults to $ENGINE_CONFIG)
 *   runner [--config FILE] --get KEY       print one configuration value
 *   runner [--config FILE] --check-config  check the configuration and the language table
 *   runner [--config FILE] --env           PORT, DATA_DIR and FCGI_PROCS for the front ends
 *   runner [--config FILE] --backup FILE   copy the store into FILE (the engine keeps serving)
 *   runner [--config FILE] --restore FILE  put FILE back as the store (the engine stopped)
 *   runner --version
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "auth.h"
#include "backup.h"
#include "claims.h"
#include "event_sink.h"
#include "languages_probe.h"
#include "limit_errors.h"
#include "retention.h"
#include "wake.h"
#include "log.h"
#include "notify.h"
#include "runner.h"
#include "runner_endpoint.h"
#include "slot.h"
#include "uid_block.h"
#include "version.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

struct loop {
	struct runner *r;
	struct claims claims;
	void *ctx, *pull;
	void *events_pub;                /* the sweep's announcements to the events program */
	struct store *wake_store;        /* listens for wake-ups the store carries, if it does */
	int wake_fd;                     /* its descriptor; -1 until it listens */
	struct retention retention;      /* on the same store connection as the sweep */
	int64_t next_sweep, next_heartbeat;
};

static int pull_open(struct loop *lp, char *err, size_t errlen)
{
	char endpoint[CONFIG_PATH_MAX + 32];
	if (runner_endpoint(&lp->r->cfg, endpoint, sizeof(endpoint))) {
		snprintf(err, errlen, "data_dir is too long for an ipc endpoint");
		return -1;
	}
	lp->ctx = zmq_ctx_new();
	lp->pull = lp->ctx ? zmq_socket(lp->ctx, ZMQ_PULL) : NULL;
	int hwm = 100000, linger = 0;
	if (lp->pull) {
		zmq_setsockopt(lp->pull, ZMQ_RCVHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(lp->pull, ZMQ_LINGER, &linger, sizeof(linger));
	}
	if (!lp->pull || zmq_bind(lp->pull, endpoint) != 0) {
		snprintf(err, errlen, "bind %.400s: %s", endpoint, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

/* Drains the PULL socket; every valid message wakes one slot. */
static void receive_messages(struct loop *lp)
{
	char msg[128], id[UUID_LEN + 1];
	int n;
	while ((n = zmq_recv(lp->pull, msg, sizeof(msg), ZMQ_DONTWAIT)) >= 0) {
		if (wake_decode(msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg), id)) {
			log_warn("ignoring a malformed wake-up message (%d bytes)", n);
			continue;
		}
		log_debug("wake-up for %s", id);
		runner_nudge(lp->r, false);
	}
}

/* (Re)subscribes a wake-up connection that is not listening. */
static void wake_listen(struct loop *lp)
{
	if (!lp->wake_store || lp->wake_fd >= 0)
		return;
	lp->wake_fd = store_listen(lp->wake_store, STORE_CHANNEL_WAKE);
	if (lp->wake_fd < 0)
		log_warn("wake-ups: cannot listen (%s); idle slots poll the queue",
			 store_errmsg(lp->wake_store));
}

/*
 * A store that hosts share (PostgreSQL) carries the web hosts' wake-ups,
 * so a runner on any host hears them with no address of its own: it needs
 * only the store's URL. They get a connection of their own, which listens
 * and does nothing else.
 */
static void wake_open(struct loop *lp)
{
	char err[256];
	if (!store_notify_available(lp->claims.store))
		return;
	lp->wake_store = store_open(&lp->r->cfg, STORE_ROLE_RUNNER, err, sizeof(err));
	if (!lp->wake_store)
		log_warn("wake-ups: %s; idle slots poll the queue", err);
	wake_listen(lp);
}

/* Every wake-up that arrived wakes one slot; a lost connection listens again at the next heartbeat. */
static void receive_wakeups(struct loop *lp)
{
	int n = store_notifications(lp->wake_store, NULL, NULL);
	if (n < 0) {
		log_warn("wake-ups: connection lost (%s)", store_errmsg(lp->wake_store));
		lp->wake_fd = -1;
		return;
	}
	while (n-- > 0)
		runner_nudge(lp->r, false);
}

/*
 * sandbox_uid_base = auto: the block this runner's sandboxes use. Taken
 * before anything runs in a sandbox (the language probe does), on a
 * connection of its own.
 */
static int take_uid_block(struct runner *r, char *err, size_t errlen)
{
	if (r->cfg.sandbox_uid_base != 0 || geteuid() != 0)
		return 0;       /* a base of the operator's, or no uids to map */
	struct store *s = store_open_at_start(&r->cfg, STORE_ROLE_MAINTENANCE, err, errlen);
	long base = s ? uid_block_take(s, r->id, r->cfg.runner_stale_ms, err, errlen) : -1;
	store_close(&s);
	if (base < 0)
		return -1;
	r->cfg.sandbox_uid_base = base;
	r->uid_block = true;
	log_info("sandbox uids from %ld (sandbox_uid_base = auto)", base);
	return 0;
}

/*
 * The uid block held through the language probe, which may build start-up
 * snapshots: the heartbeat that renews the hold starts after it. Its bound:
 * each language's version probe, and for a snapshot up to two trials and
 * a build, each within the compile's wall time. Returns 0, or -1.
 */
static int hold_uid_block_through_start(struct runner *r, char *err, size_t errlen)
{
	long steps = 0, hold;
	struct store *s;
	int held;

	if (!r->uid_block)
		return 0;
	for (int i = 0; i < r->langs.n; i++)
		steps += 1 + (r->langs.langs[i].snapshot.n ? 3 : 0);
	hold = r->cfg.runner_stale_ms + steps * r->cfg.compile_wall_time_ms;
	if (!(s = store_open_at_start(&r->cfg, STORE_ROLE_MAINTENANCE, err, errlen)))
		return -1;
	held = uid_block_renew(s, r->id, r->cfg.sandbox_uid_base, hold);
	store_close(&s);
	if (held <= 0) {
		snprintf(err, errlen, "sandbox uid block from %ld: lost while starting", r->cfg.sandbox_uid_base);
		return -1;
	}
	return 0;
}

/* Keeps the uid block held. A runner whose block another took (its hold
 * lapsed while the store was out of reach) stops: its sandboxes would
 * share uids, and a restart takes a free block. */
static void renew_uid_block(struct loop *lp)
{
	struct runner *r = lp->r;
	if (r->uid_block &&
	    uid_block_renew(lp->claims.store, r->id, r->cfg.sandbox_uid_base, r->cfg.runner_stale_ms) == 0) {
		log_error("sandbox uid block from %ld: held by another runner now; stopping", r->cfg.sandbox_uid_base);
		atomic_store(&r->stopping, true);
		r->uid_block = false;
	}
}

static void timers(struct loop *lp)
{
	int64_t now = mono_ms();
	struct runner *r = lp->r;
	if (now >= lp->next_heartbeat) {
		claims_heartbeat(&lp->claims, atomic_load(&r->busy), limit_errors());
		renew_uid_block(lp);
		wake_listen(lp);
		lp->next_heartbeat = now + r->cfg.heartbeat_interval_ms;
	}
	if (now >= lp->next_sweep) {
		/* Idle slots look at the queue every sweep_interval_ms on their
		 * own; wake them at once only for work the sweep just requeued. */
		if (claims_sweep(&lp->claims, lp->events_pub) > 0)
			runner_nudge(r, true);
		/* The runner is the store's checkpointer: no API request pays for it. */
		store_checkpoint(lp->claims.store);
		lp->next_sweep = now + r->cfg.sweep_interval_ms;
	}
	retention_tick(&lp->retention, mono_ms());
}

static void loop_run(struct loop *lp)
{
	zmq_pollitem_t items[2] = {
		{ .socket = lp->pull, .events = ZMQ_POLLIN },
		{ .events = ZMQ_POLLIN },
	};
	while (!stop_signal && !atomic_load(&lp->r->stopping)) {
		int64_t wait = lp->next_sweep - mono_ms();
		if (lp->next_heartbeat - mono_ms() < wait)
			wait = lp->next_heartbeat - mono_ms();
		if (retention_next(&lp->retention) - mono_ms() < wait)
			wait = retention_next(&lp->retention) - mono_ms();
		if (wait < 0)
			wait = 0;
		items[1].fd = lp->wake_fd;
		items[1].revents = 0;
		if (zmq_poll(items, lp->wake_fd >= 0 ? 2 : 1, (long)wait) > 0) {
			if (items[0].revents & ZMQ_POLLIN)
				receive_messages(lp);
			if (items[1].revents & ZMQ_POLLIN)
				receive_wakeups(lp);
		}
		timers(lp);
	}
}

static int start_slots(struct runner *r, struct slot *s)
{
	/* Slots must not take SIGTERM/SIGINT: the main thread handles them. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int started = 0;
	for (; started < r->slots; started++) {
		s[started] = (struct slot){ .index = started, .runner = r };
		if (slot_start(&s[started]) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

static int print_key(const struct config *cfg, const char *key)
{
	char value[CONFIG_PATH_MAX];
	if (config_get(cfg, key, value, sizeof(value))) {
		fprintf(stderr, "runner: unknown configuration key %s\n", key);
		return 2;
	}
	puts(value);
	return 0;
}

/* What the front ends take from the configuration (lighttpd.conf's env.*,
 * the units' EnvironmentFile, Apache's ${...}): one source for all. */
static int print_env(const struct config *cfg)
{
	printf("PORT=%d\nDATA_DIR=%s\nFCGI_PROCS=%d\n", cfg->port, cfg->data_dir, cfg->fcgi_processes);
	return 0;
}

/* --check-config: what start-up reads before it touches the sandbox or the store. */
static int check_config(struct runner *r, const char *config_path)
{
	char langs[CONFIG_PATH_MAX], err[1024];
	struct auth *auth = NULL;

	if (config_languages_path(&r->cfg, config_path, langs, sizeof(langs))) {
		fprintf(stderr, "runner: languages_file: path too long\n");
		return 1;
	}
	if (languages_load(&r->langs, langs, err, sizeof(err)) || !(auth = auth_new(&r->cfg, err, sizeof(err)))) {
		fprintf(stderr, "runner: %s\n", err);
		return 1;
	}
	auth_free(&auth);
	languages_free(&r->langs);
	printf("%s: ok\n", config_path ? config_path : "defaults");
	return 0;
}

static int backup(const struct config *cfg, const char *file)
{
	char err[1024];
	if (backup_store(cfg, file, err, sizeof(err))) {
		fprintf(stderr, "runner: backup: %s\n", err);
		return 1;
	}
	printf("backed up %s to %s\n", store_is_postgresql(cfg->store) ? "the PostgreSQL store" : cfg->data_dir,
	       file);
	return 0;
}

static int restore(const struct config *cfg, const char *file)
{
	char err[1024];
	int requeued = 0;
	if (restore_store(cfg, file, &requeued, err, sizeof(err))) {
		fprintf(stderr, "runner: restore: %s\n", err);
		return 1;
	}
	printf("restored %s into %s: %d execution(s) running at backup time queued again\n", file,
	       store_is_postgresql(cfg->store) ? "the PostgreSQL store" : cfg->data_dir, requeued);
	return 0;
}

static int prepare(struct runner *r, const char *config_path, char *err, size_t errlen)
{
	char langs[CONFIG_PATH_MAX];

	if (mkdir(r->cfg.data_dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.400s: %s", r->cfg.data_dir, strerror(errno));
		return -1;
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* More slots than CPUs: a slot spends part of each run waiting (cgroup
	 * moves, the store), and a CPU hog must never hold the only free slot. */
	r->slots = r->cfg.runner_slots ? r->cfg.runner_slots : 4 * (int)(cpus > 0 ? cpus : 1);
	uuid_new(r->id);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	if (take_uid_block(r, err, errlen))
		return -1;
	if (sandbox_host_init(&r->host, r->cfg.python, r->cfg.sandbox_uid_base, r->cfg.sandbox_mode,
			      strcmp(r->cfg.sandbox_allow_rlimit, "yes") == 0, &r->cfg.limits, err, errlen))
		return -1;
	if (config_languages_path(&r->cfg, config_path, langs, sizeof(langs))) {
		snprintf(err, errlen, "languages_file: path too long");
		return -1;
	}
	if (languages_load(&r->langs, langs, err, errlen))
		return -1;
	if (compile_cache_open(&r->cache, r->cfg.data_dir, r->cfg.compile_cache_mb, err, errlen))
		return -1;
	if (compile_gate_init(&r->compile_gate, r->cfg.compile_slots ? r->cfg.compile_slots : (int)(cpus > 0 ? cpus : 1),
			      r->cfg.lease_grace_ms / 2) < 0) {
		snprintf(err, errlen, "cannot make the compile gate");
		return -1;
	}
	syntax_memo_init(&r->syntax_memo);
	if (hold_uid_block_through_start(r, err, errlen))
		return -1;
	if (languages_probe_all(&r->langs, &r->host, &r->cfg, &r->languages_json) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int serve(struct runner *r)
{
	char err[1024], host[256] = "localhost";
	struct loop lp = { .r = r, .wake_fd = -1 };
	struct slot *s = calloc((size_t)r->slots, sizeof(*s));
	int started = 0, rc = 1;

	gethostname(host, sizeof(host) - 1);
	if (!s || claims_open_at_start(&lp.claims, &r->cfg, r->id, STORE_ROLE_MAINTENANCE, err, sizeof(err)) ||
	    pull_open(&lp, err, sizeof(err)) ||
	    claims_register(&lp.claims, host, r->slots, r->host.mode, r->languages_json)) {
		log_error("refusing to start: %s", s ? err : "out of memory");
		goto out;
	}
	r->zmq = lp.ctx;
	wake_open(&lp);
	retention_init(&lp.retention, lp.claims.store, &r->cfg);
	lp.events_pub = event_pub_open(lp.ctx, &r->cfg);
	started = start_slots(r, s);
	log_info("runner %s %s started: %d slots, sandbox %s, data in %s", ENGINE_VERSION, r->id, started,
		 r->host.mode, r->cfg.data_dir);
	notify_systemd("READY=1");
	loop_run(&lp);
	notify_systemd("STOPPING=1");
	log_info("stopping (%s): letting running executions finish",
		 stop_signal ? strsignal(stop_signal) : "the error above");
	rc = stop_signal ? 0 : 1;
out:
	atomic_store(&r->stopping, true);
	runner_nudge(r, true);
	for (int i = 0; i < started; i++)
		pthread_join(s[i].thread, NULL);
	if (lp.claims.store)
		claims_mark_stopped(&lp.claims);
	if (lp.claims.store && r->uid_block)
		uid_block_release(lp.claims.store, r->id, r->cfg.sandbox_uid_base);
	if (lp.pull)
		zmq_close(lp.pull);
	if (lp.events_pub)
		zmq_close(lp.events_pub);
	if (lp.ctx)
		zmq_ctx_term(lp.ctx);
	claims_close(&lp.claims);
	store_close(&lp.wake_store);
	free(s);
	log_info("stopped");
	return rc;
}

enum command { CMD_RUN, CMD_GET, CMD_CHECK, CMD_ENV, CMD_BACKUP, CMD_RESTORE, CMD_VERSION };

/* Parses argv. Returns the command (its argument in *arg), or -1 for a usage error. */
static int parse_args(int argc, char **argv, const char **config_path, const char **arg)
{
	static const struct { const char *flag; enum command cmd; bool takes_arg; } flags[] = {
		{ "--get", CMD_GET, true }, { "--check-config", CMD_CHECK, false },
		{ "--env", CMD_ENV, false }, { "--backup", CMD_BACKUP, true },
		{ "--restore", CMD_RESTORE, true }, { "--version", CMD_VERSION, false },
	};
	int cmd = CMD_RUN;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			*config_path = argv[++i];
			continue;
		}
		size_t f = 0;
		while (f < sizeof(flags) / sizeof(flags[0]) && strcmp(argv[i], flags[f].flag) != 0)
			f++;
		if (f == sizeof(flags) / sizeof(flags[0]) || cmd != CMD_RUN || (flags[f].takes_arg && i + 1 >= argc))
			return -1;
		cmd = (int)flags[f].cmd;
		if (flags[f].takes_arg)
			*arg = argv[++i];
	}
	return cmd;
}

int main(int argc, char **argv)
{
	static struct runner r;
	const char *config_path = config_default_path(), *arg = NULL;
	char err[1024];

	int cmd = parse_args(argc, argv, &config_path, &arg);
	if (cmd < 0) {
		fprintf(stderr, "usage: runner [--config FILE] [--get KEY | --check-config | --env | "
			"--backup FILE | --restore FILE | --version]\n");
		return 2;
	}
	if (cmd == CMD_VERSION) {
		printf("code-exec-runner %s (schema version %d)\n", ENGINE_VERSION, store_schema_version);
		return 0;
	}
	config_defaults(&r.cfg);
	if (config_load(&r.cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "runner: %s\n", err);
		return 1;
	}
	log_init("runner", r.cfg.log_level);
	switch (cmd) {
	case CMD_GET:
		return print_key(&r.cfg, arg);
	case CMD_CHECK:
		return check_config(&r, config_path);
	case CMD_ENV:
		return print_env(&r.cfg);
	case CMD_BACKUP:
		return backup(&r.cfg, arg);
	case CMD_RESTORE:
		return restore(&r.cfg, arg);
	}
	/* malloc keeps what a run frees. By default a slot's arena gives its
	 * free top back after each run, and a block over 128 KiB is mapped
	 * and unmapped each time: every run then faults the same pages in
	 * afresh, about 180 faults per run (10-50 us each on a
	 * paravirtualised host). Kept: up to 1 MiB free per arena. */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (prepare(&r, config_path, err, sizeof(err))) {
		log_error("refusing to start: %s", err);
		return 1;
	}
	int rc = serve(&r);
	sandbox_host_fini(&r.host);
	languages_free(&r.langs);
	free(r.languages_json);
	compile_cache_close(&r.cache);
	compile_gate_destroy(&r.compile_gate);
	return rc;
}
