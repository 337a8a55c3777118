#!/bin/sh
# run-project.sh DIR [OUT-DIR] — a session of every file under DIR (paths
# relative to DIR; the entry is the language's file, main.py for python),
# run and polled; prints status, stdout, stderr and the artifacts (the files
# the run left in out/), and downloads them into OUT-DIR if given. Exit
# status as poll.sh. The language: $CODE_LANGUAGE, else python.
#   CODE_LANGUAGE=java tests/qa/run-project.sh exercises/bank
#   tests/qa/run-project.sh analysis/ plots/
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] && [ -d "$1" ] || die "usage: run-project.sh DIR [OUT-DIR]"
language=${CODE_LANGUAGE:-python}
case $language in ''|*[!a-z0-9+_-]*) die "CODE_LANGUAGE must be a language id (lower-case letters, digits, + - _)";; esac
body=$("$PY" - "$1" "$language" <<'PYEOF'
import json, os, sys
top, language = sys.argv[1], sys.argv[2]
files = []
for d, _, names in sorted(os.walk(top)):
    for n in sorted(names):
        p = os.path.join(d, n)
        files.append({"path": os.path.relpath(p, top), "content": open(p, encoding="utf-8").read()})
print(json.dumps({"language": language, "files": files}))
PYEOF
) || die "cannot read $1"
created=$(api POST /code-sessions "$body")
[ "$(api_status)" = 201 ] || { printf "%s\n" "$created" >&2; die "create failed (HTTP $(api_status))"; }
session=$(printf "%s\n" "$created" | field session_id)
execution=$("$(dirname "$0")/run.sh" "$session") || exit 2
result=$("$(dirname "$0")/poll.sh" "$execution" 60); rc=$?
[ $rc -le 1 ] || exit $rc
echo "session:   $session"
echo "execution: $execution"
printf "%s\n" "$result" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)
err = e["error"]
print("status:   ", e["status"], "(%s: %s)" % (err["code"], err["message"]) if err else "")
print("--- stdout ---")
sys.stdout.write(e["stdout"] or "")
print("--- stderr ---")
sys.stdout.write(e["stderr"] or "")
print("--- artifacts ---")
for a in e["artifacts"]:
    print(a["path"], a["size"], a["content_type"])'
if [ -n "${2:-}" ]; then
	mkdir -p "$2" || die "cannot make $2"
	printf "%s\n" "$result" | "$PY" -c '
import json, sys, urllib.parse
for a in json.load(sys.stdin)["artifacts"]:
    print(urllib.parse.quote(a["path"]), a["path"])' | while read -r quoted name; do
		curl -sS -f -o "$2/$name" "$BASE_URL/executions/$execution/artifacts/$quoted" || die "cannot download $name"
	done
fi
exit $rc
