// ContentCache: waiting for another holder's result. A waiting fetch is a
// Waiter: it looks again whenever the store says the key changed (the watch
// callback) and when its time is up (a timer at the earlier of its deadline
// and the end of the holder's lease). No thread blocks per waiter. A waiter
// whose caller has gone is answered CANCELLED at once and never keeps a
// lease.
#include <algorithm>
#include <atomic>
#include <climits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cache/content_cache.h"

namespace clustercache {

struct ContentCache::Waiter {
  explicit Waiter(const FetchRequest& r) : request(r) {}
  FetchRequest request;
  ScopeCounters* counters;
  FetchDone done;
  absl::Time started;
  absl::Time deadline;
  // When a watch last said the key changed (InfinitePast: never).
  std::atomic<int64_t> changed_ns{INT64_MIN};
  absl::Mutex mu;  // one look at a time
  bool finished ABSL_GUARDED_BY(mu) = false;
  uint64_t timer ABSL_GUARDED_BY(mu) = 0;
  std::unique_ptr<WatchHandle> watch ABSL_GUARDED_BY(mu);
};

FetchResult ContentCache::Timeout(ScopeCounters* c) {
  Bump(c->misses);
  Bump(c->timeouts);
  FetchResult result;
  result.outcome = FetchOutcome::kTimeout;
  return result;
}

void ContentCache::Wait(const FetchRequest& request, ScopeCounters* c,
                        FetchDone done) {
  if (request.wait <= absl::ZeroDuration() || waits_cancelled_.load()) {
    return done(Timeout(c));
  }
  if (!AdmitWaiter(request.key)) {
    Bump(c->waits_refused);
    return done(absl::ResourceExhaustedError(absl::StrCat(
        "too many fetches waiting (at most ", options_.max_waiters_per_key,
        " on one key, ", options_.max_waiters,
        " in all): render without storing, or retry later")));
  }
  auto w = std::make_shared<Waiter>(request);
  w->counters = c;
  w->done = std::move(done);
  w->started = absl::Now();
  w->deadline = w->started + request.wait;
  Bump(c->waits);
  std::weak_ptr<Waiter> weak = w;
  std::unique_ptr<WatchHandle> watch = store_->Watch(request.key, [this, weak] {
    if (std::shared_ptr<Waiter> alive = weak.lock()) {
      alive->changed_ns.store(absl::GetCurrentTimeNanos(),
                              std::memory_order_relaxed);
      RetrySoon(alive);
    }
  });
  if (request.cancellation) {
    request.cancellation->OnCancel([this, weak] {
      if (std::shared_ptr<Waiter> alive = weak.lock()) RetrySoon(alive);
    });
  }
  {
    absl::MutexLock lock(&w->mu);
    if (!w->finished) w->watch = std::move(watch);
  }
  watch.reset();
  // Look again now that the watch is in place: a change that landed between
  // the first look and the watch is not missed.
  Retry(w);
}

void ContentCache::RetrySoon(const std::shared_ptr<Waiter>& w) {
  executor_->Run([this, w] { Retry(w); });
}

void ContentCache::Retry(const std::shared_ptr<Waiter>& w) {
  FetchDone done;
  std::unique_ptr<WatchHandle> watch;
  absl::StatusOr<FetchResult> result;
  {
    absl::MutexLock lock(&w->mu);
    if (w->finished) return;
    const std::shared_ptr<Cancellation>& gone = w->request.cancellation;
    if (gone && gone->cancelled()) {
      result = absl::CancelledError("the caller has gone");
    } else {
      result = Look(w->request, w->counters);
      if (result.ok() && result->outcome == FetchOutcome::kWouldBlock) {
        if (absl::Now() < w->deadline && !waits_cancelled_.load()) {
          if (w->timer != 0) timers_.Cancel(w->timer);
          w->timer = timers_.Schedule(std::min(w->deadline, result->retry_at),
                                      [this, w] { RetrySoon(w); });
          return;
        }
        result = Timeout(w->counters);
      }
      if (result.ok() && !result->lease.token.empty() && gone &&
          gone->cancelled()) {
        // Granted while its caller went: nobody would generate. Given back
        // at once, so that a live caller need not wait for it to lapse.
        (void)store_->Release(w->request.key, result->lease.token);
        result = absl::CancelledError("the caller has gone");
      }
    }
    w->finished = true;
    if (w->timer != 0) timers_.Cancel(w->timer);
    const absl::Duration waited = absl::Now() - w->started;
    Bump(w->counters->wait_time_us, absl::ToInt64Microseconds(waited));
    w->counters->lease_wait.Observe(waited);
    done = std::move(w->done);
    watch = std::move(w->watch);
  }
  watch.reset();
  EndWaiter(w->request.key);
  const bool answered = result.ok() && result->entry != nullptr;
  done(std::move(result));
  const int64_t changed = w->changed_ns.load(std::memory_order_relaxed);
  if (answered && changed != INT64_MIN) {
    stats_.waiter_wake.Observe(
        absl::Nanoseconds(absl::GetCurrentTimeNanos() - changed));
  }
}

bool ContentCache::AdmitWaiter(const Key& key) {
  absl::MutexLock lock(&waiters_mu_);
  if (waiters_ >= options_.max_waiters) return false;
  int& on_key = waiters_per_key_[key.encoded()];
  if (on_key >= options_.max_waiters_per_key) {
    if (on_key == 0) waiters_per_key_.erase(key.encoded());
    return false;
  }
  ++on_key;
  ++waiters_;
  return true;
}

void ContentCache::EndWaiter(const Key& key) {
  absl::MutexLock lock(&waiters_mu_);
  auto it = waiters_per_key_.find(key.encoded());
  if (it == waiters_per_key_.end()) return;
  --waiters_;
  if (--it->second == 0) waiters_per_key_.erase(it);
}

}  // namespace clustercache
