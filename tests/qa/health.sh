#!/bin/sh
# health.sh — is the service up? Prints GET /health; exit 0 if 200, 1 otherwise.
#   BASE_URL=http://127.0.0.1:8000 tests/qa/health.sh
. "$(dirname "$0")/lib.sh"
body=$(api GET /health)
printf "%s\n" "$body" | pretty
[ "$(api_status)" = 200 ]
