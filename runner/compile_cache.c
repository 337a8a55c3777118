/* The compile cache (compile_cache.h). */
#include "compile_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnv.h"
#include "log.h"

#define CACHE_DIR "compile-cache"
/* Entries of format 1 (a checksum byte by byte) are dropped on sight. */
#define MAGIC "LCECACH2"
#define MAGIC_STEM 7                    /* "LCECACH": an entry of some format */

/* magic, checksum, then three length-prefixed parts: key, messages, artifacts. */
enum { HEADER = 16, PARTS = 3 };
/* Stores after which the directory is listed again even under the bound:
 * the count drifts when entries are removed behind its back. */
enum { RESCAN_PUTS = 256 };

static void evict(struct compile_cache *c);

/*
 * The checksum of an entry's contents: FNV-1a over 64-bit words, then the
 * tail byte by byte. A compiled program is megabytes (Go's hello world
 * is 1.8 MB); byte by byte, its checksum cost 2 ms at each store and each
 * hit. It guards against truncation and bit rot, not against an attacker:
 * the directory is the runner's own.
 */
static uint64_t checksum(const char *p, size_t n)
{
	return fnv1a_words(FNV_OFFSET, p, n);
}

/* A growing byte buffer; on allocation failure ok turns false. */
struct buf {
	char *p;
	size_t len, size;
	bool ok;
};

