#!/usr/bin/env bash
# Measures the security issue's figure in one run: fetch hits, 4 KiB, 50 in
# flight, against four nodes on the memory store (plaintext; tokens; TLS;
# TLS and tokens), in interleaved rounds so that drift on the shared cores
# hits each alike; prints each round (throughput, and the node's CPU time per
# request: what a node serving clients on other hosts spends) and the ratios
# of the medians, and
# stops what it started.
#   benchmarks/run_tls_figures.sh [seconds-per-load-run] [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
SECONDS_PER_RUN=${1:-8}
ROUNDS=${2:-3}
install_packages $BUILD_PACKAGES openssl
build clustercached clustercache-bench >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
servers_dir
TLS=$SERVER_DIR/tls
mkdir -p "$TLS"
(cd "$TLS" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 2 -subj /CN=figures-ca &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj /CN=localhost &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' >san.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile san.ext) >"$TLS/openssl.log" 2>&1
printf 'bench write %s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" \
  >"$TLS/auth"
cut -d' ' -f3 "$TLS/auth" >"$TLS/token"
chmod 600 "$TLS/auth" "$TLS/token"

NAMES=(plaintext tokens tls tls+tokens)
PORTS=(17431 17432 17433 17434)
CLIENT_ARGS=("" "--token-file=$TLS/token" "--tls-ca=$TLS/ca.pem"
  "--tls-ca=$TLS/ca.pem --token-file=$TLS/token")
SERVER_ARGS=("" "--auth-file=$TLS/auth"
  "--tls-cert=$TLS/server.pem --tls-key=$TLS/server.key"
  "--tls-cert=$TLS/server.pem --tls-key=$TLS/server.key --auth-file=$TLS/auth")
for i in 0 1 2 3; do
  # shellcheck disable=SC2206
  PROBE_ARGS=(${CLIENT_ARGS[$i]})
  # shellcheck disable=SC2086
  start_node "127.0.0.1:${PORTS[$i]}" ${SERVER_ARGS[$i]}
done

echo "== Fetch hits over TLS with a token, 4 KiB, 50 in flight (target >= 0.8x the same run without TLS)"
declare -A RPS
# The server's user+system CPU ticks, from /proc.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
for ((round = 1; round <= ROUNDS; round++)); do
  for i in 0 1 2 3; do
    PID=${SERVER_PIDS[$((${#SERVER_PIDS[@]} - 4 + i))]}
    T0=$(cpu_ticks "$PID")
    # shellcheck disable=SC2086
    OUT=$("$BIN/clustercache-bench" --server="127.0.0.1:${PORTS[$i]}" \
      ${CLIENT_ARGS[$i]} --threads=2 --concurrency=50 --payload=4096 --keys=10000 \
      --fetch-ratio=1.0 --duration="${SECONDS_PER_RUN}s")
    T1=$(cpu_ticks "$PID")
    R=$(load_rps "$OUT")
    N=$(sed -nE 's/^requests ([0-9]+).*/\1/p' <<<"$OUT")
    RPS[$i]="${RPS[$i]:-} $R"
    printf 'round %d  %-11s %6.0f req/s  server CPU %4.1f us/request\n' \
      "$round" "${NAMES[$i]}" "$R" "$(awk -v t=$((T1 - T0)) -v u="$TICK_US" \
        -v n="$N" 'BEGIN { print t * u / n }')"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
BASE=$(median "${RPS[0]}")
for i in 1 2 3; do
  ratio "median ${NAMES[$i]}/plaintext" "$(median "${RPS[$i]}")" "$BASE"
done
