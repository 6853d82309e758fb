// Stats: the node's one stats structure. Counters per scope and of the node,
// duration histograms, and the calls of each face and of the store. Each
// figure is bumped in exactly one place and read through visitors, so the
// Stats RPC, /v1/stats, the CLI and /metrics print the same numbers.
// Bounded: at most kMaxScopes scopes (beyond it, "other"). Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STATS_H_
#define CLUSTERCACHE_CACHE_STATS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cache/latency_histogram.h"
#include "cache/request_stats.h"

namespace clustercache {

// The counter table: name, meaning. One row each.
#define CLUSTERCACHE_SCOPE_COUNTERS(X)                                  \
  X(hits, "fresh entries served")                                       \
  X(stale_serves, "stale copies served (STALE and STALE_LEASE)")        \
  X(misses, "fetches that found no usable copy (MISS_LEASE, TIMEOUT)")  \
  X(unavailable, "fetches answered UNAVAILABLE: the store was away")    \
  X(leases_granted, "leases granted, takeovers included")               \
  X(takeovers, "leases granted over a lapsed lease")                    \
  X(waits, "fetches that waited for another holder's result")           \
  X(wait_time_us, "total time spent waiting, microseconds")             \
  X(timeouts, "waits that ended without a result (TIMEOUT)")            \
  X(waits_refused, "fetches refused a wait: too many waiters")          \
  X(stores, "entries stored (leased commits and unconditional writes)") \
  X(unconditional_stores, "of those, writes without a lease")           \
  X(superseded, "leased commits dropped: a newer entry had landed")     \
  X(lease_lost, "leased commits refused: the lease was taken over")     \
  X(releases, "leases given up by their holder")                        \
  X(lapsed, "holders that came back after their lease had lapsed")      \
  X(store_errors, "operations that failed in the store")

struct ScopeCounters {
#define CLUSTERCACHE_DECLARE_COUNTER(name, help) std::atomic<int64_t> name{0};
  CLUSTERCACHE_SCOPE_COUNTERS(CLUSTERCACHE_DECLARE_COUNTER)
#undef CLUSTERCACHE_DECLARE_COUNTER

  // How long waiters waited for another holder's result.
  LatencyHistogram lease_wait;

  // Calls visit(name, help, value) for each counter, in table order.
  void Visit(const std::function<void(absl::string_view, absl::string_view,
                                      int64_t)>& visit) const;
};

// Counters of the node as a whole (not of a scope).
#define CLUSTERCACHE_NODE_COUNTERS(X)                                        \
  X(unauthenticated, "calls refused: no token, or not a known one")          \
  X(permission_denied, "calls refused: the token's role does not allow")     \
  X(http_connections, "HTTP connections open now")                           \
  X(http_connections_refused, "HTTP connections closed at once: the cap")    \
  X(http_requests, "HTTP requests read")                                     \
  X(http_bad_requests, "HTTP requests malformed, over a limit or timed out") \
  X(invalidations_all, "invalidations of everything")                        \
  X(invalidations_scope, "invalidations of a scope")                         \
  X(invalidations_tag, "invalidations of a tag")                             \
  X(invalidations_key, "entries expired or deleted by key")                  \
  X(invalidations_prefix, "expiries or deletions by prefix")                 \
  X(purged_entries, "entries removed by purges")

struct NodeCounters {
#define CLUSTERCACHE_DECLARE_COUNTER(name, help) std::atomic<int64_t> name{0};
  CLUSTERCACHE_NODE_COUNTERS(CLUSTERCACHE_DECLARE_COUNTER)
#undef CLUSTERCACHE_DECLARE_COUNTER

  void Visit(const std::function<void(absl::string_view, absl::string_view,
                                      int64_t)>& visit) const;
};

class Stats {
 public:
  static constexpr size_t kMaxScopes = 256;

  // When the counting began (the node's start).
  const absl::Time started = absl::Now();

  NodeCounters& node() { return node_; }
  const NodeCounters& node() const { return node_; }
  // The counters of `scope`, created on first use (past kMaxScopes scopes,
  // those of "other"); the pointer stays valid for the life of this object.
  ScopeCounters* For(absl::string_view scope);

  // From a watch's news of a change to a waiter's answer being handed to
  // its face: the node's own part of a stampede's wake-up.
  LatencyHistogram waiter_wake;
  // gRPC calls by grpc_type, grpc_service, grpc_method; code: gRPC's name.
  RequestStats grpc{{"grpc_type", "grpc_service", "grpc_method"}, 64};
  // HTTP requests by route; code: the status.
  RequestStats http{{"route"}, 32};
  // Store operations by op; code: "OK" or the error's.
  RequestStats store_ops{{"op"}, 32};
  // Fresh hits over fetches (hits, stale serves, misses), every scope; 0
  // before the first fetch.
  double HitRatio() const;
  // Calls visit(scope, counters) for each scope seen, ordered by scope.
  void VisitScopes(
      const std::function<void(const std::string&, const ScopeCounters&)>&
          visit) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<ScopeCounters>> scopes_
      ABSL_GUARDED_BY(mu_);
  NodeCounters node_;
};

inline void Bump(std::atomic<int64_t>& counter, int64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STATS_H_
