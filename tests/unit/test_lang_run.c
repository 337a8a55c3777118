/*
 * Every language of conf/languages.conf, compiled and run in real
 * sandboxes: the toolchain answers its version, hello world prints,
 * a compile error is the compiler's message on the learner's file name.
 */
#include "check.h"
#include "config.h"
#include "lang_run.h"
#include "lang_standby.h"
#include "syntax_memo.h"
#include "toolchain_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config the_cfg;
static struct sandbox_host the_host;
static struct language_table the_table;
static int the_state;                   /* 0 untried, 1 ok, -1 failed */

static bool setup(void)
{
	char err[512];

	if (the_state == 0) {
		config_defaults(&the_cfg);
		the_state = -1;
		if (languages_load(&the_table, "conf/languages.conf", err, sizeof err) < 0)
			fprintf(stderr, "  %s\n", err);
		else if (sandbox_host_init(&the_host, the_cfg.python, the_cfg.sandbox_uid_base, "auto", false,
					   &the_cfg.limits, err, sizeof err) < 0)
			fprintf(stderr, "  sandbox_host_init: %s\n", err);
		else
			the_state = 1;
		/* Every toolchain as it ships: the runner's start-up snapshots are
		 * tested against the real stack (tests/test_languages.py). */
		for (int i = 0; the_state > 0 && i < the_table.n; i++)
			toolchain_snapshot_none(&the_table.langs[i]);
	}
	return the_state > 0;
}

__attribute__((destructor)) static void release(void)
{
	if (the_state > 0) {
		sandbox_host_fini(&the_host);
		languages_free(&the_table);
	}
}

static struct language *lang(const char *id)
{
	return (struct language *)languages_find(&the_table, id);
}

struct hello { const char *id, *source; };

/* TypeScript's require through eval: it type-checks with or without Node's
 * declarations (@types/node, which make unit does not install). */

static const struct hello hellos[] = {
	{ "python", "print('hello', input())\n" },
	{ "javascript", "const s = require('fs').readFileSync(0, 'utf8').trim();\nconsole.log('hello', s);\n" },
	{ "typescript", "const s: string = eval('require')('fs').readFileSync(0, 'utf8').trim();\nconsole.log('hello', s);\n" },
	{ "c", "#include <stdio.h>\nint main(void) { char b[32]; scanf(\"%31s\", b); printf(\"hello %s\\n\", b); return 0; }\n" },
	{ "cpp", "#include <iostream>\n#include <string>\nint main() { std::string s; std::cin >> s; std::cout << \"hello \" << s << std::endl; }\n" },
	{ "java", "import java.util.Scanner;\npublic class Main {\n  public static void main(String[] a) {\n    System.out.println(\"hello \" + new Scanner(System.in).next());\n  }\n}\n" },
	{ "go", "package main\nimport \"fmt\"\nfunc main() { var s string; fmt.Scan(&s); fmt.Println(\"hello\", s) }\n" },
	{ "rust", "fn main() { let mut s = String::new(); std::io::stdin().read_line(&mut s).unwrap(); println!(\"hello {}\", s.trim()); }\n" },
	{ "bash", "read s\necho hello $s\n" },
	{ "sql", "SELECT 'hello' || ' ' || 'Ada' AS greeting;\n" },
};

/* A compile has its own CPU cap (compile_max_cpu_percent), the program
 * the engine's (max_cpu_percent); a language's own limits still apply. */
TEST(lang_a_compile_gets_the_compile_cpu_cap_and_the_run_the_programs)
{
	struct sandbox_limits compile, run;

	REQUIRE(setup());
	lang_compile_limits(&the_cfg, lang("typescript"), &compile);
	lang_run_limits(&the_cfg, lang("typescript"), &run);
	CHECK(the_cfg.compile_max_cpu_percent == 200);
	CHECK(compile.max_cpu_percent == 200);
	CHECK(run.max_cpu_percent == 100);
	CHECK(compile.as_mb == 16384);
}

TEST(lang_every_toolchain_answers_its_version_in_the_sandbox)
{
	char err[512];

	REQUIRE(setup());
	for (int i = 0; i < the_table.n; i++) {
		struct language *l = &the_table.langs[i];
		int rc = lang_probe(&the_host, &the_cfg, l, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "  %s: %s\n", l->id, err);
		CHECK(rc == 0);
		CHECK(l->version_text[0] >= '0' && l->version_text[0] <= '9');
	}
}

