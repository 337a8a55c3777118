/*
 * The compile cache: a compiled program (the artifact stream of a compile,
 * see sandbox.h) and the compiler's messages, kept on disk under
 * <data_dir>/compile-cache by the key (language, toolchain version, compile
 * command, source). A Run of unchanged code skips the compiler.
 *
 * Bounded: past max_bytes the least recently used entries are removed,
 * until a tenth of it is free (an entry's mtime is its last use). The
 * cache counts the bytes it holds, so a store lists the directory only
 * when it goes past the bound (or every 256 stores, to correct the count):
 * a full cache holds thousands of entries, and listing them at every store
 * cost milliseconds per compile, under the lock every slot's store takes.
 * Survives restarts. Every entry carries a
 * checksum of its contents and the whole key: a corrupt or truncated entry,
 * or one whose key only hashes alike, is never used (a corrupt one is
 * removed and the program compiled again).
 *
 * The directory is the runner's own (mode 0700); every file operation is
 * relative to its fd, with O_NOFOLLOW, because the data directory around
 * it is writable by the web server's group. Thread-safe: slots share one
 * cache.
 */
#ifndef RUNNER_COMPILE_CACHE_H
#define RUNNER_COMPILE_CACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct compile_cache {
	int dir_fd;                     /* -1: disabled */
	uint64_t max_bytes;
	pthread_mutex_t lock;           /* eviction, and the two below */
	uint64_t bytes;                 /* held, as last listed plus stored since */
	unsigned puts_since_listed;
};

/* What identifies one compile. */
struct compile_key {
	const char *language;
	const char *version;
	const char *const *argv;        /* the compile command, NULL-terminated */
	const char *source;
	size_t source_len;
};

/* A cached compile: both buffers malloc'd (free with compile_entry_free). */
struct compile_entry {
	char *artifacts;
	size_t artifacts_len;
	char *messages;
	size_t messages_len;
};

/* Opens (creating it) <data_dir>/compile-cache; max_mb 0 disables the
 * cache. Returns 0, or -1 with the reason in err. */
int compile_cache_open(struct compile_cache *c, const char *data_dir, int max_mb, char *err, size_t errlen);

void compile_cache_close(struct compile_cache *c);

/* Looks key up. Returns 1 (e filled, its use recorded), 0 (no usable
 * entry; a corrupt one was removed), or -1 (out of memory). */
int compile_cache_get(struct compile_cache *c, const struct compile_key *key, struct compile_entry *e);

/* Stores a successful compile under key, then evicts past the bound.
 * Failures are logged and otherwise ignored: the cache is an optimisation. */
void compile_cache_put(struct compile_cache *c, const struct compile_key *key, const char *artifacts,
		       size_t artifacts_len, const char *messages, size_t messages_len);

void compile_entry_free(struct compile_entry *e);

#endif
