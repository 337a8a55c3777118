#!/bin/sh
# metrics.sh [PATTERN] — the service's Prometheus metrics without comments,
# optionally only the lines matching PATTERN (grep -E).
. "$(dirname "$0")/lib.sh"
curl -sSf "$BASE_URL/metrics" | grep -v '^#' | grep -E "${1:-.}"
