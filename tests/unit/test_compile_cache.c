/* The compile cache (runner/compile_cache.c) on a real directory. */
#include "check.h"
#include "compile_cache.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const gcc[] = { "/usr/bin/gcc", "-O2", "main.c", NULL };

static struct compile_key key_of(const char *source)
{
	return (struct compile_key){ "c", "12.2.0", gcc, source, strlen(source) };
}

static int open_cache(struct compile_cache *c, char *dir, int max_mb)
{
	char err[256];
	strcpy(dir, "/tmp/engine-unit-cache-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return compile_cache_open(c, dir, max_mb, err, sizeof err);
}

static void remove_cache(struct compile_cache *c, const char *dir)
{
	char cmd[128];
	compile_cache_close(c);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);       /* a test's own temporary directory */
	CHECK(system(cmd) == 0);
}

/* The path of the one entry in the cache, for tampering with it. */
static int entry_path(const char *dir, char *out, size_t outlen)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls %s/compile-cache | head -1", dir);
	FILE *p = popen(cmd, "r");
	char name[64] = "";
	if (!p || !fgets(name, sizeof name, p))
		return -1;
	pclose(p);
	name[strcspn(name, "\n")] = '\0';
	snprintf(out, outlen, "%s/compile-cache/%s", dir, name);
	return name[0] ? 0 : -1;
}

TEST(compile_cache_returns_what_was_stored_under_the_same_key)
{
	struct compile_cache c;
	struct compile_entry e;
	char dir[64];
	struct compile_key k = key_of("int main(void) { return 0; }\n");
	REQUIRE(open_cache(&c, dir, 16) == 0);
	CHECK(compile_cache_get(&c, &k, &e) == 0);
	compile_cache_put(&c, &k, "ARTIFACT", 8, "warning: x", 10);
	REQUIRE(compile_cache_get(&c, &k, &e) == 1);
	CHECK(e.artifacts_len == 8 && memcmp(e.artifacts, "ARTIFACT", 8) == 0);
	CHECK(e.messages_len == 10 && memcmp(e.messages, "warning: x", 10) == 0);
	compile_entry_free(&e);
	struct compile_key other = key_of("int main(void) { return 1; }\n");
	CHECK(compile_cache_get(&c, &other, &e) == 0);
	struct compile_key newer = k;
	newer.version = "13.1.0";
	CHECK(compile_cache_get(&c, &newer, &e) == 0);
	remove_cache(&c, dir);
}

/* compile_cache_get with the log (stderr) caught: whether it warned. */
static bool get_warns(struct compile_cache *c, const struct compile_key *k, struct compile_entry *e, int *rc)
{
	char log[512] = "";
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	if (!f || saved < 0 || dup2(fileno(f), STDERR_FILENO) < 0)
		return true;            /* uncaught: counted as a warning, which fails the quiet case */
	*rc = compile_cache_get(c, k, e);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	log[fread(log, 1, sizeof log - 1, f)] = '\0';
	fclose(f);
	return strstr(log, "compile cache") != NULL;
}

/* Stores one entry, lets damage() spoil its file, and checks that the
 * cache neither returns nor keeps it, warning in the log unless quiet. */
static void check_damaged_entry_is_removed(void (*damage)(const char *path), bool quiet)
{
	struct compile_cache c;
	struct compile_entry e;
	char dir[64], path[160];
	struct compile_key k = key_of("int main(void) { return 0; }\n");
	int rc = -2;
	REQUIRE(open_cache(&c, dir, 16) == 0);
	compile_cache_put(&c, &k, "ARTIFACT", 8, "", 0);
	REQUIRE(entry_path(dir, path, sizeof path) == 0);
	damage(path);
	CHECK(get_warns(&c, &k, &e, &rc) == !quiet);
	CHECK(rc == 0);
	CHECK(access(path, F_OK) != 0);
	remove_cache(&c, dir);
}

static void truncate_entry(const char *path)
{
	CHECK(truncate(path, 40) == 0);
}

static void flip_an_artifact_byte(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && stat(path, &st) == 0);
	CHECK(pwrite(fd, "X", 1, st.st_size - 3) == 1);
	close(fd);
}

/* The header of an earlier release's format (its magic ends in "1"). */
static void make_it_format_1(const char *path)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "1", 1, 7) == 1);
	close(fd);
}

