/*
 * Engine configuration: one struct, filled from a table of keys (common/config.c)
 * that gives each key its field, type, default and allowed values.
 */
#ifndef ENGINE_CONFIG_H
#define ENGINE_CONFIG_H

#include <stddef.h>

#include "sandbox_limits.h"

#define CONFIG_PATH_MAX 512
#define CONFIG_KEYS_MAX 96           /* rows the key table may grow to */

struct config {
	int port;                        /* HTTP port of lighttpd */
	char data_dir[CONFIG_PATH_MAX];  /* SQLite file, ZeroMQ socket, logs */
	char store[CONFIG_PATH_MAX];     /* sqlite (engine.db in data_dir) or postgresql://... */
	int fcgi_processes;              /* FastCGI pool size */
	int runner_slots;                /* concurrent executions, 0 = 4 x CPUs */
	long max_body_bytes;             /* whole request body */
	long max_source_bytes;           /* source_code / template_code */
	long max_stdin_bytes;
	int max_session_files;           /* files of one session, its entry included */
	long max_session_bytes;          /* all of one session's files together */
	int max_artifacts;               /* files a run may leave in out/ */
	long max_artifact_bytes;         /* all of them together, checked as they are written */
	struct sandbox_limits limits;    /* per execution */
	int max_queue_depth;             /* QUEUED executions, all sessions */
	int max_runs_per_session;        /* QUEUED + RUNNING for one session */
	int max_attempts;                /* claims before RUNNER_LOST */
	int lease_grace_ms;              /* lease = wall time + grace */
	int sweep_interval_ms;
	int heartbeat_interval_ms;
	int runner_stale_ms;             /* /health: runner gone after this */
	int execution_retention_days;    /* executions kept this long after they finished; 0 = forever */
	int session_idle_days;           /* sessions not saved this long go (with no execution left); 0 = never */
	int retention_interval_ms;       /* how often the runner looks for what retention removes */
	int page_size_default;
	int page_size_max;
	long sandbox_uid_base;           /* host uids for sandboxes, when root; 0: a block taken in the store */
	char python[CONFIG_PATH_MAX];    /* interpreter inside the sandbox */
	char languages_file[CONFIG_PATH_MAX]; /* the language table; relative: to the config file's directory */
	int interactive_wall_ms;         /* an interactive run's wall-clock limit (waiting for input) */
	int compile_wall_time_ms;        /* a compile's (or a check's) own limits */
	int compile_memory_mb;
	int compile_tmpfs_mb;
	int compile_max_cpu_percent;     /* a compiler's helper threads (JIT, GC) run beside it */
	long compile_output_bytes;
	int compile_cache_mb;            /* compiled programs kept on disk; 0 = no cache */
	char snapshot_dir[CONFIG_PATH_MAX]; /* toolchains' start-up snapshots; "": <data_dir>/snapshots */
	int compile_slots;               /* compiles and checks at once per runner, 0 = CPUs */
	char sandbox_mode[16];           /* auto, cgroup or rlimit */
	char sandbox_allow_rlimit[4];    /* yes: rlimit-only mode may run (unprotected), no: refuse it */
	char python_warm[4];             /* yes: Python runs fork from a warm interpreter per slot */
	int python_warm_runs;            /* runs a warm interpreter serves before it is replaced */
	char sandbox_standby[4];         /* yes: each slot builds its next run's sandbox ahead (lang_standby.h) */
	char log_level[16];              /* error, warn, info or debug */
	int events_keepalive_ms;         /* a comment line on an idle event stream this often */
	int max_suite_cases;             /* cases of one test suite */
	long max_case_bytes;             /* a case's stdin, and its expected_stdout, each */
	int max_case_time_ms;            /* the largest time_limit_ms a case may ask for */
	int submission_parallel_cases;   /* cases of one submission running at once, all runners */
	char auth[8];                    /* none, or token: every API request needs a bearer token */
	char auth_hs256_secret_file[CONFIG_PATH_MAX]; /* HS256: the shared secret (mode 0600 or stricter) */
	char auth_public_key_file[CONFIG_PATH_MAX];   /* RS256 / ES256: the platform's public key (PEM) */
	char auth_issuer[256];           /* "" or the iss every token must carry */
	char auth_audience[256];         /* "" or a value the aud of every token must hold */
	char allowed_origins[1024];      /* browser origins allowed by CORS, space-separated */
	char metrics_allowed_addresses[256]; /* with auth = token: client addresses /metrics answers */
	/* Per learner (a token's sub; with auth = none, a client address); 0 = no limit. */
	int quota_runs_per_minute;       /* runs, checks and submissions started in any 60 s */
	int quota_concurrent_runs;       /* runs queued or running at once (a submission is one) */
	int quota_sessions_per_hour;     /* sessions created in any 3600 s */
	long quota_source_bytes;         /* source_code bytes of all the learner's sessions */
	int key_line[CONFIG_KEYS_MAX];   /* where each key was set in the file, by table index; 0 = not */
	char path[CONFIG_PATH_MAX];      /* the file read, or "" */
};

/* Fills cfg with the built-in defaults, the table's. */
void config_defaults(struct config *cfg);

/*
 * Reads "key = value" lines from path over the current values, then applies
 * the PORT, DATA_DIR and ENGINE_STORE environment overrides. Returns 0, or -1 with a
 * "file:line: reason" message in err.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* The config file named by $ENGINE_CONFIG, or NULL for defaults only. */
const char *config_default_path(void);

/* Writes "<data_dir>/<name>" into out. Returns 0, or -1 if it does not fit. */
int config_data_path(const struct config *cfg, const char *name, char *out, size_t outlen);

/* Writes the value of key as text into out. Returns 0, or -1 for an unknown key. */
int config_get(const struct config *cfg, const char *key, char *out, size_t outlen);

/*
 * The path of the language table: languages_file as written if absolute,
 * else relative to the directory of config_path (the current directory
 * when config_path is NULL). Returns 0, or -1 if it does not fit.
 */
int config_languages_path(const struct config *cfg, const char *config_path, char *out, size_t outlen);

/*
 * Writes where key was set into out: "file:line", or "file" (or "defaults")
 * when the file does not set it, for messages about a key's value.
 */
void config_where(const struct config *cfg, const char *key, char *out, size_t outlen);

/* The name of the i-th key of the table, or NULL past the last one. */
const char *config_key_name(size_t i);

#endif
