// Executor: a fixed pool of threads running queued tasks in order of
// arrival. The engine uses it for work that may block on a network store, so
// that the store's reply thread, its pub/sub thread and the timer thread
// never wait. The destructor runs what is queued, then joins. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_UTIL_EXECUTOR_H_
#define CLUSTERCACHE_CACHE_UTIL_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace clustercache {

class Executor {
 public:
  explicit Executor(int threads);
  ~Executor();
  void Run(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_EXECUTOR_H_