/* A byte in the middle of the entry, where the checksum reads whole words. */
static void flip_a_middle_byte(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDWR);
	char b;
	CHECK(fd >= 0 && stat(path, &st) == 0);
	CHECK(pread(fd, &b, 1, st.st_size / 2) == 1);
	b ^= 0x01;
	CHECK(pwrite(fd, &b, 1, st.st_size / 2) == 1);
	close(fd);
}

TEST(compile_cache_removes_a_truncated_entry_and_never_returns_it)
{
	check_damaged_entry_is_removed(truncate_entry, false);
}

TEST(compile_cache_removes_a_corrupt_entry)
{
	check_damaged_entry_is_removed(flip_an_artifact_byte, false);
}

TEST(compile_cache_drops_an_entry_of_an_earlier_format)
{
	check_damaged_entry_is_removed(make_it_format_1, true);
}

TEST(compile_cache_notices_one_bit_flipped_in_a_large_program)
{
	static char program[(1 << 20) + 3];        /* not a whole number of words */
	struct compile_cache c;
	struct compile_entry e;
	char dir[64], path[160];
	struct compile_key k = key_of("package main\n");

	for (size_t i = 0; i < sizeof program; i++)
		program[i] = (char)(i * 31);
	REQUIRE(open_cache(&c, dir, 16) == 0);
	compile_cache_put(&c, &k, program, sizeof program, "", 0);
	REQUIRE(compile_cache_get(&c, &k, &e) == 1);
	CHECK(e.artifacts_len == sizeof program && memcmp(e.artifacts, program, sizeof program) == 0);
	compile_entry_free(&e);
	REQUIRE(entry_path(dir, path, sizeof path) == 0);
	flip_a_middle_byte(path);
	CHECK(compile_cache_get(&c, &k, &e) == 0);
	CHECK(access(path, F_OK) != 0);
	remove_cache(&c, dir);
}

/* Entries of 400 KiB under keys "a", "b", "d": two fit in a cache of 1 MiB. */
static char big[400 << 10];

/* A cache of 1 MiB holding a, then b, stored 20 ms apart (mtime is use). */
static int open_full_cache(struct compile_cache *c, char *dir)
{
	struct compile_key a = key_of("a"), b = key_of("b");
	if (open_cache(c, dir, 1) != 0)
		return -1;
	compile_cache_put(c, &a, big, sizeof big, "", 0);
	usleep(20000);
	compile_cache_put(c, &b, big, sizeof big, "", 0);
	usleep(20000);
	return 0;
}

/* Whether key's entry is in the cache. */
static bool cached(struct compile_cache *c, const char *key)
{
	struct compile_key k = key_of(key);
	struct compile_entry e;
	int rc = compile_cache_get(c, &k, &e);
	if (rc == 1)
		compile_entry_free(&e);
	return rc == 1;
}

TEST(compile_cache_evicts_the_least_recently_used_past_its_size)
{
	struct compile_cache c;
	char dir[64];
	struct compile_key d = key_of("d");
	REQUIRE(open_full_cache(&c, dir) == 0);
	REQUIRE(cached(&c, "a"));                        /* a is now the most recently used */
	usleep(20000);
	compile_cache_put(&c, &d, big, sizeof big, "", 0);
	CHECK(!cached(&c, "b"));
	CHECK(cached(&c, "a"));
	CHECK(cached(&c, "d"));
	remove_cache(&c, dir);
}

/* The count of what the cache holds starts from what a former run left:
 * the bound holds across a restart. */
TEST(compile_cache_bound_counts_the_entries_of_a_former_run)
{
	struct compile_cache c;
	char dir[64], err[256];
	struct compile_key d = key_of("d");
	REQUIRE(open_full_cache(&c, dir) == 0);
	compile_cache_close(&c);
	REQUIRE(compile_cache_open(&c, dir, 1, err, sizeof err) == 0);
	compile_cache_put(&c, &d, big, sizeof big, "", 0);
	CHECK(!cached(&c, "a"));                         /* the oldest made room */
	CHECK(cached(&c, "b"));
	CHECK(cached(&c, "d"));
	remove_cache(&c, dir);
}

TEST(compile_cache_of_size_0_is_off)
{
	struct compile_cache c;
	struct compile_entry e;
	char dir[64];
	struct compile_key k = key_of("x");
	REQUIRE(open_cache(&c, dir, 0) == 0);
	compile_cache_put(&c, &k, "A", 1, "", 0);
	CHECK(compile_cache_get(&c, &k, &e) == 0);
	remove_cache(&c, dir);
}
