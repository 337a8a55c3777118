/* The language table (languages.h): parsing conf/languages.conf. */
#include "languages.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPSHOT_WORD "{snapshot}"

enum field_kind { F_TEXT, F_CMD, F_MOUNTS, F_ENV, F_PACKAGES, F_LIMIT, F_FLAG };

/* One row per key of a section. */
struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;
	size_t size;            /* F_TEXT: buffer size */
	int max;                /* F_LIMIT: inclusive upper bound */
};

#define LFIELD(f) (((struct language *)0)->f)
#define TEXT(f)  { #f, F_TEXT, offsetof(struct language, f), sizeof(LFIELD(f)), 0 }
#define CMD(f)   { #f, F_CMD, offsetof(struct language, f), 0, 0 }
#define LIMIT(key, f, hi) { key, F_LIMIT, offsetof(struct language, f), 0, hi }
#define FLAG(f)  { #f, F_FLAG, offsetof(struct language, f), 0, 0 }

static const struct field fields[] = {
	TEXT(name),
	TEXT(file),
	TEXT(diagnostics),
	CMD(version),
	CMD(compile),
	CMD(run),
	CMD(check),
	FLAG(syntax_channel),
	CMD(run_checked),
	CMD(snapshot),
	TEXT(snapshot_script),
	{ "mounts", F_MOUNTS, 0, 0, 0 },
	{ "env", F_ENV, 0, 0, 0 },
	{ "packages", F_PACKAGES, 0, 0, 0 },
	LIMIT("memory_mb", limits.memory_mb, 65536),
	LIMIT("max_processes", limits.max_processes, 4096),
	LIMIT("max_open_files", limits.max_open_files, 65536),
	LIMIT("tmpfs_mb", limits.tmpfs_mb, 4096),
	LIMIT("as_mb", limits.as_mb, 1 << 20),
	LIMIT("cpu_demote_after_ms", limits.cpu_demote_after_ms, 600000),
	LIMIT("compile_memory_mb", compile_limits.memory_mb, 65536),
	LIMIT("compile_max_processes", compile_limits.max_processes, 4096),
	LIMIT("compile_tmpfs_mb", compile_limits.tmpfs_mb, 4096),
	LIMIT("compile_as_mb", compile_limits.as_mb, 1 << 20),
};

#define NFIELDS (sizeof fields / sizeof fields[0])

static void free_words(char **words, int *n)
{
	for (int i = 0; i < *n; i++) {
		free(words[i]);
		words[i] = NULL;
	}
	*n = 0;
}

/*
 * Replaces words[0 .. *n) by the words of s, at most max: blanks separate,
 * "double quotes" keep blanks inside a word (no escapes). Each word is
 * malloc'd; *n counts them even on failure. Returns NULL, or the reason.
 */
static const char *set_words(char **words, int *n, int max, const char *s)
{
	free_words(words, n);
	while (*s) {
		char buf[1024];
		size_t len = 0;
		bool quoted = false;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (; *s && (quoted || !isspace((unsigned char)*s)); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (len + 1 < sizeof buf)
				buf[len++] = *s;
			else
				return "word too long";
		}
		if (quoted)
			return "unterminated quote";
		if (*n == max)
			return "too many words";
		buf[len] = '\0';
		if (!(words[*n] = strdup(buf)))
			return "out of memory";
		(*n)++;
	}
	return NULL;
}

static const char *set_cmd(struct lang_cmd *c, const char *value)
{
	const char *why = set_words(c->argv, &c->n, LANG_WORDS, value);

	if (why)
		return why;
	if (c->n == 0)
		return "empty command";
	if (c->argv[0][0] != '/' && strcmp(c->argv[0], "{python}") != 0)
		return "a command must start with an absolute path (no shell, no PATH search)";
	return NULL;
}

static const char *set_mounts(struct language *l, const char *value)
{
	const char *why = set_words(l->mounts, &l->nmounts, LANG_MOUNTS, value);

	for (int i = 0; !why && i < l->nmounts; i++)
		if (l->mounts[i][0] != '/' || strstr(l->mounts[i], "..") || strcmp(l->mounts[i], "/") == 0)
			why = "mounts must be absolute directories without ..";
	return why;
}

static const char *set_env(struct language *l, const char *value)
{
	const char *why = set_words(l->env, &l->nenv, LANG_ENV, value);

	for (int i = 0; !why && i < l->nenv; i++)
		if (!strchr(l->env[i], '=') || l->env[i][0] == '=')
			why = "env takes KEY=value words";
	return why;
}

