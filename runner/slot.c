/*
 * A slot thread: wait for a nudge (a ZeroMQ message or the sweep timer),
 * claim the queue head in SQLite, run it in a sandbox, write the fenced
 * result, repeat. Each slot owns its SQLite connection.
 */
#include "slot.h"
#include "lang_standby.h"
#include "clone_spec.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "artifact.h"
#include "event_sink.h"
#include "judge.h"
#include "log.h"
#include "run_watch.h"

/* cgroup v2's default CPU weight: the whole share of one learner's running runs. */
#define CPU_WEIGHT_SHARED 100

void runner_nudge(struct runner *r, bool all)
{
	pthread_mutex_lock(&r->lock);
	/* More wake-ups pending than slots would only make idle slots query
	 * the queue again for work the first ones already looked at. */
	r->nudges = all || r->nudges >= r->slots ? r->slots : r->nudges + 1;
	if (all)
		pthread_cond_broadcast(&r->wake);
	else
		pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

/* Sleeps until nudged, stopping, or sweep_interval_ms passed. */
static void wait_for_work(struct runner *r)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	long ns = until.tv_nsec + (long)r->cfg.sweep_interval_ms * 1000000L;
	until.tv_sec += ns / 1000000000L;
	until.tv_nsec = ns % 1000000000L;
	pthread_mutex_lock(&r->lock);
	while (r->nudges == 0 && !atomic_load(&r->stopping))
		if (pthread_cond_timedwait(&r->wake, &r->lock, &until) != 0)
			break;
	if (r->nudges > 0)
		r->nudges--;
	pthread_mutex_unlock(&r->lock);
}

__attribute__((format(printf, 4, 5)))
static void set_error(struct outcome *o, const char *status, const char *code, const char *fmt, ...)
{
	va_list ap;

	o->status = status;
	o->error_code = code;
	va_start(ap, fmt);
	vsnprintf(o->error_message, sizeof(o->error_message), fmt, ap);
	va_end(ap);
}

void outcome_from_result(const struct sandbox_result *res, const struct sandbox_limits *limits,
			 struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->out = res->out;
	o->out_len = res->out_len;
	o->out_truncated = res->out_truncated;
	o->err = res->err;
	o->err_len = res->err_len;
	o->err_truncated = res->err_truncated;
	o->wall_ms = res->wall_ms;
	o->setup_ms = res->setup_ms;
	o->cpu_ms = res->cpu_ms;
	o->memory_kb = res->memory_kb;
	switch (res->outcome) {
	case SANDBOX_EXITED:
		o->has_exit_code = true;
		o->exit_code = res->exit_code;
		if (res->exit_code == 0)
			o->status = "COMPLETED";
		else
			set_error(o, "FAILED", "RUNTIME_ERROR", "the program exited with status %d", res->exit_code);
		break;
	case SANDBOX_SIGNALED:
		o->signal = res->signal;
		if (res->signal == SIGXCPU)
			set_error(o, "TIMEOUT", "TIMEOUT", "the program used more than %d ms of CPU time",
				  limits->cpu_time_ms);
		else
			set_error(o, "FAILED", "RUNTIME_ERROR", "the program was killed by signal %d", res->signal);
		break;
	case SANDBOX_TIMEOUT:
		set_error(o, "TIMEOUT", "TIMEOUT", "the program ran longer than %d ms and was stopped",
			  limits->wall_time_ms);
		break;
	case SANDBOX_OUTPUT_LIMIT:
		set_error(o, "FAILED", "OUTPUT_LIMIT", "the program wrote more than %d bytes to one stream",
			  (int)limits->max_output_bytes);
		break;
	case SANDBOX_MEMORY_LIMIT:
		o->signal = res->signal;        /* the OOM killer's SIGKILL */
		set_error(o, "FAILED", "MEMORY_LIMIT", "the program used more than %d MiB of memory",
			  limits->memory_mb);
		break;
	case SANDBOX_CANCELLED:
		o->signal = res->signal;
		set_error(o, "FAILED", "CANCELLED", "%s", CANCEL_MESSAGE);
		break;
	case SANDBOX_SETUP_FAILED:
		o->status = "FAILED";
		o->error_code = "SANDBOX_ERROR";
		snprintf(o->error_message, sizeof(o->error_message), "the sandbox could not be built: %s",
			 res->message);
		break;
	}
}

