/* The SQLite store's statement table, seen only by its implementation. */
#ifndef ENGINE_STORE_SQLITE_H
#define ENGINE_STORE_SQLITE_H

#include "store.h"

enum sqlite_tx {
	SQLITE_TX_BEGIN,
	SQLITE_TX_COMMIT,
	SQLITE_TX_ROLLBACK,
	SQLITE_TX__MAX
};

/* common/store_sqlite_sql.c */
extern const char *const sqlite_sql[STMT__MAX];
extern const char *const sqlite_tx_sql[SQLITE_TX__MAX];
extern const char *const sqlite_migrations[];   /* store_schema_version of them */

#endif
