#!/bin/sh
# run.sh SESSION [STDIN-FILE] — presses Run; prints the execution id.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: run.sh SESSION [STDIN-FILE]"
if [ $# -ge 2 ]; then body="{\"stdin\":$(json_string "$2")}" || exit 2; else body='{}'; fi
body=$(api POST "/code-sessions/$1/run" "$body")
[ "$(api_status)" = 202 ] || { printf "%s\n" "$body" >&2; die "run refused (HTTP $(api_status))"; }
printf "%s\n" "$body" | field execution_id
