#!/usr/bin/env bash
# Brings the distributed-team example up on one machine: a central server
# and a proxy, each in its own directory under $WORK, with the four role
# tokens created on the central server. Both keep running; $WORK/stop.sh
# stops them. Tokens are written to $WORK/tokens.env (mode 0600).
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
for v in TOKENOMICS_HASH_KEY TOKENOMICS_REMOTE_KEY TOKENOMICS_WEBHOOK_SECRET TOKENOMICS_SIGNING_KEY; do
  if [ -z "${!v:-}" ]; then
    printf -v "$v" '%s' "$(gen)"
    echo "export $v=${!v}" >> "$WORK/.env"
  fi
  export "${v?}"
done
chmod 600 "$WORK/.env"

wait_for() { # url, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

say "central server on :$CENTRAL_PORT"
cp "$here/central-config.yaml" "$WORK/central/config.yaml"
cp "$here/providers.yaml" "$WORK/central/providers.yaml"
# exec: the subshell becomes the server, so the pid file is right and no
# shell lingers holding this script's output open.
(cd "$WORK/central" && exec "$BIN" remote --addr "127.0.0.1:$CENTRAL_PORT" --api-key "$TOKENOMICS_REMOTE_KEY" \
  > central.log 2>&1 < /dev/null) &
echo $! > "$WORK/central/central.pid"
wait_for "$CENTRAL_URL/health" 20 || die "central server did not start; see $WORK/central/central.log"

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
(cd "$WORK/proxy" && exec "$BIN" serve > proxy.log 2>&1 < /dev/null) &
echo $! > "$WORK/proxy/proxy.pid"
wait_for "http://127.0.0.1:$PROXY_PORT/ready" 30 || die "proxy did not become ready; see $WORK/proxy/proxy.log"

cat > "$WORK/stop.sh" <<STOP
#!/usr/bin/env bash
for p in "$WORK/proxy/proxy.pid" "$WORK/central/central.pid"; do
  [ -f "\$p" ] && kill "\$(cat "\$p")" 2>/dev/null; rm -f "\$p"
done
STOP
chmod +x "$WORK/stop.sh"

say "ready"
cat <<EOT
  tokens:      source $WORK/tokens.env
  a client:    eval \$($BIN init --token "\$DEVELOPER_TOKEN" --host 127.0.0.1 --port $PROXY_TLS_PORT --insecure)
  manage:      (cd $WORK/central && $BIN token list)
  logs:        $WORK/central/central.log, $WORK/proxy/proxy.log
  stop:        $WORK/stop.sh
EOT
