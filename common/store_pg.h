/* The PostgreSQL store's statement table, seen only by its implementation. */
#ifndef ENGINE_STORE_PG_H
#define ENGINE_STORE_PG_H

#include "store.h"

/* common/store_pg_sql.c */
extern const char *const pg_sql[STMT__MAX];
extern const char *const pg_migrations[];   /* store_schema_version of them */
extern const int pg_migration_count;
extern const char pg_begin_sql[];
extern const char pg_begin_session_sql[];
extern const char pg_migrate_lock_sql[];
extern const char pg_clock_sql[];
extern const char pg_notify_sql[];
extern const char pg_commit_notify_sql[];
extern const char *const pg_listen_sql[STORE_CHANNEL__MAX];
extern const char *const pg_channels[STORE_CHANNEL__MAX];

#endif
