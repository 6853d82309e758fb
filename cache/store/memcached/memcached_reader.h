// McReader: reads for many callers coalesced into multi-gets per server.
// Each server has a few reader threads; a free one takes the requests
// queued for its server, as many as fit one round trip
// (McHandle::kMaxKeysPerGet keys, at least one request), sends them as one
// (libmemcached binary getkq pipeline), then hands each caller its own
// items on that thread. Callers never block on the network, and a burst of
// fetches costs a few round trips per server, sent side by side, instead
// of one each. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_READER_H_
#define CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_READER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/memcached/memcached_pool.h"

namespace clustercache {

using McItems = absl::flat_hash_map<std::string, McItem>;

class McReader {
 public:
  using Done = std::function<void(absl::StatusOr<McItems>)>;

  McReader(MemcachedPool* pool, int servers);
  // Stops the threads; requests still queued get Unavailable.
  ~McReader();

  // Reads `keys` (all on `server`, placed by `group`); `done` runs on the
  // server's reader thread and must not block.
  void Submit(uint32_t server, std::string group, std::vector<std::string> keys,
              Done done);

 private:
  struct Request {
    std::string group;
    std::vector<std::string> keys;
    Done done;
  };
  // Reader threads per server: round trips in flight side by side.
  static constexpr int kThreadsPerServer = 3;
  struct Lane {
    absl::Mutex mu;
    std::deque<Request> pending ABSL_GUARDED_BY(mu);
    bool stop ABSL_GUARDED_BY(mu) = false;
    std::vector<std::thread> threads;
  };
  void Run(Lane* lane);

  MemcachedPool* const pool_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_READER_H_