/* What a compile that did not succeed means for the execution. */
static void compile_failure(const struct lang_result *lr, const struct sandbox_limits *compile_limits,
			    struct outcome *o)
{
	const struct sandbox_result *c = &lr->compile_res;

	if (lr->compile == COMPILE_TIMEOUT) {
		set_error(o, "FAILED", "COMPILE_TIMEOUT", "the compiler ran longer than %d ms and was stopped",
			  compile_limits->wall_time_ms);
	} else if (lr->compile == COMPILE_SANDBOX_ERROR) {
		o->status = "FAILED";
		o->error_code = "SANDBOX_ERROR";
		snprintf(o->error_message, sizeof(o->error_message),
			 "the compiler's sandbox could not be built: %s", c->message);
	} else if (c->outcome == SANDBOX_MEMORY_LIMIT) {
		set_error(o, "FAILED", "COMPILE_ERROR", "the compiler used more than %d MiB of memory",
			  compile_limits->memory_mb);
	} else if (c->outcome == SANDBOX_OUTPUT_LIMIT) {
		set_error(o, "FAILED", "COMPILE_ERROR", "%s", c->out_truncated ?
			  "the compiled program is too large" : "the compiler wrote too many messages");
	} else {
		set_error(o, "FAILED", "COMPILE_ERROR", "the program did not compile (compiler exit status %d)",
			  c->outcome == SANDBOX_EXITED ? c->exit_code : 128 + c->signal);
	}
}

void outcome_from_lang(const struct lang_result *lr, const struct sandbox_limits *run_limits,
		       const struct sandbox_limits *compile_limits, struct outcome *o)
{
	if (lr->ran)
		outcome_from_result(&lr->run, run_limits, o);
	else
		memset(o, 0, sizeof(*o));
	if (lr->compile == COMPILE_NONE)
		return;
	o->compiled = true;
	o->compile_output = lr->compile_res.err ? lr->compile_res.err : "";
	o->compile_output_len = lr->compile_res.err_len;
	o->compile_ms = lr->compile_res.wall_ms;
	o->compile_cached = lr->compile_cached;
	if (!lr->ran) {
		o->setup_ms = lr->compile_res.setup_ms;
		o->cpu_ms = lr->compile_res.cpu_ms;
		o->memory_kb = lr->compile_res.memory_kb;
		o->out = o->err = "";
		compile_failure(lr, compile_limits, o);
	}
}

static void unavailable(const struct claim *c, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->status = "FAILED";
	o->error_code = "SANDBOX_ERROR";
	o->out = o->err = "";
	snprintf(o->error_message, sizeof(o->error_message),
		 "language %s is not available on this runner", c->language);
}

/* A check ends COMPLETED whenever the checker ran to its end, whatever it
 * found (its exit status says whether it found anything); its limits are
 * the compile's. */
static void outcome_from_check(const struct sandbox_result *res, const struct sandbox_limits *limits,
			       const char *diagnostics, struct outcome *o)
{
	outcome_from_result(res, limits, o);
	if (res->outcome == SANDBOX_EXITED) {
		o->status = "COMPLETED";
		o->error_code = NULL;
		o->diagnostics = diagnostics ? diagnostics : "[]";
	}
}

static void check(struct runner *r, const struct language *l, const struct lang_input *in,
		  struct sandbox_result *res, char **diagnostics, struct outcome *o)
{
	struct sandbox_limits limits;

