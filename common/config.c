/* Engine configuration: one table of keys with their defaults and allowed values. */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { KEY_INT, KEY_LONG, KEY_STRING };

/* One row per key: the key's name is its field's name, and conf/engine.conf
 * states every default as written here (tests/unit/test_common.c checks). */
struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *default_value; /* as it is written in conf/engine.conf */
	long min, max;           /* numbers: inclusive range; strings: max length */
	const char *choices;     /* strings: NULL, or the allowed values, "a|b|c";
				  * numbers: NULL, or a word that stands for 0 */
};

#define FIELD(f) (((struct config *)0)->f)
/* The type comes from the field, so a row can never write a long into an int. */
#define KEY_TYPE(f) _Generic(FIELD(f), int: KEY_INT, long: KEY_LONG, char *: KEY_STRING)
#define NUM_KEY(f, def, lo, hi) { #f, KEY_TYPE(f), offsetof(struct config, f), def, lo, hi, NULL }
#define STR_KEY(f, def)         { #f, KEY_TYPE(f), offsetof(struct config, f), def, 0, sizeof(FIELD(f)) - 1, NULL }
/* A number that may also be the word "auto", kept as 0: the program picks the value. */
#define AUTO_KEY(f, def, lo, hi) { #f, KEY_TYPE(f), offsetof(struct config, f), def, lo, hi, "auto" }
#define CHOICE_KEY(f, def, c)   { #f, KEY_TYPE(f), offsetof(struct config, f), def, 0, sizeof(FIELD(f)) - 1, c }
/* A limit of one execution: named like its field in struct sandbox_limits. */
#define LIMIT_KEY(f, def, lo, hi) { #f, KEY_TYPE(limits.f), offsetof(struct config, limits.f), def, lo, hi, NULL }

