// Records a randomized history against real clustercached nodes: clients
// on threads of this process fetch, generate, store, release, invalidate,
// expire, delete and list expiry keys at random over a small key space,
// through nodes whose clocks are skewed, half of them over gRPC and half
// over HTTP; a fault may be injected mid-run.
#ifndef CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_RUN_H_
#define CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_RUN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/consistency/history.h"
#include "tests/support/server_process.h"

namespace clustercache {

// The nodes of one run, on fixed loopback ports (a restarted node comes
// back at the same address, so clients reconnect by themselves).
class Nodes {
 public:
  // `flags` for every node; node i also gets --clock-offset=offsets[i].
  static absl::StatusOr<std::unique_ptr<Nodes>> Start(
      std::vector<std::string> flags, std::vector<std::string> offsets);
  int size() const { return static_cast<int>(ports_.size()); }
  std::string address(int i) const;
  // The node's HTTP face.
  std::string http_address(int i) const;
  void Kill(int i);
  absl::Status Restart(int i);
  // Stops node i (SIGTERM: it finishes what it serves) and starts it again
  // with `flags` in place of the ones it had (a node moved to another
  // store).
  absl::Status RestartWith(int i, std::vector<std::string> flags);
  // The store outages the nodes reported in their logs so far, as faults
  // that lost nothing: from a second before "<server> unreachable" (the
  // call that timed out started then) to the last "<server> reachable
  // again" or "<server>: expiry copies brought up to date" before the next
  // outage of that server (the end of the logs if it never came back).
  std::vector<Fault> StoreOutages() const;

 private:
  std::vector<std::vector<std::string>> flags_;  // per node
  std::vector<std::string> offsets_;
  std::vector<int> ports_;
  std::vector<int> http_ports_;
  std::vector<std::unique_ptr<ServerProcess>> processes_;
  std::vector<std::string> logs_;  // of every process started
};

struct RunOptions {
  absl::Duration duration = absl::Seconds(20);
  int clients = 16;
  // Clients with an odd number speak HTTP (the lease protocol and the admin
  // routes) to every node; the others gRPC.
  bool http_clients = true;
  int keys_per_scope = 10;
  uint64_t seed = 1;
  std::string run_id;  // makes scope and tag names of this run unique
  // How often a lease holder drops its lease without storing or releasing
  // (a crashed app node).
  double abandon = 0;
  // Called once, at about 40% of the run, on a thread of its own; faults it
  // injects are recorded in the history.
  std::function<void(std::vector<Fault>* faults)> fault;
};

struct RunResult {
  History history;
  std::vector<std::string> expiry_keys;  // the run's own, and "all"
  std::string counts;  // operations by kind and outcome, for the log
};

RunResult RecordHistory(Nodes& nodes, const RunOptions& options);

// Monotonic nanoseconds (the history's order clock).
int64_t MonotonicNanos();

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_RUN_H_
