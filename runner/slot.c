/*
 * A slot thread: wait for a nudge (a ZeroMQ message or the sweep timer),
 * claim the queue head in SQLite, run it in a sandbox, write the fenced
 * result, repeat. Each slot owns its SQLite connection.
 */
#include "slot.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

void runner_nudge(struct runner *r, bool all)
{
	pthread_mutex_lock(&r->lock);
	r->nudges = all ? r->slots : r->nudges + 1;
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

static void set_error(struct outcome *o, const char *status, const char *code, const char *fmt, int arg)
{
	o->status = status;
	o->error_code = code;
	snprintf(o->error_message, sizeof(o->error_message), fmt, arg);
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
	case SANDBOX_SETUP_FAILED:
		o->status = "FAILED";
		o->error_code = "SANDBOX_ERROR";
		snprintf(o->error_message, sizeof(o->error_message), "the sandbox could not be built: %s",
			 res->message);
		break;
	}
}

static void execute(struct slot *s, struct claims *claims, struct claim *c)
{
	struct runner *r = s->runner;
	struct sandbox_job job = {
		.source = c->source, .source_len = c->source_len,
		.stdin_data = c->stdin_data, .stdin_len = c->stdin_len,
		.slot = s->index, .limits = &r->cfg.limits, .slot_netns = s->netns,
	};
	struct sandbox_result res;
	struct outcome o;

	memset(&res, 0, sizeof(res));
	sandbox_run(&r->host, &job, &res);
	outcome_from_result(&res, &r->cfg.limits, &o);
	if (res.outcome == SANDBOX_SETUP_FAILED)
		log_error("execution %s: sandbox setup failed: %s", c->id, res.message);
	int written = claims_finish(claims, c, &o);
	/* One line per execution; "result=" tells whether the fenced write won. */
	log_info("execution %s attempt %d slot %d: %s%s%s exit=%d signal=%d setup=%lldms wall=%lldms "
		 "cpu=%lldms mem=%ldkB result=%s", c->id, c->attempt, s->index, o.status,
		 o.error_code ? " " : "", o.error_code ? o.error_code : "", o.exit_code, o.signal,
		 (long long)res.setup_ms, (long long)o.wall_ms, (long long)o.cpu_ms, o.memory_kb,
		 written == 1 ? "written" : written == 0 ? "fenced" : "store-error");
	sandbox_result_free(&res);
}

static void *slot_main(void *arg)
{
	struct slot *s = arg;
	struct runner *r = s->runner;
	struct claims claims;
	char err[256];

	s->netns = r->host.root && sandbox_slot_netns() == 0;
	if (claims_open(&claims, &r->cfg, r->id, err, sizeof(err))) {
		log_error("slot %d: store: %s", s->index, err);
		atomic_store(&r->stopping, true);
		return NULL;
	}
	while (!atomic_load(&r->stopping)) {
		struct claim c;
		if (!claims_any_queued(&claims) || claims_take(&claims, &c) != 1) {
			wait_for_work(r);
			continue;
		}
		atomic_fetch_add(&r->busy, 1);
		execute(s, &claims, &c);
		atomic_fetch_sub(&r->busy, 1);
		claim_free(&c);
	}
	claims_close(&claims);
	return NULL;
}

int slot_start(struct slot *s)
{
	return pthread_create(&s->thread, NULL, slot_main, s);
}
