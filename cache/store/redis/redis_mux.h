// RedisMux: one Redis connection shared by many callers without blocking
// them: each Send writes its command at once (in order, under one lock) and
// a reader thread parses replies and completes the callers in the same order.
// Commands sent while the reader completes calls are written by the reader
// afterwards, in one send. Replies pipeline naturally, so one connection
// serves a whole server's fetch load. A connection that fails or does not answer within the timeout fails
// every pending call (Unavailable) and is replaced on the next Send.
// Thread-safe; callbacks run on the reader thread and must not block.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_MUX_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_MUX_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/redis/redis_connection.h"

namespace clustercache {

class RedisMux {
 public:
  using Done = std::function<void(absl::StatusOr<RedisReply>)>;

  explicit RedisMux(RedisEndpoint endpoint) : endpoint_(std::move(endpoint)) {}
  ~RedisMux();

  void Send(const std::vector<std::string>& argv, Done done);

 private:
  struct Link;  // one connection and its pending calls
  void ReaderLoop(std::shared_ptr<Link> link);
  // Sends `batch`, then whatever was queued meanwhile, until none is left.
  static void Write(Link* link, std::string batch);
  static void FailAll(Link* link, const absl::Status& status);

  const RedisEndpoint endpoint_;
  absl::Mutex mu_;  // serializes writes and connection replacement
  std::shared_ptr<Link> link_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> readers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_MUX_H_