static const struct key keys[] = {
	NUM_KEY(port, "8000", 1, 65535),
	STR_KEY(data_dir, "data"),
	CHOICE_KEY(store, "sqlite", "sqlite|postgresql://*|postgres://*"),
	NUM_KEY(fcgi_processes, "8", 1, 256),
	NUM_KEY(runner_slots, "0", 0, 256),
	NUM_KEY(max_body_bytes, "1048576", 1024, 64L << 20),
	NUM_KEY(max_source_bytes, "262144", 1, 16L << 20),
	NUM_KEY(max_stdin_bytes, "65536", 0, 16L << 20),
	NUM_KEY(max_session_files, "64", 1, 4096),
	NUM_KEY(max_session_bytes, "1048576", 1, 64L << 20),
	NUM_KEY(max_artifacts, "16", 0, 1024),
	NUM_KEY(max_artifact_bytes, "4194304", 4096, 256L << 20),
	LIMIT_KEY(wall_time_ms, "5000", 100, 600000),
	LIMIT_KEY(cpu_time_ms, "5000", 100, 600000),
	LIMIT_KEY(memory_mb, "256", 16, 65536),
	LIMIT_KEY(max_processes, "64", 1, 4096),
	LIMIT_KEY(tmpfs_mb, "16", 1, 4096),
	LIMIT_KEY(max_open_files, "64", 8, 65536),
	LIMIT_KEY(max_output_bytes, "65536", 1024, 64L << 20),
	LIMIT_KEY(cpu_demote_after_ms, "100", 0, 600000),
	LIMIT_KEY(max_cpu_percent, "100", 10, 25600),
	NUM_KEY(max_queue_depth, "1000", 1, 10000000),
	NUM_KEY(max_runs_per_session, "5", 1, 100000),
	NUM_KEY(max_attempts, "3", 1, 100),
	NUM_KEY(lease_grace_ms, "10000", 1000, 3600000),
	NUM_KEY(sweep_interval_ms, "250", 10, 60000),
	NUM_KEY(heartbeat_interval_ms, "1000", 100, 60000),
	NUM_KEY(runner_stale_ms, "5000", 500, 3600000),
	NUM_KEY(execution_retention_days, "90", 0, 36500),
	NUM_KEY(session_idle_days, "365", 0, 36500),
	NUM_KEY(retention_interval_ms, "60000", 100, 86400000),
	NUM_KEY(page_size_default, "20", 1, 1000),
	NUM_KEY(page_size_max, "100", 1, 1000),
	AUTO_KEY(sandbox_uid_base, "200000", 1000, 2000000000L),
	STR_KEY(python, "/usr/bin/python3"),
	STR_KEY(languages_file, "languages.conf"),
	NUM_KEY(interactive_wall_ms, "60000", 100, 3600000),
	NUM_KEY(compile_wall_time_ms, "10000", 100, 600000),
	NUM_KEY(compile_memory_mb, "512", 16, 65536),
	NUM_KEY(compile_tmpfs_mb, "128", 1, 4096),
	NUM_KEY(compile_max_cpu_percent, "200", 10, 25600),
	NUM_KEY(compile_output_bytes, "65536", 1024, 64L << 20),
	NUM_KEY(compile_cache_mb, "256", 0, 1 << 20),
	STR_KEY(snapshot_dir, ""),
	NUM_KEY(compile_slots, "0", 0, 256),
	CHOICE_KEY(sandbox_mode, "auto", "auto|cgroup|rlimit"),
	CHOICE_KEY(sandbox_allow_rlimit, "no", "yes|no"),
	CHOICE_KEY(python_warm, "yes", "yes|no"),
	CHOICE_KEY(sandbox_standby, "yes", "yes|no"),
	NUM_KEY(python_warm_runs, "100", 1, 1000000),
	CHOICE_KEY(log_level, "info", "error|warn|info|debug"),
	NUM_KEY(events_keepalive_ms, "15000", 100, 600000),
	NUM_KEY(max_suite_cases, "100", 1, 10000),
	NUM_KEY(max_case_bytes, "65536", 0, 16L << 20),
	NUM_KEY(max_case_time_ms, "10000", 100, 600000),
	NUM_KEY(submission_parallel_cases, "4", 1, 1024),
	CHOICE_KEY(auth, "none", "none|token"),
	STR_KEY(auth_hs256_secret_file, ""),
	STR_KEY(auth_public_key_file, ""),
	STR_KEY(auth_issuer, ""),
	STR_KEY(auth_audience, ""),
	STR_KEY(allowed_origins, ""),
	STR_KEY(metrics_allowed_addresses, "127.0.0.1 ::1"),
	NUM_KEY(quota_runs_per_minute, "0", 0, 1000000),
	NUM_KEY(quota_concurrent_runs, "0", 0, 1000000),
	NUM_KEY(quota_sessions_per_hour, "0", 0, 1000000),
	NUM_KEY(quota_source_bytes, "0", 0, 1L << 40),
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* True if value is one of the '|'-separated words of choices; a word
 * ending in '*' allows any value that begins with the rest of the word. */
static int is_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);
	for (const char *p = choices; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL) {
		size_t w = strcspn(p, "|");
		if (w > 0 && p[w - 1] == '*' && strncmp(p, value, w - 1) == 0 && n > w - 1)
			return 1;
		if (strncmp(p, value, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return n > 0;
	}
	return 0;
}

/* Stores value into the field of key. Returns NULL, or the reason it failed,
 * naming the key and what it allows (a static buffer: config is loaded
 * once, single-threaded). */
static const char *key_set(struct config *cfg, const struct key *k, const char *value)
{
	static char why[256];
	char *field = (char *)cfg + k->offset;

	if (k->type == KEY_STRING) {
		if (strlen(value) > (size_t)k->max) {
			snprintf(why, sizeof(why), "%s: value too long (at most %ld bytes)", k->name, k->max);
			return why;
		}
		if (k->choices && !is_choice(k->choices, value)) {
			snprintf(why, sizeof(why), "%s: must be one of %s", k->name, k->choices);
			return why;
		}
		strcpy(field, value);
		return NULL;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (k->choices && strcmp(value, k->choices) == 0)
		v = 0;
	else if (errno || end == value || *end != '\0' || v < k->min || v > k->max) {
		snprintf(why, sizeof(why), "%s: %s (an integer from %ld to %ld%s%s)", k->name,
			 errno || end == value || *end != '\0' ? "not an integer" : "out of range", k->min, k->max,
			 k->choices ? ", or " : "", k->choices ? k->choices : "");
		return why;
	}
	if (k->type == KEY_INT)
		*(int *)field = (int)v;
	else
		*(long *)field = v;
	return NULL;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (key_set(cfg, &keys[i], keys[i].default_value))
			abort();        /* a default its own row refuses: the table is broken */
}

const char *config_key_name(size_t i)
{
	return i < KEY_COUNT ? keys[i].name : NULL;
}

/* Parses one line. Returns NULL, or the reason the line is wrong. */
static const char *config_line(struct config *cfg, char *line, int lineno)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *s = str_trim(line);
	if (*s == '\0')
		return NULL;
	char *eq = strchr(s, '=');
	if (!eq)
		return "expected key = value";
	*eq = '\0';
	static char why[160];
	const char *name = str_trim(s);
	const struct key *k = key_find(name);
	if (!k) {
		snprintf(why, sizeof(why), "unknown key %.100s", name);
		return why;
	}
	cfg->key_line[k - keys] = lineno;
	return key_set(cfg, k, str_trim(eq + 1));
}

/* Environment variables that override a key: where an instance runs (and,
 * for a second runner on one host, which sandbox uids it takes) is often
 * decided by whoever starts it rather than by the shared file. */
static const struct {
	const char *var, *key;
} env_keys[] = {
	{ "PORT", "port" },
	{ "DATA_DIR", "data_dir" },
	{ "ENGINE_STORE", "store" },
	{ "SANDBOX_UID_BASE", "sandbox_uid_base" },
	{ "ENGINE_SNAPSHOT_DIR", "snapshot_dir" },
};

static int config_env(struct config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
		const char *v = getenv(env_keys[i].var);
		const char *why;
		if (v && *v && (why = key_set(cfg, key_find(env_keys[i].key), v))) {
			snprintf(err, errlen, "%s: %s", env_keys[i].var, why);
			return -1;
		}
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	if (path) {
		FILE *f = fopen(path, "r");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		char line[1024];
		int lineno = 0;
		while (fgets(line, sizeof(line), f)) {
			lineno++;
			const char *why = config_line(cfg, line, lineno);
			if (why) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
				fclose(f);
				return -1;
			}
		}
		fclose(f);
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	}
	if (cfg->page_size_default > cfg->page_size_max) {
		snprintf(err, errlen, "%s: page_size_default exceeds page_size_max", path ? path : "defaults");
		return -1;
	}
	return config_env(cfg, err, errlen);
}

