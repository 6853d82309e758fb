#!/usr/bin/env bash
# Measures the figures the foundation issue names, in one run, beside the
# reference: starts redis-server and clustercached (memory store) on
# loopback, runs the micro benchmarks, redis-benchmark and clustercache-bench
# side by side, prints the ratio, and stops what it started.
#   benchmarks/run_figures.sh [seconds-per-load-run]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
SECONDS_PER_RUN=${1:-10}
install_packages $BUILD_PACKAGES redis-server redis-tools
build clustercached clustercache-bench clustercache-micro >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
start_redis
start_node 127.0.0.1:17411

echo "== 1. MemoryStore fetch hit through ContentCache, 4 KiB (target >= 2,000,000 ops/s on one thread)"
"$BIN/clustercache-micro" --benchmark_filter='BM_(FetchHit|Store|IsFresh)' \
  --benchmark_min_time=1 2>/dev/null | grep BM_

echo
echo "== 2. Fetch hits, 4 KiB, 50 concurrent: redis-benchmark GET vs clustercache-bench (target ratio >= 0.5)"
REDIS_LINE=$(redis-benchmark -h 127.0.0.1 -p "${CLUSTERCACHE_TEST_REDIS##*:}" \
  -t get -d 4096 -c 50 -P 1 -n 200000 -q 2>/dev/null | tr '\r' '\n' |
  grep 'requests per second' | tail -1)
REDIS_RPS=$(echo "$REDIS_LINE" | sed -E 's/.*GET: ([0-9.]+) requests per second.*/\1/')
echo "redis-benchmark -t get -d 4096 -c 50 -P 1 -n 200000: $REDIS_LINE"
CC_OUT=$("$BIN/clustercache-bench" --server=127.0.0.1:17411 --concurrency=50 \
  --payload=4096 --threads=2 --duration="${SECONDS_PER_RUN}s")
echo "$CC_OUT"
ratio "ratio clustercache/redis" "$(load_rps "$CC_OUT")" "$REDIS_RPS"

echo
echo "== 3. 200 requesters of one key with no stale copy, generator 200 ms (target: 1 run; waiters p99 <= 5 ms after the store)"
"$BIN/clustercache-bench" --server=127.0.0.1:17411 --scenario=stampede \
  --requesters=200 --generate-time=200ms --rounds=20 --requester=async
"$BIN/clustercache-bench" --server=127.0.0.1:17411 --scenario=stampede \
  --requesters=200 --generate-time=200ms --rounds=10 --requester=thread
