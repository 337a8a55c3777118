#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

static const char *const store_files[] = { "engine.db", "engine.db-wal", "engine.db-shm" };

int data_dir_new(struct config *cfg)
{
	char dir[] = "/tmp/engine-unit-XXXXXX";
	config_defaults(cfg);
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", dir);
	return 0;
}

void data_dir_remove(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	for (size_t i = 0; i < sizeof(store_files) / sizeof(store_files[0]); i++)
		if (config_data_path(cfg, store_files[i], path, sizeof(path)) == 0)
			unlink(path);
	rmdir(cfg->data_dir);
}

static sqlite3 *store_file_open(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	sqlite3 *db = NULL;
	if (config_data_path(cfg, store_files[0], path, sizeof(path)) ||
	    sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int store_file_exec(const struct config *cfg, const char *sql)
{
	char *err = NULL;
	sqlite3 *db = store_file_open(cfg);
	int rc = db && sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "  sql: %s\n", err ? err : "cannot open the store file");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

long long store_file_int(const struct config *cfg, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	sqlite3 *db = store_file_open(cfg);
	if (db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}
