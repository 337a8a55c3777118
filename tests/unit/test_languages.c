/* Unit tests of the language table (common/languages.c). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "languages.h"

static int load_text(struct language_table *t, const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/engine-unit-lang-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -2;
	ssize_t w = write(fd, text, strlen(text));
	close(fd);
	int rc = w < 0 ? -2 : languages_load(t, path, err, errlen);
	/* The reason names the file: keep only "line: reason" for comparing. */
	char *colon = strchr(err, ':');
	if (rc == -1 && colon)
		memmove(err, colon + 1, strlen(colon));
	unlink(path);
	return rc;
}

static const char c_row[] =
	"[c]\nname = C\nfile = main.c\nversion = /usr/bin/gcc --version\n"
	"compile = /usr/bin/gcc -o /tmp/out/main main.c\nrun = /app/main\n";

TEST(languages_reads_a_section_into_argv_words)
{
	struct language_table t;
	char err[256] = "";
	REQUIRE(load_text(&t, c_row, err, sizeof err) == 0);
	REQUIRE(t.n == 1);
	const struct language *l = languages_find(&t, "c");
	REQUIRE(l);
	CHECK_STR(l->name, "C");
	CHECK_STR(l->file, "main.c");
	CHECK(l->compile.n == 4);
	CHECK_STR(l->compile.argv[2], "/tmp/out/main");
	CHECK(l->compile.argv[4] == NULL);
	CHECK(l->run.n == 1);
	CHECK(l->check.n == 0);
	CHECK(languages_find(&t, "cobol") == NULL);
	languages_free(&t);
}

TEST(languages_quotes_keep_blanks_inside_a_word)
{
	struct language_table t;
	char err[256] = "";
	REQUIRE(load_text(&t, "[sql]\nname = SQL\nfile = main.sql\nversion = /usr/bin/sqlite3 --version\n"
			  "run = /usr/bin/sqlite3 :memory: \".read /app/main.sql\"\nenv = A=1 B=2\n"
			  "memory_mb = 300\nas_mb = 4096\ncpu_demote_after_ms = 400\nsyntax_channel = yes\n", err, sizeof err) == 0);
	const struct language *l = languages_find(&t, "sql");
	REQUIRE(l && l->run.n == 3);
	CHECK(l->syntax_channel);
	CHECK_STR(l->run.argv[2], ".read /app/main.sql");
	CHECK(l->nenv == 2);
	CHECK_STR(l->env[1], "B=2");
	struct sandbox_limits base = { .memory_mb = 256, .max_processes = 64, .cpu_demote_after_ms = 100 }, out;
	lang_limits_apply(&l->limits, &base, &out);
	CHECK(out.memory_mb == 300);
	CHECK(out.max_processes == 64);
	CHECK(out.as_mb == 4096);
	CHECK(out.cpu_demote_after_ms == 400);
	/* The engine's 0 (never demote) stays 0 whatever the language says. */
	base.cpu_demote_after_ms = 0;
	lang_limits_apply(&l->limits, &base, &out);
	CHECK(out.cpu_demote_after_ms == 0);
	languages_free(&t);
}

TEST(languages_a_hash_inside_quotes_is_part_of_the_word)
{
	struct language_table t;
	char err[256] = "";
	REQUIRE(load_text(&t, "[sh]  # a comment after the section\nname = Sh # and after a value\nfile = main.sh\n"
			  "version = /usr/bin/dash -c \"echo 1.0\"\n"
			  "run = /usr/bin/dash -c \"x=ab; echo ${x#a}\" # a comment after it\n", err, sizeof err) == 0);
	const struct language *l = languages_find(&t, "sh");
	REQUIRE(l && l->run.n == 3);
	CHECK_STR(l->name, "Sh");
	CHECK_STR(l->run.argv[2], "x=ab; echo ${x#a}");
	languages_free(&t);
}

static void check_refused(const char *text, const char *want)
{
	struct language_table t;
	char err[256] = "";
	CHECK(load_text(&t, text, err, sizeof err) == -1);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "  got \"%s\", want \"%s\"\n", err, want);
		CHECK_STR(err, want);
	}
}