/* Debian package names: lower-case letters, digits, + - . (Debian Policy 5.6.1). */
static const char *set_packages(struct language *l, const char *value)
{
	const char *why = set_words(l->packages, &l->npackages, LANG_PACKAGES, value);

	for (int i = 0; !why && i < l->npackages; i++)
		if (strspn(l->packages[i], "abcdefghijklmnopqrstuvwxyz0123456789+-.") != strlen(l->packages[i]))
			why = "packages takes Debian package names";
	return why;
}

static const char *set_limit(int *field, const char *value, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0')
		return "not an integer";
	if (v < 1 || v > max)
		return "out of range";
	*field = (int)v;
	return NULL;
}

static const char *set_flag(bool *field, const char *value)
{
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
		return "expected yes or no";
	*field = strcmp(value, "yes") == 0;
	return NULL;
}

static const char *set_field(struct language *l, const struct field *f, const char *value)
{
	char *p = (char *)l + f->offset;

	switch (f->kind) {
	case F_TEXT:
		if (strlen(value) >= f->size)
			return "value too long";
		strcpy(p, value);
		return NULL;
	case F_CMD:
		return set_cmd((struct lang_cmd *)(void *)p, value);
	case F_MOUNTS:
		return set_mounts(l, value);
	case F_ENV:
		return set_env(l, value);
	case F_PACKAGES:
		return set_packages(l, value);
	case F_LIMIT:
		return set_limit((int *)(void *)p, value, f->max);
	case F_FLAG:
		return set_flag((bool *)(void *)p, value);
	}
	return "unknown key";
}

/* Letters, digits, '+', '-', '_': ids appear in URLs' JSON and logs. */
static bool valid_id(const char *id)
{
	if (!*id || strlen(id) >= LANG_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("+-_", *p))
			return false;
	return true;
}

/* The learner's file: a plain name, no directory part, no dot file. */
static bool valid_file(const char *f)
{
	return f[0] && f[0] != '.' && !strchr(f, '/');
}

static bool names_snapshot(const struct lang_cmd *c)
{
	for (int i = 0; i < c->n; i++)
		if (strstr(c->argv[i], SNAPSHOT_WORD))
			return true;
	return false;
}

static const char *section_complete(const struct language *l)
{
	if (!l->name[0])
		return "missing name";
	if (!valid_file(l->file))
		return "missing or invalid file (a plain file name)";
	if (!l->run.n)
		return "missing run";
	if (!l->version.n)
		return "missing version";
	if (l->run_checked.n && !l->syntax_channel)
		return "run_checked without syntax_channel = yes";
	if (l->snapshot_script[0] && !l->snapshot.n)
		return "snapshot_script without snapshot";
	if (l->snapshot.n && (!l->compile.n || !l->check.n))
		return "snapshot without compile and check";
	if (!l->snapshot.n && (names_snapshot(&l->compile) || names_snapshot(&l->check)))
		return "{snapshot} without snapshot";
	return NULL;
}

static const char *open_section(struct language_table *t, char *s)
{
	size_t n = strlen(s);

	if (s[n - 1] != ']')
		return "expected [id]";
	s[n - 1] = '\0';
	s = str_trim(s + 1);
	if (!valid_id(s))
		return "invalid language id (lower-case letters, digits, + - _)";
	if (languages_find(t, s))
		return "duplicate language id";
	if (t->n == LANGUAGES_MAX)
		return "too many languages";
	memset(&t->langs[t->n], 0, sizeof t->langs[0]);
	snprintf(t->langs[t->n].id, LANG_ID_MAX, "%s", s);
	t->n++;
	return NULL;
}

/* The comment of a line: from its first '#' outside "double quotes" (a
 * shell command in a quoted word may hold one: ${x#prefix}). NULL: none. */
static char *comment_of(char *line)
{
	bool quoted = false;

	for (char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted)
			return p;
	}
	return NULL;
}

static const char *parse_line(struct language_table *t, char *line)
{
	char *hash = comment_of(line);
	char *s, *eq;

	if (hash)
		*hash = '\0';
	s = str_trim(line);
	if (!*s)
		return NULL;
	if (*s == '[') {
		const char *why = t->n ? section_complete(&t->langs[t->n - 1]) : NULL;
		return why ? why : open_section(t, s);
	}
	if (!t->n)
		return "key outside a [language] section";
	if (!(eq = strchr(s, '=')))
		return "expected key = value";
	*eq = '\0';
	s = str_trim(s);
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].name, s) == 0)
			return set_field(&t->langs[t->n - 1], &fields[i], str_trim(eq + 1));
	return "unknown key";
}

/* A relative snapshot_script is beside the table's file. Returns 0, or -1 if it does not fit. */
static int script_beside(struct language *l, const char *table_path)
{
	const char *slash = strrchr(table_path, '/');
	char path[LANG_PATH_MAX];
	int n;

	if (!l->snapshot_script[0] || l->snapshot_script[0] == '/' || !slash)
		return 0;
	n = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - table_path), table_path, l->snapshot_script);
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	memcpy(l->snapshot_script, path, (size_t)n + 1);
	return 0;
}

