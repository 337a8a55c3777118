/*
 * One execution in a language of the table (common/languages.h): compile
 * in a sandbox of its own when the language has a compile command, then
 * run the program in a fresh sandbox with what the compile left. Both are
 * the same sandbox (sandbox_run); only the command, files and limits
 * differ. Also the start-up probe that asks each toolchain its version.
 */
#ifndef RUNNER_LANG_RUN_H
#define RUNNER_LANG_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "compile_cache.h"
#include "compile_gate.h"
#include "config.h"
#include "languages.h"
#include "sandbox.h"

struct lang_standby;
struct syntax_memo;

struct lang_input {
	const char *source;             /* the entry file, written as the language's file */
	size_t source_len;
	const struct sandbox_file *app_files;   /* the session's other files, by path */
	int napp_files;
	const char *stdin_data;
	size_t stdin_len;
	int slot;
	bool slot_netns;
	struct warm_zygote *warm;       /* the slot's warm Python interpreter; NULL: none */
	struct event_sink *sink;        /* the program's live output events; NULL: none */
	/* Interactive: stdin stays open and the watch feeds it; the wall-clock
	 * limit is interactive_wall_ms (the CPU limit stays). */
	bool interactive;
	int time_limit_ms;              /* > 0: the run's wall-clock limit (a test case's own) */
	int cpu_weight;                 /* > 0: the run's CPU weight (sandbox_limits.h); not the compile's */
	bool artifacts;                 /* the run keeps what it leaves in out/ (every run has an out/) */
	const struct sandbox_watch *watch;  /* of the compile and the run; NULL: none */
	struct compile_gate *gate;      /* the runner's, for the compile and the check; NULL: none */
	struct lang_standby *standby;   /* the slot's, taken by a run it fits; NULL: none */
	struct syntax_memo *syntax_memo; /* the runner's; NULL: every run checks its source */
};

enum compile_status {
	COMPILE_NONE,           /* interpreted: nothing was compiled */
	COMPILE_OK,
	COMPILE_FAILED,         /* the compiler said no: res.err is its output */
	COMPILE_TIMEOUT,        /* past compile_wall_time_ms */
	COMPILE_SANDBOX_ERROR,  /* the compile's sandbox could not be built */
};

struct lang_result {
	enum compile_status compile;
	struct sandbox_result compile_res;  /* compile_res.err: the compiler's messages */
	bool compile_cached;
	struct sandbox_result run;          /* valid when compile is NONE or OK */
	bool ran;
	bool check_skipped;                 /* the source passed its check before: run_checked ran */
};

/* The program's limits (engine.conf's with the language's overrides). */
void lang_run_limits(const struct config *cfg, const struct language *l, struct sandbox_limits *out);

/* The compiler's (and the check's and probe's) limits. */
void lang_compile_limits(const struct config *cfg, const struct language *l, struct sandbox_limits *out);

/* A job in language l's sandbox view: in's source as its file in /app
 * (and in's other files), its mounts, its env; no command or limits yet. */
void lang_job(const struct language *l, const struct lang_input *in, struct sandbox_job *job);

/*
 * Compiles (if the language does; from cache when it holds this compile,
 * which may be NULL) and runs in.source. Fills res (always).
 * Returns 0, or -1 if the runner itself failed (out of memory): res then
 * says why in run.message with run.outcome SANDBOX_SETUP_FAILED.
 */
int lang_execute(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
		 struct compile_cache *cache, const struct lang_input *in, struct lang_result *res);

void lang_result_free(struct lang_result *res);

/*
 * A sandbox for a run like `like` (its language, kind and limits, and
 * run_checked's command when check_skipped) built before any such run is
 * claimed (lang_standby.h); NULL when it cannot be.
 */
struct sandbox_prepared *lang_prepare_standby(const struct sandbox_host *host, const struct config *cfg,
					      const struct language *l, const struct lang_input *like,
					      bool check_skipped);

/* The same for the compile of a run like `like` (a compiled language's). */
struct sandbox_prepared *lang_prepare_compile_standby(const struct sandbox_host *host, const struct config *cfg,
						      const struct language *l, const struct lang_input *like);

/*
 * Runs the language's check command on in.source in a sandbox with the
 * compile limits, working directory /app. Fills res (always) and, when
 * the checker ran, *diagnostics with its findings as a JSON array
 * (malloc'd; NULL otherwise). Returns 0, or -1 if the language has no
 * check or the runner itself failed.
 */
int lang_check(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
	       const struct lang_input *in, struct sandbox_result *res, char **diagnostics);

/*
 * Runs the language's version command in a sandbox (slot 0). Sets
 * l->available and l->version_text. Returns 0, or -1 with the reason in
 * err when the toolchain cannot run here (missing, or failing inside the
 * sandbox): the language is then left out.
 */
int lang_probe(const struct sandbox_host *host, const struct config *cfg, struct language *l,
	       char *err, size_t errlen);

#endif