TEST(languages_refuses_bad_tables_with_their_line)
{
	check_refused("name = C\n", "1: key outside a [language] section");
	check_refused("[c]\ncolour = blue\n", "2: unknown key");
	check_refused("[C]\n", "1: invalid language id (lower-case letters, digits, + - _)");
	check_refused("[c]\nrun = gcc main.c\n", "2: a command must start with an absolute path (no shell, no PATH search)");
	check_refused("[c]\nname = C\nfile = main.c\nversion = /v\n", "4: missing run");
	check_refused("[c]\nname = C\nfile = ../x.c\n", "3: missing or invalid file (a plain file name)");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\n[c]\n", "5: missing version");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\nversion = /v\n[c]\n", "6: duplicate language id");
	check_refused("[c]\nrun = /usr/bin/x \"open\n", "2: unterminated quote");
	check_refused("[c]\nmemory_mb = 0\n", "2: out of range");
	check_refused("[c]\nsyntax_channel = 1\n", "2: expected yes or no");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\nversion = /v\nrun_checked = /r\n[d]\n",
		      "7: run_checked without syntax_channel = yes");
	check_refused("[c]\nmounts = /etc/../root\n", "2: mounts must be absolute directories without ..");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\nversion = /v\ncompile = /c\nsnapshot_script = s.js\n[d]\n",
		      "8: snapshot_script without snapshot");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\nversion = /v\nsnapshot = /s\nsnapshot_script = s.js\n[d]\n",
		      "8: snapshot without compile and check");
	check_refused("[c]\nname = C\nfile = m.c\nrun = /r\nversion = /v\ncompile = /c -s={snapshot}\n[d]\n",
		      "7: {snapshot} without snapshot");
	check_refused("", "0: no languages");
}

TEST(languages_shipped_table_loads)
{
	struct language_table t;
	char err[512] = "", ids[256];
	REQUIRE(languages_load(&t, "conf/languages.conf", err, sizeof err) == 0);
	languages_ids(&t, ids, sizeof ids);
	CHECK_STR(ids, "python, javascript, typescript, c, cpp, java, go, rust, bash, sql");
	const struct language *java = languages_find(&t, "java");
	REQUIRE(java);
	CHECK_STR(java->file, "Main.java");
	CHECK(java->nmounts == 1);
	/* A relative snapshot_script is beside the table. */
	const struct language *ts = languages_find(&t, "typescript");
	REQUIRE(ts);
	CHECK_STR(ts->snapshot_script, "conf/typescript-snapshot.js");
	CHECK_STR(ts->snapshot.argv[0], "/usr/bin/node");
	/* Its path goes into the words that name it, or they go. */
	struct lang_cmd with, without;
	REQUIRE(lang_cmd_snapshot(&ts->compile, "/s/t.blob", &with) == 0);
	REQUIRE(lang_cmd_snapshot(&ts->compile, NULL, &without) == 0);
	CHECK_STR(with.argv[1], "--snapshot-blob=/s/t.blob/typescript.blob");
	CHECK(with.n == ts->compile.n && without.n == ts->compile.n - 1);
	CHECK_STR(without.argv[1], "--max-old-space-size=2048");
	CHECK(with.argv[with.n] == NULL && without.argv[without.n] == NULL);
	lang_cmd_free(&with);
	lang_cmd_free(&without);
	languages_free(&t);
}

TEST(languages_version_is_the_first_dotted_number)
{
	char v[32];
	languages_version_from("gcc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright", v, sizeof v);
	CHECK_STR(v, "12.2.0");
	languages_version_from("go version go1.19.8 linux/amd64\n", v, sizeof v);
	CHECK_STR(v, "1.19.8");
	languages_version_from("v20.20.2\n", v, sizeof v);
	CHECK_STR(v, "20.20.2");
	languages_version_from("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\n", v, sizeof v);
	CHECK_STR(v, "5.2.15");
	languages_version_from("no digits here \n", v, sizeof v);
	CHECK_STR(v, "no digits here");
}

TEST(config_languages_path_is_beside_the_config_file)
{
	struct config cfg;
	char p[256];
	config_defaults(&cfg);
	REQUIRE(config_languages_path(&cfg, "/etc/code-exec/engine.conf", p, sizeof p) == 0);
	CHECK_STR(p, "/etc/code-exec/languages.conf");
	REQUIRE(config_languages_path(&cfg, NULL, p, sizeof p) == 0);
	CHECK_STR(p, "languages.conf");
	strcpy(cfg.languages_file, "/srv/l.conf");
	REQUIRE(config_languages_path(&cfg, "conf/engine.conf", p, sizeof p) == 0);
	CHECK_STR(p, "/srv/l.conf");
}
