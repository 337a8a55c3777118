/* Compile and run one execution of a language of the table (lang_run.h). */
#include "lang_run.h"
#include "lang_standby.h"
#include "syntax_memo.h"
#include "diagnostics.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The words of a compile command once {sources} is expanded (the sandbox's argv bound). */
#define SANDBOX_COMPILE_ARGV 160

/* The largest compiled program (all of /tmp/out) taken out of a compile. */
#define ARTIFACT_LIMIT(cfg) ((size_t)(cfg)->compile_tmpfs_mb << 20)

void lang_run_limits(const struct config *cfg, const struct language *l, struct sandbox_limits *out)
{
	lang_limits_apply(&l->limits, &cfg->limits, out);
}

void lang_compile_limits(const struct config *cfg, const struct language *l, struct sandbox_limits *out)
{
	struct sandbox_limits base;

	lang_run_limits(cfg, l, &base);
	base.wall_time_ms = cfg->compile_wall_time_ms;
	base.cpu_time_ms = cfg->compile_wall_time_ms;
	base.memory_mb = cfg->compile_memory_mb;
	base.tmpfs_mb = cfg->compile_tmpfs_mb;
	base.max_cpu_percent = cfg->compile_max_cpu_percent;
	base.max_output_bytes = cfg->compile_output_bytes;
	/* A compiler is CPU-bound by nature and the learner waits for it:
	 * it keeps its CPU weight (a run is demoted after cpu_demote_after_ms). */
	base.cpu_demote_after_ms = 0;
	lang_limits_apply(&l->compile_limits, &base, out);
}

void lang_job(const struct language *l, const struct lang_input *in, struct sandbox_job *job)
{
	memset(job, 0, sizeof *job);
	job->source = in->source;
	job->source_len = in->source_len;
	job->app_files = in->app_files;
	job->napp_files = in->napp_files;
	job->file_name = l->file;
	job->env = (const char *const *)l->env;
	job->mounts = (const char *const *)l->mounts;
	job->nmounts = l->nmounts;
	job->slot = in->slot;
	job->slot_netns = in->slot_netns;
	job->watch = in->watch;
}

/*
 * An interactive run's prompts must reach the learner before the program
 * blocks on input, in every language. Python (-u), Node.js (synchronous
 * writes to pipes on Linux), Java (PrintStream flushes each print), Go
 * (unbuffered os.Stdout), Bash (builtins write at once) and C++ streams
 * (cin is tied to cout) already do. C's stdio does it only on a terminal:
 * stdout line-buffered, and a read from a line-buffered or unbuffered stdin
 * flushes it. coreutils' libstdbuf (what stdbuf(1) preloads) sets exactly
 * that: stdin unbuffered (_STDBUF_I=0), stdout line-buffered (_STDBUF_O=L),
 * so printf("> ") then scanf shows the prompt, and stdout stays the bytes
 * the program wrote. Pipes rather than a pseudo-terminal: a pty echoes and
 * translates unless put in raw mode, makes Python write input()'s prompt to
 * stderr and Node's readline echo the input into stdout, and hands the
 * payload a host tty (ioctls such as TIOCSTI, TIOCSETD line disciplines) --
 * kernel surface the sandbox does not need to expose.
 */
static const char *const stdbuf_env[] = {
	"LD_PRELOAD=/usr/libexec/coreutils/libstdbuf.so", "_STDBUF_I=0", "_STDBUF_O=L",
};
#define STDBUF_WORDS (sizeof stdbuf_env / sizeof stdbuf_env[0])

/* The language's env words and then the interactive ones, into env (NULL-terminated). */
static void interactive_env(const struct language *l, const char **env, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < l->nenv && n + 1 < max; i++)
		env[n++] = l->env[i];
	for (size_t i = 0; i < STDBUF_WORDS && n + 1 < max; i++)
		env[n++] = stdbuf_env[i];
	env[n] = NULL;
}

