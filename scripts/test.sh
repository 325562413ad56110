#!/usr/bin/env bash
# Run the test suite on SQLite, then again on PostgreSQL when it can be had.
# Arguments go to pytest on both runs: scripts/test.sh -x tests/e2e
#
# The tests start their own private redis-server on a free port (never the Redis of `make up`)
# and drive Debian's Chromium, so only those programs need to be installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory install
scripts/ensure_redis.sh --binary-only
scripts/ensure_chromium.sh

banner() { printf '\n==== %s ====\n\n' "$*"; }

# Runs pytest on one backend; records "backend: passed|FAILED ..." in $results.
failed=0
results=()
failures=()
run_suite() {
  local backend="$1"
  shift
  banner "tests on $backend"
  local rc=0
  # Each backend keeps its own pytest cache, so its failures can be listed at the very end.
  local cache="$PWD/.pytest_cache/$backend"
  rm -f "$cache/v/cache/lastfailed"
  CIVICPANEL_TEST_DATABASE="$backend" .venv/bin/pytest -o cache_dir="$cache" "$@" || rc=$?
  case "$rc" in
    0) results+=("$backend: passed") ;;
    5) results+=("$backend: FAILED (pytest collected no tests)"); failed=1 ;;
    *) results+=("$backend: FAILED (pytest exit code $rc)"); failed=1
       failures+=("$(failed_tests "$backend" "$cache/v/cache/lastfailed")") ;;
  esac
}

# The tests that failed on one backend, a line each, from its pytest cache.
failed_tests() {
  [ -f "$2" ] || return 0
  .venv/bin/python -c 'import json, sys
for test in json.load(open(sys.argv[2])):
    print(f"  {sys.argv[1]}: {test}")' "$1" "$2"
}

run_suite sqlite "$@"

if scripts/ensure_postgres.sh; then
  run_suite postgresql "$@"
else
  banner "PostgreSQL IS NOT AVAILABLE: the PostgreSQL pass DID NOT RUN (see above why)"
  results+=("postgresql: NOT RUN (PostgreSQL unavailable)")
fi

summary="$(printf '%s; ' "${results[@]}")"
echo
echo "test.sh summary: ${summary%; }"
if [ "${#failures[@]}" -gt 0 ]; then
  echo "failed:"
  printf '%s\n' "${failures[@]}"
fi
exit "$failed"
