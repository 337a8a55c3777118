#!/bin/sh
# judge.sh SUITE-ID SUITE-FILE SOURCE-FILE [LANGUAGE] [TIMEOUT-S] — stores the
# test suite in SUITE-FILE (JSON: {"cases": [...], "compare": ...}) as
# SUITE-ID, submits SOURCE-FILE (python unless LANGUAGE) against it, waits
# until judged (long-polls: GET /submissions/{id}?wait_ms answers the moment
# it is) and prints the verdict, then one line per case. Exit 0 if
# ACCEPTED, 1 for any other verdict, 2 on an error or after TIMEOUT-S (60).
. "$(dirname "$0")/lib.sh"
[ $# -ge 3 ] || die "usage: judge.sh SUITE-ID SUITE-FILE SOURCE-FILE [LANGUAGE] [TIMEOUT-S]"
body=$(api PUT "/test-suites/$1" "$(cat "$2")")
[ "$(api_status)" = 200 ] || { printf "%s\n" "$body" >&2; die "suite refused (HTTP $(api_status))"; }
code=$(json_string "$3") || exit 2
body=$(api POST /code-sessions "{\"language\":\"${4:-python}\",\"template_code\":$code}")
[ "$(api_status)" = 201 ] || { printf "%s\n" "$body" >&2; die "session refused (HTTP $(api_status))"; }
session=$(printf "%s\n" "$body" | field session_id)
body=$(api POST "/code-sessions/$session/submit" "{\"suite_id\":\"$1\"}")
[ "$(api_status)" = 202 ] || { printf "%s\n" "$body" >&2; die "submit refused (HTTP $(api_status))"; }
submission=$(printf "%s\n" "$body" | field submission_id)
deadline=$(( $(date +%s) + ${5:-60} ))
while :; do
	left=$(( deadline - $(date +%s) ))
	[ "$left" -lt 30 ] || left=30
	[ "$left" -gt 0 ] || left=0
	body=$(api GET "/submissions/$submission?wait_ms=$(( left * 1000 ))")
	[ "$(api_status)" = 200 ] || { printf "%s\n" "$body" >&2; die "HTTP $(api_status)"; }
	status=$(printf "%s\n" "$body" | field status)
	case $status in COMPLETED|FAILED) break ;; esac
	[ "$(date +%s)" -lt "$deadline" ] || die "still $status after ${5:-60} s"
done
printf "%s\n" "$body" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
print(s["submission_id"], s["status"], s["verdict"] or s["error"], "%d/%d" % (s["passed"], s["total"]), s["score"])
for c in s["cases"]:
    print(" ", c["name"], c["verdict"], "-" if c["time_ms"] is None else "%d ms" % c["time_ms"],
          "(hidden)" if c["hidden"] else "")'
[ "$(printf "%s\n" "$body" | field verdict)" = ACCEPTED ]