int languages_load(struct language_table *t, const char *path, char *err, size_t errlen)
{
	char line[2048];
	int lineno = 0;
	const char *why = NULL;
	FILE *f;

	memset(t, 0, sizeof *t);
	if (!(t->langs = calloc(LANGUAGES_MAX, sizeof t->langs[0]))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!(f = fopen(path, "r"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		languages_free(t);
		return -1;
	}
	while (!why && fgets(line, sizeof line, f)) {
		lineno++;
		why = parse_line(t, line);
	}
	fclose(f);
	if (!why && t->n)
		why = section_complete(&t->langs[t->n - 1]);
	else if (!why)
		why = "no languages";
	if (why) {
		snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
		languages_free(t);
		return -1;
	}
	for (int i = 0; i < t->n; i++)
		if (script_beside(&t->langs[i], path)) {
			snprintf(err, errlen, "%s: [%s] snapshot_script: path too long", path, t->langs[i].id);
			languages_free(t);
			return -1;
		}
	return 0;
}

void lang_cmd_free(struct lang_cmd *c)
{
	free_words(c->argv, &c->n);
}

int lang_cmd_snapshot(const struct lang_cmd *from, const char *path, struct lang_cmd *to)
{
	memset(to, 0, sizeof *to);
	for (int i = 0; i < from->n; i++) {
		const char *w = from->argv[i], *at = strstr(w, SNAPSHOT_WORD);
		char buf[LANG_PATH_MAX + 256];
		int n;

		if (at && !path)
			continue;
		if (at)
			n = snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - w), w, path, at + strlen(SNAPSHOT_WORD));
		else
			n = snprintf(buf, sizeof buf, "%s", w);
		if (n < 0 || (size_t)n >= sizeof buf || !(to->argv[to->n] = strdup(buf))) {
			lang_cmd_free(to);
			return -1;
		}
		to->n++;
	}
	return 0;
}

void languages_free(struct language_table *t)
{
	for (int i = 0; t->langs && i < t->n; i++) {
		struct language *l = &t->langs[i];
		free_words(l->version.argv, &l->version.n);
		free_words(l->compile.argv, &l->compile.n);
		free_words(l->run.argv, &l->run.n);
		free_words(l->check.argv, &l->check.n);
		free_words(l->run_checked.argv, &l->run_checked.n);
		free_words(l->snapshot.argv, &l->snapshot.n);
		free_words(l->mounts, &l->nmounts);
		free_words(l->env, &l->nenv);
		free_words(l->packages, &l->npackages);
	}
	free(t->langs);
	t->langs = NULL;
	t->n = 0;
}

const struct language *languages_find(const struct language_table *t, const char *id)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->langs[i].id, id) == 0)
			return &t->langs[i];
	return NULL;
}

void languages_ids(const struct language_table *t, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen)
		out[0] = '\0';
	for (int i = 0; i < t->n && used < outlen; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", t->langs[i].id);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void lang_limits_apply(const struct lang_limits *o, const struct sandbox_limits *base,
		       struct sandbox_limits *out)
{
	*out = *base;
	if (o->memory_mb)
		out->memory_mb = o->memory_mb;
	if (o->max_processes)
		out->max_processes = o->max_processes;
	if (o->max_open_files)
		out->max_open_files = o->max_open_files;
	if (o->tmpfs_mb)
		out->tmpfs_mb = o->tmpfs_mb;
	if (o->as_mb)
		out->as_mb = o->as_mb;
	if (o->cpu_demote_after_ms && out->cpu_demote_after_ms)
		out->cpu_demote_after_ms = o->cpu_demote_after_ms;
}

void languages_version_from(const char *text, char *out, size_t outlen)
{
	const char *end = strchr(text, '\n');
	size_t linelen = end ? (size_t)(end - text) : strlen(text);

	for (size_t i = 0; i < linelen; i++) {
		size_t j = i;
		bool dot = false;

		if (!isdigit((unsigned char)text[i]) || (i > 0 && isdigit((unsigned char)text[i - 1])))
			continue;
		while (j < linelen && (isdigit((unsigned char)text[j]) || text[j] == '.'))
			dot |= text[j++] == '.';
		while (j > i && text[j - 1] == '.')
			j--;
		if (dot) {
			snprintf(out, outlen, "%.*s", (int)(j - i), text + i);
			return;
		}
	}
	while (linelen > 0 && isspace((unsigned char)text[linelen - 1]))
		linelen--;
	snprintf(out, outlen, "%.*s", (int)linelen, text);
}
