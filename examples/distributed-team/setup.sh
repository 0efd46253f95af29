#!/usr/bin/env bash
# Brings the distributed-team example up on one machine: a central server
# and a proxy, each in its own directory under $WORK, with the four role
# tokens created on the central server. Both keep running; $WORK/stop.sh
# stops them. Tokens are written to $WORK/tokens.env (mode 0600). Nothing is
# written outside $WORK; to start over: $WORK/stop.sh && rm -rf $WORK.
#
# "ready" is printed only when both servers this script started are up:
# each writes its bound addresses to a ready file, and a server that died
# (a port already in use, a bad config) stops the script with its log.
#
# Environment (all optional):
#   BIN                 tokenomics binary (default: <repo>/bin/tokenomics)
#   WORK                working directory (default: ./distributed-team-run)
#   CENTRAL_PORT        central server port (default 9090)
#   PROXY_PORT          proxy HTTP port (default 8080); PROXY_TLS_PORT (default 8443)
#   OPENAI_UPSTREAM, ANTHROPIC_UPSTREAM   provider base URLs (default: the real APIs)
#   TOKENOMICS_* secrets: generated into $WORK/.env when unset
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${BIN:-$root/bin/tokenomics}
WORK=${WORK:-$PWD/distributed-team-run}
export CENTRAL_PORT=${CENTRAL_PORT:-9090}
export PROXY_PORT=${PROXY_PORT:-8080}
export PROXY_TLS_PORT=${PROXY_TLS_PORT:-8443}
export CENTRAL_URL="http://127.0.0.1:$CENTRAL_PORT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || die "no binary at $BIN: run 'make build' first"
mkdir -p "$WORK/central" "$WORK/proxy"
chmod 700 "$WORK"

# Secrets: keep the caller's, else generate once and remember them.
if [ -f "$WORK/.env" ]; then
  # shellcheck disable=SC1091
  . "$WORK/.env"
fi
gen() { head -c 32 /dev/urandom | base64 | tr -d '/+=' | cut -c1-40; }
for v in TOKENOMICS_HASH_KEY TOKENOMICS_ENCRYPTION_KEY TOKENOMICS_REMOTE_KEY TOKENOMICS_WEBHOOK_SECRET TOKENOMICS_SIGNING_KEY; do
  if [ -z "${!v:-}" ]; then
    printf -v "$v" '%s' "$(gen)"
    echo "export $v=${!v}" >> "$WORK/.env"
  fi
  export "${v?}"
done
chmod 600 "$WORK/.env"

stop_all() {
  local p
  for p in "$WORK/proxy/proxy.pid" "$WORK/central/central.pid"; do
    if [ -f "$p" ]; then
      kill "$(cat "$p")" 2>/dev/null || true
      rm -f "$p"
    fi
  done
}

# start NAME DIR ARGS…: runs the binary in DIR and waits until that very
# process has written DIR/ready.env; fails with the server's log if it
# exits first. A first start compiles the rule plugins: allow a minute.
start() {
  local name=$1 dir=$2 pid
  shift 2
  rm -f "$dir/ready.env"
  # exec: the subshell becomes the server, so $! is the server's pid and no
  # shell lingers holding this script's output open.
  (cd "$dir" && exec "$BIN" "$@" --ready-file "$dir/ready.env" > "$dir/$name.log" 2>&1 < /dev/null) &
  pid=$!
  echo "$pid" > "$dir/$name.pid"
  for _ in $(seq 1 600); do
    if [ -f "$dir/ready.env" ]; then
      grep -qx "PID=$pid" "$dir/ready.env" || { stop_all; die "$dir/ready.env was not written by the $name server this script started"; }
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      printf 'setup: the %s server (pid %s) exited during start-up; last lines of %s:\n' "$name" "$pid" "$dir/$name.log" >&2
      tail -n 15 "$dir/$name.log" >&2
      stop_all
      exit 1
    fi
    sleep 0.1
  done
  stop_all
  die "the $name server did not get ready within 60s; see $dir/$name.log"
}

# ready_addr DIR KEY: an address from DIR/ready.env.
ready_addr() { sed -n "s/^$2=//p" "$1/ready.env"; }

say "central server on 127.0.0.1:$CENTRAL_PORT"
cp "$here/central-config.yaml" "$WORK/central/config.yaml"
cp "$here/providers.yaml" "$WORK/central/providers.yaml"
# The API key comes from $TOKENOMICS_REMOTE_KEY (exported above), never the
# command line, where every local user could read it in ps.
start central "$WORK/central" remote --addr "127.0.0.1:$CENTRAL_PORT"
echo "    listening on $(ready_addr "$WORK/central" API_ADDR)"

say "role tokens, created on the central server"
: > "$WORK/tokens.env"
chmod 600 "$WORK/tokens.env"
for spec in lead-engineer:1y developer:90d contractor:30d ci-pipeline:1y; do
  role=${spec%%:*} expires=${spec#*:}
  out=$(cd "$WORK/central" && "$BIN" token create --policy "$(cat "$here/policies/$role.json")" --expires "$expires")
  token=$(printf '%s\n' "$out" | awk '/^Token:/ {print $2}')
  hash=$(printf '%s\n' "$out" | awk '/^Hash:/ {print $2}')
  [ -n "$token" ] || die "creating the $role token failed: $out"
  var=$(printf '%s' "$role" | tr 'a-z-' 'A-Z_')
  printf 'export %s_TOKEN=%s\nexport %s_HASH=%s\n' "$var" "$token" "$var" "$hash" >> "$WORK/tokens.env"
  printf '  %-14s %s…  expires in %s\n' "$role" "${hash:0:12}" "$expires"
done

say "proxy on :$PROXY_PORT (https and http on :$PROXY_TLS_PORT)"
cp "$here/proxy-config.yaml" "$WORK/proxy/config.yaml"
cp "$here/providers.yaml" "$WORK/proxy/providers.yaml"
start proxy "$WORK/proxy" serve
proxy_addr=$(ready_addr "$WORK/proxy" HTTP_ADDR)
echo "    listening on $proxy_addr and $(ready_addr "$WORK/proxy" HTTPS_ADDR) (every interface: see server.host)"
# /ready answers once the first pull from the central server is done.
ok=
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:${proxy_addr##*:}/ready" 2>/dev/null; then ok=1; break; fi
  kill -0 "$(cat "$WORK/proxy/proxy.pid")" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ok" ] || { tail -n 15 "$WORK/proxy/proxy.log" >&2; stop_all; die "the proxy did not become ready; see $WORK/proxy/proxy.log"; }

# stop.sh stops exactly the servers this script started (by their pids).
cat > "$WORK/stop.sh" <<STOP
#!/usr/bin/env bash
for p in "$WORK/proxy/proxy.pid" "$WORK/central/central.pid"; do
  [ -f "\$p" ] && kill "\$(cat "\$p")" 2>/dev/null
  rm -f "\$p"
done
exit 0
STOP
chmod +x "$WORK/stop.sh"

say "ready"
cat <<EOT
  tokens:      source $WORK/tokens.env
  a client:    eval \$($BIN init --token "\$DEVELOPER_TOKEN" --host 127.0.0.1 --port $PROXY_TLS_PORT --insecure)
  manage:      (cd $WORK/central && $BIN token list)
  logs:        $WORK/central/central.log, $WORK/proxy/proxy.log
  stop:        $WORK/stop.sh
  start over:  $WORK/stop.sh && rm -rf $WORK
EOT
