#!/usr/bin/env bash
# Runs its arguments (make test's go test commands) with what the test
# groups need: the official SDKs for test/clients_test.go are installed
# with `npm ci` when npm exists and node_modules is missing or older than
# package-lock.json; a private redis-server is started for the Redis tests
# when it is installed and TOKENOMICS_TEST_REDIS_ADDR is unset, and
# stopped afterwards. A group that cannot run is named on one line with
# the command that enables it, before and after the run.
set -uo pipefail
cd "$(dirname "$0")/.."

skipped=()
skip() { skipped+=("$1"); }
report() {
  local s
  for s in "${skipped[@]+"${skipped[@]}"}"; do printf 'SKIPPED %s\n' "$s" >&2; done
}

# --- official SDK clients (test/clients_test.go)
clients=test/clients
stale() { [ ! -f "$clients/node_modules/.package-lock.json" ] || [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; }
install_clients() {
  stale || return 0 # another copy of the suite installed them meanwhile
  echo "testenv: installing the SDK clients (cd $clients && npm ci)" >&2
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error >&2)
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  skip "TestClients (official OpenAI/Anthropic SDKs): install Node.js and npm (apt-get install -y nodejs npm), then make test"
elif stale; then
  # Two copies of the suite started together must not run npm ci in the
  # same directory at once: the second waits and finds them installed.
  if command -v flock >/dev/null 2>&1; then
    ( flock 9 && install_clients ) 9> "$clients/.install.lock"
  else
    install_clients
  fi || skip "TestClients (official SDKs): npm ci failed; run (cd $clients && npm ci) and read its error"
fi

# --- Chromium (test/console_browser_test.go drives the console headless)
if [ -z "${TOKENOMICS_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  skip "TestConsoleBrowser (the operators' console in headless Chromium): apt-get install -y chromium, then make test"
fi

# --- Redis (the shared-counter tests; those that kill Redis start their own)
redis_pid= redis_dir=
stop_redis() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null
    redis_pid=
  fi
  [ -n "$redis_dir" ] && rm -rf "$redis_dir"
  return 0
}
# start_redis PORT: 0 when the redis-server this script started answers
# on PORT (its own process id, not some other server's), 1 if the port was
# not ours, 2 on any other failure.
start_redis() {
  local port=$1
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --protected-mode no --dir "$redis_dir" > "$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 300); do
    if ! kill -0 "$redis_pid" 2>/dev/null; then
      wait "$redis_pid" 2>/dev/null; redis_pid=
      grep -q "in use" "$redis_dir/redis.log" && return 1
      return 2
    fi
    if redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$redis_pid"; then
      return 0
    elif redis-cli -p "$port" ping >/dev/null 2>&1; then
      stop_redis_keep_dir; return 1 # somebody else's server answers there
    fi
    sleep 0.1
  done
  stop_redis_keep_dir
  return 2
}
stop_redis_keep_dir() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; redis_pid=; }

if [ -n "${TOKENOMICS_TEST_REDIS_ADDR:-}" ]; then
  echo "testenv: Redis tests use TOKENOMICS_TEST_REDIS_ADDR=$TOKENOMICS_TEST_REDIS_ADDR" >&2
elif ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  skip "Redis tests (limits_*: shared budgets, fleet, Redis outage): apt-get install -y redis-server, then make test"
else
  redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenomics-test-redis.XXXXXX")
  trap stop_redis EXIT
  trap 'stop_redis; exit 130' INT TERM
  ok=
  for _ in 1 2 3 4 5; do
    # Below the kernel's ephemeral range, where outgoing connections and
    # port-0 listeners take theirs.
    port=$(( 20000 + RANDOM % 12000 ))
    start_redis "$port"; rc=$?
    if [ $rc -eq 0 ]; then ok=1; break; fi
    [ $rc -eq 2 ] && break
  done
  if [ -n "$ok" ]; then
    export TOKENOMICS_TEST_REDIS_ADDR="127.0.0.1:$port"
    echo "testenv: private redis-server (pid $redis_pid) on $TOKENOMICS_TEST_REDIS_ADDR" >&2
  else
    echo "testenv: could not start redis-server; its log:" >&2
    tail -n 5 "$redis_dir/redis.log" >&2
    echo "testenv: the shared-counter tests start a redis-server of their own instead" >&2
  fi
fi

# --- PostgreSQL (central replicas: test/pg_*_test.go, core/store/pgstore)
# One private server for the run, each test makes its own database in it.
# initdb refuses root, so as root the server runs as the postgres user.
pg_bin=${TOKENOMICS_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_dir=
stop_pg() {
  if [ -n "$pg_dir" ]; then
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$pg_dir"; pg_dir=
  fi
  return 0
}
pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -n "${TOKENOMICS_TEST_POSTGRES_DSN:-}" ]; then
  echo "testenv: PostgreSQL tests use TOKENOMICS_TEST_POSTGRES_DSN" >&2
elif [ ! -x "$pg_bin/initdb" ]; then
  skip "PostgreSQL tests (pg_*: central replicas, conformance, migrate): apt-get install -y postgresql, then make test"
else
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenomics-test-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
  trap 'stop_redis; stop_pg' EXIT
  trap 'stop_redis; stop_pg; exit 130' INT TERM
  pg_ok=
  if pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >"$pg_dir/initdb.log" 2>&1; then
    for _ in 1 2 3 4 5; do
      pg_port=$(( 20000 + RANDOM % 12000 ))
      if pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 \
          -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null 2>&1; then
        pg_ok=1; break
      fi
      grep -q "in use" "$pg_dir/log" 2>/dev/null || break
    done
  fi
  if [ -n "$pg_ok" ]; then
    export TOKENOMICS_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
    echo "testenv: private PostgreSQL on 127.0.0.1:$pg_port" >&2
  else
    echo "testenv: could not start PostgreSQL; its log:" >&2
    tail -n 5 "$pg_dir/log" "$pg_dir/initdb.log" 2>/dev/null >&2
    stop_pg
    skip "PostgreSQL tests: the private server did not start (see above)"
  fi
fi

report
"$@"
rc=$?
report
exit $rc
