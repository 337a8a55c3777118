#!/bin/sh
# create-session.sh [FILE] — creates a Python session (template: FILE, or a
# hello world) and prints its session id.
. "$(dirname "$0")/lib.sh"
if [ $# -ge 1 ]; then code=$(json_string "$1") || exit 2; else code='"print(\"hello, world\")\n"'; fi
body=$(api POST /code-sessions "{\"language\":\"python\",\"template_code\":$code}")
[ "$(api_status)" = 201 ] || { printf "%s\n" "$body" >&2; die "create failed (HTTP $(api_status))"; }
printf "%s\n" "$body" | field session_id
