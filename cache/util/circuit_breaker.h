// CircuitBreaker: whether one store server (a Redis node, a memcached
// server) is up, and what calls do while it is not. A transport failure marks
// it down; while down, calls fail at once, and a probe thread tries the
// server once per interval. Only a probe that succeeds ends the outage: a
// TCP connect to a stopped server succeeds (its listen backlog accepts), so
// the probe must get an answer to a command. No caller ever waits for a
// probe. The outage is logged once when it starts and once when it ends.
// Thread-safe; the happy path is one atomic load.
#ifndef CLUSTERCACHE_CACHE_UTIL_CIRCUIT_BREAKER_H_
#define CLUSTERCACHE_CACHE_UTIL_CIRCUIT_BREAKER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace clustercache {

class CircuitBreaker {
 public:
  struct Options {
    std::string server;      // in the log: "redis redis://127.0.0.1:6379"
    std::string while_down;  // "fetches answer UNAVAILABLE until it is back"
    absl::Duration probe_interval = absl::Milliseconds(500);
    // One command to the server, with its own connection and timeout; Ok
    // when the server answered. Runs on the probe thread only.
    std::function<absl::Status()> probe;
    // After an outage ended, on the probe thread; must not block.
    std::function<void()> on_back;
  };
  explicit CircuitBreaker(Options options) : options_(std::move(options)) {}
  ~CircuitBreaker();  // stops the probe thread

  // Ok: the server is up and the call may go to it. Otherwise Unavailable,
  // at once.
  absl::Status Admit() const;
  // A call failed to reach the server. True when that started an outage
  // (logged, with `why`; the probe thread starts).
  bool Failed(absl::string_view why);

  bool down() const { return down_.load(std::memory_order_acquire); }
  // A call reached the server. Until one has, an outage is not logged (the
  // store is still opening: its opener says what failed and what it does).
  void Reached() { reached_.store(true, std::memory_order_relaxed); }

 private:
  void Probe();

  const Options options_;
  std::atomic<bool> down_{false};
  std::atomic<bool> reached_{false};
  mutable absl::Mutex mu_;
  std::string why_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread prober_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_CIRCUIT_BREAKER_H_
