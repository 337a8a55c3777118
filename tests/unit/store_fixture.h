/*
 * A data directory in /tmp for tests that need a real store file, and
 * plain SQLite access to that file for checking what was written.
 */
#ifndef UNIT_STORE_FIXTURE_H
#define UNIT_STORE_FIXTURE_H

#include "config.h"

/* Creates a fresh directory and sets cfg to the defaults with data_dir there. Returns 0, or -1. */
int data_dir_new(struct config *cfg);

/* Removes the store files and the directory of cfg. */
void data_dir_remove(const struct config *cfg);

/* Runs sql on the store file of cfg. Returns 0, or -1 (printed). */
int store_file_exec(const struct config *cfg, const char *sql);

/* The first column of the first row of sql on the store file of cfg, or -1. */
long long store_file_int(const struct config *cfg, const char *sql);

#endif
