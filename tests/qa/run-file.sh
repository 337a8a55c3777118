#!/bin/sh
# run-file.sh FILE [STDIN-FILE] — the whole learner flow for one program:
# create a session, autosave FILE into it, run it, poll, and print status,
# stdout and stderr. Exit status as poll.sh.
#   tests/qa/run-file.sh examples/hello.py
#   echo Ada | tests/qa/run-file.sh greet.py -
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: run-file.sh FILE [STDIN-FILE]"
dir=$(dirname "$0")
if [ "${2:-}" = - ]; then stdin=$(mktemp); cat > "$stdin"; set -- "$1" "$stdin"; fi
session=$("$dir/create-session.sh") || exit 2
"$dir/autosave.sh" "$session" "$1" > /dev/null || exit 2
execution=$("$dir/run.sh" "$session" ${2:+"$2"}) || exit 2
result=$("$dir/poll.sh" "$execution"); rc=$?
[ -n "${stdin:-}" ] && rm -f "$stdin"
[ $rc -le 1 ] || exit $rc
echo "session:   $session"
echo "execution: $execution"
printf "%s\n" "$result" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)
err = e["error"]
print("status:   ", e["status"], "(%s: %s)" % (err["code"], err["message"]) if err else "")
print("exit code:", e["exit_code"], " time:", e["execution_time_ms"], "ms")
print("--- stdout%s ---" % (" (truncated)" if e["stdout_truncated"] else ""))
sys.stdout.write(e["stdout"] or "")
print("--- stderr%s ---" % (" (truncated)" if e["stderr_truncated"] else ""))
sys.stdout.write(e["stderr"] or "")'
exit $rc
