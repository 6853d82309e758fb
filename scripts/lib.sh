# Shared by scripts/run and scripts/test: install what is missing, build,
# and start/stop the real servers on loopback. Source it; do not run it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

BUILD_PACKAGES="cmake ninja-build pkg-config g++ zlib1g-dev libabsl-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev libmemcached-dev
  libmysqlcppconn-dev libboost-dev libgoogle-perftools-dev libssl-dev
  nlohmann-json3-dev prometheus-cpp-dev libsystemd-dev dpkg-dev"
# openssl makes the TLS tests' certificates; sasl2-bin and the SASL modules
# give the memcached that needs authentication its users; stunnel4 is the
# TLS tunnel to a Redis that serves TLS only. nginx, Varnish (with the xkey
# vmod of varnish-modules) and HAProxy stand in front of the HTTP face, and
# php-cli runs the PHP client's tests; Prometheus (and its promtool) scrapes
# a node in the metrics tests; the tests start them on loopback. systemd
# gives systemd-analyze, which checks the unit file.
SERVER_PACKAGES="redis-server redis-tools memcached libmemcached-tools
  mariadb-server mariadb-client openssl sasl2-bin libsasl2-modules
  libsasl2-modules-db stunnel4
  nginx-light varnish varnish-modules haproxy php-cli php-curl prometheus
  systemd"
# libFuzzer comes with clang (scripts/test builds tests/fuzz with it).
FUZZ_PACKAGES="clang libclang-rt-14-dev"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# install_packages PKG...: installs those not installed yet.
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  as_root apt-get update -qq
  # Package scripts must not start services: we start our own on loopback.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee $policy >/dev/null
    as_root chmod +x $policy
    created=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  local rc=$?
  [ $created = 1 ] && as_root rm -f $policy
  return $rc
}

# BUILD_CMAKE_ARGS: more -D options for a new build directory.
build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    log "configuring $BUILD_DIR"
    # shellcheck disable=SC2086
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      ${BUILD_CMAKE_ARGS:-} >/dev/null
  fi
  log "building"
  ninja -C "$BUILD_DIR" "$@"
}

