#!/usr/bin/env bash
# Issue 17's figure: the node's own part of a stampede's wake-up, from its
# clustercache_waiter_wake_seconds histogram (a watch's news of the stored
# entry to each waiter's answer handed to its face); goal p99 <= 1 ms for
# 200 waiters. A node on the memory store; each round one stampede of 200
# requesters over gRPC (clustercache-bench) and one over HTTP
# (clustercache-http-stampede), the histogram read from /metrics before and
# after. Stops what it started.
#   benchmarks/run_wake_figure.sh [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
ROUNDS=${1:-3}
install_packages $BUILD_PACKAGES curl
build clustercached clustercache-bench clustercache-http-stampede >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
GRPC=127.0.0.1:17451
HTTP=127.0.0.1:17452
METRICS=127.0.0.1:17453
start_node $GRPC --http-listen=$HTTP --metrics-listen=$METRICS

# The wake histogram's buckets now: "le count" lines.
buckets() {
  curl -s "http://$METRICS/metrics" |
    sed -nE 's/^clustercache_waiter_wake_seconds_bucket\{le="([^"]+)"\} ([0-9]+)$/\1 \2/p'
}
# report LABEL BEFORE AFTER: the waiters woken between the two scrapes, the
# share within 1 ms, and the bucket bounds of p50 and p99.
report() {
  join <(echo "$2") <(echo "$3") | awk -v l="$1" '
    { le[NR] = $1; n[NR] = $3 - $2 }
    END {
      total = n[NR]
      for (i = 1; i <= NR; i++) {
        if (le[i] == "0.001") within = n[i]
        if (!p50 && n[i] >= 0.5 * total) p50 = le[i]
        if (!p99 && n[i] >= 0.99 * total) p99 = le[i]
      }
      printf "%s: %d waiters woken; %.1f%% within 1 ms; p50 <= %g ms, p99 <= %g ms\n",
        l, total, 100 * within / total, p50 * 1000, p99 * 1000
    }'
}
for round in $(seq "$ROUNDS"); do
  before=$(buckets)
  "$BIN/clustercache-bench" --server=$GRPC --scenario=stampede \
    --requesters=200 --rounds=1 | grep -E "generator|from the store" || true
  after=$(buckets)
  report "round $round, gRPC, 200 requesters" "$before" "$after"
  before=$after
  "$BIN/clustercache-http-stampede" --http=$HTTP --waiters=200 |
    grep -E "generator|from the store" || true
  after=$(buckets)
  report "round $round, HTTP, 200 requesters" "$before" "$after"
done
