"""Grading in every language the engine runs (Python, C and Java have their
own tests in test_grading.py): purpose-written programs earn each verdict
through a real submission against the real stack.

A case's stdin names the verdict its program is to earn and two numbers
("WRONG_ANSWER 2 3"); every case expects their sum, "5\\n". So one program
per language earns a different verdict in each case of one submission, and
the cases run in parallel. SQL cannot read stdin: there each verdict has
its own program. Every submission of the module is in flight at once, so
the time limits of the looping cases (1 s each) overlap; but the memory
bombs go one at a time afterwards (the same programs, a one-case suite):
seven at once keep the kernel reclaiming for seconds. A program that
does not compile (a syntax error in the interpreted languages, found
before the program runs: conf/languages.conf's syntax_channel) earns
COMPILE_ERROR in every language.
"""

import pytest

from test_grading import case, put_suite, submit, suite_body, verdicts, wait_submission

EVERY_VERDICT = ["ACCEPTED", "TIME_LIMIT", "WRONG_ANSWER", "RUNTIME_ERROR"]
MEMORY = ["MEMORY_LIMIT"]
LOOP_LIMIT_MS = 1000        # a looping case's own limit
CASE_LIMIT_MS = 8000        # every other case's: room for a loaded host

JAVASCRIPT = """const [w, a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/);
const sum = Number(a) + Number(b);
if (w === 'WRONG_ANSWER') {
  console.log(sum + 1);
} else if (w === 'RUNTIME_ERROR') {
  const missing = null;
  console.log(missing.field);
} else if (w === 'TIME_LIMIT') {
  for (;;) {}
} else if (w === 'MEMORY_LIMIT') {
  const blocks = [];
  for (;;) blocks.push(Buffer.alloc(64 << 20, 1));
} else {
  console.log(sum);
}
"""
JAVASCRIPT_BROKEN = "const total = ;\nconsole.log(total);\n"

TYPESCRIPT = """const [w, a, b]: string[] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/);
const sum: number = Number(a) + Number(b);
if (w === 'WRONG_ANSWER') {
  console.log(sum + 1);
} else if (w === 'RUNTIME_ERROR') {
  const missing: any = null;
  console.log(missing.field);
} else if (w === 'TIME_LIMIT') {
  for (;;) {}
} else if (w === 'MEMORY_LIMIT') {
  const blocks: any[] = [];
  for (;;) blocks.push(Buffer.alloc(64 << 20, 1));
} else {
  console.log(sum);
}
"""
TYPESCRIPT_BROKEN = "const sum: number = 'five';\nconsole.log(sum);\n"

CPP = """#include <iostream>
#include <string>
#include <vector>
int main() {
  std::string w;
  long a, b;
  std::cin >> w >> a >> b;
  if (w == "WRONG_ANSWER") {
    std::cout << a + b + 1 << "\\n";
  } else if (w == "RUNTIME_ERROR") {
    std::vector<long> empty;
    std::cout << empty.at(a + b) << "\\n";      // throws: std::terminate, SIGABRT
  } else if (w == "TIME_LIMIT") {
    volatile long spin = 0;
    for (;;) spin++;
  } else if (w == "MEMORY_LIMIT") {
    std::vector<char> big(1UL << 30, 1);
    std::cout << (int)big.back() << "\\n";
  } else {
    std::cout << a + b << "\\n";
  }
}
"""
CPP_BROKEN = "#include <iostream>\nint main() { std::cout << undeclared_total << std::endl; }\n"

GO = """package main

import "fmt"

func main() {
	var w string
	var a, b int
	fmt.Scan(&w, &a, &b)
	switch w {
	case "WRONG_ANSWER":
		fmt.Println(a + b + 1)
	case "RUNTIME_ERROR":
		var empty []int
		fmt.Println(empty[a+b]) // index out of range: a panic
	case "TIME_LIMIT":
		for {
		}
	case "MEMORY_LIMIT":
		big := make([]byte, 1<<30)
		for i := 0; i < len(big); i += 4096 {
			big[i] = 1
		}
		fmt.Println(big[4096])
	default:
		fmt.Println(a + b)
	}
}
"""
GO_BROKEN = "package main\n\nfunc main() {\n\tunused := 5\n}\n"

RUST = """use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let words: Vec<&str> = input.split_whitespace().collect();
    let a: i64 = words[1].parse().unwrap();
    let b: i64 = words[2].parse().unwrap();
    match words[0] {
        "WRONG_ANSWER" => println!("{}", a + b + 1),
        "RUNTIME_ERROR" => {
            let empty: Vec<i64> = Vec::new();
            println!("{}", empty[(a + b) as usize]); // out of bounds: a panic
        }
        "TIME_LIMIT" => loop {},
        "MEMORY_LIMIT" => {
            let big = vec![1u8; 1 << 30];
            println!("{}", big[big.len() - 1]);
        }
        _ => println!("{}", a + b),
    }
}
"""
RUST_BROKEN = "fn main() {\n    let total: i32 = \"five\";\n    println!(\"{}\", total);\n}\n"

