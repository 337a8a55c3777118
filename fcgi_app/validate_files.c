/*
 * The files of a session: the rules of a path, and the "files" array of
 * POST /code-sessions. A path becomes a file in the sandbox's /app (and in
 * its working directory), so every rule here is one a file system or a
 * shell would read differently otherwise: an absolute path, a "..", an
 * empty or "." segment, a backslash, a control character, or out/ (where
 * a run leaves its artifacts) would name another place than it seems to.
 */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* The first rule segment breaks; NULL if it is a valid one. */
static const char *segment_problem(const char *seg, size_t n, bool first)
{
	if (n == 0)
		return "has an empty segment (a leading, trailing or double /)";
	if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
		return "has a . or .. segment";
	if (first && n == 3 && memcmp(seg, "out", 3) == 0)
		return "is under out/, where a run leaves its artifacts";
	return NULL;
}

/* The first rule the bytes of path break (not its segments); NULL if none. */
static const char *bytes_problem(const char *path, size_t len)
{
	if (len == 0)
		return "is empty";
	if (len > FILE_PATH_MAX)
		return "is longer than 255 bytes";
	if (!utf8_valid(path, len))
		return "is not valid UTF-8";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f)
			return "has a NUL or control character";
		if (c == '\\')
			return "has a backslash (use / between directories)";
	}
	if (path[0] == '/')
		return "is absolute (give it relative to the session's directory)";
	return NULL;
}

int validate_file_path(const char *path, size_t len, struct verror *err)
{
	const char *why = bytes_problem(path, len);
	for (size_t start = 0; !why && start <= len;) {
		const char *slash = memchr(path + start, '/', len - start);
		size_t end = slash ? (size_t)(slash - path) : len;
		why = segment_problem(path + start, end - start, start == 0);
		start = end + 1;
	}
	if (!why)
		return 0;
	const char *f = verror_field(err, path, len);
	return verror_set(err, "INVALID_PATH", f, "the file path \"%.64s\" %s", f, why);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int validate_url_file_path(const char *raw, char *out, size_t outlen, struct verror *err)
{
	char buf[FILE_PATH_MAX + 2];    /* one more than any valid path: a longer one is refused as such */
	size_t n = 0;
	for (const char *p = raw; *p && n < sizeof buf; p++) {
		int hi, lo;
		if (*p == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0) {
			buf[n++] = (char)(hi << 4 | lo);
			p += 2;
		} else if (*p == '%') {
			return verror_set(err, "INVALID_PATH", "path", "the file path in the URL has a malformed %% escape");
		} else {
			buf[n++] = *p;
		}
	}
	if (validate_file_path(buf, n, err))
		return -1;
	if (n >= outlen)
		return verror_set(err, "INVALID_PATH", "path", "the file path is too long");
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

bool file_paths_collide(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == lb)
		return false;
	const char *shorter = la < lb ? a : b, *longer = la < lb ? b : a;
	size_t n = la < lb ? la : lb;
	return strncmp(shorter, longer, n) == 0 && longer[n] == '/';
}

/* One {"path", "content"} member of files; its path in *path, its size added to *total. */
static int check_file(json_object *f, size_t i, const struct config *cfg, const char **path, long *total,
		      struct verror *err)
{
	json_object *p, *c;
	if (!json_object_is_type(f, json_type_object) || json_object_object_length(f) != 2 ||
	    !json_object_object_get_ex(f, "path", &p) || !json_object_object_get_ex(f, "content", &c) ||
	    !json_object_is_type(p, json_type_string) || !json_object_is_type(c, json_type_string)) {
		snprintf(err->field_buf, sizeof(err->field_buf), "files[%zu]", i);
		return verror_set(err, "INVALID_FIELD", err->field_buf,
				  "%s must be an object of two strings, \"path\" and \"content\"", err->field_buf);
	}
	*path = json_object_get_string(p);
	if (validate_file_path(*path, (size_t)json_object_get_string_len(p), err))
		return -1;
	const char *content = json_object_get_string(c);
	size_t len = (size_t)json_object_get_string_len(c);
	const char *f_name = verror_field(err, *path, strlen(*path));
	if ((long)len > cfg->max_source_bytes)
		return verror_set(err, "FILE_TOO_LARGE", f_name, "the file %.64s is %zu bytes; the limit is %ld",
				  f_name, len, cfg->max_source_bytes);
	if (memchr(content, '\0', len))
		return verror_set(err, "INVALID_FIELD", f_name, "the file %.64s has a NUL character", f_name);
	*total += (long)len;
	if (*total > cfg->max_session_bytes)
		return verror_set(err, "SESSION_TOO_LARGE", f_name, "with %.64s the session's files pass "
				  "max_session_bytes (%ld bytes)", f_name, cfg->max_session_bytes);
	return 0;
}

/* A path given twice, or a file that is a directory of another. */
static int check_unique(json_object *files, size_t i, const char *path, struct verror *err)
{
	for (size_t j = 0; j < i; j++) {
		const char *other = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(files, j), "path"));
		bool same = strcmp(other, path) == 0;
		if (same || file_paths_collide(other, path)) {
			const char *f = verror_field(err, path, strlen(path));
			return verror_set(err, same ? "DUPLICATE_PATH" : "PATH_CONFLICT", f,
					  same ? "the file path %.64s is given twice"
					       : "the file path %.64s and another are a file and its directory", f);
		}
	}
	return 0;
}

int validate_files(json_object *files, const struct config *cfg, struct verror *err)
{
	if (!json_object_is_type(files, json_type_array) || json_object_array_length(files) == 0)
		return verror_set(err, "INVALID_FIELD", "files", "files must be a non-empty array of "
				  "{\"path\", \"content\"} objects");
	size_t n = json_object_array_length(files);
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		const char *path = NULL;
		if (check_file(json_object_array_get_idx(files, i), i, cfg, &path, &total, err) ||
		    check_unique(files, i, path, err))
			return -1;
		if ((long)i + 1 > cfg->max_session_files) {
			const char *f = verror_field(err, path, strlen(path));
			return verror_set(err, "TOO_MANY_FILES", f, "with %.64s the session has more than "
					  "max_session_files (%d) files", f, cfg->max_session_files);
		}
	}
	return 0;
}
