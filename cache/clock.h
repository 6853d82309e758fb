// Clock: the one way the core reads time, so tests can control it.
//
// Times are microseconds since the Unix epoch. Implementations are
// thread-safe.
#ifndef CLUSTERCACHE_CACHE_CLOCK_H_
#define CLUSTERCACHE_CACHE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace clustercache {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

// The process's wall clock, optionally shifted by a fixed offset (to inject
// skew in tests of cluster time).
class SystemClock : public Clock {
 public:
  explicit SystemClock(int64_t offset_us = 0) : offset_us_(offset_us) {}
  int64_t NowMicros() const override;

 private:
  const int64_t offset_us_;
};

// A clock that moves only when told to. For tests and benchmarks.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_us = 1'000'000'000'000'000)
      : now_us_(start_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us); }
  void Set(int64_t now_us) { now_us_.store(now_us); }

 private:
  std::atomic<int64_t> now_us_;
};

// The shared SystemClock with no offset.
Clock* DefaultClock();

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_CLOCK_H_
