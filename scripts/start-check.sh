#!/usr/bin/env bash
# Start check: runs the gateway exactly as `npm start` does (build, then node with the package's flags) on the
# built-in sandbox on a free 127.0.0.1 port; checks /health, that GraphiQL and one of its assets are served, and one
# GraphQL query; then sends SIGTERM to npm and expects a graceful stop and exit code 0. Fails loudly, printing the gateway's log.
# Runs on whatever `node` is first on PATH (CI: Node 22, the lowest supported line).
set -euo pipefail
cd "$(dirname "$0")/.."

# The built-in sandbox, no authentication: nothing from the caller's environment may point elsewhere.
for name in $(compgen -e | grep -E '^(UPSTREAM_|AUTH_|SANDBOX_|GRAPHIQL$|INTROSPECTION$)' || true); do unset "$name"; done
port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
base="http://127.0.0.1:$port"
log=$(mktemp)
echo "start-check: node $(node --version), npm start on $base" >&2

# Its own process group (npm → sh → node), so that nothing outlives the check.
PORT=$port HOST=127.0.0.1 LOG_LEVEL=info setsid npm start >"$log" 2>&1 &
pid=$!
fail() {
  echo "start-check FAILED: $*" >&2
  echo "--- gateway output ---" >&2
  cat "$log" >&2
  exit 1
}
cleanup() {
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

# Up within 60 s (the build is part of `npm start`).
for _ in $(seq 1 120); do
  kill -0 "$pid" 2>/dev/null || fail "the gateway exited during startup"
  if curl -fsS -o /dev/null "$base/health" 2>/dev/null; then break; fi
  sleep 0.5
done
curl -fsS -o /dev/null "$base/health" || fail "/health did not answer 200 within 60 s"

page=$(curl -fsS -H 'accept: text/html' "$base/graphql") || fail "GraphiQL page"
asset=$(grep -o '/graphql/assets/graphiql\.[0-9a-f]*\.js' <<<"$page" | head -1)
[ -n "$asset" ] || fail "the GraphiQL page references no local bundle"
curl -fsS -o /dev/null "$base$asset" || fail "GraphiQL asset $asset"

answer=$(curl -fsS "$base/graphql" -H 'content-type: application/json' \
  -d '{"query":"{ simList(first: 2) { totalCount nodes { iccid usage { status remainingMb } } } }"}') || fail "GraphQL query"
grep -q '"iccid"' <<<"$answer" || fail "no simList data in: $answer"
if grep -q '"errors"' <<<"$answer"; then fail "errors in: $answer"; fi

# SIGTERM to npm, as a process manager or container runtime sends it to `npm start`: npm forwards it to the gateway
# (the start script `exec`s node, no shell in between), which drains and exits 0 — and so does npm.
gateway=$(pgrep -g "$pid" -f '^node .*dist/app/index\.js') || fail "no gateway process in the npm start process group"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
[ "$code" = 0 ] || fail "exit code $code after SIGTERM (expected 0)"
for _ in $(seq 1 20); do kill -0 "$gateway" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$gateway" 2>/dev/null; then fail "the gateway process outlived npm start"; fi
grep -q '"msg":"stopped"' "$log" || fail "no graceful stop logged"
echo "start-check: ok (health, GraphiQL, query, clean stop) on node $(node --version)" >&2
