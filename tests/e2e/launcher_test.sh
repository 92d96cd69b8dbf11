#!/usr/bin/env bash
# End to end: tools/hotline-up brings the whole suite up (dev broker, six redis-servers, six
# services); every health check says SERVING, every /metrics shows the service's hotline_*
# series, the broker lists Hotline's topics, and SIGTERM to the launcher stops every process.
#
# Usage: launcher_test.sh REPO BUILD_DIR
set -uo pipefail
repo=$1
build=$2
run=$(mktemp -d "${TMPDIR:-/tmp}/hotline-e2e.XXXXXX")
failures=0
check() {  # check DESCRIPTION CMD...
  if "${@:2}"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi
}

# A port base below the kernel's ephemeral range (32768+), where the other tests' FreePort()
# ports and client sockets live: 20000–31900, at random.
port_base=$((20000 + (RANDOM % 120) * 100))

# Run the launcher against the binaries ctest was given.
"$repo/tools/hotline-up" --no-build --build-dir "$build" --port-base "$port_base" \
  --run-dir "$run" >"$run/launcher.out" 2>&1 &
launcher=$!
cleanup() {
  kill -TERM "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q "Hotline is up" "$run/launcher.out" && break
  kill -0 "$launcher" 2>/dev/null || break
  sleep 1
done
if ! grep -q "Hotline is up" "$run/launcher.out"; then
  echo "FAIL - launcher did not report the suite up:"; cat "$run/launcher.out"
  for f in "$run"/logs/*.log; do echo "== $f"; tail -n 5 "$f"; done
  exit 1
fi
echo "ok   - launcher reported all six services SERVING"

services=(intake ivr_routing dispatch sla_timer survey analytics)
for i in "${!services[@]}"; do
  s=${services[$i]}
  check "$s health SERVING" "$build/tools/hotline-health" --plaintext "127.0.0.1:$((port_base + 1 + i))"
  metrics=$(curl -sf "http://127.0.0.1:$((port_base + 101 + i))/metrics")
  check "$s /metrics has hotline_${s}_build_info" grep -q "^hotline_${s}_build_info{" <<<"$metrics"
  check "$s /metrics reports Redis and Kafka up" \
    grep -q 'hotline_dependency_up{dependency="kafka"} 1' <<<"$metrics"
  check "$s log is JSON lines" bash -c "head -n 3 '$run/logs/$s.log' | grep -q '^{\"ts\":'"
done

bootstrap=$(cat "$run/bootstrap")
if command -v kcat >/dev/null; then
  topics=$(kcat -L -b "$bootstrap" -m 5 2>/dev/null)
  for t in hotline.tickets.v1 hotline.calls.v1 hotline.sla.v1 hotline.surveys.v1 hotline.deadletter.v1; do
    check "kcat lists $t" grep -q "topic \"$t\"" <<<"$topics"
  done
else
  echo "skip - kcat not installed: topic listing not checked"
fi

# The demo: hotline-up fed deploy/demo/requests.jsonl through intake, every one accepted.
for _ in $(seq 1 60); do grep -q "Ctrl-C stops everything" "$run/launcher.out" && break; sleep 1; done
check "demo requests all submitted" grep -q "submitted [0-9]* requests in .* (0 errors)" "$run/launcher.out"
check "demo shows direct answers and merges" grep -q "direct_answered=[1-9].*merged=[1-9]" "$run/launcher.out"
check "dispatch routed every new demo ticket" grep -qE "dispatch: routed ([1-9][0-9]*) of \1 new tickets" "$run/launcher.out"
check "some demo tickets were dispatched automatically" grep -qE "^ +auto +[1-9]" "$run/launcher.out"

# Consumer groups joined: the consuming services' Kafka clients appear as group members.
# (Checked through the services' own logs: "partitions assigned".)
for s in dispatch sla_timer survey analytics; do
  found=0
  for _ in $(seq 1 30); do
    grep -q '"msg":"partitions assigned"' "$run/logs/$s.log" && { found=1; break; }
    sleep 1
  done
  check "$s joined its consumer group" test $found = 1
done

# SIGTERM to the launcher stops everything it started; services exit 0 after a clean shutdown.
pids=$(awk '{print $2}' "$run/pids")
kill -TERM "$launcher"
wait "$launcher"
check "launcher exits 0 on SIGTERM" test $? = 0
left=0
for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "no process left behind ($left alive)" test $left = 0
for s in "${services[@]}"; do
  check "$s logged a clean stop" grep -q '"msg":"stopped"' "$run/logs/$s.log"
done

echo "$failures failures"
[ $failures = 0 ]
