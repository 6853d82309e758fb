#!/usr/bin/env bash
# Measures the figures the Redis issue names, in one run, beside the
# reference: starts redis-server and two clustercached nodes on it (loopback),
# runs redis-benchmark and clustercache-bench side by side, counts Redis
# commands per fresh hit, times invalidate with ENTRIES stored, purges them
# while a fetch load runs, measures the cross-node wake-up, and stops what
# it started.
#   benchmarks/run_redis_figures.sh [seconds-per-load-run] [entries]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
SECONDS_PER_RUN=${1:-10}
ENTRIES=${2:-1000000}
install_packages $BUILD_PACKAGES redis-server redis-tools
build clustercached clustercache-bench clustercachectl >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
start_redis
REDIS_PORT=${CLUSTERCACHE_TEST_REDIS##*:}
A=127.0.0.1:17416
B=127.0.0.1:17417
for node in "$A" "$B"; do
  start_node "$node" --store="redis://$CLUSTERCACHE_TEST_REDIS"
done
# 50 fetches in flight on node A, 4 KiB hits.
LOAD=("$BIN/clustercache-bench" --server="$A" --concurrency=50 --payload=4096
  --threads=2)
load() { "${LOAD[@]}" --duration="$1" "${@:2}"; }  # load SECONDS [FLAGS]

echo "== 1. Fetch hits, 4 KiB, 50 concurrent: redis-benchmark GET vs one node on the same Redis (target ratio >= 0.5)"
for round in 1 2; do
  REDIS_LINE=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -t get -d 4096 \
    -c 50 -P 1 -n 200000 -q 2>/dev/null | tr '\r' '\n' |
    grep 'requests per second' | tail -1)
  echo "redis-benchmark -t get -d 4096 -c 50 -P 1 -n 200000: $REDIS_LINE"
  CC_OUT=$(load "${SECONDS_PER_RUN}s")
  echo "$CC_OUT"
  ratio "ratio clustercache/redis" "$(load_rps "$CC_OUT")" \
    "$(sed -E 's/.*GET: ([0-9.]+) requests per second.*/\1/' <<<"$REDIS_LINE")"
done

echo
echo "== 2. Redis commands sent per fresh hit (target exactly 1), read with MONITOR"
timeout 4 redis-cli -p "$REDIS_PORT" MONITOR >/tmp/cc-figures-monitor.$$ &
MONITOR_PID=$!
sleep 1
CC_OUT=$(load 1s --fill=false)  # the keys are there from step 1
wait "$MONITOR_PID" || true
# Commands from clients; those a script runs show as "[db lua]".
SENT=$(grep -Ec '^[0-9.]+ \[[0-9]+ [0-9.]+:[0-9]+\]' /tmp/cc-figures-monitor.$$)
grep -E '^[0-9.]+ \[[0-9]+ [0-9.]+:[0-9]+\]' /tmp/cc-figures-monitor.$$ |
  awk '{ print $4 }' | sort | uniq -c
rm -f /tmp/cc-figures-monitor.$$
ratio "commands per fetch" "$SENT" \
  "$(sed -nE 's/^requests ([0-9]+) .*/\1/p' <<<"$CC_OUT")"

echo
echo "== 3. Cross-node waiter: lease held and stored on node B, 200 waiters on node A (target p99 <= 20 ms)"
"$BIN/clustercache-bench" --server="$A" --holder-server="$B" \
  --scenario=stampede --requesters=200 --generate-time=200ms --rounds=10

echo
echo "== 4. invalidate with $ENTRIES entries stored (target < 5 ms)"
"$BIN/clustercache-bench" --server="$A" --fetch-ratio=0 --keys="$ENTRIES" \
  --payload=100 --scope=rss --duration=1s >/dev/null
"$BIN/clustercache-bench" --server="$A" --scenario=invalidate --rounds=100

echo
echo "== 5. purge --older-than of $ENTRIES entries while 50 fetches stay in flight (targets: >= 100,000 entries/s; fetch p99 within 2x of without)"
BASE=$(load "${SECONDS_PER_RUN}s")  # fills again: step 4 invalidated them
echo "without purge: $BASE"
sleep 1
"${LOAD[@]}" --duration=120s --fill=false >/tmp/cc-figures-load.$$ &
LOAD_PID=$!
sleep 1
timed_purge "$A" "$ENTRIES" --scope rss --older-than 1s --batch 1000
kill "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" || true
DURING=$(cat /tmp/cc-figures-load.$$)
rm -f /tmp/cc-figures-load.$$
echo "during purge: $DURING"
ratio "fetch p99 during purge / without (ms, x1000)" \
  "$(awk -v p="$(load_p99 "$DURING")" 'BEGIN { print p * 1000 }')" \
  "$(awk -v p="$(load_p99 "$BASE")" 'BEGIN { print p * 1000 }')"