	lang_compile_limits(&r->cfg, l, &limits);
	if (lang_check(&r->host, &r->cfg, l, in, res, diagnostics) < 0 && res->outcome != SANDBOX_SETUP_FAILED) {
		res->outcome = SANDBOX_SETUP_FAILED;
		snprintf(res->message, sizeof(res->message), "language %s has no check", l->id);
	}
	outcome_from_check(res, &limits, *diagnostics, o);
}

/*
 * A run's CPU weight: a learner's running runs share one default weight,
 * so learners, not runs, get equal shares of a busy CPU, and a learner
 * with one run keeps pace beside another's backlog in every slot.
 */
static int learner_cpu_weight(int learner_running)
{
	return learner_running > 1 ? CPU_WEIGHT_SHARED / learner_running : 0;
}

/* The claim's files as the sandbox takes them (malloc'd; NULL when none or out of memory). */
static struct sandbox_file *app_files(const struct claim *c)
{
	struct sandbox_file *f = c->nfiles ? calloc((size_t)c->nfiles, sizeof *f) : NULL;

	for (int i = 0; f && i < c->nfiles; i++)
		f[i] = (struct sandbox_file){ .name = c->files[i].path, .data = c->files[i].content,
					      .len = c->files[i].len };
	return f;
}

static int file_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sandbox_file *)a)->name, ((const struct sandbox_file *)b)->name);
}

/*
 * The files the run left in out/, into o (*files malloc'd; NULL when
 * none), each announced on sink (an artifact event) before the result.
 * init wrote the stream; a malformed one keeps none, with a warning; a
 * name that could not travel in JSON, a URL or a header is left out.
 */
static void take_artifacts(const struct runner *r, const struct claim *c, const struct lang_result *res,
			   struct event_sink *sink, struct sandbox_file **files, struct outcome *o)
{
	int n;

	*files = NULL;
	if (!res->ran || !res->run.artifacts_len || r->cfg.max_artifacts <= 0 ||
	    !(*files = calloc((size_t)r->cfg.max_artifacts, sizeof **files)))
		return;
	n = sandbox_artifacts_parse(res->run.artifacts, res->run.artifacts_len, *files, r->cfg.max_artifacts);
	if (n < 0) {
		log_warn("execution %s: its artifacts could not be read back; none are kept", c->id);
		n = 0;
	}
	o->artifacts = *files;
	for (int i = 0; i < n; i++)
		if (artifact_name_ok((*files)[i].name))
			(*files)[o->nartifacts++] = (*files)[i];
	/* In path order, as the execution lists them. */
	qsort(*files, (size_t)o->nartifacts, sizeof **files, file_name_cmp);
	for (int i = 0; i < o->nartifacts; i++)
		event_sink_artifact(sink, (*files)[i].name, (*files)[i].len, content_type_of((*files)[i].name));
}

/*
 * The slot's next sandbox (lang_standby.h), for a plain run of the
 * language just run, or of its test cases after a case: after a check
 * or an interactive run, the learner's next step is likely a Run. The
 * warm interpreter's language has its warm interpreter instead.
 */
static void standby_keep(struct slot *s, const struct language *l, const struct lang_input *ran, bool test_case,
			 bool check_skipped)
{
	struct runner *r = s->runner;
	struct lang_input like = *ran;

	if (!like.standby || !l || !l->available || l == s->python)
		return;
	like.interactive = false;
	/* The run's source and session files are freed when it ends; a
	 * prepared root's room for them is the configured maximum. */
	like.source = NULL;
	like.stdin_data = NULL;
	like.source_len = like.stdin_len = 0;
	like.app_files = NULL;
	like.napp_files = 0;
	like.cpu_weight = 0;
	like.artifacts = !test_case;
	if (!test_case)
		like.time_limit_ms = 0;
	lang_standby_keep(&s->standby, &r->host, &r->cfg, l, &like, check_skipped);
}

