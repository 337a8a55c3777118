#!/bin/sh
# autosave.sh SESSION FILE — saves FILE as the session's code (PATCH), as the
# editor does while the learner types; prints the new updated_at.
. "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || die "usage: autosave.sh SESSION FILE"
code=$(json_string "$2") || exit 2
body=$(api PATCH "/code-sessions/$1" "{\"source_code\":$code}")
[ "$(api_status)" = 200 ] || { printf "%s\n" "$body" >&2; die "autosave failed (HTTP $(api_status))"; }
printf "%s\n" "$body" | field updated_at
