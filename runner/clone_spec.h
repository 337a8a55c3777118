/*
 * What a sandbox's clone children see of the runner's memory.
 *
 * A clone without CLONE_VM copies the runner's page tables and makes every
 * private page copy-on-write in both processes: for as long as the child
 * lives (the owner, init for the whole run, the payload until its
 * execve), the runner's first write to each of those pages takes a page
 * fault, and so does its first write after the child has gone (the pages
 * stay write-protected until touched). Measured on a host whose faults
 * cost 10-50 us, a cold Bash run made the runner take about 450 such
 * faults, nearly all of them in the slot threads' malloc arenas, where
 * the runner keeps its store rows, output buffers and JSON.
 *
 * The children need none of it: they read only their spec. So each slot
 * thread's arena is left out of every clone (MADV_DONTFORK), and a spec
 * is handed to the child as a copy, with everything it points to, in a
 * mapping of its own (clone_spec_copy).
 *
 * So once a slot has started, a child of the runner may touch nothing of
 * a slot's heap: no glibc fork() (its child re-initialises the lock of
 * every arena), only a raw clone that runs on what was copied for it, or
 * posix_spawn (which shares the memory until exec).
 */
#ifndef RUNNER_CLONE_SPEC_H
#define RUNNER_CLONE_SPEC_H

#include <stddef.h>

#include "sandbox_child.h"

/*
 * Leaves the calling thread's malloc arena out of every later clone and
 * fork of the process. Returns 1 when it did, 0 when the thread's
 * allocations are not in an arena of glibc's own kind (the main thread's
 * heap, a sanitizer's allocator): those are left as they are.
 */
int clone_hide_thread_arena(void);

/* A spec and all it points to, in one private mapping. */
struct clone_spec {
	struct sandbox_init_spec *spec;         /* inside the mapping */
	void *map;
	size_t len;
};

/* Copies s into c. Returns 0, or -1 with errno. */
int clone_spec_copy(struct clone_spec *c, const struct sandbox_init_spec *s);

/* Unmaps c's copy (the parent's, once the child has its own). */
void clone_spec_release(struct clone_spec *c);

#endif
