/*
 * Every language of conf/languages.conf, compiled and run in real
 * sandboxes: the toolchain answers its version, hello world prints,
 * a compile error is the compiler's message on the learner's file name.
 */
#include "check.h"
#include "config.h"
#include "lang_run.h"

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
