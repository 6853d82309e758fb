// RedisPool: up to `size` connections to one Redis server, handed out one
// user at a time. Broken connections are dropped and replaced on the next
// use, so the pool reconnects by itself; an outage is logged once when it
// starts and once when it ends, not per request. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/redis/redis_connection.h"

namespace clustercache {

class RedisPool {
 public:
  RedisPool(RedisEndpoint endpoint, int size)
      : endpoint_(std::move(endpoint)), size_(size) {}

  // Runs `fn(connection)` on a pooled connection (connecting if needed).
  template <typename Fn>
  auto With(Fn fn) -> decltype(fn(std::declval<RedisConnection&>())) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn = Acquire();
    if (!conn.ok()) return conn.status();
    auto result = fn(**conn);
    Release(*std::move(conn));
    return result;
  }

  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  absl::StatusOr<std::unique_ptr<RedisConnection>> Acquire();
  void Release(std::unique_ptr<RedisConnection> conn);
  void NoteOutcome(const absl::Status& status);

  const RedisEndpoint endpoint_;
  const int size_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_
