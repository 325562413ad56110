#!/usr/bin/env bash
# Make sure the tests can reach PostgreSQL as user postgres, without a password, on
# 127.0.0.1:5432 (or at $CIVICPANEL_TEST_POSTGRES_URL). The tests create and drop their own
# databases there.
#
# As root on a Debian-like machine it installs PostgreSQL, starts its cluster and lets local TCP
# connections of user postgres in without a password. Otherwise it says why not and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

default_url="postgresql://postgres@127.0.0.1:5432/postgres"
url="${CIVICPANEL_TEST_POSTGRES_URL:-$default_url}"
hba_marker="# civicpanel tests: local TCP as postgres without a password (scripts/ensure_postgres.sh)"

say() { echo "ensure_postgres: $*" >&2; }

# Connect the way the tests do (psycopg), or with psql when the venv is not there yet.
can_connect() {
  if [[ -x .venv/bin/python ]]; then
    .venv/bin/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
      "$url" 2>/dev/null
  elif command -v psql >/dev/null 2>&1; then
    psql "$url" -w -Atqc 'SELECT 1' >/dev/null 2>&1
  else
    return 1
  fi
}

why_not() {
  if [[ -x .venv/bin/python ]]; then
    .venv/bin/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
      "$url" 2>&1 | tail -n 1 || true
  elif command -v psql >/dev/null 2>&1; then
    psql "$url" -w -Atqc 'SELECT 1' 2>&1 | tail -n 1 || true
  else
    echo "neither the venv's psycopg nor psql is available to try"
  fi
}

give_up() {
  say "cannot reach PostgreSQL at $url: $(why_not)"
  say "$*"
  exit 1
}

if can_connect; then
  say "OK: PostgreSQL accepts $url"
  exit 0
fi

if [[ "$url" != "$default_url" ]]; then
  give_up "CIVICPANEL_TEST_POSTGRES_URL points elsewhere, so I leave that server alone."
fi
if [[ "$(id -u)" -ne 0 ]]; then
  give_up "Only root may install or configure PostgreSQL here. Install it" \
    "(sudo apt-get install -y postgresql), start it, and let user postgres connect over" \
    "127.0.0.1 without a password (a 'host all postgres 127.0.0.1/32 trust' line in pg_hba.conf)."
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    give_up "PostgreSQL is not installed and this is not a Debian-like system."
  fi
  say "installing postgresql with apt-get"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

# The newest installed major version, and its cluster "main".
version=""
if [[ -d /usr/lib/postgresql ]]; then
  version="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
fi
[[ -n "$version" ]] || give_up "no PostgreSQL server found under /usr/lib/postgresql."
if [[ ! -d "/etc/postgresql/$version/main" ]]; then
  say "creating cluster $version/main"
  pg_createcluster "$version" main >&2
fi
# pg_createcluster picks another port when 5432 was taken at the time; the tests need 5432.
cluster_port="$(pg_conftool -s "$version" main show port 2>/dev/null || echo 5432)"
if [[ "$cluster_port" != 5432 ]]; then
  if { exec 3<>/dev/tcp/127.0.0.1/5432; } 2>/dev/null; then
    exec 3<&- 3>&-
    give_up "cluster $version/main listens on port $cluster_port, and something else holds 5432."
  fi
  say "moving cluster $version/main from port $cluster_port to 5432"
  pg_conftool "$version" main set port 5432
  if pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart >&2
  fi
fi
if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
  say "starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done

if ! can_connect; then
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -qF "$hba_marker" "$hba"; then
    say "letting user postgres connect over 127.0.0.1 and ::1 without a password ($hba)"
    # pg_hba.conf is read top down and the first match wins, so these go first.
    {
      echo "$hba_marker"
      echo "host all postgres 127.0.0.1/32 trust"
      echo "host all postgres ::1/128 trust"
      cat "$hba"
    } >"$hba.civicpanel-new"
    chown --reference="$hba" "$hba.civicpanel-new"
    chmod --reference="$hba" "$hba.civicpanel-new"
    mv "$hba.civicpanel-new" "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2
    sleep 1
  fi
fi

if can_connect; then
  say "OK: PostgreSQL accepts $url"
  exit 0
fi
give_up "PostgreSQL $version is installed and started, yet refuses the connection."
