#!/usr/bin/env bash
# Measures the figures the Memcached/MySQL issue names, in one run, beside
# the reference: starts two memcached and a MariaDB on loopback, one
# clustercached on the pool with its ledger, runs clustercache-bench against
# it and the direct libmemcached load against the same servers, prints the
# ratio, times a purge through the ledger, and stops what it started.
#   benchmarks/run_memcached_figures.sh [seconds-per-load-run] [purge-entries]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
SECONDS_PER_RUN=${1:-10}
PURGE_ENTRIES=${2:-200000}
install_packages $BUILD_PACKAGES memcached libmemcached-tools mariadb-server \
  mariadb-client
build clustercached clustercache-bench clustercachectl >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
start_memcached
start_mariadb
start_node 127.0.0.1:17412 --store="memcached://$CLUSTERCACHE_TEST_MEMCACHED" \
  --ledger="${CLUSTERCACHE_TEST_MYSQL%/*}/clustercache_figures"

echo "== 1. Fetch hits, 4 KiB, 50 concurrent: one node on the pool vs libmemcached gets straight from it (target ratio >= 0.5)"
for round in 1 2; do
  CC_OUT=$("$BIN/clustercache-bench" --server=127.0.0.1:17412 --concurrency=50 \
    --payload=4096 --keys=10000 --zipf=0 --duration="${SECONDS_PER_RUN}s")
  echo "$CC_OUT"
  MC_OUT=$("$BIN/clustercache-bench" --scenario=memcached-direct \
    --server="$CLUSTERCACHE_TEST_MEMCACHED" --concurrency=50 --payload=4096 \
    --keys=10000 --duration="${SECONDS_PER_RUN}s")
  echo "$MC_OUT"
  MC_RPS=$(echo "$MC_OUT" | sed -nE 's/.* = ([0-9.]+) gets\/s.*/\1/p')
  ratio "ratio clustercache/memcached" "$(load_rps "$CC_OUT")" "$MC_RPS"
done

echo
echo "== 2. purge --older-than through the ledger, $PURGE_ENTRIES entries of 100 bytes (target >= 20,000 entries/s)"
"$BIN/clustercache-bench" --server=127.0.0.1:17412 --fetch-ratio=0 \
  --keys="$PURGE_ENTRIES" --payload=100 --scope=rss --duration=1s >/dev/null
sleep 1.5
timed_purge 127.0.0.1:17412 "$PURGE_ENTRIES" --scope rss --older-than 1s \
  --batch 1000
