#!/bin/bash
# Issue 17, item 5: the packages, as an operator and a developer use them.
#   1. cmake --install into a scratch prefix; a tiny program built against
#      it twice, with find_package(clustercache) and with pkg-config, talks
#      to the installed clustercached.
#   2. systemd-analyze verify passes on the unit.
#   3. cpack's two .debs install with dpkg -i; the installed programs
#      answer --version and a put/get; the unit and configuration are where
#      systemd and the unit look. Then they are removed again.
# usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
SRC=$2
WORK=$(mktemp -d /tmp/cc-package-test.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if dpkg -s clustercached >/dev/null 2>&1; then
    dpkg --purge clustercached clustercache-dev >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# start_node BIN [FLAGS...]: a node on a free loopback port (memory store
# unless FLAGS say otherwise); sets NODE to its HOST:PORT.
start_node() {
  local bin=$1 log=$WORK/node-$RANDOM.log
  shift
  "$bin" --listen=127.0.0.1:0 --http-listen= --metrics-listen= "$@" \
    >/dev/null 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 100); do
    NODE=$(sed -n 's/.*serving on \([0-9.:]*\).*/\1/p' "$log")
    if [ -n "$NODE" ]; then return; fi
    sleep 0.1
  done
  cat "$log" >&2
  fail "$bin did not start"
}

echo "== cmake --install into a scratch prefix"
PREFIX=$WORK/prefix
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
for f in bin/clustercached bin/clustercachectl lib/libclustercache_client.a \
  include/clustercache/client/cache_client.h \
  lib/cmake/clustercache/clustercacheConfig.cmake \
  lib/pkgconfig/clustercache.pc etc/clustercache/clustercached.conf \
  lib/systemd/system/clustercached.service \
  share/bash-completion/completions/clustercachectl; do
  [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done
start_node "$PREFIX/bin/clustercached"

echo "== a tiny program with find_package(clustercache)"
cmake -S "$SRC/tests/packaging/tiny" -B "$WORK/tiny" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/tiny" >/dev/null
[ "$("$WORK/tiny/tiny" "$NODE" cmake "from cmake")" = "from cmake" ] ||
  fail "the find_package build did not store and fetch"

echo "== the same with pkg-config"
# shellcheck disable=SC2046
g++ -std=c++17 -o "$WORK/tiny-pc" "$SRC/tests/packaging/tiny/tiny.cc" \
  $(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --cflags --libs \
    clustercache)
[ "$("$WORK/tiny-pc" "$NODE" pc "from pkg-config")" = "from pkg-config" ] ||
  fail "the pkg-config build did not store and fetch"
[ "$("$PREFIX/bin/clustercachectl" --server="$NODE" get tiny cmake)" = \
  "from cmake" ] || fail "clustercachectl does not see the tiny program's entry"

echo "== systemd-analyze verify"
# The unit names /usr/bin/clustercached (the package's); verified against
# the installed copy.
sed "s|/usr/bin/clustercached|$PREFIX/bin/clustercached|" \
  "$PREFIX/lib/systemd/system/clustercached.service" \
  >"$WORK/clustercached.service"
# It exits 0 on a line it ignores (a mistyped setting): any output fails.
verify=$(systemd-analyze verify "$WORK/clustercached.service" 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
# The default configuration is a flagfile the node accepts.
start_node "$PREFIX/bin/clustercached" \
  --flagfile="$PREFIX/etc/clustercache/clustercached.conf" \
  --listen=127.0.0.1:0 --http-listen= --metrics-listen=
"$PREFIX/bin/clustercachectl" --server="$NODE" stats >/dev/null ||
  fail "a node on the default configuration does not answer"

echo "== cpack, dpkg -i"
( cd "$BUILD" && cpack -G DEB -B "$WORK/debs" >/dev/null )
dpkg -i "$WORK"/debs/clustercached_*.deb "$WORK"/debs/clustercache-dev_*.deb \
  >/dev/null
version=$(/usr/bin/clustercached --version)
case "$version" in
  "clustercached $(sed -n 's/^project(clustercache VERSION \([0-9.]*\).*/\1/p' \
    "$SRC/CMakeLists.txt") (git "*) ;;
  *) fail "installed --version says: $version" ;;
esac
/usr/bin/clustercachectl --version >/dev/null
[ -f /usr/lib/systemd/system/clustercached.service ] || fail "no unit"
[ -f /etc/clustercache/clustercached.conf ] || fail "no configuration"
dpkg-query -W -f='${Conffiles}' clustercached | grep -q clustercached.conf ||
  fail "the configuration is not a conffile"
start_node /usr/bin/clustercached \
  --flagfile=/etc/clustercache/clustercached.conf \
  --listen=127.0.0.1:0 --http-listen= --metrics-listen=
printf 'installed' | /usr/bin/clustercachectl --server="$NODE" put pkg a \
  >/dev/null
[ "$(/usr/bin/clustercachectl --server="$NODE" get pkg a)" = installed ] ||
  fail "put/get with the installed programs"
dpkg --purge clustercached clustercache-dev >/dev/null
[ ! -e /usr/bin/clustercached ] || fail "dpkg --purge left the program"
echo "PASS"
