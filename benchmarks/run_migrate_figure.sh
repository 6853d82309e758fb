#!/usr/bin/env bash
# Issue 18's figure: the offline copy rate, memcached + ledger -> Redis
# Cluster, 4 KiB payloads (goal >= 20,000 entries/s), beside
# `redis-benchmark -t set -d 4096` against the same cluster in the same run.
# Starts two memcached, a MariaDB and a 3-master Redis Cluster on loopback,
# fills the pool through a node, times `clustercachectl migrate`, and stops
# what it started. The first round also times the copy back, Redis Cluster
# -> memcached + ledger (no issue figure: for the README).
#   benchmarks/run_migrate_figure.sh [entries] [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
ENTRIES=${1:-50000}
ROUNDS=${2:-2}
install_packages $BUILD_PACKAGES memcached libmemcached-tools mariadb-server \
  mariadb-client redis-server redis-tools
build clustercached clustercache-bench clustercachectl >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
start_memcached
start_mariadb
start_redis_cluster
LEDGER="${CLUSTERCACHE_TEST_MYSQL%/*}/clustercache_figures"
FROM="memcached://$CLUSTERCACHE_TEST_MEMCACHED"
TO="redis-cluster://$CLUSTERCACHE_TEST_REDIS_CLUSTER"
start_node 127.0.0.1:17481 --store="$FROM" --ledger="$LEDGER" \
  --max-payload=1MiB --namespace=fig
echo "== filling the pool: $ENTRIES entries of 4 KiB through a node"
"$BIN/clustercache-bench" --server=127.0.0.1:17481 --fetch-ratio=0 \
  --keys="$ENTRIES" --payload=4096 --fill --duration=100ms >/dev/null
# The ledger records stores in the background: wait until it lists them.
ledger_count() {
  "$BIN/clustercachectl" store "$FROM" --ledger="$LEDGER" --namespace=fig |
    sed -n 's/^entries\t//p'
}
# Under a fast fill its bounded queue may drop rows (a store never waits for
# the ledger): the copy moves what the ledger lists, once that is steady.
listed=-1
for _ in $(seq 120); do
  now=$(ledger_count)
  [ "$now" = "$listed" ] && break
  listed=$now
  sleep 2
done
echo "the ledger lists $listed of the $ENTRIES entries stored"
ENTRIES=$listed
FIRST_PORT=${CLUSTERCACHE_TEST_REDIS_CLUSTER%%,*}
for round in $(seq "$ROUNDS"); do
  echo "== round $round: clustercachectl migrate, then redis-benchmark"
  start=$(date +%s.%N)
  "$BIN/clustercachectl" migrate --from="$FROM" --from-ledger="$LEDGER" \
    --from-namespace=fig --to="$TO" --to-namespace="fig$round" \
    --batch=1000 2>/dev/null
  end=$(date +%s.%N)
  MIGRATE=$(awk -v s="$start" -v e="$end" -v n="$ENTRIES" \
    'BEGIN { printf "%.0f", n / (e - s) }')
  echo "migrate: $MIGRATE entries/s"
  RB=$(redis-benchmark -h 127.0.0.1 -p "${FIRST_PORT##*:}" --cluster -q \
    -t set -d 4096 -n "$ENTRIES" -c 50 2>/dev/null | tr '\r' '\n' |
    sed -nE 's/^SET: ([0-9.]+) requests per second.*/\1/p' | tail -1)
  echo "redis-benchmark -t set -d 4096 -c 50 --cluster: $RB requests/s"
  ratio "migrate / redis-benchmark SET" "$MIGRATE" "$RB"
  # Once (the pool holds the source too): the copy back.
  [ "$round" = 1 ] || continue
  start=$(date +%s.%N)
  "$BIN/clustercachectl" migrate --from="$TO" --from-namespace="fig$round" \
    --to="$FROM" --to-ledger="$LEDGER" --to-namespace=back \
    --batch=1000 2>/dev/null
  end=$(date +%s.%N)
  echo "back into memcached + ledger: $(awk -v s="$start" -v e="$end" \
    -v n="$ENTRIES" 'BEGIN { printf "%.0f", n / (e - s) }') entries/s"
done
