#!/usr/bin/env bash
# Run all of civicpanel on this machine, with demo data: Redis (unless one already runs),
# migrations, 2,000 synthetic members, three demo agencies with API keys, a member of staff of
# each console role and a joint survey in fieldwork, then the three web processes and three queue workers of deploy/Procfile under honcho.
#
# Ctrl-C (or SIGTERM) stops what this script started: honcho with its six processes, and Redis
# if this script started it. Nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES=(panel surveys feedback)
declare -A PORTS=([panel]=5001 [surveys]=5002 [feedback]=5003)
HEALTH_TIMEOUT=60

say() { printf 'up: %s\n' "$*"; }
die() { printf 'up: %s\n' "$*" >&2; exit 1; }

redis_state=""
honcho_pid=""
cleaning=""
cleanup() {
  [[ -z "$cleaning" ]] || return 0
  cleaning=1
  if [[ -n "$honcho_pid" ]] && kill -0 "$honcho_pid" 2>/dev/null; then
    say "stopping the web processes and workers"
    # honcho sends SIGTERM to each process group it started, and SIGKILL after 5 s.
    kill -TERM "$honcho_pid" 2>/dev/null || true
    wait "$honcho_pid" 2>/dev/null || true
  fi
  if [[ "$redis_state" == started ]]; then
    scripts/stop_redis.sh || true
  fi
}
trap cleanup EXIT
# Ctrl-C or SIGTERM is how `make up` is meant to end: stop everything, then exit 0 so make
# reports no error. (Honcho gets the Ctrl-C too and may end first, with 130 or 143.)
stop_asked=""
trap 'stop_asked=1; exit 0' INT TERM

port_taken() { { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null && exec 3<&- 3>&-; }

for service in "${SERVICES[@]}"; do
  if port_taken "${PORTS[$service]}"; then
    die "port ${PORTS[$service]} ($service) is in use already: is another \`make up\` running?"
  fi
done

make --no-print-directory install
mkdir -p var

redis_state="$(scripts/ensure_redis.sh)"
# The dev system uses Redis database 0 (the tests never do).
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6379}/0"
export PATH="$PWD/.venv/bin:$PATH"
export BIND_HOST=127.0.0.1
export PYTHONUNBUFFERED=1

for service in "${SERVICES[@]}"; do
  flask --app "services.$service" db upgrade
done
flask --app services.panel demo members --count 2000
say "seeding demo agencies, keys and a joint survey"
seeded="$(flask --app services.surveys demo seed)"

say "starting web processes and workers (deploy/Procfile) with honcho"
honcho --no-colour -f deploy/Procfile -d . start &
honcho_pid=$!

# 200 from /healthz means the service reaches its database and Redis.
health_code() {
  python -c '
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print(0)
' "$1"
}

deadline=$((SECONDS + HEALTH_TIMEOUT))
waiting=("${SERVICES[@]}")
while ((${#waiting[@]})); do
  kill -0 "$honcho_pid" 2>/dev/null || die "honcho stopped before the services were healthy"
  ((SECONDS < deadline)) || die "not healthy after ${HEALTH_TIMEOUT} s: ${waiting[*]}"
  still=()
  for service in "${waiting[@]}"; do
    code="$(health_code "http://127.0.0.1:${PORTS[$service]}/healthz")"
    [[ "$code" == 200 ]] || still+=("$service")
  done
  waiting=("${still[@]+"${still[@]}"}")
  if ((${#waiting[@]})); then sleep 1; fi
done

# The workers draw the sample (panel) and make the invitations (surveys) first.
link="$(flask --app services.surveys demo link --wait 60)" \
  || link="(none yet: the workers have not made the invitations; try \`flask --app services.surveys demo link\`)"

# Last, so the links (single use, 15 minutes) are fresh when the banner shows them.
sign_ins="$(flask --app services.surveys demo sign-in-links)"

redis_note="already running; left alone"
[[ "$redis_state" != started ]] || redis_note="started by make up; stopped with it"

cat <<EOF

==============================================================================
civicpanel is up. Ctrl-C stops it.

  panel     http://127.0.0.1:5001/join                the join page; also /representativeness
  surveys   http://127.0.0.1:5002/sign-in              the staff console (a link below signs
            you in); its API is /api/v1/openapi.json
  feedback  http://127.0.0.1:5003/you-said-we-did       also /scoreboard
  redis     ${REDIS_URL} (${redis_note})
  Each service answers /healthz and /api/v1/openapi.json.

Demo API keys (Authorization: Bearer <key>; each works on all three services):
${seeded}

Demo staff: open a link to sign in to the console as that person. Each works once,
within 15 minutes; \`flask --app services.surveys users sign-in-link EMAIL\` prints another.
${sign_ins}

A survey invitation link, as a panel member would get it:
  ${link}
==============================================================================

EOF

status=0
wait "$honcho_pid" || status=$?
[[ -z "$stop_asked" ]] || exit 0
# Honcho ends everything when one of its processes ends by itself: that is a failure.
exit "$status"
