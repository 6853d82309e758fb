// RedisPool: up to `size` connections to one Redis server, handed out one
// user at a time. Broken connections are dropped and replaced on the next
// use, so the pool reconnects by itself. A failure marks the server down
// (CircuitBreaker): calls then fail at once with Unavailable while a probe
// thread sends PING once per timeout, and the first PONG ends the outage.
// Waiting for a free connection is bounded by the timeout too, so no call
// takes much longer than one timeout, whether the server is gone
// (connection refused) or hung (no answer). Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/redis/redis_connection.h"
#include "cache/util/circuit_breaker.h"

namespace clustercache {

class RedisPool {
 public:
  RedisPool(RedisEndpoint endpoint, int size);

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
  bool down() const { return breaker_.down(); }

 private:
  absl::StatusOr<std::unique_ptr<RedisConnection>> Acquire();
  void Release(std::unique_ptr<RedisConnection> conn);
  // Marks the server down; the idle connections go too (after a restart
  // every one of them is dead, and each would fail a call to find out).
  void Failed(absl::string_view why);

  const RedisEndpoint endpoint_;
  const int size_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  CircuitBreaker breaker_;  // last: its probe thread stops first
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_POOL_H_
