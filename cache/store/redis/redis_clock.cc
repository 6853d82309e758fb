#include "cache/store/redis/redis_clock.h"

#include "cache/util/thread_name.h"

namespace clustercache {

RedisClock::~RedisClock() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status RedisClock::Measure() {
  absl::Duration best = absl::InfiniteDuration();
  int64_t offset = 0;
  absl::Status status;
  for (int i = 0; i < 3; ++i) {
    absl::Time sent = absl::Now();
    absl::StatusOr<int64_t> time = sample_();
    absl::Time back = absl::Now();
    if (!time.ok()) {
      status = time.status();
      continue;
    }
    if (back - sent < best) {
      best = back - sent;
      offset = *time - absl::ToUnixMicros(sent + (back - sent) / 2);
    }
  }
  if (best == absl::InfiniteDuration()) return status;
  offset_us_.store(offset, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status RedisClock::Start() {
  if (absl::Status s = Measure(); !s.ok()) return s;
  thread_ = std::thread([this] {
    NameThisThread("cc-redis-clock");
    absl::MutexLock lock(&mu_);
    auto stopping = [this]()
                        ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; };
    while (!mu_.AwaitWithTimeout(absl::Condition(&stopping), every_)) {
      mu_.Unlock();
      (void)Measure();  // Redis away: keep the last offset
      mu_.Lock();
    }
  });
  return absl::OkStatus();
}

}  // namespace clustercache
