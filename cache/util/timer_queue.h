// TimerQueue: runs callbacks at given times on one thread of its own. Used
// by the engine to end waits at their deadline or at the end of the holder's
// lease, so that no thread blocks per waiting fetch. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_UTIL_TIMER_QUEUE_H_
#define CLUSTERCACHE_CACHE_UTIL_TIMER_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace clustercache {

class TimerQueue {
 public:
  TimerQueue();
  // Stops the thread; timers not yet due are dropped without running.
  ~TimerQueue();

  // Runs `fn` at `when` (at once if it has passed). Returns an id for Cancel.
  uint64_t Schedule(absl::Time when, std::function<void()> fn);
  // Drops the timer if it has not started running.
  void Cancel(uint64_t id);

 private:
  void Loop();

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::map<std::pair<absl::Time, uint64_t>, std::function<void()>> timers_
      ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, absl::Time> due_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_TIMER_QUEUE_H_
