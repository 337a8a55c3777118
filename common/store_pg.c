/*
 * The store on PostgreSQL (libpq), selected by a "store" of
 * postgresql://... (common/store.c); the statements are in store_pg_sql.c.
 *
 * Each statement is prepared on the server the first time a connection uses
 * it (named "s<id>"), and run with its bound values as text parameters; the
 * whole result comes back at once and store_step walks its rows.
 *
 * A program's output may hold NUL bytes, which PostgreSQL's text cannot:
 * those columns are bytea. A bytea parameter is sent in binary format (the
 * bytes as they are, with their length), and a bytea column comes back
 * decoded, so callers see bytes in both stores alike.
 *
 * Connection loss: a statement that fails because the server went away
 * fails (STORE_ERROR: the API answers 503 STORE_UNAVAILABLE), and the next
 * store_query, step or begin on the connection reconnects and prepares its
 * statements again; nothing is retried behind the caller's back, so a write
 * whose reply was lost is never applied twice.
 */
#include "store_pg.h"
#include "store_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#define PG_MAX_PARAMS 24                /* STMT_FINISH has 22 */
#define PG_CONNECT_TIMEOUT "3"          /* seconds; a request must not hang on a dead host */
/*
 * Write transactions serialise on one advisory lock (store_pg_sql.c). A
 * client that goes silent inside one (its host cut off, stopped, starved)
 * would hold it, and every Run and autosave of every host would wait: the
 * server ends such a session after 5 s, which frees the lock. A wait for a
 * lock gives up after 2 s (STORE_BUSY: the API answers 503, a runner tries
 * again): so the other connections of a host that was cut off, queued for
 * the lock, are not handed it one after another, and a runner's sweep
 * never holds up its heartbeat for long.
 */
#define PG_SESSION_OPTIONS "-c idle_in_transaction_session_timeout=5000 -c lock_timeout=2000"
#define PG_TEXT_OID 25
#define PG_BYTEA_OID 17
#define PG_MAX_DECODED 8                /* bytea columns of one row (an execution has 3) */
#define PG_SQLSTATE_LOCK_NOT_AVAILABLE "55P03"
#define PG_SQLSTATE_DEADLOCK "40P01"
#define PG_SQLSTATE_SERIALIZATION "40001"

struct store_query {
	const struct store_ops *ops;
	struct store *store;
	enum store_stmt id;
	unsigned prepared_gen;          /* == store->gen: prepared on this connection */
	int nparams;                    /* highest $N in the text; -1: not scanned yet */
	bool used[PG_MAX_PARAMS];       /* $N appears in the text */
	char *values[PG_MAX_PARAMS];    /* bound, owned; NULL: SQL NULL */
	int lengths[PG_MAX_PARAMS];     /* of values, for the binary ones */
	int formats[PG_MAX_PARAMS];     /* 1: bytea, sent binary; 0: text */
	PGresult *res;                  /* the last run's rows */
	PGresult *desc;                 /* parameter types and column names, from prepare */
	int row;                        /* current row of res, -1 before the first */
	int ndecoded;                   /* bytea columns of this row decoded so far */
	int decoded_col[PG_MAX_DECODED];
	size_t decoded_len[PG_MAX_DECODED];
	char *decoded[PG_MAX_DECODED];  /* their bytes, NUL-terminated, owned */
	int64_t changes;
};

struct store {
	const struct store_ops *ops;
	PGconn *conn;
	unsigned gen;                   /* counts connections, so prepares are redone */
	bool begin_due;                 /* store_begin_fenced's BEGIN, sent with the first statement */
	char err[512];
	struct store_query q[STMT__MAX];
};

static void set_err(struct store *s, const char *msg)
{
	snprintf(s->err, sizeof(s->err), "%s", msg && *msg ? msg : "unknown PostgreSQL error");
	size_t n = strlen(s->err);
	while (n > 0 && s->err[n - 1] == '\n')
		s->err[--n] = '\0';
}

/* Runs sql (one or more commands). Returns 0, or -1 (errmsg). */
static int exec_cmd(struct store *s, const char *sql)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		set_err(s, PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	PQclear(r);
	return ok ? 0 : -1;
}

