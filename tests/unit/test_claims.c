/*
 * Unit tests of the runner's claim / fence / sweep on a real SQLite file.
 * The checks read the file through their own plain SQLite connection.
 */
#include <limits.h>

#include "check.h"
#include "claims.h"
#include "store_stdin.h"
#include "store_fixture.h"

struct fixture {
	struct config cfg;
	struct claims c;
};

static int fixture_open(struct fixture *f, const char *runner_id)
{
	char err[256];
	memset(f, 0, sizeof(*f));
	if (data_dir_new(&f->cfg))
		return -1;
	return claims_open(&f->c, &f->cfg, runner_id, STORE_ROLE_RUNNER, err, sizeof(err));
}

static void fixture_close(struct fixture *f)
{
	claims_close(&f->c);
	data_dir_remove(&f->cfg);
}

static void exec_sql(struct fixture *f, const char *sql)
{
	CHECK(store_file_exec(&f->cfg, sql) == 0);
}

static long long query_int(struct fixture *f, const char *sql)
{
	return store_file_int(&f->cfg, sql);
}

static void session_s1(struct fixture *f)
{
	exec_sql(f, "INSERT INTO sessions (id, language, source_code, status, created_at, updated_at) "
		 "VALUES ('s1', 'python', 'print(1)', 'ACTIVE', 1, 1);");
}

/* One execution of session s1 by learner, in status, queued at queued_at. */
static void learner_run(struct fixture *f, const char *id, const char *status, int queued_at, const char *learner)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, learner) "
		 "VALUES ('%s', 's1', '%s', 'python', '', '', %d, '%s');", id, status, queued_at, learner);
	exec_sql(f, sql);
}

static void queue_two(struct fixture *f)
{
	session_s1(f);
	exec_sql(f, "INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at) "
		 "VALUES ('e1', 's1', 'QUEUED', 'python', 'print(1)', 'in1', 10),"
		 "       ('e2', 's1', 'QUEUED', 'python', 'print(2)', '', 11);");
}

TEST(claims_take_claims_the_oldest_once)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	CHECK_STR(c.id, "e1");
	CHECK(c.attempt == 1);
	CHECK_STR(c.source, "print(1)");
	CHECK_STR(c.stdin_data, "in1");
	claim_free(&c);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	CHECK_STR(c.id, "e2");
	claim_free(&c);
	CHECK(claims_take(&f.c, &c, INT_MAX) == 0);
	CHECK(!claims_any_queued(&f.c));
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE status = 'RUNNING' AND runner_id = 'r1'") == 2);
	fixture_close(&f);
}

TEST(claims_take_serves_the_learner_with_fewest_running_then_longest_unserved)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	/* a: a backlog of three queued first; b: one run queued last. */
	session_s1(&f);
	learner_run(&f, "a1", "QUEUED", 10, "a");
	learner_run(&f, "a2", "QUEUED", 11, "a");
	learner_run(&f, "a3", "QUEUED", 12, "a");
	learner_run(&f, "b1", "QUEUED", 13, "b");
	static const char *const order[] = { "a1", "b1", "a2", "a3" };
	static const int running[] = { 1, 1, 2, 3 };    /* the learner's runs running, the claimed one included */
	for (int i = 0; i < 4; i++) {
		REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
		CHECK_STR(c.id, order[i]);
		CHECK(c.learner_running == running[i]);
		claim_free(&c);
	}
	/* Both learners running as many: the one served longest ago goes first. */
	learner_run(&f, "a4", "QUEUED", 14, "a");
	learner_run(&f, "b2", "QUEUED", 15, "b");
	exec_sql(&f, "UPDATE executions SET status = 'COMPLETED' WHERE id IN ('a2', 'a3');"
		 "UPDATE executions SET started_at = 50 WHERE learner = 'a' AND started_at IS NOT NULL;"
		 "UPDATE executions SET started_at = 100 WHERE id = 'b1';");
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	CHECK_STR(c.id, "a4");
	claim_free(&c);
	fixture_close(&f);
}

TEST(claims_take_with_a_bound_skips_learners_running_that_many)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	/* a: one running, two queued; b: nothing yet. */
	session_s1(&f);
	learner_run(&f, "a0", "RUNNING", 9, "a");
	learner_run(&f, "a1", "QUEUED", 10, "a");
	learner_run(&f, "a2", "QUEUED", 11, "a");
	/* The last free slot (a bound of 1) takes nothing of a's... */
	CHECK(claims_take(&f.c, &c, 1) == 0);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE status = 'QUEUED'") == 2);
	/* ...but b's run as soon as it is queued, */
	learner_run(&f, "b1", "QUEUED", 12, "b");
	REQUIRE(claims_take(&f.c, &c, 1) == 1);
	CHECK_STR(c.id, "b1");
	claim_free(&c);
	/* and with a bound above a's count, a's next. */
	REQUIRE(claims_take(&f.c, &c, 2) == 1);
	CHECK_STR(c.id, "a1");
	claim_free(&c);
	fixture_close(&f);
}

