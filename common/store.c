/*
 * The store interface's one entry: store_open picks the backend that the
 * configuration's "store" names (SQLite in data_dir, or a PostgreSQL URL);
 * every other call goes to the backend of its handle.
 */
#include "store_backend.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "version.h"

/* Both backend structs begin with their ops pointer. */
#define OPS(x) (*(const struct store_ops *const *)(x))

static __thread int thread_netns = -1;

void store_connect_from_netns(int netns_fd) { thread_netns = netns_fd; }
int store_thread_netns(void) { return thread_netns; }

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool store_is_postgresql(const char *store)
{
	return has_prefix(store, STORE_PG_PREFIX) || has_prefix(store, STORE_PG_PREFIX_SHORT);
}

struct store *store_open(const struct config *cfg, enum store_role role, char *err, size_t errlen)
{
	if (store_is_postgresql(cfg->store))
		return store_pg_ops.open(cfg, role, err, errlen);
	if (strcmp(cfg->store, STORE_SQLITE) == 0)
		return store_sqlite_ops.open(cfg, role, err, errlen);
	snprintf(err, errlen, "store: unknown store \"%s\"", cfg->store);
	return NULL;
}

struct store *store_open_at_start(const struct config *cfg, enum store_role role, char *err, size_t errlen)
{
	struct store *s = store_open(cfg, role, err, errlen);
	if (s || !store_is_postgresql(cfg->store))
		return s;
	log_warn("waiting up to %d s for the store: %s", STORE_START_WAIT_MS / 1000, err);
	for (int waited = 0; !s && waited < STORE_START_WAIT_MS; waited += 500) {
		/* A signal the program handles (SIGTERM: stop) ends the wait. */
		if (nanosleep(&(struct timespec){ .tv_nsec = 500 * 1000000L }, NULL) < 0)
			break;
		s = store_open(cfg, role, err, errlen);
	}
	if (s)
		log_info("store reached");
	return s;
}

void store_close(struct store **sp)
{
	if (!*sp)
		return;
	OPS(*sp)->close(*sp);
	*sp = NULL;
}

const char *store_errmsg(struct store *s) { return OPS(s)->errmsg(s); }
struct store_query *store_query(struct store *s, enum store_stmt id) { return OPS(s)->query(s, id); }

void store_bind_text(struct store_query *q, int pos, const char *text, size_t len)
{
	OPS(q)->bind_text(q, pos, text, len);
}

void store_bind_str(struct store_query *q, int pos, const char *str)
{
	OPS(q)->bind_text(q, pos, str, strlen(str));
}

void store_bind_int64(struct store_query *q, int pos, int64_t v) { OPS(q)->bind_int64(q, pos, v); }
void store_bind_null(struct store_query *q, int pos) { OPS(q)->bind_null(q, pos); }
int store_param_count(struct store_query *q) { return OPS(q)->param_count(q); }
enum store_rc store_step(struct store_query *q) { return OPS(q)->step(q); }
int64_t store_changes(struct store_query *q) { return OPS(q)->changes(q); }
void store_reset(struct store_query *q) { OPS(q)->reset(q); }
bool store_column_is_null(struct store_query *q, int col) { return OPS(q)->column_is_null(q, col); }
int64_t store_column_int64(struct store_query *q, int col) { return OPS(q)->column_int64(q, col); }
double store_column_double(struct store_query *q, int col) { return OPS(q)->column_double(q, col); }

const char *store_column_text(struct store_query *q, int col, size_t *len)
{
	return OPS(q)->column_text(q, col, len);
}

const char *store_column_name(struct store_query *q, int col) { return OPS(q)->column_name(q, col); }
int store_begin(struct store *s) { return OPS(s)->begin(s); }
int store_begin_fenced(struct store *s) { return OPS(s)->begin_fenced(s); }
int store_begin_session(struct store *s, const char *session_id)
{
	return OPS(s)->begin_session(s, session_id);
}
int store_commit(struct store *s) { return OPS(s)->commit(s); }
void store_rollback(struct store *s) { OPS(s)->rollback(s); }
int store_checkpoint(struct store *s) { return OPS(s)->checkpoint(s); }
int64_t store_clock_ms(struct store *s) { return OPS(s)->clock_ms(s); }
bool store_notify_available(struct store *s) { return OPS(s)->notify != NULL; }

int store_notify(struct store *s, enum store_channel ch, const char *execution_id)
{
	return OPS(s)->notify ? OPS(s)->notify(s, ch, execution_id) : 0;
}

int store_commit_notify(struct store *s, enum store_channel ch, const char *execution_id)
{
	return OPS(s)->commit_notify ? OPS(s)->commit_notify(s, ch, execution_id) : store_commit(s);
}

int store_listen(struct store *s, enum store_channel ch) { return OPS(s)->listen ? OPS(s)->listen(s, ch) : -1; }

int store_notifications(struct store *s, void (*fn)(void *ctx, const char *execution_id), void *ctx)
{
	return OPS(s)->notifications ? OPS(s)->notifications(s, fn, ctx) : -1;
}

void store_newer_schema_error(int version, char *err, size_t errlen)
{
	snprintf(err, errlen, "the store has schema version %d, newer than this release (%s, schema version %d) "
		 "knows: a later release wrote it, and it is left as it is; run that release, or restore a backup "
		 "made by this one", version, ENGINE_VERSION, store_schema_version);
}
int store_reclaim(struct store *s, int max_pages) { return OPS(s)->reclaim(s, max_pages); }