/* Whether path ends in the extension of the language's file (".c" of main.c); none: false. */
static bool same_extension(const char *path, const char *file)
{
	const char *ext = strrchr(file, '.');
	size_t n = ext ? strlen(ext) : 0, len = strlen(path);

	return n > 0 && len > n && strcmp(path + len - n, ext) == 0;
}

/*
 * A compile or check command's words, with "{sources}" replaced by the
 * entry file and every file of the session with its extension: gcc links
 * all .c files, javac compiles all .java files. Returns 0, or -1 if they
 * do not fit in max words (the sandbox's argv).
 */
static int command_argv(const struct language *l, const struct lang_cmd *cmd, const struct lang_input *in,
			const char **argv, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < cmd->n; i++) {
		const char *w = cmd->argv[i];

		if (strcmp(w, "{sources}") != 0) {
			if (n + 1 >= max)
				return -1;
			argv[n++] = w;
			continue;
		}
		if (n + 1 >= max)
			return -1;
		argv[n++] = l->file;
		for (int j = 0; j < in->napp_files; j++) {
			if (!same_extension(in->app_files[j].name, l->file))
				continue;
			if (n + 1 >= max)
				return -1;
			argv[n++] = in->app_files[j].name;
		}
	}
	argv[n] = NULL;
	return 0;
}

/* The program's run as a sandbox job, and what the job points into. */
struct run_job {
	struct sandbox_limits limits;
	struct sandbox_job job;
	const char *env[LANG_ENV + STDBUF_WORDS + 1];
};

/* The run's job, without the compiled files (they are added, or handed to
 * a prepared sandbox, once the compile made them). */
static void run_job_fill(struct run_job *rj, const struct config *cfg, const struct language *l,
			 const struct lang_input *in)
{
	struct sandbox_job *job = &rj->job;

	lang_run_limits(cfg, l, &rj->limits);
	lang_job(l, in, job);
	if (in->interactive) {
		job->interactive = true;
		rj->limits.wall_time_ms = cfg->interactive_wall_ms;
		interactive_env(l, rj->env, sizeof rj->env / sizeof rj->env[0]);
		job->env = rj->env;
	}
	if (in->time_limit_ms > 0) {
		/* A case's limit replaces the wall-clock one; CPU time may use all of it. */
		rj->limits.wall_time_ms = in->time_limit_ms;
		if (rj->limits.cpu_time_ms < in->time_limit_ms)
			rj->limits.cpu_time_ms = in->time_limit_ms;
	}
	if (in->cpu_weight > 0)
		rj->limits.cpu_weight = in->cpu_weight;
	job->argv = (const char *const *)l->run.argv;
	job->stdin_data = in->stdin_data;
	job->stdin_len = in->stdin_len;
	job->limits = &rj->limits;
	job->sink = in->sink;
	job->syntax_channel = l->syntax_channel;
	job->warm = in->warm;
	job->max_artifacts = cfg->max_artifacts;
	job->max_artifact_bytes = (size_t)cfg->max_artifact_bytes;
	job->keep_artifacts = in->artifacts;
}

/*
 * The run of a compile that is not cached is prepared beside the compile
 * (sandbox_prepare): once the compiler's sandbox has started, so that
 * neither waits for the other, and init builds the run's root while the
 * compiler works. *prepared stays NULL when it could not be.
 */
struct run_ahead {
	const struct sandbox_host *host;
	const struct config *cfg;
	const struct run_job *rj;
	struct lang_standby *standby;
	struct sandbox_prepared **prepared;
};

/* The room a prepared run's root keeps for files that come after it is
 * built: the largest source, session and compiled program there may be
 * (a bound of its tmpfs, sealed read-only before the program starts). */
static void prepared_room(const struct config *cfg, size_t *bytes, int *files)
{
	*bytes = ARTIFACT_LIMIT(cfg) + (size_t)cfg->max_source_bytes + (size_t)cfg->max_session_bytes;
	*files = SANDBOX_MAX_FILES + 1 + cfg->max_session_files;
}