/* Case case_index of submission sub, by learner, in status, queued at queued_at. */
static void learner_case(struct fixture *f, const char *id, const char *sub, int case_index, const char *status,
			 int queued_at, const char *learner)
{
	char sql[640];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, learner, "
		 "kind, submission_id, case_index, expected_stdout, compare, time_limit_ms) "
		 "VALUES ('%s', 's1', '%s', 'python', '', '', %d, '%s', 'submission', '%s', %d, '', 'exact', 1000);",
		 id, status, queued_at, learner, sub, case_index);
	exec_sql(f, sql);
}

/* The claim finds every learner with queued work, not just the first in
 * its index, and within a learner takes plain runs and cases of idle
 * submissions (oldest first) before a case whose submission has one
 * running, however old. */
TEST(claims_take_walks_every_learner_and_takes_a_case_with_one_running_last)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	session_s1(&f);
	/* a runs two and queued one, b runs one and queued one, c only queued. */
	learner_run(&f, "a0", "RUNNING", 1, "a");
	learner_run(&f, "a1", "RUNNING", 2, "a");
	learner_run(&f, "a2", "QUEUED", 3, "a");
	learner_run(&f, "b0", "RUNNING", 4, "b");
	learner_run(&f, "b1", "QUEUED", 5, "b");
	learner_run(&f, "c1", "QUEUED", 6, "c");
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	CHECK_STR(c.id, "c1");
	claim_free(&c);
	/* b and c run one each now, a two: with a bound of 2, b's is next and then nothing. */
	REQUIRE(claims_take(&f.c, &c, 2) == 1);
	CHECK_STR(c.id, "b1");
	claim_free(&c);
	CHECK(claims_take(&f.c, &c, 2) == 0);
	exec_sql(&f, "UPDATE executions SET status = 'COMPLETED';");
	/* d: a case of u1 (whose case 0 runs) queued first, then a plain run, then a case of u2. */
	exec_sql(&f, "INSERT INTO submissions (id, session_id, suite_id, suite_version, queued_at) "
		 "VALUES ('u1', 's1', 't', 1, 7), ('u2', 's1', 't', 1, 8);");
	learner_case(&f, "u1c0", "u1", 0, "RUNNING", 7, "d");
	learner_case(&f, "u1c1", "u1", 1, "QUEUED", 7, "d");
	learner_run(&f, "d1", "QUEUED", 9, "d");
	learner_case(&f, "u2c0", "u2", 0, "QUEUED", 10, "d");
	static const char *const order[] = { "d1", "u2c0", "u1c1" };
	for (int i = 0; i < 3; i++) {
		REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
		CHECK_STR(c.id, order[i]);
		claim_free(&c);
	}
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE status = 'QUEUED'") == 0);
	fixture_close(&f);
}

TEST(claims_finish_is_fenced_by_attempt)
{
	struct fixture f;
	struct claim c;
	struct outcome o = { .status = "COMPLETED", .out = "hi\n", .out_len = 3, .has_exit_code = true };
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	c.attempt++;                        /* a stale attempt must not write */
	CHECK(claims_finish(&f.c, &c, &o, NULL) == 0);
	c.attempt--;
	CHECK(claims_finish(&f.c, &c, &o, NULL) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'COMPLETED' "
			"AND stdout = 'hi\n' AND exit_code = 0 AND lease_until IS NULL AND signal IS NULL "
			"AND error_code IS NULL AND error_message IS NULL") == 1);
	CHECK(claims_finish(&f.c, &c, &o, NULL) == 0);   /* already terminal */
	claim_free(&c);
	fixture_close(&f);
}

TEST(claims_finish_stores_invalid_utf8_as_replacement_characters)
{
	struct fixture f;
	struct claim c;
	struct outcome o = { .status = "COMPLETED", .out = "a\xFF", .out_len = 2, .has_exit_code = true };
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	CHECK(claims_finish(&f.c, &c, &o, NULL) == 1);
	CHECK(query_int(&f, "SELECT stdout = 'a' || char(65533) FROM executions WHERE id = 'e1'") == 1);
	claim_free(&c);
	fixture_close(&f);
}