/* The schema's version, from its one-row table (created empty: 0). Returns -1 on error. */
static int schema_version(struct store *s)
{
	if (exec_cmd(s, "CREATE TABLE IF NOT EXISTS store_schema (version INTEGER NOT NULL)"))
		return -1;
	PGresult *r = PQexec(s->conn, "SELECT version FROM store_schema");
	int v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		v = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	else
		set_err(s, PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

/* Applies missing migrations in one transaction under an advisory lock, so concurrent openers serialise. */
static int migrate(struct store *s, char *err, size_t errlen)
{
	if (pg_migration_count != store_schema_version) {
		snprintf(err, errlen, "store: %d PostgreSQL migrations for schema version %d",
			 pg_migration_count, store_schema_version);
		return -1;
	}
	if (exec_cmd(s, pg_migrate_lock_sql))
		goto fail;
	int v = schema_version(s);
	if (v < 0)
		goto fail;
	if (v > store_schema_version) {
		set_err(s, "");
		store_newer_schema_error(v, s->err, sizeof(s->err));
		goto fail;
	}
	for (int from = v; from < store_schema_version; from++)
		if (exec_cmd(s, pg_migrations[from]))
			goto fail;
	char sql[96];
	snprintf(sql, sizeof(sql), v == 0 ? "INSERT INTO store_schema VALUES (%d)" :
		 "UPDATE store_schema SET version = %d", store_schema_version);
	if (exec_cmd(s, sql) || exec_cmd(s, "COMMIT"))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s", s->err);
	exec_cmd(s, "ROLLBACK");
	return -1;
}

/* libpq prints server notices (CREATE TABLE IF NOT EXISTS ...) to stderr by default. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * A runner slot lives in an empty network namespace (its sandboxes'): it
 * connects from the host's (store_connect_from_netns), then returns. A
 * slot that could not return would run sandboxes with the host's network:
 * that aborts instead.
 */
static int netns_enter(int *back)
{
	*back = -1;
	if (store_thread_netns() < 0)
		return 0;
	*back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*back < 0 || setns(store_thread_netns(), CLONE_NEWNET) != 0) {
		if (*back >= 0)
			close(*back);
		*back = -1;
		return -1;
	}
	return 0;
}

static void netns_leave(int back)
{
	if (back < 0)
		return;
	if (setns(back, CLONE_NEWNET) != 0)
		abort();
	close(back);
}

static PGconn *connect_to(const char *url, enum store_role role)
{
	/* Our settings first: the URL's own win. */
	const char *const keys[] = { "connect_timeout", "application_name", "options", "dbname", NULL };
	const char *const values[] = {
		PG_CONNECT_TIMEOUT, role != STORE_ROLE_API ? "engine-runner" : "engine-api",
		PG_SESSION_OPTIONS, url, NULL,
	};
	int back;
	if (netns_enter(&back))
		return NULL;
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	netns_leave(back);
	if (conn)
		PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
}

static struct store *pg_open(const struct config *cfg, enum store_role role, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = &store_pg_ops;
	s->gen = 1;
	for (int i = 0; i < STMT__MAX; i++)
		s->q[i] = (struct store_query){ .ops = &store_pg_ops, .store = s, .id = i, .nparams = -1, .row = -1 };
	s->conn = connect_to(cfg->store, role);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "store: %s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		goto fail;
	}
	if (migrate(s, err, errlen))
		goto fail;
	return s;
fail:
	PQfinish(s->conn);
	free(s);
	return NULL;
}

static void clear_values(struct store_query *q)
{
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		free(q->values[i]);
		q->values[i] = NULL;
	}
}

static void forget_decoded(struct store_query *q)
{
	for (int i = 0; i < q->ndecoded; i++)
		free(q->decoded[i]);
	q->ndecoded = 0;
}

static void pg_reset(struct store_query *q)
{
	PQclear(q->res);
	q->res = NULL;
	q->row = -1;
	forget_decoded(q);
}