# run_fuzzers SECONDS: builds tests/fuzz with clang in build-fuzz/ and runs
# each fuzzer that long from a copy of its seed corpus; fails on a finding.
run_fuzzers() {
  local dir=$ROOT/build-fuzz seconds=$1 rc=0
  if [ ! -f "$dir/build.ninja" ]; then
    log "configuring $dir (clang, libFuzzer)"
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLUSTERCACHE_FUZZ=ON \
      -DCLUSTERCACHE_TESTS=OFF -DCLUSTERCACHE_BENCHMARKS=OFF >/dev/null
  fi
  ninja -C "$dir" fuzzers
  local work
  work=$(mktemp -d /tmp/clustercache-fuzz.XXXXXX)
  for seeds in "$ROOT"/tests/fuzz/corpus/*/; do
    local name
    name=$(basename "$seeds")
    mkdir -p "$work/$name"
    cp "$seeds"* "$work/$name/"
    if "$dir/fuzz/${name}_fuzz" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$work/$name-" "$work/$name" \
        >"$work/$name.log" 2>&1; then
      log "fuzz $name: $(grep -E '^Done' "$work/$name.log")"
    else
      rc=1
      log "fuzz $name FAILED (input saved under $work):"
      tail -40 "$work/$name.log" >&2
    fi
  done
  [ $rc = 0 ] && rm -rf "$work"
  return $rc
}

# --- servers on loopback, for tests and reference benchmarks ---------------
# Each start_* exports the address tests read, and records a PID to stop.
SERVER_DIR=""
SERVER_PIDS=()

servers_dir() {
  [ -n "$SERVER_DIR" ] || SERVER_DIR=$(mktemp -d /tmp/clustercache-servers.XXXXXX)
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_ports BASE [COUNT]: the first P >= BASE with P..P+COUNT-1 free, and
# their Redis Cluster bus ports (+10000) too; so a busy port never makes a
# test talk to somebody else's server.
free_ports() {
  local p=$1 n=${2:-1} i ok
  while :; do
    ok=1
    for ((i = 0; i < n; i++)); do
      if ! port_free $((p + i)) || ! port_free $((p + i + 10000)); then ok=0; break; fi
    done
    if [ $ok = 1 ]; then echo "$p"; return 0; fi
    p=$((p + n))
  done
}

wait_until() {  # wait_until SECONDS CMD...: polls CMD until it succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

start_redis() {  # standalone Redis on 127.0.0.1:$REDIS_PORT
  servers_dir
  local port
  port=$(free_ports "${REDIS_PORT:-16379}")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$SERVER_DIR/redis-$port.pid" \
    --logfile "$SERVER_DIR/redis-$port.log" --dir "$SERVER_DIR"
  wait_until 10 redis-cli -p "$port" ping || { log "redis did not start"; return 1; }
  SERVER_PIDS+=("$(cat "$SERVER_DIR/redis-$port.pid")")
  export CLUSTERCACHE_TEST_REDIS="127.0.0.1:$port"
}

start_redis_cluster() {  # 3 masters on 127.0.0.1:$REDIS_CLUSTER_PORT..+2
  servers_dir
  local base nodes=()
  base=$(free_ports "${REDIS_CLUSTER_PORT:-17100}" 3)
  for i in 0 1 2; do
    local port=$((base + i)) dir="$SERVER_DIR/cluster-$((base + i))"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --dir "$dir"
    nodes+=("127.0.0.1:$port")
  done
  for i in 0 1 2; do
    local dir="$SERVER_DIR/cluster-$((base + i))"
    wait_until 10 redis-cli -p $((base + i)) ping || return 1
    SERVER_PIDS+=("$(cat "$dir/redis.pid")")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
  wait_until 20 sh -c "redis-cli -p $base cluster info | grep -q cluster_state:ok" ||
    { log "redis cluster not ok"; return 1; }
  export CLUSTERCACHE_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
}

start_memcached() {  # two servers: a pool
  servers_dir
  local base pool=()
  base=$(free_ports "${MEMCACHED_PORT:-21211}" 2)
  for port in $base $((base + 1)); do
    memcached -l 127.0.0.1 -p "$port" -U 0 -m 256 -d -u root \
      -P "$SERVER_DIR/memcached-$port.pid"
    wait_until 10 test -s "$SERVER_DIR/memcached-$port.pid" || return 1
    wait_until 10 memcstat --servers="127.0.0.1:$port" || return 1
    SERVER_PIDS+=("$(cat "$SERVER_DIR/memcached-$port.pid")")
    pool+=("127.0.0.1:$port")
  done
  export CLUSTERCACHE_TEST_MEMCACHED=$(IFS=,; echo "${pool[*]}")
  start_memcached_sasl
}

# One more memcached that serves only clients that authenticate (SASL PLAIN
# from a sasldb of its own); the password holds '/' and '@'.
start_memcached_sasl() {
  servers_dir
  local port dir="$SERVER_DIR/memcached-sasl" password='mc-pw/4@z'
  port=$(free_ports $((${MEMCACHED_PORT:-21211} + 2)))
  mkdir -p "$dir"
  printf 'mech_list: plain\nsasldb_path: %s\n' "$dir/sasldb2" >"$dir/memcached.conf"
  printf '%s' "$password" |
    saslpasswd2 -p -a memcached -c -f "$dir/sasldb2" cc-mc || return 1
  SASL_CONF_PATH=$dir memcached -S -l 127.0.0.1 -p "$port" -U 0 -m 64 -d \
    -u root -P "$dir/memcached.pid"
  wait_until 10 test -s "$dir/memcached.pid" || return 1
  SERVER_PIDS+=("$(cat "$dir/memcached.pid")")
  wait_until 10 memcstat --servers="127.0.0.1:$port" --binary \
    --username=cc-mc --password="$password" ||
    { log "memcached with SASL did not start"; return 1; }
  export CLUSTERCACHE_TEST_MEMCACHED_SASL="cc-mc:mc-pw%2F4%40z@127.0.0.1:$port"
}

# mariadb_instance DIR PORT [FLAGS...]: a MariaDB of its own in DIR on
# 127.0.0.1:PORT, serving TLS with the certificate in DIR/../tls; waits
# until it answers on its socket.
mariadb_instance() {
  local dir=$1 port=$2 tls
  shift 2
  tls=$(dirname "$dir")/tls
  mkdir -p "$dir"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 || return 1
  mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysql.sock" \
    --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" \
    --ssl-ca="$tls/ca.pem" --ssl-cert="$tls/server.pem" \
    --ssl-key="$tls/server.key" \
    --pid-file="$dir/mariadb.pid" --skip-log-bin "$@" >"$dir/mariadb.log" 2>&1 &
  SERVER_PIDS+=("$!")
  wait_until 30 mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping ||
    { log "mariadb in $dir did not start"; return 1; }
}

# Two MariaDBs: the ledger's (plaintext or TLS), and one with
# require_secure_transport=ON for the ledger's TLS test. Both get a CA and a
# certificate for 127.0.0.1, made here.
start_mariadb() {
  servers_dir
  local port secure_port dir="$SERVER_DIR/mariadb"
  port=$(free_ports "${MARIADB_PORT:-13306}")
  mkdir -p "$dir/tls"
  (cd "$dir/tls" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.pem -days 2 -subj /CN=clustercache-test-ca &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj /CN=127.0.0.1 &&
    printf 'subjectAltName=IP:127.0.0.1' >san.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out server.pem -days 2 -extfile san.ext) >"$dir/tls.log" 2>&1 || return 1
  mariadb_instance "$dir/ledger" "$port" || return 1
  secure_port=$(free_ports $((port + 1)))
  mariadb_instance "$dir/secure" "$secure_port" --require-secure-transport=ON ||
    return 1
  mariadb --no-defaults --socket="$dir/ledger/mysql.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'clustercache'@'127.0.0.1' IDENTIFIED BY 'ledger-pw/7@x';
    GRANT ALL ON *.* TO 'clustercache'@'127.0.0.1';" || return 1
  mariadb --no-defaults --socket="$dir/secure/mysql.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'cc_tls'@'127.0.0.1' IDENTIFIED BY 'tls-pw-3x';
    GRANT ALL ON *.* TO 'cc_tls'@'127.0.0.1';" || return 1
  export CLUSTERCACHE_TEST_MYSQL_TLS="mysql://cc_tls:tls-pw-3x@127.0.0.1:$secure_port/clustercache_tls_test?ssl-ca=$dir/tls/ca.pem&ssl-mode=VERIFY_IDENTITY"
  # The password holds '/' and '@' (the URL parser's hard cases), and no
  # word that a log says anyway (the tests scan node logs for it).
  export CLUSTERCACHE_TEST_MYSQL="mysql://clustercache:ledger-pw%2F7%40x@127.0.0.1:$port/clustercache_test"
}

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
  if [ -n "$SERVER_DIR" ]; then rm -rf "$SERVER_DIR"; fi
  SERVER_DIR=""
  return 0
}
