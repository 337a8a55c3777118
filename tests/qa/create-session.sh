#!/bin/sh
# create-session.sh [FILE] — creates a session (template: FILE, or a hello
# world) and prints its session id. Its language: $CODE_LANGUAGE, else
# python (not $LANGUAGE, which gettext reads).
#   CODE_LANGUAGE=c tests/qa/run-file.sh hello.c
. "$(dirname "$0")/lib.sh"
if [ $# -ge 1 ]; then code=$(json_string "$1") || exit 2; else code='"print(\"hello, world\")\n"'; fi
language=${CODE_LANGUAGE:-python}
case $language in ''|*[!a-z0-9+_-]*) die "CODE_LANGUAGE must be a language id (lower-case letters, digits, + - _)";; esac
body=$(api POST /code-sessions "{\"language\":\"$language\",\"template_code\":$code}")
[ "$(api_status)" = 201 ] || { printf "%s\n" "$body" >&2; die "create failed (HTTP $(api_status))"; }
printf "%s\n" "$body" | field session_id
