/*
 * A run's files for a sandbox built before they were known
 * (sandbox_prepare): the source, the compiled files, the session's other
 * files and stdin, in one sealed memfd that init maps and reads in place.
 *
 * Layout: a struct sandbox_files_header, the source, stdin, then each
 * file as in an artifact stream (struct sandbox_artifact_header, the name
 * with its NUL, the data): the compiled files first, then the session's.
 */
#ifndef RUNNER_SANDBOX_FILES_H
#define RUNNER_SANDBOX_FILES_H

#include "sandbox.h"
#include "sandbox_child.h"

struct sandbox_files_header {
	unsigned long long source_len;
	unsigned long long stdin_len;
	unsigned int nfiles;            /* the compiled files (plain names) */
	unsigned int napp_files;        /* the session's (relative paths) */
};

/* The runner's side: job's source, files, app_files and stdin as a sealed
 * memfd at offset 0. Returns it (close-on-exec), or -1 with errno. */
int sandbox_files_memfd(const struct sandbox_job *job);

/*
 * init's side (no malloc: the file lists are mapped too): maps fd and
 * points s's source, files, app_files and stdin into the mapping, which
 * lives as long as init. Returns 0, or -1 if the stream is malformed.
 */
int sandbox_files_map(int fd, struct sandbox_init_spec *s);

#endif
