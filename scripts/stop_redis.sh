#!/usr/bin/env bash
# Stop the Redis that scripts/ensure_redis.sh started (its pid is in var/redis.pid), and no other.
set -euo pipefail
cd "$(dirname "$0")/.."

pidfile="var/redis.pid"
say() { echo "stop_redis: $*" >&2; }

if [[ ! -f "$pidfile" ]]; then
  say "no $pidfile: nothing of ours to stop"
  exit 0
fi
command_of() {
  if [[ -r "/proc/$1/comm" ]]; then cat "/proc/$1/comm"; else ps -p "$1" -o comm= 2>/dev/null; fi
}

pid="$(cat "$pidfile")"
# The pid may have been reused since: only signal it if it is still a redis-server.
if [[ ! "$pid" =~ ^[0-9]+$ ]] || [[ "$(command_of "$pid" || true)" != *redis-server* ]]; then
  say "pid ${pid:-?} is not a running redis-server; removing the stale $pidfile"
  rm -f "$pidfile"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    say "stopped redis-server (pid $pid)"
    exit 0
  fi
  sleep 0.1
done
say "redis-server (pid $pid) did not stop within 10 s"
exit 1