static void execute(struct slot *s, struct claims *claims, struct claim *c)
{
	struct runner *r = s->runner;
	const struct language *l = languages_find(&r->langs, c->language);
	struct lang_input in = {
		.source = c->source, .source_len = c->source_len,
		.stdin_data = c->stdin_data, .stdin_len = c->stdin_len,
		.slot = s->index, .slot_netns = s->netns, .sink = &s->events,
		.interactive = c->interactive, .warm = l == s->python ? &s->warm : NULL,
		.cpu_weight = learner_cpu_weight(c->learner_running),
		.app_files = app_files(c),
		.gate = &r->compile_gate,
		.standby = strcmp(r->cfg.sandbox_standby, "yes") == 0 ? &s->standby : NULL,
		.syntax_memo = &r->syntax_memo,
	};
	struct run_watch watch;
	struct sandbox_limits run_limits, compile_limits;
	struct lang_result res;
	struct outcome o;
	struct sandbox_file *artifacts = NULL;
	char *diagnostics = NULL;

	memset(&res, 0, sizeof(res));
	/* A plain run keeps what it leaves in out/; a case's are not shown to anyone. */
	in.artifacts = strcmp(c->kind, "run") == 0;
	in.napp_files = in.app_files ? c->nfiles : 0;
	event_sink_begin(&s->events, s->pub, claims->store, r->id, c->id, c->attempt);
	run_watch_init(&watch, claims, c);
	in.watch = &watch.watch;
	if (!l || !l->available) {
		unavailable(c, &o);
	} else if (strcmp(c->kind, "check") == 0) {
		check(r, l, &in, &res.run, &diagnostics, &o);
	} else {
		if (c->submission_id[0]) {
			/* A case: its own time limit; its output is judged, never streamed. */
			in.time_limit_ms = c->time_limit_ms;
			in.sink = NULL;
		}
		lang_run_limits(&r->cfg, l, &run_limits);
		lang_compile_limits(&r->cfg, l, &compile_limits);
		lang_execute(&r->host, &r->cfg, l, &r->cache, &in, &res);
		if (in.time_limit_ms > 0)
			run_limits.wall_time_ms = in.time_limit_ms;
		outcome_from_lang(&res, &run_limits, &compile_limits, &o);
		if (in.artifacts)
			take_artifacts(r, c, &res, in.sink, &artifacts, &o);
	}
	if (c->submission_id[0])
		o.verdict = judge_verdict(&o, c);
	if (o.error_code && strcmp(o.error_code, "SANDBOX_ERROR") == 0)
		log_error("execution %s: %s", c->id, o.error_message);
	event_sink_end(&s->events);
	int written = claims_finish(claims, c, &o, &s->events);
	event_sink_done(&s->events);
	/* One line per execution; "result=" tells whether the fenced write won. */
	log_info("execution %s attempt %d slot %d %s: %s%s%s%s%s exit=%d signal=%d compile=%lldms setup=%lldms "
		 "wall=%lldms cpu=%lldms mem=%ldkB result=%s", c->id, c->attempt, s->index, c->language,
		 o.status, o.error_code ? " " : "", o.error_code ? o.error_code : "",
		 o.verdict ? " verdict=" : "", o.verdict ? o.verdict : "", o.exit_code, o.signal,
		 (long long)o.compile_ms, (long long)o.setup_ms, (long long)o.wall_ms, (long long)o.cpu_ms,
		 o.memory_kb, written == 1 ? "written" : written == 0 ? "fenced" : "store-error");
	lang_result_free(&res);
	free(diagnostics);
	free((void *)in.app_files);
	free(artifacts);
	standby_keep(s, l, &in, c->submission_id[0] != '\0', res.check_skipped);
}

/*
 * Python's warm interpreter (runner/warm.h), when python_warm is on: the
 * language whose run command is the default Python one. Started with the
 * slot and, when it broke or served python_warm_runs runs, replaced after
 * the run that found out -- between runs, never in a run's way.
 */
static void warm_keep(struct slot *s)
{
	struct runner *r = s->runner;
	struct sandbox_limits limits;

	if (!s->python)
		return;
	lang_run_limits(&r->cfg, s->python, &limits);
	warm_zygote_ensure(&s->warm, &r->host, &limits, (const char *const *)s->python->env, s->netns);
}

