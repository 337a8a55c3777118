#!/bin/sh
# history.sh SESSION [LIMIT] — the session's executions, newest first: one
# line each with id, status, error code and time.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: history.sh SESSION [LIMIT]"
body=$(api GET "/code-sessions/$1/executions?limit=${2:-20}")
[ "$(api_status)" = 200 ] || { printf "%s\n" "$body" >&2; die "HTTP $(api_status)"; }
printf "%s\n" "$body" | "$PY" -c '
import json, sys
for e in json.load(sys.stdin)["executions"]:
    print(e["execution_id"], e["status"], (e["error"] or {}).get("code", "-"), e["execution_time_ms"])'