static void prepare_run(void *arg)
{
	const struct run_ahead *a = arg;
	size_t bytes;
	int files;

	if ((*a->prepared = lang_standby_take(a->standby, &a->rj->job)))
		return;
	prepared_room(a->cfg, &bytes, &files);
	*a->prepared = sandbox_prepare(a->host, &a->rj->job, "slot", bytes, files);
}

/* A compile or a check (in the sandbox prepared for it, or a new one):
 * through the runner's gate (compile_gate.h). */
static int gated_run(const struct sandbox_host *host, const struct sandbox_job *job,
		     struct sandbox_prepared *prepared, struct compile_gate *gate, struct sandbox_result *res)
{
	int64_t waited_ms;
	bool held = compile_gate_enter(gate, &waited_ms);
	int rc;

	if (waited_ms > 0)
		log_debug("waited %lld ms for a compile place%s", (long long)waited_ms, held ? "" : ", went ahead");
	rc = prepared ? sandbox_go(prepared, job, res) : sandbox_run(host, job, res);
	if (held)
		compile_gate_leave(gate);
	return rc;
}

/* The compile of in as a sandbox job, and what the job points into. */
struct compile_job {
	struct sandbox_limits limits;
	struct sandbox_job job;
	const char *argv[SANDBOX_COMPILE_ARGV];
};

/* Returns 0, or -1 when the session has too many sources for one command. */
static int compile_job_fill(struct compile_job *cj, const struct config *cfg, const struct language *l,
			    const struct lang_input *in)
{
	if (command_argv(l, &l->compile, in, cj->argv, sizeof cj->argv / sizeof cj->argv[0]) < 0)
		return -1;
	lang_compile_limits(cfg, l, &cj->limits);
	lang_job(l, in, &cj->job);
	cj->job.argv = cj->argv;
	cj->job.workdir = "/app";
	cj->job.compile = true;
	cj->job.artifact_limit = ARTIFACT_LIMIT(cfg);
	cj->job.limits = &cj->limits;
	return 0;
}

static enum compile_status compile(const struct sandbox_host *host, const struct config *cfg,
				   const struct language *l, const struct lang_input *in,
				   const struct run_ahead *ahead, struct lang_result *res)
{
	struct compile_job cj;
	struct sandbox_result *c = &res->compile_res;

	if (compile_job_fill(&cj, cfg, l, in) < 0) {
		snprintf(c->message, sizeof c->message, "too many source files to compile at once");
		c->outcome = SANDBOX_SETUP_FAILED;
		return COMPILE_SANDBOX_ERROR;
	}
	cj.job.beside = prepare_run;
	cj.job.beside_arg = (void *)ahead;
	if (gated_run(host, &cj.job, lang_standby_take(in->standby, &cj.job), in->gate, c) < 0 ||
	    c->outcome == SANDBOX_SETUP_FAILED)
		return COMPILE_SANDBOX_ERROR;
	if (c->outcome == SANDBOX_TIMEOUT || (c->outcome == SANDBOX_SIGNALED && c->signal == SIGXCPU))
		return COMPILE_TIMEOUT;
	return c->outcome == SANDBOX_EXITED && c->exit_code == 0 ? COMPILE_OK : COMPILE_FAILED;
}

/*
 * A run whose command reported a syntax error (languages.h,
 * syntax_channel) did not run the learner's code: it is a compile that
 * failed, its report the compiler's messages, and there was no run step.
 */
static void syntax_failure(struct lang_result *res)
{
	struct sandbox_result *c = &res->compile_res;

	*c = res->run;
	free(c->err);
	c->err = c->syntax;
	c->err_len = c->syntax_len;
	c->err_truncated = false;
	c->syntax = NULL;
	c->syntax_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	memset(&res->run, 0, sizeof res->run);
	res->ran = false;
	res->compile = COMPILE_FAILED;
}