static void pg_close(struct store *s)
{
	for (int i = 0; i < STMT__MAX; i++) {
		pg_reset(&s->q[i]);
		PQclear(s->q[i].desc);
		clear_values(&s->q[i]);
	}
	PQfinish(s->conn);
	free(s);
}

static const char *pg_errmsg(struct store *s)
{
	return s->err[0] ? s->err : PQerrorMessage(s->conn);
}

/*
 * An idle connection has nothing to read unless the server said something
 * on its own: a server shutting down sends its FATAL message and closes.
 * Reading that (libpq's socket never blocks) takes one read for the message
 * and one more for the end of the stream, after which the connection shows
 * as bad before a statement is sent on it.
 */
static void read_while_idle(struct store *s)
{
	struct pollfd p = { .fd = PQsocket(s->conn), .events = POLLIN };
	for (int i = 0; i < 3 && PQstatus(s->conn) == CONNECTION_OK; i++) {
		if (poll(&p, 1, 0) != 1 || !PQconsumeInput(s->conn))
			return;
	}
}

/*
 * A connection the server dropped (restart, network) is opened again here,
 * outside a transaction only. Returns 0 if the connection is usable, or -1.
 */
static int ensure_connected(struct store *s)
{
	if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		read_while_idle(s);
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	int back;
	if (netns_enter(&back) == 0) {
		PQreset(s->conn);
		netns_leave(back);
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		set_err(s, PQerrorMessage(s->conn));
		return -1;
	}
	s->gen++;
	for (int i = 0; i < STMT__MAX; i++) {
		PQclear(s->q[i].desc);
		s->q[i].desc = NULL;
	}
	return 0;
}

/* Finds the $N of the statement's text: how many, and which appear. */
static void scan_params(struct store_query *q)
{
	const char *sql = pg_sql[q->id];
	q->nparams = 0;
	for (const char *p = sql ? strchr(sql, '$') : NULL; p; p = strchr(p + 1, '$')) {
		int n = atoi(p + 1);
		if (n < 1 || n > PG_MAX_PARAMS)
			continue;
		q->used[n - 1] = true;
		if (n > q->nparams)
			q->nparams = n;
	}
}

static void stmt_name(enum store_stmt id, char *out, size_t outlen)
{
	snprintf(out, outlen, "s%d", (int)id);
}

/* The prepared statement's parameter types (which go binary) and columns. */
static int describe(struct store_query *q, const char *name)
{
	struct store *s = q->store;
	PQclear(q->desc);
	q->desc = PQdescribePrepared(s->conn, name);
	if (PQresultStatus(q->desc) != PGRES_COMMAND_OK) {
		set_err(s, PQresultErrorMessage(q->desc));
		PQclear(q->desc);
		q->desc = NULL;
		return -1;
	}
	for (int i = 0; i < q->nparams && i < PQnparams(q->desc); i++)
		q->formats[i] = PQparamtype(q->desc, i) == PG_BYTEA_OID;
	return 0;
}

/*
 * Prepares the statement on this connection if it is not yet. A $N the
 * text does not use (a runner's clock where the database's is used) is
 * declared text, so any bound value is accepted and ignored. Returns 0, or -1.
 */
static int prepare(struct store_query *q)
{
	struct store *s = q->store;
	if (q->prepared_gen == s->gen)
		return 0;
	if (!pg_sql[q->id]) {
		set_err(s, "no SQL for this statement");
		return -1;
	}
	Oid types[PG_MAX_PARAMS] = { 0 };
	for (int i = 0; i < q->nparams; i++)
		types[i] = q->used[i] ? 0 : PG_TEXT_OID;
	char name[16];
	stmt_name(q->id, name, sizeof(name));
	PGresult *r = PQprepare(s->conn, name, pg_sql[q->id], q->nparams, types);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		set_err(s, PQresultErrorMessage(r));
	PQclear(r);
	if (!ok || describe(q, name))
		return -1;
	q->prepared_gen = s->gen;
	return 0;
}

static struct store_query *pg_query(struct store *s, enum store_stmt id)
{
	struct store_query *q = &s->q[id];
	pg_reset(q);
	clear_values(q);
	if (q->nparams < 0)
		scan_params(q);
	return q;
}

