// Stats: counters per scope. Each counter is bumped in exactly one place in
// ContentCache and exported through one visitor, so the Stats RPC, the CLI and
// any metrics page print the same numbers. Thread-safe.
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

namespace clustercache {

// The counter table: name, meaning. One row each.
#define CLUSTERCACHE_SCOPE_COUNTERS(X)                                  \
  X(hits, "fresh entries served")                                       \
  X(stale_serves, "stale copies served (STALE and STALE_LEASE)")        \
  X(misses, "fetches that found no usable copy (MISS_LEASE, TIMEOUT)")  \
  X(leases_granted, "leases granted, takeovers included")               \
  X(takeovers, "leases granted over a lapsed lease")                    \
  X(waits, "fetches that waited for another holder's result")           \
  X(wait_time_us, "total time spent waiting, microseconds")             \
  X(timeouts, "waits that ended without a result (TIMEOUT)")            \
  X(waits_refused, "fetches refused a wait: too many waiters")          \
  X(stores, "entries stored (leased commits and unconditional writes)") \
  X(superseded, "leased commits dropped: a newer entry had landed")     \
  X(lease_lost, "leased commits refused: the lease was taken over")     \
  X(releases, "leases given up by their holder")                        \
  X(store_errors, "operations that failed in the store")

struct ScopeCounters {
#define CLUSTERCACHE_DECLARE_COUNTER(name, help) std::atomic<int64_t> name{0};
  CLUSTERCACHE_SCOPE_COUNTERS(CLUSTERCACHE_DECLARE_COUNTER)
#undef CLUSTERCACHE_DECLARE_COUNTER

  // Calls visit(name, help, value) for each counter, in table order.
  void Visit(const std::function<void(absl::string_view, absl::string_view,
                                      int64_t)>& visit) const;
};

// Counters of the node as a whole (not of a scope).
#define CLUSTERCACHE_NODE_COUNTERS(X)                                     \
  X(unauthenticated, "calls refused: no token, or not a known one")       \
  X(permission_denied, "calls refused: the token's role does not allow")  \
  X(http_connections, "HTTP connections open now")                        \
  X(http_connections_refused, "HTTP connections closed at once: the cap") \
  X(http_requests, "HTTP requests read")                                  \
  X(http_bad_requests, "HTTP requests malformed, over a limit or timed out")

struct NodeCounters {
#define CLUSTERCACHE_DECLARE_COUNTER(name, help) std::atomic<int64_t> name{0};
  CLUSTERCACHE_NODE_COUNTERS(CLUSTERCACHE_DECLARE_COUNTER)
#undef CLUSTERCACHE_DECLARE_COUNTER

  void Visit(const std::function<void(absl::string_view, absl::string_view,
                                      int64_t)>& visit) const;
};

class Stats {
 public:
  NodeCounters& node() { return node_; }
  const NodeCounters& node() const { return node_; }
  // The counters of `scope`, created on first use; the pointer stays valid
  // for the life of this object.
  ScopeCounters* For(absl::string_view scope);
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