/* A cached compile as if the compiler had just run: its messages and
 * output become the compile's result. Returns 1 on a hit, else 0. */
static int from_cache(struct compile_cache *cache, const struct compile_key *key, struct lang_result *res)
{
	struct compile_entry e;
	int64_t t0 = mono_ms();

	if (!cache || compile_cache_get(cache, key, &e) != 1)
		return 0;
	res->compile_res.outcome = SANDBOX_EXITED;
	res->compile_res.out = e.artifacts;
	res->compile_res.out_len = e.artifacts_len;
	res->compile_res.err = e.messages;
	res->compile_res.err_len = e.messages_len;
	res->compile_res.wall_ms = mono_ms() - t0;
	res->compile_cached = true;
	return 1;
}

/*
 * What the cache keys a compile by: the entry alone, or, with other files,
 * the entry and then each file's path and content, NUL-separated (a path
 * holds no NUL, so two file sets never give the same bytes). Returns the
 * key's source (*owned: malloc'd, or NULL when it is the entry itself),
 * or NULL when out of memory.
 */
static const char *key_source(const struct lang_input *in, size_t *len, char **owned)
{
	size_t n = in->source_len;
	char *buf, *p;

	*owned = NULL;
	*len = in->source_len;
	if (in->napp_files == 0)
		return in->source;
	for (int i = 0; i < in->napp_files; i++)
		n += strlen(in->app_files[i].name) + 2 + in->app_files[i].len;
	if (!(buf = p = malloc(n)))
		return NULL;
	memcpy(p, in->source, in->source_len);
	p += in->source_len;
	for (int i = 0; i < in->napp_files; i++) {
		size_t plen = strlen(in->app_files[i].name);

		*p++ = '\0';
		memcpy(p, in->app_files[i].name, plen);
		p += plen;
		*p++ = '\0';
		memcpy(p, in->app_files[i].data, in->app_files[i].len);
		p += in->app_files[i].len;
	}
	*owned = buf;
	*len = n;
	return buf;
}

/*
 * A new compile's store in the cache, on a thread of its own while the
 * program runs: a compiled program is megabytes (Go's hello world 1.8 MB,
 * about 2 ms to checksum and write), which the learner need not wait for.
 * The execution's result is written after the store ends, so a Run sent
 * once the result is seen finds the entry.
 */
struct cache_store {
	struct compile_cache *cache;
	struct compile_key key;
	char *owned;                    /* the key's source when it is not the entry's */
	const struct sandbox_result *compile;
	pthread_t thread;
	bool on_thread;
};

static void *cache_store_main(void *arg)
{
	struct cache_store *st = arg;

	compile_cache_put(st->cache, &st->key, st->compile->out, st->compile->out_len, st->compile->err,
			  st->compile->err_len);
	return NULL;
}

/* Starts the store; without a thread (none to be had) it is done at once. */
static void cache_store_start(struct cache_store *st)
{
	st->on_thread = pthread_create(&st->thread, NULL, cache_store_main, st) == 0;
	if (!st->on_thread)
		cache_store_main(st);
}

static void cache_store_end(struct cache_store *st)
{
	if (st->on_thread)
		pthread_join(st->thread, NULL);
	st->on_thread = false;
	free(st->owned);
	st->owned = NULL;
}

/*
 * Compiles, or takes the compile from the cache; starts caching a new
 * success. A compile prepares its run's sandbox beside it (*run_ahead;
 * NULL if it could not be).
 */
static enum compile_status compile_or_cached(const struct sandbox_host *host, const struct config *cfg,
					     const struct language *l, const struct lang_input *in,
					     const struct run_job *rj, struct sandbox_prepared **run_ahead,
					     struct cache_store *st, struct lang_result *res)
{
	enum compile_status rc;