static void bind_owned(struct store_query *q, int pos, char *value, size_t len)
{
	if (pos < 1 || pos > PG_MAX_PARAMS) {
		free(value);
		return;
	}
	free(q->values[pos - 1]);
	q->values[pos - 1] = value;
	q->lengths[pos - 1] = (int)len;
}

/* The whole len bytes, NULs included (a bytea parameter sends them all). */
static void pg_bind_text(struct store_query *q, int pos, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, text, len);
		copy[len] = '\0';
	}
	bind_owned(q, pos, copy, len);
}

static void pg_bind_int64(struct store_query *q, int pos, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
	bind_owned(q, pos, strdup(buf), (size_t)n);
}

static void pg_bind_null(struct store_query *q, int pos)
{
	bind_owned(q, pos, NULL, 0);
}

static int pg_param_count(struct store_query *q)
{
	return q->nparams;
}

/* What a failed result means to the caller. */
static enum store_rc failure(struct store *s, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	set_err(s, r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	if (state && (strcmp(state, PG_SQLSTATE_LOCK_NOT_AVAILABLE) == 0 ||
		      strcmp(state, PG_SQLSTATE_DEADLOCK) == 0 || strcmp(state, PG_SQLSTATE_SERIALIZATION) == 0))
		return STORE_BUSY;
	return STORE_ERROR;
}

/* One query's result in a pipeline, past the NULL that ends it. */
static PGresult *pipeline_result(PGconn *conn)
{
	PGresult *r = PQgetResult(conn), *more;

	if (r && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		while ((more = PQgetResult(conn)))
			PQclear(more);
	return r;
}

/*
 * A transaction's BEGIN and its first statement in one round trip (a
 * pipeline): the statement's result, or the BEGIN's if that failed. A
 * pipeline that does not end cleanly leaves a connection in no known
 * state: it is reset, and the transaction is lost with it.
 */
static PGresult *exec_after_begin(struct store *s, struct store_query *q, const char *name)
{
	PGconn *c = s->conn;
	PGresult *begin = NULL, *res = NULL, *sync = NULL;

	if (PQenterPipelineMode(c) && PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
	    PQsendQueryPrepared(c, name, q->nparams, (const char *const *)q->values, q->lengths, q->formats, 0) &&
	    PQpipelineSync(c)) {
		begin = pipeline_result(c);
		res = pipeline_result(c);
		sync = PQgetResult(c);
	}
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(c)) {
		set_err(s, PQerrorMessage(c));
		PQreset(c);
	}
	PQclear(sync);
	if (PQresultStatus(begin) != PGRES_COMMAND_OK) {
		PQclear(res);
		return begin;
	}
	PQclear(begin);
	return res;
}

/* Runs the statement with its bound values; the result waits in q->res. */
static enum store_rc run(struct store_query *q)
{
	struct store *s = q->store;
	if (ensure_connected(s) || prepare(q))
		return STORE_ERROR;
	char name[16];
	stmt_name(q->id, name, sizeof(name));
	if (s->begin_due) {
		s->begin_due = false;
		q->res = exec_after_begin(s, q, name);
	} else {
		q->res = PQexecPrepared(s->conn, name, q->nparams, (const char *const *)q->values,
					q->lengths, q->formats, 0);
	}
	ExecStatusType st = PQresultStatus(q->res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		enum store_rc rc = failure(s, q->res);
		pg_reset(q);
		return rc;
	}
	const char *n = PQcmdTuples(q->res);
	q->changes = *n ? strtoll(n, NULL, 10) : 0;
	return STORE_ROW;
}

static enum store_rc pg_step(struct store_query *q)
{
	if (!q->res) {
		enum store_rc rc = run(q);
		if (rc != STORE_ROW)
			return rc;
	}
	forget_decoded(q);
	if (q->row + 1 < PQntuples(q->res)) {
		q->row++;
		return STORE_ROW;
	}
	q->row = PQntuples(q->res);
	return STORE_DONE;
}

static int64_t pg_changes(struct store_query *q)
{
	return q->changes;
}

static bool pg_column_is_null(struct store_query *q, int col)
{
	return !q->res || PQgetisnull(q->res, q->row, col);
}

static int64_t pg_column_int64(struct store_query *q, int col)
{
	return pg_column_is_null(q, col) ? 0 : strtoll(PQgetvalue(q->res, q->row, col), NULL, 10);
}

static double pg_column_double(struct store_query *q, int col)
{
	return pg_column_is_null(q, col) ? 0.0 : strtod(PQgetvalue(q->res, q->row, col), NULL);
}

/* A bytea column of this row as its bytes (kept until the next row), or NULL. */
static const char *decode_bytea(struct store_query *q, int col, size_t *len)
{
	for (int i = 0; i < q->ndecoded; i++) {
		if (q->decoded_col[i] == col) {
			*len = q->decoded_len[i];
			return q->decoded[i];
		}
	}
	if (q->ndecoded == PG_MAX_DECODED)
		return NULL;
	size_t n = 0;
	unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(q->res, q->row, col), &n);
	char *bytes = raw ? malloc(n + 1) : NULL;
	if (bytes) {
		memcpy(bytes, raw, n);
		bytes[n] = '\0';
		q->decoded_col[q->ndecoded] = col;
		q->decoded_len[q->ndecoded] = n;
		q->decoded[q->ndecoded++] = bytes;
	}
	PQfreemem(raw);
	*len = bytes ? n : 0;
	return bytes;
}

