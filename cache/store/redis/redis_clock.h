// RedisClock: cluster time (Redis TIME) as this node's clock plus an offset,
// so that a fetch needs no TIME call of its own. The offset is measured at
// Start and then every `every`, from the sample with the smallest round
// trip; it is off by at most half a round trip plus the drift between
// samples. Event times that order things (mtimes, expiry keys, leases) are
// still taken inside Redis; this clock only answers "now" for TTL and age
// checks. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CLOCK_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CLOCK_H_

#include <atomic>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace clustercache {

class RedisClock {
 public:
  using Sample = std::function<absl::StatusOr<int64_t>()>;  // TIME, in us
  RedisClock(Sample sample, absl::Duration every)
      : sample_(std::move(sample)), every_(every) {}
  ~RedisClock();

  // Measures the offset once (an error if Redis does not answer), then
  // keeps it measured in the background.
  absl::Status Start();
  int64_t Now() const {
    return absl::ToUnixMicros(absl::Now()) +
           offset_us_.load(std::memory_order_relaxed);
  }

 private:
  absl::Status Measure();

  const Sample sample_;
  const absl::Duration every_;
  std::atomic<int64_t> offset_us_{0};
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CLOCK_H_
