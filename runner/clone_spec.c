/* What a sandbox's clone children see of the runner's memory: see clone_spec.h. */
#include "clone_spec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* glibc gives a thread's arena heaps of HEAP_MAX_SIZE (64 MiB on 64-bit
 * hosts), each aligned to its size: a block from the arena lies in the
 * heap that starts at its address rounded down. */
#define ARENA_HEAP_SIZE ((uintptr_t)64 << 20)

#if defined(__SANITIZE_ADDRESS__)
int clone_hide_thread_arena(void)
{
	return 0;                               /* the sanitizer's allocator, not glibc's arenas */
}
#else
/* Whether /proc/self/maps shows a glibc arena's heap at [start, end):
 * an anonymous read-write mapping starting at start (what the heap has
 * grown to), then only anonymous inaccessible ones (its reserve) up to
 * end, without a gap. */
static int maps_show_arena(uintptr_t start, uintptr_t end)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	uintptr_t reached = start;

	if (!f)
		return 0;
	while (reached < end && fgets(line, sizeof line, f)) {
		unsigned long a, b, inode;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &a, &b, perms, &inode) != 4 || b <= reached)
			continue;
		bool want_rw = reached == start;
		if (a != reached || inode != 0 || strchr(line, '[') ||
		    strcmp(perms, want_rw ? "rw-p" : "---p") != 0)
			break;
		reached = b;
	}
	fclose(f);
	return reached >= end;
}

int clone_hide_thread_arena(void)
{
	void *p = malloc(64);
	uintptr_t heap;

	if (!p)
		return 0;
	heap = (uintptr_t)p & ~(ARENA_HEAP_SIZE - 1);
	free(p);
	if (!maps_show_arena(heap, heap + ARENA_HEAP_SIZE))
		return 0;
	return madvise((void *)heap, ARENA_HEAP_SIZE, MADV_DONTFORK) == 0;
}
#endif

/* ---- the copy -------------------------------------------------------- */

/* A bump allocator over the mapping; with base NULL it only counts. */
struct bump {
	char *base;
	size_t used;
};

static void *put(struct bump *b, const void *data, size_t len)
{
	char *at = b->base ? b->base + b->used : NULL;

	if (at && len)
		memcpy(at, data, len);
	b->used += (len + 15) & ~(size_t)15;
	return at;
}

static const char *put_str(struct bump *b, const char *s)
{
	return s ? put(b, s, strlen(s) + 1) : NULL;
}

static const struct sandbox_file *put_files(struct bump *b, const struct sandbox_file *files, int n)
{
	struct sandbox_file *out = put(b, files, sizeof *files * (size_t)(n > 0 ? n : 0));

	for (int i = 0; i < n; i++) {
		const char *name = put_str(b, files[i].name);
		const char *data = files[i].data ? put(b, files[i].data, files[i].len) : NULL;
		if (out) {
			out[i].name = name;
			out[i].data = data;
		}
	}
	return n > 0 ? out : NULL;
}

static void put_words(struct bump *b, const char **words, size_t max)
{
	for (size_t i = 0; i < max && words[i]; i++) {
		const char *w = put_str(b, words[i]);
		if (b->base)
			words[i] = w;
	}
}

/* Lays out in b what s points to, and points c (s's copy, or a scratch
 * one while b only counts) at the copies. */
static void lay_out(struct bump *b, struct sandbox_init_spec *c, const struct sandbox_init_spec *s)
{
	c->source = s->source ? put(b, s->source, s->source_len) : NULL;
	c->stdin_data = s->stdin_data ? put(b, s->stdin_data, s->stdin_len) : NULL;
	c->source_name = put_str(b, s->source_name);
	c->exec_path = put_str(b, s->exec_path);
	c->child.workdir = put_str(b, s->child.workdir);
	c->files = put_files(b, s->files, s->nfiles);
	c->app_files = put_files(b, s->app_files, s->napp_files);
	if (s->nmounts > 0) {
		const char **mounts = put(b, s->mounts, sizeof *s->mounts * (size_t)s->nmounts);
		put_words(b, mounts ? mounts : (const char **)s->mounts, (size_t)s->nmounts);
		c->mounts = mounts;
	}
	put_words(b, c->argv, SANDBOX_ARGV);
	put_words(b, c->envp, SANDBOX_ENVP);
	if (s->child.filter) {
		struct sock_fprog *filter = put(b, s->child.filter, sizeof *filter);
		void *insns = put(b, s->child.filter->filter, sizeof *s->child.filter->filter * s->child.filter->len);
		if (filter)
			filter->filter = insns;
		c->child.filter = filter;
	}
}

int clone_spec_copy(struct clone_spec *c, const struct sandbox_init_spec *s)
{
	struct bump count = { NULL, 0 };
	struct sandbox_init_spec scratch = *s;

	put(&count, s, sizeof *s);
	lay_out(&count, &scratch, s);
	c->len = count.used;
	c->map = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		return -1;
	}
	struct bump b = { c->map, 0 };
	c->spec = put(&b, s, sizeof *s);
	lay_out(&b, c->spec, s);
	return 0;
}

void clone_spec_release(struct clone_spec *c)
{
	if (c->map)
		munmap(c->map, c->len);
	c->map = NULL;
	c->spec = NULL;
}