static const char *pg_column_text(struct store_query *q, int col, size_t *len)
{
	size_t n = 0;
	const char *v = NULL;
	if (!pg_column_is_null(q, col)) {
		if (PQftype(q->res, col) == PG_BYTEA_OID) {
			v = decode_bytea(q, col, &n);
		} else {
			v = PQgetvalue(q->res, q->row, col);
			n = (size_t)PQgetlength(q->res, q->row, col);
		}
	}
	if (len)
		*len = n;
	return v;
}

static const char *pg_column_name(struct store_query *q, int col)
{
	struct store *s = q->store;
	/* desc comes with the prepare; only a statement not yet run prepares here. */
	if (!q->desc && (ensure_connected(s) || prepare(q) || !q->desc))
		return NULL;
	return col >= 0 && col < PQnfields(q->desc) ? PQfname(q->desc, col) : NULL;
}

static int pg_begin(struct store *s)
{
	if (ensure_connected(s))
		return -1;
	return exec_cmd(s, pg_begin_sql);
}

/*
 * No store-wide lock: the session's row, locked in the same round trip as
 * the BEGIN (one simple query; the id goes in as an escaped literal), then
 * whatever keys the transaction locks itself.
 */
static int pg_begin_session(struct store *s, const char *session_id)
{
	if (ensure_connected(s))
		return -1;
	char *id = PQescapeLiteral(s->conn, session_id, strlen(session_id));
	if (!id) {
		set_err(s, PQerrorMessage(s->conn));
		return -1;
	}
	char sql[256];                   /* the statement and an escaped uuid */
	int n = snprintf(sql, sizeof sql, pg_begin_session_sql, id);
	PQfreemem(id);
	if (n < 0 || (size_t)n >= sizeof sql) {
		set_err(s, "session id too long");
		return -1;
	}
	return exec_cmd(s, sql);
}

/* No store-wide lock: the writes are fenced (store.h, store_pg_sql.c).
 * The BEGIN waits for the first statement, to go in its round trip. */
static int pg_begin_fenced(struct store *s)
{
	if (ensure_connected(s))
		return -1;
	s->begin_due = true;
	return 0;
}

static int pg_commit(struct store *s)
{
	if (s->begin_due) {             /* nothing was sent: nothing to commit */
		s->begin_due = false;
		return 0;
	}
	return exec_cmd(s, "COMMIT");
}

static void pg_rollback(struct store *s)
{
	if (s->begin_due)
		s->begin_due = false;
	else if (PQstatus(s->conn) == CONNECTION_OK)
		exec_cmd(s, "ROLLBACK");
}

/* The server's autovacuum does the maintenance SQLite's checkpoint does. */
static int pg_checkpoint(struct store *s)
{
	(void)s;
	return 0;
}