static void run_source(const char *id, const char *src, const char *in, struct lang_result *res)
{
	struct lang_input input = { .source = src, .source_len = strlen(src),
				    .stdin_data = in, .stdin_len = in ? strlen(in) : 0 };
	lang_execute(&the_host, &the_cfg, lang(id), NULL, &input, res);
}

TEST(lang_every_language_runs_hello_world_with_stdin)
{
	REQUIRE(setup());
	for (size_t i = 0; i < sizeof hellos / sizeof hellos[0]; i++) {
		struct lang_result res;
		run_source(hellos[i].id, hellos[i].source, "Ada\n", &res);
		bool ok = res.ran && res.run.outcome == SANDBOX_EXITED && res.run.exit_code == 0 &&
			  strstr(res.run.out, "hello") && strstr(res.run.out, "Ada");
		if (!ok)
			fprintf(stderr, "  %s: compile %d [%s] run %d exit %d signal %d msg [%s]\n  out [%s]\n  err [%.600s]\n",
				hellos[i].id, res.compile, res.compile_res.err ? res.compile_res.err : "",
				res.run.outcome, res.run.exit_code, res.run.signal, res.run.message,
				res.run.out ? res.run.out : "", res.run.err ? res.run.err : "");
		CHECK(ok);
		lang_result_free(&res);
	}
}

TEST(lang_a_compile_error_names_the_learners_file_and_line)
{
	REQUIRE(setup());
	struct lang_result res;
	run_source("c", "int main(void) {\n  return x;\n}\n", NULL, &res);
	CHECK(res.compile == COMPILE_FAILED);
	CHECK(!res.ran);
	REQUIRE(res.compile_res.err);
	CHECK(strstr(res.compile_res.err, "main.c:2:10: error") != NULL);
	lang_result_free(&res);
}

/* The syntax channel: a syntax error is a failed compile with the
 * interpreter's report and no run; a program that writes fd 4 itself (it
 * was closed before its code started) and raises a SyntaxError at run time
 * is a run like any other. */
TEST(lang_a_syntax_error_comes_through_the_syntax_channel_only)
{
	REQUIRE(setup());
	struct lang_result res;
	run_source("python", "print('no')\nx = (\n", NULL, &res);
	CHECK(res.compile == COMPILE_FAILED);
	CHECK(!res.ran);
	REQUIRE(res.compile_res.err);
	CHECK(strstr(res.compile_res.err, "File \"main.py\", line 2") != NULL);
	lang_result_free(&res);

	run_source("python", "import os\ntry:\n    os.write(4, b'x')\nexcept OSError as e:\n    print(e.errno)\n"
		   "exec('x = (')\n", NULL, &res);
	CHECK(res.compile == COMPILE_NONE);
	CHECK(res.ran && res.run.outcome == SANDBOX_EXITED && res.run.exit_code == 1);
	CHECK(res.run.syntax == NULL);
	CHECK_STR(res.run.out, "9\n");         /* EBADF */
	lang_result_free(&res);
}

/* A slot's standbys for a compiled language: the compiler's sandbox and
 * the program's, both taken by a compile-and-run like the last; a compile
 * of more files (a longer command) passes the compiler's over and gets a
 * sandbox of its own, with the same result. */
