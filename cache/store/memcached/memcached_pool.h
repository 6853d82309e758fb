// MemcachedPool: handles on a pool of memcached servers (libmemcached), one
// user at a time, with the behaviours the store relies on:
//   - consistent hashing (ketama), so adding a server moves only its share;
//   - the binary protocol, CAS support, TCP_NODELAY;
//   - SASL (PLAIN over the binary protocol) when a user is given: every
//     handle, and the probe, authenticates on connecting;
//   - a timeout on connect and on every call;
//   - a server that fails a call is marked down (CircuitBreaker, one per
//     server): calls for its keys fail at once meanwhile, a probe thread
//     tries it once per timeout, and the first answer ends the outage. Down
//     servers are NOT taken out of the hash ring: their keys would move to
//     a live server that may hold older copies of them, and an older
//     expiry-key copy would make an invalidated entry fresh. Keys of a down
//     server answer Unavailable instead ("render, do not store").
//   - waiting for a free handle is bounded by the timeout.
// Every call names a group key: all keys of one call live on the server that
// the group key hashes to (libmemcached's *_by_key calls). An outage is
// logged once per server when it starts and once when it ends. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_POOL_H_
#define CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_POOL_H_

#include <libmemcached/memcached.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/util/circuit_breaker.h"

namespace clustercache {

struct MemcachedEndpoint {
  std::string host;
  int port = 11211;
  std::string ToString() const;
};

// SASL credentials for every server of a pool (none: user empty).
struct MemcachedSasl {
  std::string user;
  std::string password;
};

struct MemcachedUrl {
  std::vector<MemcachedEndpoint> servers;
  MemcachedSasl sasl;
};

// "memcached://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]" (user and
// password percent-encoded).
absl::StatusOr<MemcachedUrl> ParseMemcachedUrl(absl::string_view url);

struct McItem {
  std::string value;
  uint64_t cas = 0;
};

// One libmemcached handle: a connection to each server of the pool. Results
// that are part of the protocol (not found, exists, changed) are values;
// failures to talk to a server are Unavailable.
class McHandle {
 public:
  explicit McHandle(memcached_st* memc) : memc_(memc) {}

  // The keys found, by key, from the group's server: one round trip per
  // kMaxKeysPerGet keys. (A binary multi-get is a request per key; memcached
  // handles at most -R, default 20, requests of a connection per event and
  // then yields, and a yield amid quiet gets can leave the rest unanswered
  // until the client times out: with bigger pipelines a busy pool saw
  // spurious half-second "timeouts" several times a minute. 18 keys and the
  // closing no-op stay one request under the default; 20 keys yield.)
  static constexpr size_t kMaxKeysPerGet = 18;
  absl::StatusOr<absl::flat_hash_map<std::string, McItem>> MultiGet(
      absl::string_view group, const std::vector<std::string>& keys);
  absl::Status Set(absl::string_view group, absl::string_view key,
                   absl::string_view value, time_t exptime = 0);
  // false: the key exists already.
  absl::StatusOr<bool> Add(absl::string_view group, absl::string_view key,
                           absl::string_view value, time_t exptime = 0);
  // false: the item changed since `cas` was read, or is gone.
  absl::StatusOr<bool> Cas(absl::string_view group, absl::string_view key,
                           absl::string_view value, uint64_t cas,
                           time_t exptime = 0);
  // false: there was no such key.
  absl::StatusOr<bool> Delete(absl::string_view group, absl::string_view key);
  // Adds `delta` to a counter item. Returns the value after; nullopt when
  // there is no such item (it is not created: two creators would race).
  absl::StatusOr<std::optional<uint64_t>> Increment(absl::string_view group,
                                                    absl::string_view key,
                                                    uint64_t delta);
  // The index of the server that `group` hashes to.
  uint32_t ServerIndex(absl::string_view group) const;

 private:
  friend class MemcachedPool;
  // Ok if the group's server may be called now (it is up, or this is the
  // probe); else Unavailable at once.
  absl::Status Admit(absl::string_view group);
  // Ok if `rc` is an answer of the protocol (noted: the server is up);
  // else Fail.
  absl::Status Check(absl::string_view group, memcached_return_t rc);
  absl::Status Fail(absl::string_view group, memcached_return_t rc);
  memcached_st* memc_;
  class MemcachedPool* pool_ = nullptr;
  bool failed_ = false;  // a server failed a call: the handle is dropped
};

class MemcachedPool {
 public:
  // Unavailable if the server list cannot be set up (not if a server is
  // down: that is found per call).
  static absl::StatusOr<std::unique_ptr<MemcachedPool>> Open(
      std::vector<MemcachedEndpoint> servers, absl::Duration timeout, int size,
      const MemcachedSasl& sasl = {});
  ~MemcachedPool();

  // Runs `fn(handle)` on a pooled handle; `fn` returns a Status or
  // StatusOr (Unavailable when no handle is free within the timeout).
  template <typename Fn>
  auto With(Fn fn) -> decltype(fn(std::declval<McHandle&>())) {
    absl::StatusOr<memcached_st*> memc = Acquire();
    if (!memc.ok()) return memc.status();
    McHandle handle(*memc);
    handle.pool_ = this;
    auto result = fn(handle);
    Release(handle.memc_, handle.failed_);
    return result;
  }

  const std::vector<MemcachedEndpoint>& servers() const { return servers_; }
  // The index of the server that `group` hashes to.
  uint32_t ServerIndex(absl::string_view group);
  // Called (on the probe thread) when a server answers again after an
  // outage; must not block. Set before the pool is used.
  void OnServerBack(std::function<void(uint32_t index)> fn) {
    on_back_ = std::move(fn);
  }
  // The item size limit of the smallest server that answers (from "stats
  // settings"); Unavailable, with libmemcached's reason (e.g. an
  // authentication failure), when no server answers.
  absl::StatusOr<int64_t> ItemSizeLimit();

  // The store opened: an outage from now on is logged as one that fetches
  // see (CircuitBreaker::Reached).
  void Serving() {
    for (auto& breaker : breakers_) breaker->Reached();
  }

 private:
  friend class McHandle;
  MemcachedPool(std::vector<MemcachedEndpoint> servers, memcached_st* master,
                absl::Duration timeout, int size, const MemcachedSasl& sasl);
  absl::StatusOr<memcached_st*> Acquire();
  // `failed`: libmemcached keeps the failed server disabled in the handle
  // for up to two seconds; it is freed instead, so that a server back from
  // an outage is not failed again by the handles that saw it go.
  void Release(memcached_st* memc, bool failed);
  // Ok if a call may go to server `index` now (see CircuitBreaker).
  absl::Status Admit(uint32_t index);
  // A call to server `index` failed to reach it (logged once per outage;
  // the idle handles are dropped then, for the reason Release gives).
  void NoteDown(uint32_t index, absl::string_view why);

  const std::vector<MemcachedEndpoint> servers_;
  memcached_st* const master_;
  const absl::Duration timeout_;
  const int size_;
  absl::Mutex mu_;
  std::vector<memcached_st*> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(uint32_t)> on_back_;
  // By server; last, so that their probe threads stop first.
  std::vector<std::unique_ptr<CircuitBreaker>> breakers_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_POOL_H_
