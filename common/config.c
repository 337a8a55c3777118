/* Engine configuration: a table of keys with types and ranges, parsed once. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { KEY_INT, KEY_LONG, KEY_STRING };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	long min, max;           /* numbers: inclusive range; strings: max length */
	const char *choices;     /* strings: NULL, or the allowed values, "a|b|c" */
};

#define INT_KEY(n, f, lo, hi)  { n, KEY_INT, offsetof(struct config, f), lo, hi, NULL }
#define LONG_KEY(n, f, lo, hi) { n, KEY_LONG, offsetof(struct config, f), lo, hi, NULL }
#define STR_KEY(n, f)          { n, KEY_STRING, offsetof(struct config, f), 0, sizeof(((struct config *)0)->f) - 1, NULL }
#define CHOICE_KEY(n, f, c)    { n, KEY_STRING, offsetof(struct config, f), 0, sizeof(((struct config *)0)->f) - 1, c }

static const struct key keys[] = {
	INT_KEY("port", port, 1, 65535),
	STR_KEY("data_dir", data_dir),
	INT_KEY("fcgi_processes", fcgi_processes, 1, 256),
	INT_KEY("runner_slots", runner_slots, 0, 256),
	LONG_KEY("max_body_bytes", max_body_bytes, 1024, 64L << 20),
	LONG_KEY("max_source_bytes", max_source_bytes, 1, 16L << 20),
	LONG_KEY("max_stdin_bytes", max_stdin_bytes, 0, 16L << 20),
	INT_KEY("wall_time_ms", wall_time_ms, 100, 600000),
	INT_KEY("cpu_time_ms", cpu_time_ms, 100, 600000),
	INT_KEY("memory_mb", memory_mb, 16, 65536),
	INT_KEY("max_processes", max_processes, 1, 4096),
	INT_KEY("tmpfs_mb", tmpfs_mb, 1, 4096),
	INT_KEY("max_open_files", max_open_files, 8, 65536),
	LONG_KEY("max_output_bytes", max_output_bytes, 1024, 64L << 20),
	INT_KEY("cpu_demote_after_ms", cpu_demote_after_ms, 0, 600000),
	INT_KEY("max_queue_depth", max_queue_depth, 1, 10000000),
	INT_KEY("max_runs_per_session", max_runs_per_session, 1, 100000),
	INT_KEY("max_attempts", max_attempts, 1, 100),
	INT_KEY("lease_grace_ms", lease_grace_ms, 1000, 3600000),
	INT_KEY("sweep_interval_ms", sweep_interval_ms, 10, 60000),
	INT_KEY("heartbeat_interval_ms", heartbeat_interval_ms, 100, 60000),
	INT_KEY("runner_stale_ms", runner_stale_ms, 500, 3600000),
	INT_KEY("page_size_default", page_size_default, 1, 1000),
	INT_KEY("page_size_max", page_size_max, 1, 1000),
	LONG_KEY("sandbox_uid_base", sandbox_uid_base, 1000, 2000000000L),
	STR_KEY("python", python),
	CHOICE_KEY("sandbox_mode", sandbox_mode, "auto|cgroup|rlimit"),
	STR_KEY("log_level", log_level),
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8000;
	strcpy(cfg->data_dir, "data");
	cfg->fcgi_processes = 4;
	cfg->runner_slots = 0;
	cfg->max_body_bytes = 1L << 20;
	cfg->max_source_bytes = 256L << 10;
	cfg->max_stdin_bytes = 64L << 10;
	cfg->wall_time_ms = 5000;
	cfg->cpu_time_ms = 5000;
	cfg->memory_mb = 256;
	cfg->max_processes = 64;
	cfg->tmpfs_mb = 16;
	cfg->max_open_files = 64;
	cfg->max_output_bytes = 64L << 10;
	cfg->cpu_demote_after_ms = 100;
	cfg->max_queue_depth = 1000;
	cfg->max_runs_per_session = 5;
	cfg->max_attempts = 3;
	cfg->lease_grace_ms = 10000;
	cfg->sweep_interval_ms = 250;
	cfg->heartbeat_interval_ms = 1000;
	cfg->runner_stale_ms = 5000;
	cfg->page_size_default = 20;
	cfg->page_size_max = 100;
	cfg->sandbox_uid_base = 200000;
	strcpy(cfg->python, "/usr/bin/python3");
	strcpy(cfg->sandbox_mode, "auto");
	strcpy(cfg->log_level, "info");
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* True if value is one of the '|'-separated words of choices. */
static int is_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);
	for (const char *p = choices; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (strncmp(p, value, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return n > 0;
	return 0;
}

/* Stores value into the field of key. Returns NULL, or the reason it failed
 * (a static buffer for choices: config is loaded once, single-threaded). */
static const char *key_set(struct config *cfg, const struct key *k, const char *value)
{
	static char why[128];
	char *field = (char *)cfg + k->offset;

	if (k->type == KEY_STRING) {
		if (strlen(value) > (size_t)k->max)
			return "value too long";
		if (k->choices && !is_choice(k->choices, value)) {
			snprintf(why, sizeof(why), "must be one of %s", k->choices);
			return why;
		}
		strcpy(field, value);
		return NULL;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0')
		return "not an integer";
	if (v < k->min || v > k->max)
		return "out of range";
	if (k->type == KEY_INT)
		*(int *)field = (int)v;
	else
		*(long *)field = v;
	return NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Parses one line. Returns NULL, or the reason the line is wrong. */
static const char *config_line(struct config *cfg, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *s = trim(line);
	if (*s == '\0')
		return NULL;
	char *eq = strchr(s, '=');
	if (!eq)
		return "expected key = value";
	*eq = '\0';
	const struct key *k = key_find(trim(s));
	if (!k)
		return "unknown key";
	return key_set(cfg, k, trim(eq + 1));
}

static int config_env(struct config *cfg, char *err, size_t errlen)
{
	const char *v = getenv("PORT");
	const char *why;
	if (v && *v && (why = key_set(cfg, key_find("port"), v))) {
		snprintf(err, errlen, "PORT: %s", why);
		return -1;
	}
	v = getenv("DATA_DIR");
	if (v && *v && (why = key_set(cfg, key_find("data_dir"), v))) {
		snprintf(err, errlen, "DATA_DIR: %s", why);
		return -1;
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
			const char *why = config_line(cfg, line);
			if (why) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
				fclose(f);
				return -1;
			}
		}
		fclose(f);
	}
	if (cfg->page_size_default > cfg->page_size_max) {
		snprintf(err, errlen, "%s: page_size_default exceeds page_size_max", path ? path : "defaults");
		return -1;
	}
	return config_env(cfg, err, errlen);
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
	if (k->type == KEY_STRING)
		snprintf(out, outlen, "%s", field);
	else if (k->type == KEY_INT)
		snprintf(out, outlen, "%d", *(const int *)field);
	else
		snprintf(out, outlen, "%ld", *(const long *)field);
	return 0;
}
