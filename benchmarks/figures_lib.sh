# Shared by the run_*_figures.sh scripts: read numbers out of the programs'
# output, print ratios, time a purge. Source it after scripts/lib.sh.

# The req/s of a clustercache-bench load run's output.
load_rps() { sed -nE 's/.*throughput ([0-9.]+) req\/s.*/\1/p' <<<"$1"; }
# The p99 (ms) of a clustercache-bench load run's output.
load_p99() { sed -nE 's/^latency .*p99 ([0-9.]+) ms.*/\1/p' <<<"$1"; }

# ratio LABEL A B: prints "LABEL = A / B = A/B".
ratio() {
  awk -v l="$1" -v a="$2" -v b="$3" \
    'BEGIN { printf "%s = %.0f / %.0f = %.2f\n", l, a, b, a / b }'
}

# timed_purge SERVER N ARGS...: runs `clustercachectl purge ARGS` and prints
# its summary, how long it took and N entries/s.
timed_purge() {
  local server=$1 n=$2 start end
  shift 2
  start=$(date +%s.%N)
  "$BIN/clustercachectl" --server="$server" purge "$@" 2>/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$n" \
    'BEGIN { printf "%.2f s = %.0f entries/s\n", e - s, n / (e - s) }'
}

# start_node HOST:PORT [FLAGS...]: starts clustercached there, waits until it
# answers, and fails if it is not the one answering (the port was taken).
# PROBE_ARGS (an array, optional): what the waiting client needs to reach it
# (--tls-ca, --token-file).
start_node() {
  local address=$1
  shift
  "$BIN/clustercached" --listen="$address" --node-name="figures-${address##*:}" \
    --http-listen= --metrics-listen= \
    "$@" 2>/dev/null &
  local pid=$!
  SERVER_PIDS+=("$pid")
  wait_until 10 "$BIN/clustercache-bench" --server="$address" \
    "${PROBE_ARGS[@]}" --duration=100ms --keys=10 >/dev/null
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "clustercached on $address did not start (is the port taken?)" >&2
    return 1
  fi
}