	st->key = (struct compile_key){
		.language = l->id, .version = l->version_text,
		.argv = (const char *const *)l->compile.argv,
	};
	st->compile = &res->compile_res;
	st->key.source = key_source(in, &st->key.source_len, &st->owned);
	if (!st->key.source)
		st->cache = NULL;       /* out of memory: compile without the cache */
	if (from_cache(st->cache, &st->key, res))
		return COMPILE_OK;
	rc = compile(host, cfg, l, in, &(struct run_ahead){ host, cfg, rj, in->standby, run_ahead }, res);
	if (rc == COMPILE_OK && st->cache)
		cache_store_start(st);
	return rc;
}

/* A run in the sandbox prepared for it (beside its compile, or the slot's
 * standby), or in a new one. */
static int run_prepared(const struct sandbox_host *host, const struct sandbox_job *job,
			struct sandbox_prepared *ahead, struct lang_standby *standby, struct sandbox_result *res)
{
	if (!ahead)
		ahead = lang_standby_take(standby, job);
	return ahead ? sandbox_go(ahead, job, res) : sandbox_run(host, job, res);
}

/* The job runs l's run_checked command: its source passed the check before. */
static void skip_check(const struct language *l, struct run_job *rj)
{
	rj->job.argv = (const char *const *)l->run_checked.argv;
	rj->job.syntax_channel = false;
}

/*
 * An interpreted run. A source that passed its syntax check before runs
 * without it (syntax_memo.h); one that passes now is remembered.
 */
static int run_interpreted(const struct sandbox_host *host, const struct language *l, const struct lang_input *in,
			   struct run_job *rj, struct lang_result *res)
{
	char *owned = NULL;
	size_t key_len = 0;
	const char *key = in->syntax_memo && l->run_checked.n ? key_source(in, &key_len, &owned) : NULL;
	int rc;

	res->check_skipped = key && syntax_memo_passed(in->syntax_memo, l, key, key_len);
	if (res->check_skipped)
		skip_check(l, rj);
	res->ran = true;
	rc = run_prepared(host, &rj->job, NULL, in->standby, &res->run);
	if (rc == 0 && res->run.syntax_len > 0)
		syntax_failure(res);
	else if (rc == 0 && key && !res->check_skipped && res->run.outcome == SANDBOX_EXITED &&
		 res->run.exit_code == 0)
		syntax_memo_add(in->syntax_memo, l, key, key_len);
	free(owned);
	return rc;
}

int lang_execute(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
		 struct compile_cache *cache, const struct lang_input *in, struct lang_result *res)
{
	struct sandbox_file files[SANDBOX_MAX_FILES];
	struct cache_store store = { .cache = cache };
	struct sandbox_prepared *run_ahead = NULL;
	struct run_job rj;
	int nfiles = 0, rc;

	memset(res, 0, sizeof *res);
	run_job_fill(&rj, cfg, l, in);
	if (l->compile.n == 0)
		return run_interpreted(host, l, in, &rj, res);
	res->compile = compile_or_cached(host, cfg, l, in, &rj, &run_ahead, &store, res);
	if (res->compile == COMPILE_OK &&
	    (nfiles = sandbox_artifacts_parse(res->compile_res.out, res->compile_res.out_len, files,
					      SANDBOX_MAX_FILES)) < 0) {
		/* init wrote it; a malformed stream means a broken sandbox. */
		res->compile = COMPILE_SANDBOX_ERROR;
		snprintf(res->compile_res.message, sizeof res->compile_res.message,
			 "the compiler's output could not be read back");
	}
	if (res->compile != COMPILE_OK) {
		if (run_ahead)
			sandbox_abandon(run_ahead);
		cache_store_end(&store);
		return 0;
	}
	/* The store reads compile_res while the run reads its files from it. */
	res->ran = true;
	rj.job.files = files;
	rj.job.nfiles = nfiles;
	rc = run_prepared(host, &rj.job, run_ahead, in->standby, &res->run);
	cache_store_end(&store);
	return rc;
}

