#!/usr/bin/env bash
# Run the test suite on SQLite and, when it can be had, on PostgreSQL, the two side by side.
# Arguments go to pytest on both runs: scripts/test.sh -x tests/e2e
#
# The tests start their own private redis-server on a free port (never the Redis of `make up`)
# and drive Debian's Chromium, so only those programs need to be installed here. Each run has
# its own Redis, databases, servers and browser, so the two share nothing but the machine:
# side by side they take about two thirds of the time of one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory install
scripts/ensure_redis.sh --binary-only
scripts/ensure_chromium.sh

banner() { printf '\n==== %s ====\n\n' "$*"; }

# Runs pytest on one backend, its output on stdout; its exit code in $logs/<backend>.rc.
logs="$PWD/.pytest_cache/runs"
mkdir -p "$logs"
run_suite() {
  local backend="$1"
  shift
  # Each backend keeps its own pytest cache, so its failures can be listed at the very end.
  local cache="$PWD/.pytest_cache/$backend"
  rm -f "$cache/v/cache/lastfailed"
  local rc=0
  CIVICPANEL_TEST_DATABASE="$backend" .venv/bin/pytest -o cache_dir="$cache" "$@" || rc=$?
  echo "$rc" > "$logs/$backend.rc"
}

# What one backend's exit code means, for the summary.
result_of() {
  case "$2" in
    0) echo "$1: passed" ;;
    5) echo "$1: FAILED (pytest collected no tests)" ;;
    *) echo "$1: FAILED (pytest exit code $2)" ;;
  esac
}

# The tests that failed on one backend, a line each, from its pytest cache.
failed_tests() {
  local lastfailed="$PWD/.pytest_cache/$1/v/cache/lastfailed"
  [ -f "$lastfailed" ] || return 0
  .venv/bin/python -c 'import json, sys
for test in json.load(open(sys.argv[2])):
    print(f"  {sys.argv[1]}: {test}")' "$1" "$lastfailed"
}

rm -f "$logs"/*.rc
postgres=0
scripts/ensure_postgres.sh && postgres=1

# The SQLite run goes on in the background, its output kept and shown whole once it ends;
# the PostgreSQL run's output streams here.
banner "tests on sqlite (in the background; its output follows the PostgreSQL run's)"
run_suite sqlite "$@" > "$logs/sqlite.log" 2>&1 &
sqlite_run=$!
# Stopped early (Ctrl-C, a failed step): the SQLite run's pytest stops too.
trap 'pkill -TERM -P "$sqlite_run" 2>/dev/null; kill "$sqlite_run" 2>/dev/null || true' EXIT
if [ "$postgres" = 1 ]; then
  banner "tests on postgresql"
  run_suite postgresql "$@"
fi
wait "$sqlite_run" || true
trap - EXIT
banner "tests on sqlite"
cat "$logs/sqlite.log"

failed=0
results=()
for backend in sqlite postgresql; do
  if [ "$backend" = postgresql ] && [ "$postgres" = 0 ]; then
    banner "PostgreSQL IS NOT AVAILABLE: the PostgreSQL pass DID NOT RUN (see above why)"
    results+=("postgresql: NOT RUN (PostgreSQL unavailable)")
    continue
  fi
  rc="$(cat "$logs/$backend.rc" 2>/dev/null || echo 1)"
  results+=("$(result_of "$backend" "$rc")")
  [ "$rc" = 0 ] || failed=1
done

summary="$(printf '%s; ' "${results[@]}")"
echo
echo "test.sh summary: ${summary%; }"
if [ "$failed" = 1 ]; then
  echo "failed:"
  failed_tests sqlite
  failed_tests postgresql
fi
exit "$failed"
