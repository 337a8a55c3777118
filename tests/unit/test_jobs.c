/* Unit tests of the store and the runner's claim / fence / sweep SQL, on a real SQLite file. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "jobs.h"
#include "store.h"

struct fixture {
	char dir[64];
	struct config cfg;
	struct jobs_db j;
};

static int fixture_open(struct fixture *f, const char *runner_id)
{
	strcpy(f->dir, "/tmp/engine-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	config_defaults(&f->cfg);
	strcpy(f->cfg.data_dir, f->dir);
	char err[256];
	return jobs_open(&f->j, &f->cfg, runner_id, err, sizeof(err));
}

static void fixture_close(struct fixture *f)
{
	char path[128];
	jobs_close(&f->j);
	const char *files[] = { "engine.db", "engine.db-wal", "engine.db-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
}

static void exec_sql(struct fixture *f, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(f->j.db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "  sql: %s\n", err);
		sqlite3_free(err);
		CHECK(!"sql failed");
	}
}

static long long query_int(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(f->j.db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void queue_two(struct fixture *f)
{
	exec_sql(f, "INSERT INTO sessions VALUES ('s1', 'python', 'print(1)', 'ACTIVE', 1, 1);"
		 "INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at) "
		 "VALUES ('e1', 's1', 'QUEUED', 'python', 'print(1)', 'in1', 10),"
		 "       ('e2', 's1', 'QUEUED', 'python', 'print(2)', '', 11);");
}

TEST(store_creates_schema_once_and_reopens)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, "r1") == 0);
	CHECK(query_int(&f, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/engine.db", f.dir);
	sqlite3 *again = store_open(path, err, sizeof(err));
	CHECK(again != NULL);
	sqlite3_close(again);
	CHECK(query_int(&f, "SELECT count(*) FROM sqlite_master WHERE name = 'executions'") == 1);
	fixture_close(&f);
}

TEST(jobs_claim_takes_the_oldest_once)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(jobs_claim(&f.j, &c) == 1);
	CHECK_STR(c.id, "e1");
	CHECK(c.attempt == 1);
	CHECK_STR(c.source, "print(1)");
	CHECK_STR(c.stdin_data, "in1");
	claim_free(&c);
	REQUIRE(jobs_claim(&f.j, &c) == 1);
	CHECK_STR(c.id, "e2");
	claim_free(&c);
	CHECK(jobs_claim(&f.j, &c) == 0);
	CHECK(!jobs_any_queued(&f.j));
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE status = 'RUNNING' AND runner_id = 'r1'") == 2);
	fixture_close(&f);
}

TEST(jobs_finish_is_fenced_by_attempt)
{
	struct fixture f;
	struct claim c;
	struct outcome o = { .status = "COMPLETED", .out = "hi\n", .out_len = 3, .has_exit_code = true };
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(jobs_claim(&f.j, &c) == 1);
	c.attempt++;                        /* a stale attempt must not write */
	CHECK(jobs_finish(&f.j, &c, &o) == 0);
	c.attempt--;
	CHECK(jobs_finish(&f.j, &c, &o) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'COMPLETED' "
			"AND stdout = 'hi\n' AND exit_code = 0 AND lease_until IS NULL") == 1);
	CHECK(jobs_finish(&f.j, &c, &o) == 0);   /* already terminal */
	claim_free(&c);
	fixture_close(&f);
}

TEST(jobs_finish_stores_invalid_utf8_as_replacement_characters)
{
	struct fixture f;
	struct claim c;
	struct outcome o = { .status = "COMPLETED", .out = "a\xFF", .out_len = 2, .has_exit_code = true };
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(jobs_claim(&f.j, &c) == 1);
	CHECK(jobs_finish(&f.j, &c, &o) == 1);
	CHECK(query_int(&f, "SELECT stdout = 'a' || char(65533) FROM executions WHERE id = 'e1'") == 1);
	claim_free(&c);
	fixture_close(&f);
}

TEST(jobs_sweep_requeues_expired_leases_then_gives_up)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	exec_sql(&f, "INSERT INTO runners VALUES ('r1', 'h', 1, 1, 0, 'test', 1, 9999999999999, NULL)");
	queue_two(&f);
	f.cfg.max_attempts = 2;
	for (int attempt = 1; attempt <= 2; attempt++) {
		REQUIRE(jobs_claim(&f.j, &c) == 1);
		CHECK(c.attempt == attempt);
		claim_free(&c);
		exec_sql(&f, "UPDATE executions SET lease_until = 1 WHERE id = 'e1'");
		CHECK(jobs_sweep(&f.j) == 1);
	}
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'FAILED' "
			"AND error_code = 'RUNNER_LOST' AND attempt = 2") == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e2' AND status = 'QUEUED'") == 1);
	fixture_close(&f);
}

TEST(jobs_sweep_expires_claims_of_a_stopped_runner)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "dead") == 0);
	exec_sql(&f, "INSERT INTO runners VALUES ('dead', 'h', 1, 1, 0, 'test', 1, 1, NULL)");
	queue_two(&f);
	REQUIRE(jobs_claim(&f.j, &c) == 1);   /* lease far in the future, runner silent since t=1 */
	claim_free(&c);
	CHECK(jobs_sweep(&f.j) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'QUEUED' "
			"AND runner_id IS NULL AND attempt = 1") == 1);
	fixture_close(&f);
}