static const struct language *warm_language(struct runner *r)
{
	const struct language *l = languages_find(&r->langs, "python");

	if (strcmp(r->cfg.python_warm, "yes") != 0 || !l || !l->available || !sandbox_default_python((const char *const *)l->run.argv))
		return NULL;
	return l;
}

/*
 * The slot's own store connection, opened once its warm interpreter is up:
 * the store may be unreachable by then (a PostgreSQL server restarting)
 * although the runner's own connection opened, so retry every second until
 * it opens or the runner stops. Returns 0, or -1 when the runner stops.
 */
static int open_claims(struct slot *s, struct claims *claims)
{
	struct runner *r = s->runner;
	char err[256];
	while (claims_open(claims, &r->cfg, r->id, STORE_ROLE_RUNNER, err, sizeof(err))) {
		log_error("slot %d: store: %s (retrying)", s->index, err);
		for (int i = 0; i < 10; i++) {
			if (atomic_load(&r->stopping))
				return -1;
			usleep(100 * 1000);
		}
	}
	return 0;
}

/*
 * Which learners the slot may take work of. The runner's last free slot
 * is kept for a learner with nothing running: so one learner's backlog,
 * however deep, leaves a slot to the next learner who presses Run, who
 * then waits for no one's run to end (the fair order alone would make
 * them wait for the first slot to free). A runner of one slot has no
 * slot to spare.
 */
static int running_below(const struct runner *r)
{
	return r->slots > 1 && atomic_load(&r->busy) >= r->slots - 1 ? 1 : INT_MAX;
}

static void *slot_main(void *arg)
{
	struct slot *s = arg;
	struct runner *r = s->runner;
	struct claims claims;

	/* Before this thread's allocations grow: its arena stays out of the
	 * sandboxes' clones (clone_spec.h). */
	if (!clone_hide_thread_arena())
		log_debug("slot %d: its malloc arena is not glibc's; it is copied into every sandbox clone",
			  s->index);
	/* The store may be on another host: connect from this one's network. */
	int host_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	s->netns = r->host.root && sandbox_slot_netns() == 0;
	if (s->netns && host_net >= 0)
		store_connect_from_netns(host_net);
	s->pub = event_pub_open(r->zmq, &r->cfg);
	warm_zygote_init(&s->warm, s->index, r->cfg.python_warm_runs);
	warm_zygote_stagger(&s->warm);
	s->python = warm_language(r);
	warm_keep(s);
	/* Writing to an interactive run's stdin after the program closed it
	 * must fail with EPIPE, not kill the runner. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	bool opened = open_claims(s, &claims) == 0;
	/* A look at the queue spares a slot coming from idle its claim (a
	 * write) when nothing is queued. A slot that just ran something claims
	 * without one (the queue it took work from is likely to hold more), and
	 * so does the kept slot, whose claim is narrower than the look: during
	 * one learner's backlog the look would say yes every time. */
	bool just_ran = false;
	while (opened && !atomic_load(&r->stopping)) {
		struct claim c;
		int below = running_below(r);
		if ((!just_ran && below == INT_MAX && !claims_any_queued(&claims)) ||
		    claims_take(&claims, &c, below) != 1) {
			just_ran = false;
			wait_for_work(r);
			continue;
		}
		just_ran = true;
		atomic_fetch_add(&r->busy, 1);
		execute(s, &claims, &c);
		atomic_fetch_sub(&r->busy, 1);
		claim_free(&c);
		warm_keep(s);
	}
	warm_zygote_stop(&s->warm);
	lang_standby_drop(&s->standby);
	if (opened)
		claims_close(&claims);
	if (s->pub)
		zmq_close(s->pub);
	store_connect_from_netns(-1);
	if (host_net >= 0)
		close(host_net);
	return NULL;
}

int slot_start(struct slot *s)
{
	return pthread_create(&s->thread, NULL, slot_main, s);
}
