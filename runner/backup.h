/*
 * runner --backup FILE and --restore FILE (make backup / make restore, and
 * code-exec-backup / code-exec-restore on an installed system): the store
 * as of one moment into a file, and back.
 */
#ifndef RUNNER_BACKUP_H
#define RUNNER_BACKUP_H

#include <stddef.h>

#include "config.h"

/*
 * Writes the store cfg names into file (which must not exist), mode 0600:
 * SQLite's online backup of engine.db, or pg_dump's custom format of a
 * PostgreSQL store. The engine keeps serving meanwhile. Returns 0, or -1
 * with a reason in err.
 */
int backup_store(const struct config *cfg, const char *file, char *err, size_t errlen);

/*
 * Replaces the store cfg names with the backup in file, refusing while an
 * engine uses it (a socket in data_dir answers, or a runner heartbeats in
 * the store). The store is then migrated to this build's schema and the
 * executions that were running at backup time are queued again; *requeued
 * says how many. Returns 0, or -1 with a reason in err.
 */
int restore_store(const struct config *cfg, const char *file, int *requeued, char *err, size_t errlen);

#endif
