#!/usr/bin/env bash
# Measures the HTTP face's figures (issue 16) in one run, and stops what it
# started:
# - GET hits of one 4 KiB object, 50 kept-alive connections (wrk): a node on
#   the memory store, a node on Redis, Varnish serving the same object from
#   its own cache (warmed, nginx its backend) and nginx serving the file
#   from disk, in interleaved rounds; medians and the ratios to Varnish;
# - 304 revalidations (If-None-Match) against the same node's 200s;
# - the stampede over HTTP: 200 lease GETs on one missing key (generator
#   runs, time from the store to the waiters' answers), then 2000 waiting
#   (the node's threads before, during, after).
# The servers (the nodes, Redis, Varnish, nginx) share CPU 1 and wrk has
# CPU 0: each server gets the same core whatever its number of threads (on
# two shared cores the scheduler would otherwise favour the one with most
# threads).
#   benchmarks/run_http_figures.sh [seconds-per-wrk-run] [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/figures_lib.sh"
SECONDS_PER_RUN=${1:-8}
ROUNDS=${2:-3}
install_packages $BUILD_PACKAGES redis-server redis-tools nginx-light varnish wrk \
  util-linux
build clustercached clustercache-bench clustercache-http-stampede >/dev/null
BIN=$BUILD_DIR/bin
trap 'stop_servers' EXIT
servers_dir
start_redis
taskset -a -pc 1 "${SERVER_PIDS[-1]}" >/dev/null
WEB=$SERVER_DIR/web
mkdir -p "$WEB/root/v1/entries/figures" "$WEB/varnish"
head -c 4096 /dev/urandom | base64 -w0 | head -c 4096 >"$WEB/root/v1/entries/figures/obj"
# nginx workers run as nobody: they must reach the file.
chmod a+x "$SERVER_DIR"
chmod -R a+rX "$WEB"

MEM_HTTP=17442
REDIS_HTTP=17444
NGINX=17445
VARNISH=17446
start_node 127.0.0.1:17441 --http-listen=127.0.0.1:$MEM_HTTP
MEM_PID=${SERVER_PIDS[-1]}
start_node 127.0.0.1:17443 --http-listen=127.0.0.1:$REDIS_HTTP \
  --store="redis://$CLUSTERCACHE_TEST_REDIS"
for pid in "$MEM_PID" "${SERVER_PIDS[-1]}"; do taskset -a -pc 1 "$pid" >/dev/null; done

cat >"$WEB/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $WEB/nginx.pid;
error_log $WEB/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WEB/body;
  proxy_temp_path $WEB/proxy;
  fastcgi_temp_path $WEB/fastcgi;
  uwsgi_temp_path $WEB/uwsgi;
  scgi_temp_path $WEB/scgi;
  server {
    listen 127.0.0.1:$NGINX;
    root $WEB/root;
  }
}
CONF
taskset -c 1 nginx -p "$WEB" -c "$WEB/nginx.conf" &
SERVER_PIDS+=("$!")
cat >"$WEB/cc.vcl" <<CONF
vcl 4.1;
backend nginx { .host = "127.0.0.1"; .port = "$NGINX"; }
sub vcl_backend_response { set beresp.ttl = 1h; }
CONF
taskset -c 1 varnishd -F -a "127.0.0.1:$VARNISH" -f "$WEB/cc.vcl" -n "$WEB/varnish" \
  -s malloc,64m -T none >"$WEB/varnish.log" 2>&1 &
SERVER_PIDS+=("$!")
wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:$NGINX/v1/entries/figures/obj"
wait_until 30 curl -sf -o /dev/null "http://127.0.0.1:$VARNISH/v1/entries/figures/obj"

for port in $MEM_HTTP $REDIS_HTTP; do
  curl -sf -o /dev/null -X PUT --data-binary @"$WEB/root/v1/entries/figures/obj" \
    "http://127.0.0.1:$port/v1/entries/figures/obj"
done
ETAG=$(curl -sI "http://127.0.0.1:$MEM_HTTP/v1/entries/figures/obj" |
  sed -nE 's/^ETag: (.*)\r$/\1/p')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" \
  "http://127.0.0.1:$MEM_HTTP/v1/entries/figures/obj")" = 304 ]
[ "$(curl -s "http://127.0.0.1:$VARNISH/v1/entries/figures/obj" | wc -c)" = 4096 ]

NAMES=(memory redis varnish nginx memory-304)
PORTS=($MEM_HTTP $REDIS_HTTP $VARNISH $NGINX $MEM_HTTP)
echo "== HTTP GET of one 4 KiB object, 50 kept-alive connections, wrk -t1 on CPU 0, the servers on CPU 1 (${SECONDS_PER_RUN} s a run, $ROUNDS rounds)"
declare -A RPS
for ((round = 1; round <= ROUNDS; round++)); do
  for i in 0 1 2 3 4; do
    HEADER=()
    [ "$i" = 4 ] && HEADER=(-H "If-None-Match: $ETAG")
    OUT=$(taskset -c 0 wrk -t1 -c50 -d"${SECONDS_PER_RUN}s" "${HEADER[@]}" \
      "http://127.0.0.1:${PORTS[$i]}/v1/entries/figures/obj")
    R=$(sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' <<<"$OUT")
    if grep -q 'Non-2xx or 3xx' <<<"$OUT"; then
      echo "${NAMES[$i]}: answers other than 2xx/3xx:" >&2
      echo "$OUT" >&2
      exit 1
    fi
    RPS[$i]="${RPS[$i]:-} $R"
    printf 'round %d  %-11s %8.0f req/s\n' "$round" "${NAMES[$i]}" "$R"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio "median memory/varnish (target >= 1.0)" "$(median "${RPS[0]}")" "$(median "${RPS[2]}")"
ratio "median redis/varnish" "$(median "${RPS[1]}")" "$(median "${RPS[2]}")"
ratio "median nginx-from-disk/varnish" "$(median "${RPS[3]}")" "$(median "${RPS[2]}")"
ratio "median 304/200 on the memory node (target >= 1.0)" "$(median "${RPS[4]}")" "$(median "${RPS[0]}")"

echo "== The stampede over HTTP: 200 lease GETs on one missing key (target: 1 generator run)"
"$BIN/clustercache-http-stampede" --http=127.0.0.1:$MEM_HTTP --waiters=200 \
  --server-pid="$MEM_PID"
echo "== 2000 HTTP requests waiting on one key (target: no thread per waiter)"
"$BIN/clustercache-http-stampede" --http=127.0.0.1:$MEM_HTTP --waiters=2000 \
  --server-pid="$MEM_PID"
