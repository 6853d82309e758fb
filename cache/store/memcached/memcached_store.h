// MemcachedStore: entries, leases and expiry keys in a pool of memcached
// servers, shared by every clustercached node that uses the same pool.
//
// Memcached has no scripts and no transactions, so each atomic step of the
// Store contract is built from memcached's own primitives:
//   - lease grant: `add` of the lease item (one winner); takeover of a
//     lapsed lease by CAS on it; then the seen-mtime guard;
//   - commit: the lease is checked, then the head is written by CAS against
//     the version read, so a newer entry that lands in between is seen
//     (SUPERSEDED) instead of overwritten;
//   - cluster time: one counter per bucket, moved by `incr` to
//     max(counter + 1, the node's clock), so times within a bucket are unique
//     and increase whatever the nodes' clocks say;
//   - expiry keys: one copy per bucket beside the bucket's entries, written by
//     CAS (forward only); Invalidate first lifts every bucket clock, so an
//     entry granted before it is older than the new value in every bucket.
// Every item of a bucket lives on one server (a group key), so a fetch is one
// multi-get to one server, and a dead server costs only its own keys.
// A copy that is missing (evicted) reads as "cannot tell": never fresh.
// Copies are created at grant and commit, so a missing copy was evicted.
//
// Memcached cannot enumerate: Scan, Usage and Expire/Delete by prefix answer
// FAILED_PRECONDITION here; LedgerStore (cache/store/ledger_store.h) adds
// them from a MySQL ledger. Waiters on other nodes are found by polling the
// watched keys' lease items (memcached has no notifications); waiters on
// this node are woken at once. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/clock.h"
#include "cache/store/memcached/memcached_pool.h"
#include "cache/store/store.h"

namespace clustercache {

struct MemcachedStoreOptions {
  std::vector<MemcachedEndpoint> servers;
  MemcachedSasl sasl;  // none: user empty
  absl::Duration timeout = absl::Milliseconds(500);
  int pool_size = 8;
  int buckets = 64;
  // The largest payload an entry may have (--max-payload): a head that says
  // more is corrupt, not fresh.
  int64_t max_payload = int64_t{8} << 20;
  std::string prefix = "cc";  // tests use their own, for isolation
  Clock* clock = nullptr;     // this node's clock; null = DefaultClock()
  // How often waiters' keys are checked for changes made by other nodes.
  absl::Duration watch_poll = absl::Milliseconds(5);
  // Where expiry keys can be reloaded from when memcached lost them (the
  // ledger). Null: a lost expiry key is taken to be "now" (safe: entries
  // that depend on it are no longer fresh).
  std::function<absl::StatusOr<std::vector<ExpiryKeyValue>>()> expiry_source;
};

// The message of every FAILED_PRECONDITION for what needs enumeration.
inline constexpr absl::string_view kMemcachedCannotEnumerate =
    "memcached alone cannot enumerate entries; start clustercached with "
    "--ledger=mysql://USER:PASS@HOST:PORT/DB to list, purge, or expire and "
    "delete by prefix";

// Unavailable if no server of the pool answers.
absl::StatusOr<std::unique_ptr<Store>> OpenMemcachedStore(
    const MemcachedStoreOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_STORE_H_