void config_where(const struct config *cfg, const char *key, char *out, size_t outlen)
{
	const struct key *k = key_find(key);
	int line = k ? cfg->key_line[k - keys] : 0;
	const char *file = cfg->path[0] ? cfg->path : "defaults";

	if (line)
		snprintf(out, outlen, "%s:%d", file, line);
	else
		snprintf(out, outlen, "%s", file);
}

const char *config_default_path(void)
{
	const char *p = getenv("ENGINE_CONFIG");
	return p && *p ? p : NULL;
}

int config_data_path(const struct config *cfg, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", cfg->data_dir, name);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int config_get(const struct config *cfg, const char *key, char *out, size_t outlen)
{
	const struct key *k = key_find(key);
	if (!k)
		return -1;
	const char *field = (const char *)cfg + k->offset;
	if (k->type == KEY_STRING) {
		snprintf(out, outlen, "%s", field);
		return 0;
	}
	long v = k->type == KEY_INT ? *(const int *)field : *(const long *)field;
	if (k->choices && v == 0)
		snprintf(out, outlen, "%s", k->choices);
	else
		snprintf(out, outlen, "%ld", v);
	return 0;
}

int config_languages_path(const struct config *cfg, const char *config_path, char *out, size_t outlen)
{
	const char *slash = config_path ? strrchr(config_path, '/') : NULL;
	int n;

	if (cfg->languages_file[0] == '/' || !slash)
		n = snprintf(out, outlen, "%s", cfg->languages_file);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)(slash - config_path), config_path, cfg->languages_file);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
