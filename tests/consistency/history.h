// A recorded history of cache operations and the offline check of the one
// promise against it (issue 12): every operation's start and end (one
// monotonic clock, and the unskewed wall clock), its request and its answer.
// The checker knows nothing of stores; it judges only what clients saw.
#ifndef CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_H_
#define CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace clustercache {

enum class OpKind {
  kFetch,
  kStore,
  kRelease,
  kInvalidate,
  kExpire,
  kDelete,
  kListExpiry
};

// Fetch outcomes as the wire names them (clustercache.v1.FetchOutcome).
enum class SeenFetch {
  kOther,
  kHit,
  kStale,
  kMissLease,
  kStaleLease,
  kTimeout,
  kUnavailable
};
enum class SeenStore { kOther, kStored, kSuperseded, kLeaseLost };

struct Op {
  OpKind kind = OpKind::kFetch;
  int client = 0;
  int node = 0;
  bool http = false;                 // through the node's HTTP face (else gRPC)
  int64_t start_ns = 0, end_ns = 0;  // monotonic
  int64_t wall_start_us = 0, wall_end_us = 0;  // real time, unskewed
  std::string scope, name;                     // the key, where there is one
  // Request.
  std::string payload;            // kStore
  std::vector<std::string> tags;  // kStore
  std::string token;              // kStore (empty: unconditional), kRelease
  std::string target;             // kInvalidate: "all", "scope:S" or a tag
  bool abandoned = false;         // kFetch: a lease its holder dropped
  // Answer.
  bool ok = false;  // the call returned (not a transport or server error)
  SeenFetch fetch = SeenFetch::kOther;
  SeenStore store = SeenStore::kOther;
  std::string got_payload;  // kFetch with a payload
  int64_t mtime = 0;        // kFetch with a payload; kStore kStored
  std::string lease_token;  // kFetch kMissLease / kStaleLease
  int64_t granted_at = 0, lease_expires_at = 0;
  int64_t value = 0;  // kInvalidate: the expiry key's value after
  std::vector<std::pair<std::string, int64_t>> expiry;  // kListExpiry
};

// Something that happened to the cluster, not through a client.
struct Fault {
  std::string what;  // "store restarted", "node 3 killed", ...
  int64_t start_ns = 0, end_ns = 0;
  // The store was away for a node (a timeout, say) but lost nothing: it
  // excuses what an outage may do (answers it cannot vouch for, leases
  // not taken over in time), never lost entries or expiry keys.
  bool kept_state = false;
  // The cluster moved to another store (a live move's switch): timestamps
  // before it (mtimes, expiry-key values) are the old store's clock, after
  // it the new one's, so (b), (d) and (e) do not compare one with the
  // other. (a), which judges by real time, is untouched.
  bool restamps = false;
};

struct History {
  std::vector<Op> ops;
  std::vector<Fault> faults;
};

struct CheckOptions {
  int64_t lease_time_us = 60'000'000;
  // How much earlier than its lease time (in real time) a lease may lapse:
  // cluster time may step forward by up to the nodes' skew.
  int64_t lapse_tolerance_us = 0;
  // (f): cluster time stays within [real - skew - bound, real + skew +
  // bound].
  int64_t max_skew_us = 5'000'000;
  int64_t clock_bound_us = 1'000'000;
  // (h): a lease dropped by its holder is taken over within lease time +
  // this.
  int64_t takeover_slack_us = 1'000'000;
  // Expiry keys whose values are checked (d); others are ignored.
  std::vector<std::string> expiry_keys;
  // (d) across a fault: a store that lost its expiry keys with its entries
  // (Redis without a ledger) starts them again.
  bool expiry_survives_faults = true;
  // (b) across a fault: a store restarted empty loses the writes it held,
  // so a commit in flight may land an older entry after a newer one
  // returned (nothing invalidated it: it may be fresh). Writes that
  // returned before a fault do not bound later hits then.
  bool entries_survive_faults = true;
};

struct Anomaly {
  char check;  // 'a' .. 'h', as in issue 12
  std::string what;
  int64_t op = -1;  // the client operation it is about (index), if one
};

struct CheckReport {
  std::vector<Anomaly> anomalies;
  // Figures for the note: how far cluster time was from real time.
  int64_t max_ahead_us = 0;   // largest (timestamp - real end)
  int64_t max_behind_us = 0;  // largest (real start - new timestamp)
  int64_t hits = 0, leases = 0, stored = 0, invalidations = 0;
  int64_t checked_births = 0, checked_takeovers = 0;
};

CheckReport CheckHistory(const History& history, const CheckOptions& options);

// One line per check that found anything, and the counts.
std::string Summarize(const CheckReport& report, size_t max_examples = 3);

// For a failure report: every operation on the anomaly's key (and every
// invalidation) that overlaps the `window_ns` before its operation, in
// start order, one line each with its request and answer.
std::string OpsAround(const History& history, const Anomaly& anomaly,
                      int64_t window_ns = 1'000'000'000);

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_CONSISTENCY_HISTORY_H_