BASH = """set -e
read -r w a b
case "$w" in
  WRONG_ANSWER) echo $((a + b + 1)) ;;
  RUNTIME_ERROR) cat /no/such/file ;;
  TIME_LIMIT) while :; do :; done ;;
  MEMORY_LIMIT) printf -v s '%0100000000d' 0; x="$s$s$s$s"; echo ${#x} ;;
  *) echo $((a + b)) ;;
esac
"""
BASH_BROKEN = "for n in 2 3; do\n  echo $n\n"

SQL = {
    "ACCEPTED": ".mode list\nSELECT 2 + 3;\n",
    "WRONG_ANSWER": ".mode list\nSELECT 2 * 3;\n",
    "RUNTIME_ERROR": ".mode list\nSELECT abs(-9223372036854775808);\n",    # integer overflow
    "TIME_LIMIT": ".mode list\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                  "SELECT count(*) FROM c;\n",
    "MEMORY_LIMIT": ".mode list\nSELECT length(replace(hex(zeroblob(100000000)), '0', 'xx'));\n",
    "COMPILE_ERROR": ".mode list\nSELEC 2 + 3;\n",
}

# One table of programs per language: (name, program, the verdicts of its cases in order).
PROGRAMS = {
    "javascript": [("every-verdict", JAVASCRIPT, EVERY_VERDICT), ("memory", JAVASCRIPT, MEMORY),
                   ("broken", JAVASCRIPT_BROKEN, ["COMPILE_ERROR"])],
    "typescript": [("every-verdict", TYPESCRIPT, EVERY_VERDICT), ("memory", TYPESCRIPT, MEMORY),
                   ("broken", TYPESCRIPT_BROKEN, ["COMPILE_ERROR"])],
    "cpp": [("every-verdict", CPP, EVERY_VERDICT), ("memory", CPP, MEMORY), ("broken", CPP_BROKEN, ["COMPILE_ERROR"])],
    "go": [("every-verdict", GO, EVERY_VERDICT), ("memory", GO, MEMORY), ("broken", GO_BROKEN, ["COMPILE_ERROR"])],
    "rust": [("every-verdict", RUST, EVERY_VERDICT), ("memory", RUST, MEMORY), ("broken", RUST_BROKEN, ["COMPILE_ERROR"])],
    "bash": [("every-verdict", BASH, EVERY_VERDICT), ("memory", BASH, MEMORY), ("broken", BASH_BROKEN, ["COMPILE_ERROR"])],
    "sql": [(verdict.lower(), code, [verdict]) for verdict, code in SQL.items()],
    "python": [("broken", "def total(:\n    return 5\n", ["COMPILE_ERROR"])],
}
ROWS = [(lang, name) for lang, programs in PROGRAMS.items() for name, _, _ in programs]


def suite_of(expected):
    """The suite whose cases ask for these verdicts, in this order."""
    suite_id = "lang-" + "-".join(v.lower().replace("_", "") for v in expected)
    cases = [case(v, f"{v} 2 3\n", "5\n", time_limit_ms=LOOP_LIMIT_MS if v == "TIME_LIMIT" else CASE_LIMIT_MS)
             for v in expected]
    return suite_id, suite_body(*cases)


@pytest.fixture(scope="module")
def judged(stack):
    """Every program of the table submitted at once, then the memory bombs one by one; results by (language, name)."""
    suites = set()

    def start(lang, code, expected):
        suite_id, body = suite_of(expected)
        if suite_id not in suites:
            put_suite(stack, suite_id, body)
            suites.add(suite_id)
        return submit(stack, stack.create_session(code, language=lang)["session_id"], suite_id)

    rows = [(lang, name, code, expected) for lang, programs in PROGRAMS.items() for name, code, expected in programs]
    pending = {(lang, name): start(lang, code, expected) for lang, name, code, expected in rows if expected != MEMORY}
    done = {row: wait_submission(stack, sub_id, timeout=180) for row, sub_id in pending.items()}
    for lang, name, code, expected in rows:
        if expected == MEMORY:
            done[(lang, name)] = wait_submission(stack, start(lang, code, expected), timeout=180)
    return done


@pytest.mark.parametrize("lang,name", ROWS, ids=[f"{lang}-{name}" for lang, name in ROWS])
def test_each_program_earns_the_verdict_of_each_case(judged, lang, name):
    doc = judged[(lang, name)]
    expected = next(e for n, _, e in PROGRAMS[lang] if n == name)
    assert doc["status"] == "COMPLETED", doc
    assert verdicts(doc) == expected, doc
    failing = [v for v in expected if v != "ACCEPTED"]
    assert doc["verdict"] == (failing[0] if failing else "ACCEPTED"), doc
    assert doc["passed"] == expected.count("ACCEPTED"), doc
    for c in doc["cases"]:
        if c["verdict"] == "ACCEPTED":
            assert (c["stdout"], c["diff"]) == ("5\n", None), c
        if c["verdict"] == "WRONG_ANSWER":
            assert c["diff"]["line"] == 1 and c["diff"]["expected"] == "5", c
        if c["verdict"] == "TIME_LIMIT":
            assert c["time_ms"] >= LOOP_LIMIT_MS, c