static void buf_add(struct buf *b, const void *data, size_t n)
{
	if (!b->ok)
		return;
	if (b->len + n > b->size) {
		size_t size = (b->len + n) * 2;
		char *p = realloc(b->p, size);
		if (!p) {
			b->ok = false;
			return;
		}
		b->p = p;
		b->size = size;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void buf_add_part(struct buf *b, const void *data, size_t n)
{
	uint64_t len = n;

	buf_add(b, &len, sizeof len);
	buf_add(b, data, n);
}

/* The key as bytes: every field NUL-terminated, the source last. */
static void key_bytes(const struct compile_key *k, struct buf *b)
{
	buf_add(b, k->language, strlen(k->language) + 1);
	buf_add(b, k->version, strlen(k->version) + 1);
	for (size_t i = 0; k->argv[i]; i++)
		buf_add(b, k->argv[i], strlen(k->argv[i]) + 1);
	buf_add(b, "", 1);
	buf_add(b, k->source, k->source_len);
}

static void entry_name(const struct buf *key, char name[17])
{
	snprintf(name, 17, "%016llx", (unsigned long long)fnv1a(FNV_OFFSET, key->p, key->len));
}

int compile_cache_open(struct compile_cache *c, const char *data_dir, int max_mb, char *err, size_t errlen)
{
	int data;

	c->dir_fd = -1;
	c->max_bytes = (uint64_t)max_mb << 20;
	c->bytes = 0;
	c->puts_since_listed = 0;
	pthread_mutex_init(&c->lock, NULL);
	if (max_mb == 0)
		return 0;
	data = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (data < 0 || (mkdirat(data, CACHE_DIR, 0700) < 0 && errno != EEXIST) ||
	    (c->dir_fd = openat(data, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "compile cache %.300s/%s: %s", data_dir, CACHE_DIR, strerror(errno));
		if (data >= 0)
			close(data);
		return -1;
	}
	close(data);
	evict(c);                       /* counts what a former run left, and bounds it */
	return 0;
}

void compile_cache_close(struct compile_cache *c)
{
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	c->dir_fd = -1;
	pthread_mutex_destroy(&c->lock);
}

/* Reads the whole regular file fd into *out (malloc'd). Returns 0 or -1. */
static int read_all(int fd, uint64_t max, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return -1;
	if (!(*out = malloc((size_t)st.st_size + 1)))
		return -1;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *out + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

/* Whether p is a whole entry's header of another format than this one's. */
static bool older_format(const char *p, size_t len)
{
	return len >= HEADER && memcmp(p, MAGIC, MAGIC_STEM) == 0 && memcmp(p, MAGIC, 8) != 0;
}

/* Splits an entry into its parts. Returns 0, or -1 if it is corrupt. */
static int parse(const char *p, size_t len, const char *part[PARTS], size_t part_len[PARTS])
{
	uint64_t sum;
	size_t off = HEADER;

	if (len < HEADER || memcmp(p, MAGIC, 8) != 0)
		return -1;
	memcpy(&sum, p + 8, sizeof sum);
	if (sum != checksum(p + HEADER, len - HEADER))
		return -1;
	for (int i = 0; i < PARTS; i++) {
		uint64_t n;
		if (len - off < sizeof n)
			return -1;
		memcpy(&n, p + off, sizeof n);
		off += sizeof n;
		if (n > len - off)
			return -1;
		part[i] = p + off;
		part_len[i] = (size_t)n;
		off += (size_t)n;
	}
	return off == len ? 0 : -1;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int compile_cache_get(struct compile_cache *c, const struct compile_key *key, struct compile_entry *e)
{
	struct buf k = { .ok = true };
	const char *part[PARTS];
	size_t part_len[PARTS], len = 0;
	char name[17], *data = NULL;
	int fd, rc = 0;

	memset(e, 0, sizeof *e);
	if (c->dir_fd < 0)
		return 0;
	key_bytes(key, &k);
	if (!k.ok)
		return free(k.p), -1;
	entry_name(&k, name);
	fd = openat(c->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || read_all(fd, c->max_bytes, &data, &len) < 0) {
		/* no entry (or an unreadable one): compile */
	} else if (older_format(data, len)) {
		unlinkat(c->dir_fd, name, 0);   /* an earlier release's: compiled again, stored anew */
	} else if (parse(data, len, part, part_len) < 0) {
		log_warn("compile cache: entry %s is corrupt or truncated: removed, compiling again", name);
		unlinkat(c->dir_fd, name, 0);
	} else if (part_len[0] == k.len && memcmp(part[0], k.p, k.len) == 0) {
		e->messages = dup_bytes(part[1], part_len[1]);
		e->messages_len = part_len[1];
		e->artifacts = dup_bytes(part[2], part_len[2]);
		e->artifacts_len = part_len[2];
		rc = e->messages && e->artifacts ? 1 : -1;
		if (rc < 0)
			compile_entry_free(e);
		else
			futimens(fd, NULL);     /* its last use, for LRU */
	}
	if (fd >= 0)
		close(fd);
	free(data);
	free(k.p);
	return rc;
}

struct cached_file {
	char name[32];
	off_t size;
	struct timespec used;
};

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cached_file *)a)->used;
	const struct timespec *y = &((const struct cached_file *)b)->used;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Lists the entries (names of 16 hex digits) into *files. Returns the count or -1. */
static int list_entries(int dir_fd, struct cached_file **files, uint64_t *total)
{
	int fd = dup(dir_fd), n = 0, cap = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	*files = NULL;
	*total = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;
		if (strlen(de->d_name) != 16 || fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct cached_file *p = realloc(*files, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *p);
			if (!p)
				break;
			*files = p;
		}
		memcpy((*files)[n].name, de->d_name, 17); /* 16 characters and the NUL, checked above */
		(*files)[n].size = st.st_size;
		(*files)[n].used = st.st_mtim;
		*total += (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	return n;
}

/* Lists the directory and, past the bound, removes the least recently
 * used entries until a tenth of the bound is free, so that a full cache is
 * not listed again at its next store; the count becomes what is left. */
static void evict(struct compile_cache *c)
{
	struct cached_file *files;
	uint64_t total, target = c->max_bytes - c->max_bytes / 10;
	int n;

	pthread_mutex_lock(&c->lock);
	n = list_entries(c->dir_fd, &files, &total);
	if (n > 0 && total > c->max_bytes) {
		qsort(files, (size_t)n, sizeof *files, older_first);
		for (int i = 0; i < n && total > target; i++)
			if (unlinkat(c->dir_fd, files[i].name, 0) == 0 || errno == ENOENT)
				total -= (uint64_t)files[i].size;
	}
	if (n >= 0) {
		c->bytes = total;
		c->puts_since_listed = 0;
	}
	free(files);
	pthread_mutex_unlock(&c->lock);
}

/* Counts a stored entry; true when the directory must be listed again. */
static bool count_put(struct compile_cache *c, size_t len)
{
	bool list;

	pthread_mutex_lock(&c->lock);
	c->bytes += len;
	list = c->bytes > c->max_bytes || ++c->puts_since_listed >= RESCAN_PUTS;
	pthread_mutex_unlock(&c->lock);
	return list;
}

/* Writes b as a new file, then renames it to name: a reader sees a whole
 * entry or none. Returns 0, or -1 with errno. */
static int write_entry(int dir_fd, const char *name, const struct buf *b)
{
	static atomic_uint seq;
	char tmp[64];
	size_t off = 0;
	int fd, e;

	snprintf(tmp, sizeof tmp, ".tmp-%d-%u", (int)getpid(), atomic_fetch_add(&seq, 1));
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	e = errno;
	if (close(fd) < 0 || off < b->len || renameat(dir_fd, tmp, dir_fd, name) < 0) {
		e = off < b->len ? e : errno;
		unlinkat(dir_fd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

void compile_cache_put(struct compile_cache *c, const struct compile_key *key, const char *artifacts,
		       size_t artifacts_len, const char *messages, size_t messages_len)
{
	struct buf k = { .ok = true }, b = { .ok = true };
	char name[17];
	uint64_t sum;

	if (c->dir_fd < 0 || artifacts_len + messages_len > c->max_bytes)
		return;
	key_bytes(key, &k);
	buf_add(&b, MAGIC, 8);
	buf_add(&b, &(uint64_t){ 0 }, 8);
	buf_add_part(&b, k.p, k.len);
	buf_add_part(&b, messages, messages_len);
	buf_add_part(&b, artifacts, artifacts_len);
	if (k.ok && b.ok) {
		sum = checksum(b.p + HEADER, b.len - HEADER);
		memcpy(b.p + 8, &sum, sizeof sum);
		entry_name(&k, name);
		if (write_entry(c->dir_fd, name, &b) < 0)
			log_warn("compile cache: cannot store %s: %s", name, strerror(errno));
		else if (count_put(c, b.len))
			evict(c);
	}
	free(k.p);
	free(b.p);
}

void compile_entry_free(struct compile_entry *e)
{
	free(e->artifacts);
	free(e->messages);
	e->artifacts = e->messages = NULL;
}
