#!/bin/sh
# poll.sh EXECUTION [TIMEOUT-S] — polls until the execution is final, then
# prints it. Exit 0 if COMPLETED, 1 if FAILED or TIMEOUT, 2 if still not
# final after TIMEOUT-S (default 30) or on an error.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: poll.sh EXECUTION [TIMEOUT-S]"
deadline=$(( $(date +%s) + ${2:-30} ))
while :; do
	body=$(api GET "/executions/$1")
	[ "$(api_status)" = 200 ] || { printf "%s\n" "$body" >&2; die "HTTP $(api_status)"; }
	status=$(printf "%s\n" "$body" | field status)
	case $status in
	COMPLETED|FAILED|TIMEOUT) break ;;
	esac
	[ "$(date +%s)" -lt "$deadline" ] || die "still $status after ${2:-30} s"
	sleep 0.2
done
printf "%s\n" "$body" | pretty
[ "$status" = COMPLETED ]
