#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1:$REDIS_PORT (default 6379), starting one if need be.
#
# Prints one word on stdout so callers can stop only what they started:
#   existing  a Redis already answered PING; leave it alone
#   started   this script started one (pid in var/redis.pid); stop it with scripts/stop_redis.sh
# Everything meant for people goes to stderr.
#
# With --binary-only it only makes sure the redis-server program is installed and prints
# nothing on stdout (the tests start their own private redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${REDIS_PORT:-6379}"
var_dir="$PWD/var"

say() { echo "ensure_redis: $*" >&2; }

# 0: answers PING; 1: nothing listens; 2: something listens but does not answer PONG.
# Speaks RESP over bash's /dev/tcp, so it needs no redis-cli.
probe() {
  local reply=""
  if ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    return 1
  fi
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == "+PONG"* ]] && return 0
  return 2
}

install_redis_server() {
  if command -v redis-server >/dev/null 2>&1; then
    return
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    say "redis-server is not installed, and only root may install it here."
    say "Install it, then run this again: sudo apt-get install -y redis-server" \
        "(Debian/Ubuntu) or brew install redis (macOS)."
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "redis-server is not installed and this is not a Debian-like system: install Redis 7."
    exit 1
  fi
  say "installing redis-server with apt-get"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2
}

if [[ "${1:-}" == "--binary-only" ]]; then
  install_redis_server
  say "redis-server is installed: $(command -v redis-server)"
  exit 0
fi

status=0
probe || status=$?
if [[ $status -eq 0 ]]; then
  say "a Redis answers on 127.0.0.1:$port; using it"
  echo existing
  exit 0
fi
if [[ $status -eq 2 ]]; then
  say "something listens on 127.0.0.1:$port but does not answer PING like Redis; free the port"
  exit 1
fi

install_redis_server
# A package install may have started a system Redis of its own.
status=0
probe || status=$?
if [[ $status -eq 0 ]]; then
  say "a Redis answers on 127.0.0.1:$port (started by its package); using it"
  echo existing
  exit 0
fi

mkdir -p "$var_dir"
say "starting redis-server on 127.0.0.1:$port (log: var/redis.log, nothing kept on disk)"
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
  --save "" --appendonly no --dir "$var_dir" \
  --pidfile "$var_dir/redis.pid" --logfile "$var_dir/redis.log" >&2

for _ in $(seq 1 100); do
  if probe; then
    echo started
    exit 0
  fi
  sleep 0.1
done
say "redis-server did not answer PING within 10 s; see var/redis.log"
exit 1
