/* Checkers' real output parsed into diagnostics (runner/diagnostics.c). */
#include <stdlib.h>

#include "check.h"
#include "diagnostics.h"

static void expect(const char *format, const char *file, const char *text, const char *want)
{
	char *got = diagnostics_parse(format, file, text);
	REQUIRE(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "  %s:\n  got  %s\n  want %s\n", format, got, want);
	CHECK_STR(got, want);
	free(got);
}

TEST(diagnostics_gcc_takes_severity_position_and_warning_flag)
{
	expect("gcc", "main.c",
	       "main.c: In function \xe2\x80\x98main\xe2\x80\x99:\n"
	       "main.c:2:10: error: \xe2\x80\x98x\xe2\x80\x99 undeclared (first use in this function)\n"
	       "    2 |   return x;\n      |          ^\n"
	       "main.c:3:7: warning: unused variable \xe2\x80\x98y\xe2\x80\x99 [-Wunused-variable]\n",
	       "[{\"line\":2,\"column\":10,\"severity\":\"error\",\"code\":null,\"message\":\"\xe2\x80\x98x\xe2\x80\x99 undeclared (first use in this function)\"},"
	       "{\"line\":3,\"column\":7,\"severity\":\"warning\",\"code\":\"-Wunused-variable\",\"message\":\"unused variable \xe2\x80\x98y\xe2\x80\x99\"}]");
}

TEST(diagnostics_pyflakes_marks_syntax_errors)
{
	expect("pyflakes", "main.py", "main.py:1:1: 'os' imported but unused\nmain.py:2:7: undefined name 'x'\n",
	       "[{\"line\":1,\"column\":1,\"severity\":\"warning\",\"code\":null,\"message\":\"'os' imported but unused\"},"
	       "{\"line\":2,\"column\":7,\"severity\":\"warning\",\"code\":null,\"message\":\"undefined name 'x'\"}]");
	expect("pyflakes", "main.py", "main.py:1:6: '(' was never closed\nprint(\n     ^\n",
	       "[{\"line\":1,\"column\":6,\"severity\":\"error\",\"code\":null,\"message\":\"'(' was never closed\"}]");
}

TEST(diagnostics_tsc_javac_node)
{
	expect("tsc", "main.ts", "main.ts(2,7): error TS2322: Type 'string' is not assignable to type 'number'.\n",
	       "[{\"line\":2,\"column\":7,\"severity\":\"error\",\"code\":\"TS2322\",\"message\":\"Type 'string' is not assignable to type 'number'.\"}]");
	expect("javac", "Main.java",
	       "Main.java:2: error: illegal start of expression\n  int x = ;\n          ^\n"
	       "Main.java:3: warning: [rawtypes] found raw type: List\n  java.util.List l;\n           ^\n1 error\n",
	       "[{\"line\":2,\"column\":11,\"severity\":\"error\",\"code\":null,\"message\":\"illegal start of expression\"},"
	       "{\"line\":3,\"column\":12,\"severity\":\"warning\",\"code\":\"rawtypes\",\"message\":\"found raw type: List\"}]");
	expect("node", "main.js",
	       "/app/main.js:2\nfoo(\n   ^\n\nSyntaxError: missing ) after argument list\n    at wrapSafe (x)\n",
	       "[{\"line\":2,\"column\":4,\"severity\":\"error\",\"code\":\"SyntaxError\",\"message\":\"missing ) after argument list\"}]");
}

TEST(diagnostics_go_bash_sqlite_rustc)
{
	expect("go", "main.go", "# command-line-arguments\n./main.go:3:15: fmt.Printf format %d has arg \"s\" of wrong type string\n",
	       "[{\"line\":3,\"column\":15,\"severity\":\"warning\",\"code\":null,\"message\":\"fmt.Printf format %d has arg \\\"s\\\" of wrong type string\"}]");
	expect("bash", "main.sh", "main.sh: line 3: syntax error near unexpected token `fi'\nmain.sh: line 3: `fi fi'\n",
	       "[{\"line\":3,\"column\":null,\"severity\":\"error\",\"code\":null,\"message\":\"syntax error near unexpected token `fi'\"}]");
	expect("sqlite", "main.sql", "Parse error near line 2: near \"SELEC\": syntax error\n  SELEC 2;\n  ^--- error here\n",
	       "[{\"line\":2,\"column\":null,\"severity\":\"error\",\"code\":null,\"message\":\"near \\\"SELEC\\\": syntax error\"}]");
	expect("rustc", "main.rs",
	       "{\"message\":\"mismatched types\",\"code\":{\"code\":\"E0308\"},\"level\":\"error\",\"spans\":["
	       "{\"file_name\":\"main.rs\",\"line_start\":2,\"column_start\":18,\"is_primary\":true}]}\n"
	       "{\"message\":\"aborting due to previous error\",\"code\":null,\"level\":\"error\",\"spans\":[]}\n",
	       "[{\"line\":2,\"column\":18,\"severity\":\"error\",\"code\":\"E0308\",\"message\":\"mismatched types\"}]");
	CHECK(diagnostics_parse("cobol", "x", "") == NULL);
}