struct sandbox_prepared *lang_prepare_standby(const struct sandbox_host *host, const struct config *cfg,
					      const struct language *l, const struct lang_input *like,
					      bool check_skipped)
{
	struct run_job rj;
	size_t bytes;
	int files;

	prepared_room(cfg, &bytes, &files);
	run_job_fill(&rj, cfg, l, like);
	if (check_skipped)
		skip_check(l, &rj);
	/* The run's own, taken when it starts (sandbox_go). */
	rj.job.sink = NULL;
	rj.job.watch = NULL;
	return sandbox_prepare(host, &rj.job, "standby", bytes, files);
}

struct sandbox_prepared *lang_prepare_compile_standby(const struct sandbox_host *host, const struct config *cfg,
						      const struct language *l, const struct lang_input *like)
{
	struct compile_job cj;
	size_t bytes;
	int files;

	if (compile_job_fill(&cj, cfg, l, like) < 0)
		return NULL;
	prepared_room(cfg, &bytes, &files);
	cj.job.watch = NULL;            /* the compile's own, taken when it starts */
	return sandbox_prepare(host, &cj.job, "standby", bytes, files);
}

void lang_result_free(struct lang_result *res)
{
	sandbox_result_free(&res->compile_res);
	sandbox_result_free(&res->run);
}

/* The checker's two streams as one text, in the order a terminal would
 * mostly show them (the findings of every checker here are on one). */
static char *joined_output(const struct sandbox_result *res)
{
	char *text = malloc(res->out_len + res->err_len + 1);

	if (text) {
		memcpy(text, res->out, res->out_len);
		memcpy(text + res->out_len, res->err, res->err_len);
		text[res->out_len + res->err_len] = '\0';
	}
	return text;
}

int lang_check(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
	       const struct lang_input *in, struct sandbox_result *res, char **diagnostics)
{
	struct sandbox_limits limits;
	struct sandbox_job job;
	const char *argv[SANDBOX_COMPILE_ARGV];
	char *text;

	*diagnostics = NULL;
	memset(res, 0, sizeof *res);
	if (l->check.n == 0 || command_argv(l, &l->check, in, argv, sizeof argv / sizeof argv[0]) < 0)
		return -1;
	lang_compile_limits(cfg, l, &limits);
	lang_job(l, in, &job);
	job.argv = argv;
	job.workdir = "/app";
	job.limits = &limits;
	if (gated_run(host, &job, NULL, in->gate, res) < 0)
		return -1;
	if (res->outcome != SANDBOX_EXITED)
		return 0;
	if (!(text = joined_output(res)))
		return -1;
	*diagnostics = diagnostics_parse(l->diagnostics, l->file, text);
	free(text);
	return 0;
}

int lang_probe(const struct sandbox_host *host, const struct config *cfg, struct language *l,
	       char *err, size_t errlen)
{
	struct sandbox_limits limits;
	struct sandbox_job job;
	struct sandbox_result res;
	struct lang_input in = { .source = "", .slot = 0 };
	int rc = -1;

	l->available = false;
	lang_compile_limits(cfg, l, &limits);
	lang_job(l, &in, &job);
	job.argv = (const char *const *)l->version.argv;
	job.limits = &limits;
	if (sandbox_run(host, &job, &res) < 0 || res.outcome == SANDBOX_SETUP_FAILED) {
		snprintf(err, errlen, "%s", res.message);
	} else if (res.outcome != SANDBOX_EXITED || res.exit_code != 0) {
		snprintf(err, errlen, "%s exited with status %d (signal %d): %.200s", l->version.argv[0],
			 res.exit_code, res.signal, res.err_len ? res.err : res.out);
	} else {
		languages_version_from(res.out_len ? res.out : res.err, l->version_text,
				       sizeof l->version_text);
		l->available = true;
		rc = 0;
	}
	sandbox_result_free(&res);
	return rc;
}