TEST(lang_a_slots_standbys_serve_the_compile_and_the_run)
{
	static const char src[] = "#include <stdio.h>\nint twice(int);\nint main(void) { int n; scanf(\"%d\", &n); "
				  "printf(\"%d\\n\", twice(n)); }\n";
	static const char lib[] = "int twice(int n) { return 2 * n; }\n";
	const struct sandbox_file other = { .name = "twice.c", .data = lib, .len = sizeof lib - 1 };
	struct lang_standby sb = { 0 };
	struct lang_input like = { .source = NULL };
	struct lang_result res;

	REQUIRE(setup());
	lang_standby_keep(&sb, &the_host, &the_cfg, lang("c"), &like, false);
	REQUIRE(sb.compile.ready && sb.run.ready);
	struct lang_input one = { .source = src, .source_len = strlen(src), .stdin_data = "1", .stdin_len = 1,
				  .standby = &sb };
	struct lang_input two = one;
	two.app_files = &other;
	two.napp_files = 1;
	two.stdin_data = "21";
	two.stdin_len = 2;
	/* Without the second file the program does not link: its compile is a new one. */
	lang_execute(&the_host, &the_cfg, lang("c"), NULL, &two, &res);
	CHECK(res.compile == COMPILE_OK && res.ran && res.run.out && strcmp(res.run.out, "42\n") == 0);
	CHECK(sb.compile.ready == NULL && sb.compile.unfit != NULL);
	CHECK(sb.run.ready == NULL && sb.run.unfit == NULL);
	lang_result_free(&res);
	lang_standby_keep(&sb, &the_host, &the_cfg, lang("c"), &like, false);
	REQUIRE(sb.compile.ready && sb.run.ready && !sb.compile.unfit);
	one.source = "#include <stdio.h>\nint main(void) { int n; scanf(\"%d\", &n); printf(\"%d\\n\", n + 1); }\n";
	one.source_len = strlen(one.source);
	lang_execute(&the_host, &the_cfg, lang("c"), NULL, &one, &res);
	CHECK(res.compile == COMPILE_OK && res.ran && res.run.out && strcmp(res.run.out, "2\n") == 0);
	CHECK(sb.compile.ready == NULL && sb.compile.unfit == NULL);
	CHECK(sb.run.ready == NULL && sb.run.unfit == NULL);
	lang_result_free(&res);
	lang_standby_drop(&sb);
}

/* A Bash or SQL source that passed its check runs again without it
 * (run_checked), with the same result; a source that failed, or whose
 * run did not exit 0, is checked at every run. */
TEST(lang_a_source_that_passed_its_check_runs_again_without_it)
{
	static const struct { const char *id, *ok, *out, *bad, *fails; } cases[] = {
		{ "bash", "echo hi $0\n", "hi /app/main.sh\n", "echo a\nif then\n", "echo x; exit 3\n" },
		{ "sql", ".mode list\nSELECT 'hi';\n", "hi\n", "SELECT 1;\nSELEC 2;\n", "SELECT 'x';\nSELECT * FROM missing_table;\n" },
	};
	struct syntax_memo memo;

	REQUIRE(setup());
	syntax_memo_init(&memo);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *sources[] = { cases[i].ok, cases[i].bad, cases[i].fails };
		bool skipped[3][2];

		for (int s = 0; s < 3; s++) {
			for (int round = 0; round < 2; round++) {
				struct lang_input in = { .source = sources[s], .source_len = strlen(sources[s]),
							 .syntax_memo = &memo };
				struct lang_result res;

				lang_execute(&the_host, &the_cfg, lang(cases[i].id), NULL, &in, &res);
				skipped[s][round] = res.check_skipped;
				if (s == 0)
					CHECK(res.ran && res.run.exit_code == 0 && strcmp(res.run.out, cases[i].out) == 0);
				if (s == 1)
					CHECK(res.compile == COMPILE_FAILED && !res.ran);
				if (s == 2)
					CHECK(res.ran && res.run.exit_code != 0);
				lang_result_free(&res);
			}
		}
		CHECK(!skipped[0][0] && skipped[0][1]);
		CHECK(!skipped[1][0] && !skipped[1][1]);
		CHECK(!skipped[2][0] && !skipped[2][1]);
	}
}

/* The memo keeps the last SYNTAX_MEMO_KEYS sources, per language. */
TEST(lang_syntax_memo_forgets_the_oldest_and_tells_languages_apart)
{
	struct language a = { .id = "a" }, b = { .id = "b" };
	struct syntax_memo memo;
	char src[32];

	syntax_memo_init(&memo);
	syntax_memo_add(&memo, &a, "first", 5);
	CHECK(syntax_memo_passed(&memo, &a, "first", 5));
	CHECK(!syntax_memo_passed(&memo, &b, "first", 5));
	CHECK(!syntax_memo_passed(&memo, &a, "firs", 4));
	for (int i = 0; i < SYNTAX_MEMO_KEYS - 1; i++) {
		snprintf(src, sizeof src, "source %d", i);
		syntax_memo_add(&memo, &a, src, strlen(src));
	}
	CHECK(syntax_memo_passed(&memo, &a, "first", 5));
	syntax_memo_add(&memo, &a, "one more", 8);
	CHECK(!syntax_memo_passed(&memo, &a, "first", 5));
	CHECK(syntax_memo_passed(&memo, &a, "source 0", 8));
}
