#include "cache/util/circuit_breaker.h"

#include "absl/strings/str_cat.h"
#include "cache/util/log.h"
#include "cache/util/thread_name.h"

namespace clustercache {

CircuitBreaker::~CircuitBreaker() {
  std::thread prober;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    prober.swap(prober_);
  }
  if (prober.joinable()) prober.join();
}

absl::Status CircuitBreaker::Admit() const {
  if (!down_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return absl::UnavailableError(
      absl::StrCat(options_.server, " is down (", why_, "); retried every ",
                   absl::FormatDuration(options_.probe_interval)));
}

bool CircuitBreaker::Failed(absl::string_view why) {
  std::thread finished;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || down_.load(std::memory_order_relaxed)) return false;
    why_ = std::string(why);
    down_.store(true, std::memory_order_release);
    // The last outage's prober has returned (it marked the server up).
    finished.swap(prober_);
    prober_ = std::thread([this] { Probe(); });
  }
  // Before any call reached the server the store is still opening: its
  // opener reports the failure (and says what the node does about it).
  if (reached_.load(std::memory_order_relaxed)) {
    LogWarning(options_.server, " unreachable (", why, "); ",
               options_.while_down);
  }
  if (finished.joinable()) finished.join();
  return true;
}

void CircuitBreaker::Probe() {
  NameThisThread("cc-probe");
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]()
                          ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping),
                               options_.probe_interval)) {
        return;
      }
    }
    absl::Status answered = options_.probe();
    if (!answered.ok()) continue;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      down_.store(false, std::memory_order_release);
      reached_.store(true, std::memory_order_relaxed);
      LogInfo(options_.server, " reachable again");  // before a next outage
    }
    if (options_.on_back) options_.on_back();
    return;
  }
}

}  // namespace clustercache
