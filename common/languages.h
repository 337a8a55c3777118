/*
 * The languages the engine can run: one table, read at start from a
 * configuration file (conf/languages.conf), one section per language.
 * Adding a language is a section in that file (plus its tests), never code.
 *
 *   [c]
 *   name     = C
 *   file     = main.c
 *   version  = /usr/bin/gcc --version
 *   compile  = /usr/bin/gcc -std=c17 -O2 -o /tmp/out/main main.c -lm
 *   run      = /app/main
 *
 * Commands are argv words split on blanks ("double quotes" keep blanks in a
 * word); they are exec'd directly inside the sandbox, never by a shell.
 */
#ifndef ENGINE_LANGUAGES_H
#define ENGINE_LANGUAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox_limits.h"

enum {
	LANG_ID_MAX = 32,
	LANG_NAME_MAX = 64,
	LANG_FILE_MAX = 64,
	LANG_WORDS = 48,        /* argv words of one command */
	LANG_MOUNTS = 4,        /* extra read-only host directories */
	LANG_ENV = 8,           /* extra environment variables */
	LANG_PACKAGES = 32,     /* Debian packages a program may use, shown in GET /languages */
	LANG_VERSION_MAX = 32,
	LANG_PATH_MAX = 512,
	LANGUAGES_MAX = 32,
};

/* One command: argv[0] is an absolute path; argv[n] is NULL. */
struct lang_cmd {
	int n;
	char *argv[LANG_WORDS + 1];
};

/*
 * Per-language changes to the engine's limits; 0 keeps the engine's value.
 * as_mb replaces the RLIMIT_AS fence (JITs reserve far more address space
 * than they use: the JVM's heap and code cache, V8's cage).
 */
struct lang_limits {
	int memory_mb;
	int max_processes;
	int max_open_files;
	int tmpfs_mb;
	int as_mb;
	int cpu_demote_after_ms;        /* a runtime whose own start costs more CPU than the engine's threshold */
};

struct language {
	char id[LANG_ID_MAX];
	char name[LANG_NAME_MAX];               /* shown to people */
	char file[LANG_FILE_MAX];               /* the learner's file name, e.g. Main.java */
	struct lang_cmd version;                /* prints the toolchain's version */
	struct lang_cmd compile;                /* n == 0: interpreted */
	struct lang_cmd run;
	struct lang_cmd check;                  /* n == 0: no check */
	char diagnostics[16];                   /* how check output is parsed */
	/* The run command checks the learner's file first and reports a
	 * syntax error on the sandbox's syntax channel (SANDBOX_SYNTAX_FD),
	 * which it closes before the learner's code starts: a report there
	 * ends the execution as a compile error. */
	bool syntax_channel;
	/* With syntax_channel: the run of a source that passed the check
	 * before (runner/syntax_memo.h), without the check; n == 0: none. */
	struct lang_cmd run_checked;
	/* The toolchain's start-up snapshot (runner/toolchain_snapshot.h): the
	 * command that builds it into /tmp/out, with snapshot_script's text as
	 * the file in /app (its path absolute, or relative to the table's
	 * file, made absolute when loaded; none: an empty file); n == 0: none.
	 * In a word of compile or check, "{snapshot}" stands for the directory
	 * of the snapshot's files (lang_cmd_snapshot). */
	struct lang_cmd snapshot;
	char snapshot_script[LANG_PATH_MAX];
	int nmounts;
	char *mounts[LANG_MOUNTS + 1];          /* and the snapshot's directory, once there is one */              /* absolute host directories, bound read-only */
	int nenv;
	char *env[LANG_ENV + 1];                /* "KEY=value", NULL-terminated */
	int npackages;
	char *packages[LANG_PACKAGES];          /* Debian package names (python3-numpy, ...) */
	struct lang_limits limits;
	struct lang_limits compile_limits;      /* compile_memory_mb = ..., over the engine's */
	/* Filled by the runner at start: */
	bool available;
	char version_text[LANG_VERSION_MAX];
};

struct language_table {
	int n;
	struct language *langs;
};

/*
 * Reads path into t (zeroed first). Returns 0, or -1 with "file:line:
 * reason" in err (unknown key, a command that is not an absolute path, a
 * duplicate id, a section without name, file or run, ...).
 */
int languages_load(struct language_table *t, const char *path, char *err, size_t errlen);

void languages_free(struct language_table *t);

/* The row of id, or NULL. */
const struct language *languages_find(const struct language_table *t, const char *id);

/* Writes the ids of t, ", "-separated, into out (truncated to fit). */
void languages_ids(const struct language_table *t, char *out, size_t outlen);

/*
 * to = from with each word that holds "{snapshot}" rewritten with path in
 * its place, or left out when path is NULL (no snapshot). Returns 0, or
 * -1 (out of memory, a word too long; to is then empty).
 */
int lang_cmd_snapshot(const struct lang_cmd *from, const char *path, struct lang_cmd *to);

/* Frees c's words; c is then empty. */
void lang_cmd_free(struct lang_cmd *c);

/* base with the overrides of o applied. */
void lang_limits_apply(const struct lang_limits *o, const struct sandbox_limits *base,
		       struct sandbox_limits *out);

/* Extracts the first version number ("12.2.0", "1.19.8") of a toolchain's
 * --version line into out; the trimmed first line if it has none. */
void languages_version_from(const char *text, char *out, size_t outlen);

#endif