static int64_t pg_clock_ms(struct store *s)
{
	if (ensure_connected(s))
		return -1;
	PGresult *r = PQexec(s->conn, pg_clock_sql);
	int64_t ms = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		set_err(s, PQresultErrorMessage(r));
	PQclear(r);
	return ms;
}

static int pg_notify(struct store *s, enum store_channel ch, const char *execution_id)
{
	if (PQtransactionStatus(s->conn) == PQTRANS_IDLE && ensure_connected(s))
		return -1;
	const char *const values[2] = { pg_channels[ch], execution_id };
	PGresult *r = PQexecParams(s->conn, pg_notify_sql, 2, NULL, values, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		set_err(s, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* pg_commit_notify_sql for ch and execution_id, into sql. Returns 0, or -1. */
static int commit_notify_text(struct store *s, char *sql, size_t size, enum store_channel ch,
			      const char *execution_id)
{
	char *id = PQescapeLiteral(s->conn, execution_id, strlen(execution_id));
	int n = id ? snprintf(sql, size, pg_commit_notify_sql, pg_channels[ch], id) : -1;

	PQfreemem(id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * The COMMIT and the notification as one simple query of two statements:
 * the second runs in a transaction of its own once the first has
 * committed. Only the COMMIT's result decides the return.
 */
static int pg_commit_notify(struct store *s, enum store_channel ch, const char *execution_id)
{
	char sql[192];                  /* the statements, a channel and an escaped uuid */

	if (s->begin_due || commit_notify_text(s, sql, sizeof sql, ch, execution_id) < 0) {
		if (pg_commit(s) < 0)
			return -1;
		pg_notify(s, ch, execution_id);
		return 0;
	}
	if (!PQsendQuery(s->conn, sql)) {
		set_err(s, PQerrorMessage(s->conn));
		return -1;
	}
	PGresult *commit = PQgetResult(s->conn), *more;
	int ok = PQresultStatus(commit) == PGRES_COMMAND_OK;
	if (!ok)
		set_err(s, PQresultErrorMessage(commit)[0] ? PQresultErrorMessage(commit) : PQerrorMessage(s->conn));
	PQclear(commit);
	while ((more = PQgetResult(s->conn)))
		PQclear(more);
	return ok ? 0 : -1;
}

/* A new connection listens to nothing: LISTEN again after every (re)connect. */
static int pg_listen(struct store *s, enum store_channel ch)
{
	if (ensure_connected(s) || exec_cmd(s, pg_listen_sql[ch]))
		return -1;
	return PQsocket(s->conn);
}

static int pg_notifications(struct store *s, void (*fn)(void *ctx, const char *execution_id), void *ctx)
{
	if (!PQconsumeInput(s->conn) || PQstatus(s->conn) != CONNECTION_OK) {
		set_err(s, PQerrorMessage(s->conn));
		return -1;
	}
	int n = 0;
	for (PGnotify *note; (note = PQnotifies(s->conn)); n++) {
		if (fn)
			fn(ctx, note->extra);
		PQfreemem(note);
	}
	return n;
}

/* The server's autovacuum makes what retention deleted reusable; nothing to give back here. */
static int pg_reclaim(struct store *s, int max_pages)
{
	(void)s;
	(void)max_pages;
	return 0;
}

const struct store_ops store_pg_ops = {
	.open = pg_open,
	.close = pg_close,
	.errmsg = pg_errmsg,
	.query = pg_query,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_null = pg_bind_null,
	.param_count = pg_param_count,
	.step = pg_step,
	.changes = pg_changes,
	.reset = pg_reset,
	.column_is_null = pg_column_is_null,
	.column_int64 = pg_column_int64,
	.column_double = pg_column_double,
	.column_text = pg_column_text,
	.column_name = pg_column_name,
	.begin = pg_begin,
	.begin_session = pg_begin_session,
	.begin_fenced = pg_begin_fenced,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.checkpoint = pg_checkpoint,
	.clock_ms = pg_clock_ms,
	.notify = pg_notify,
	.commit_notify = pg_commit_notify,
	.listen = pg_listen,
	.notifications = pg_notifications,
	.reclaim = pg_reclaim,
};
