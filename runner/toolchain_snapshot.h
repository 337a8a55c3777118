/*
 * A toolchain's start-up snapshot: a language row's `snapshot` command,
 * run once in a sandbox on `snapshot_script`, leaves in /tmp/out the
 * toolchain's work that is the same for every program, done (TypeScript:
 * tsc with the standard library's declarations parsed and bound,
 * conf/typescript-snapshot.js; Java: javac's classes in a class-data
 * archive; C++: <iostream> precompiled). Its compiles and checks then
 * start from it (the words of their commands that hold "{snapshot}" get
 * the directory of its files) instead of doing that work each time.
 *
 * The build's files are kept in a directory of snapshot_dir (engine.conf;
 * <data_dir>/snapshots) named by what they were built from: the row's
 * command, the script, the toolchain's version and its program file (an
 * upgrade gets a new one). Every sandbox of the language binds that
 * directory read-only at its path. A snapshot is used only after the
 * row's check of an empty source from it exited 0 without a word;
 * otherwise those words are left out of the commands and the language
 * compiles as if it had none. A build that failed leaves <name>.failed
 * beside it, holding why: starts within a day of it do not build again.
 */
#ifndef RUNNER_TOOLCHAIN_SNAPSHOT_H
#define RUNNER_TOOLCHAIN_SNAPSHOT_H

#include "config.h"
#include "languages.h"
#include "sandbox.h"

/*
 * Finds or builds l's snapshot and tries it. On success puts its path in
 * l's compile and check commands, adds its directory to l->mounts and
 * returns 0; returns -1 (the reason logged) when the row has none or it
 * cannot be made or used here. Called at start, before the slots run.
 */
int toolchain_snapshot_ready(const struct sandbox_host *host, const struct config *cfg, struct language *l);

/* l without a snapshot: the words of its commands that hold "{snapshot}"
 * left out (what toolchain_snapshot_ready does when it finds none). */
void toolchain_snapshot_none(struct language *l);

#endif
