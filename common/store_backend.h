/*
 * What a store backend provides: one table of the functions of store.h.
 * common/store.c picks the backend the configuration names and forwards
 * every call through its table; a backend's struct store and struct
 * store_query each begin with a pointer to that table.
 */
#ifndef ENGINE_STORE_BACKEND_H
#define ENGINE_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	struct store *(*open)(const struct config *cfg, enum store_role role, char *err, size_t errlen);
	void (*close)(struct store *s);
	const char *(*errmsg)(struct store *s);
	struct store_query *(*query)(struct store *s, enum store_stmt id);
	void (*bind_text)(struct store_query *q, int pos, const char *text, size_t len);
	void (*bind_int64)(struct store_query *q, int pos, int64_t v);
	void (*bind_null)(struct store_query *q, int pos);
	int (*param_count)(struct store_query *q);
	enum store_rc (*step)(struct store_query *q);
	int64_t (*changes)(struct store_query *q);
	void (*reset)(struct store_query *q);
	bool (*column_is_null)(struct store_query *q, int col);
	int64_t (*column_int64)(struct store_query *q, int col);
	double (*column_double)(struct store_query *q, int col);
	const char *(*column_text)(struct store_query *q, int col, size_t *len);
	const char *(*column_name)(struct store_query *q, int col);
	int (*begin)(struct store *s);
	int (*begin_session)(struct store *s, const char *session_id);
	int (*begin_fenced)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	int (*checkpoint)(struct store *s);
	int64_t (*clock_ms)(struct store *s);
	/* NULL where the store carries no notifications (store.h) */
	int (*notify)(struct store *s, enum store_channel ch, const char *execution_id);
	int (*commit_notify)(struct store *s, enum store_channel ch, const char *execution_id);
	int (*listen)(struct store *s, enum store_channel ch);
	int (*notifications)(struct store *s, void (*fn)(void *ctx, const char *execution_id), void *ctx);
	int (*reclaim)(struct store *s, int max_pages);
};

extern const struct store_ops store_sqlite_ops;   /* common/store_sqlite.c */
extern const struct store_ops store_pg_ops;       /* common/store_pg.c */

/* The calling thread's store_connect_from_netns fd, or -1 (common/store.c). */
int store_thread_netns(void);

/* The configuration's store value for each backend (config key "store"). */
#define STORE_SQLITE "sqlite"
#define STORE_PG_PREFIX "postgresql://"
#define STORE_PG_PREFIX_SHORT "postgres://"

#endif
