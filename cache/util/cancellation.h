// Cancellation: set once when the caller of a request has gone (its
// deadline passed, its client disconnected). Whoever waits on the caller's
// behalf registers what to do then; it runs once, on the thread that
// cancels, so it must not block. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_UTIL_CANCELLATION_H_
#define CLUSTERCACHE_CACHE_UTIL_CANCELLATION_H_

#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace clustercache {

class Cancellation {
 public:
  void Cancel() {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
      cancelled_ = true;
      fn.swap(on_cancel_);
    }
    if (fn) fn();
  }
  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }
  // Runs `fn` at Cancel, or now if cancelled already. One at a time: a new
  // one replaces the last.
  void OnCancel(std::function<void()> fn) {
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        on_cancel_ = std::move(fn);
        return;
      }
    }
    fn();
  }

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_CANCELLATION_H_
