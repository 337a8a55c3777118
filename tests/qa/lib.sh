# Shared by the QA scripts: curl against $BASE_URL, tiny JSON helpers.
# Needs curl and /usr/bin/python3 (both installed by make run / make test).
BASE_URL=${BASE_URL:-http://127.0.0.1:8000}
PY=${PY:-/usr/bin/python3}

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# api METHOD PATH [JSON-BODY] -> prints the body; exits 2 on a transport error.
# The HTTP status is left in $API_STATUS_FILE's first line.
API_STATUS_FILE=$(mktemp)
trap 'rm -f "$API_STATUS_FILE"' EXIT
api() {
	if [ $# -ge 3 ]; then
		curl -sS -X "$1" "$BASE_URL$2" -H 'Content-Type: application/json' \
			-H "X-Request-Id: qa-$$-$(date +%s)" --data-binary "$3" \
			-w '\n%{http_code}\n' -o - | api_split
	else
		curl -sS -X "$1" "$BASE_URL$2" -w '\n%{http_code}\n' -o - | api_split
	fi
}
api_split() { "$PY" -c '
import sys
data = sys.stdin.read().rstrip("\n")
body, _, code = data.rpartition("\n")
open(sys.argv[1], "w").write(code + "\n")
sys.stdout.write(body)' "$API_STATUS_FILE" || die "cannot reach $BASE_URL"; }
api_status() { head -n1 "$API_STATUS_FILE"; }

# field NAME < JSON -> the top-level value (strings without quotes, null as "null").
field() { "$PY" -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else v if isinstance(v, str) else json.dumps(v))' "$1"; }

# json_string FILE -> the file content as one JSON string ("-" = stdin).
json_string() { "$PY" -c '
import json, sys
f = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8")
print(json.dumps(f.read()))' "$1"; }

pretty() { "$PY" -m json.tool --no-ensure-ascii; }