TEST(claims_sweep_requeues_expired_leases_then_gives_up)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "r1") == 0);
	exec_sql(&f, "INSERT INTO runners VALUES ('r1', 'h', 1, 1, 0, 'test', 1, 9999999999999, NULL, '[]', 0)");
	queue_two(&f);
	f.cfg.max_attempts = 2;
	for (int attempt = 1; attempt <= 2; attempt++) {
		REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
		CHECK(c.attempt == attempt);
		claim_free(&c);
		exec_sql(&f, "UPDATE executions SET lease_until = 1 WHERE id = 'e1'");
		CHECK(claims_sweep(&f.c, NULL) == 1);
	}
	/* The requeue stored the QUEUED event of attempt 2, event 0 of that attempt. */
	CHECK(query_int(&f, "SELECT count(*) FROM execution_events WHERE execution_id = 'e1'") == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM execution_events WHERE execution_id = 'e1' "
			"AND event_id = 2 << 32 AND attempt = 2 AND kind = 'status' AND data = 'QUEUED'") == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'FAILED' "
			"AND error_code = 'RUNNER_LOST' AND attempt = 2") == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e2' AND status = 'QUEUED'") == 1);
	fixture_close(&f);
}

TEST(claims_sweep_expires_claims_of_a_stopped_runner)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "dead") == 0);
	exec_sql(&f, "INSERT INTO runners VALUES ('dead', 'h', 1, 1, 0, 'test', 1, 1, NULL, '[]', 0)");
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);   /* lease far in the future, runner silent since t=1 */
	claim_free(&c);
	CHECK(claims_sweep(&f.c, NULL) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'QUEUED' "
			"AND runner_id IS NULL AND attempt = 1") == 1);
	fixture_close(&f);
}

TEST(claims_finish_of_a_cancelled_attempt_writes_cancelled)
{
	struct fixture f;
	struct claim c;
	struct outcome o = { .status = "COMPLETED", .out = "hi\n", .out_len = 3, .has_exit_code = true };
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	exec_sql(&f, "UPDATE executions SET cancel_requested = 1 WHERE id = 'e1'");
	CHECK(claims_finish(&f.c, &c, &o, NULL) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'FAILED' "
			"AND error_code = 'CANCELLED' AND error_message = '" CANCEL_MESSAGE "' "
			"AND stdout = 'hi\n'") == 1);
	claim_free(&c);
	fixture_close(&f);
}

TEST(claims_sweep_ends_a_lost_cancelled_run_cancelled_instead_of_requeueing_it)
{
	struct fixture f;
	struct claim c;
	REQUIRE(fixture_open(&f, "dead") == 0);
	exec_sql(&f, "INSERT INTO runners VALUES ('dead', 'h', 1, 1, 0, 'test', 1, 1, NULL, '[]', 0)");
	queue_two(&f);
	REQUIRE(claims_take(&f.c, &c, INT_MAX) == 1);
	claim_free(&c);
	exec_sql(&f, "UPDATE executions SET cancel_requested = 1 WHERE id = 'e1'");
	CHECK(claims_sweep(&f.c, NULL) == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE id = 'e1' AND status = 'FAILED' "
			"AND error_code = 'CANCELLED' AND attempt = 1 AND stdout = ''") == 1);
	CHECK(query_int(&f, "SELECT count(*) FROM executions WHERE status = 'QUEUED'") == 1);
	fixture_close(&f);
}

TEST(store_stdin_send_appends_in_order_within_max_bytes_until_eof)
{
	struct fixture f;
	REQUIRE(fixture_open(&f, "r1") == 0);
	queue_two(&f);
	struct store *s = f.c.store;
	CHECK(store_stdin_send(s, "e1", "x", 1, false, 100) == STDIN_NOT_OPEN);     /* not interactive */
	exec_sql(&f, "UPDATE executions SET interactive = 1");
	CHECK(store_stdin_send(s, "nope", "x", 1, false, 100) == STDIN_NO_EXECUTION);
	/* e1's stdin "in1" counts: 3 + 4 + 3 = 10 bytes fit, one more does not. */
	CHECK(store_stdin_send(s, "e1", "abcd", 4, false, 10) == STDIN_SENT);
	CHECK(store_stdin_send(s, "e1", "efgh", 4, false, 10) == STDIN_OVER_LIMIT);
	CHECK(store_stdin_send(s, "e1", "efg", 3, true, 10) == STDIN_SENT);
	CHECK(store_stdin_send(s, "e1", "", 0, true, 10) == STDIN_NOT_OPEN);        /* after eof */
	CHECK(query_int(&f, "SELECT (SELECT group_concat(seq || ':' || data || ':' || eof, ',') FROM "
			"(SELECT * FROM execution_stdin WHERE execution_id = 'e1' ORDER BY seq)) "
			"= '1:abcd:0,2:efg:1'") == 1);
	exec_sql(&f, "UPDATE executions SET status = 'COMPLETED' WHERE id = 'e2'");
	CHECK(store_stdin_send(s, "e2", "x", 1, false, 100) == STDIN_NOT_OPEN);     /* finished */
	fixture_close(&f);
}
