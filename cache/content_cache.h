// ContentCache: the engine. Implements every operation of DESIGN §3 over one
// Store: the freshness rule, the lease policy (one winner per key, stale
// serving, event-driven waiting, takeover), validation, and stats. The store
// below provides only atomic steps; the gRPC service above only translates.
// Thread-safe; blocking calls (Fetch with a wait, Purge) block only the
// calling thread.
#ifndef CLUSTERCACHE_CACHE_CONTENT_CACHE_H_
#define CLUSTERCACHE_CACHE_CONTENT_CACHE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/entry.h"
#include "cache/scope_policy.h"
#include "cache/stats.h"
#include "cache/store/store.h"
#include "cache/store/timed_store.h"
#include "cache/util/cancellation.h"
#include "cache/util/executor.h"
#include "cache/util/timer_queue.h"

namespace clustercache {

struct ContentCacheOptions {
  ScopePolicy policy;
  int64_t max_payload_bytes = int64_t{8} << 20;
  // Fetches waiting for another holder's result, on one key and in all: a
  // fetch beyond either is refused at once (RESOURCE_EXHAUSTED), counted
  // as waits_refused.
  int max_waiters_per_key = 10000;
  int max_waiters = 100000;
};

enum class FetchOutcome {
  kHit,          // fresh entry
  kStale,        // stale copy; another caller holds the lease
  kMissLease,    // no usable copy; the caller holds the lease
  kStaleLease,   // stale copy; the caller holds the lease
  kTimeout,      // waited for another holder without result
  kUnavailable,  // the store cannot be reached: render, do not store
  kMiss,         // peek only: no usable copy
  kWouldBlock,   // internal to the engine: another holder, no copy yet
};
const char* FetchOutcomeName(FetchOutcome outcome);

struct FetchRequest {
  Key key;
  int64_t newer_than = 0;    // cluster time; 0 = no bound
  absl::Duration max_age{};  // zero = no bound
  absl::Duration wait{};     // zero = do not wait
  bool peek = false;         // look only: HIT, STALE or MISS; no lease, no wait
  // The caller has gone (may be null): a waiting fetch is then answered
  // CANCELLED at once and is never granted the lease.
  std::shared_ptr<Cancellation> cancellation = nullptr;
};

struct FetchResult {
  FetchOutcome outcome = FetchOutcome::kTimeout;
  EntryRef entry;       // kHit, kStale, kStaleLease
  Lease lease;          // kMissLease, kStaleLease
  absl::Time retry_at;  // kWouldBlock: when the holder's lease ends
  int64_t now = 0;      // cluster time of the read (0: not read)
};

struct PurgeRequest {
  std::string scope;  // "" = every scope
  std::string prefix;
  absl::Duration older_than;  // zero = any age
  bool only_not_fresh = false;
  bool dry_run = false;
  int batch = 1000;                 // 1 .. kMaxPurgeBatch
  absl::Duration pause;             // between batches: 0 .. kMaxPurgePause
  std::function<bool()> cancelled;  // the caller went away (may be null)
};

struct PurgeProgress {
  int64_t examined = 0;
  int64_t purged = 0;  // or "would purge" on a dry run
  int64_t bytes = 0;
  bool done = false;
};

struct ListRequest {
  std::string scope;  // "" = every scope
  std::string prefix;
  int64_t limit = 0;  // 0 = no limit
  std::string after;  // an encoded key: list only what follows it
};

class ContentCache {
 public:
  // REQUIRES: options.policy.Validate().ok(); `store` outlives this object.
  ContentCache(clustercache::Store* store, ContentCacheOptions options);
  ~ContentCache();

  // Blocks up to request.wait when another caller holds the lease and there
  // is no stale copy.
  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request);
  // The same, without waiting: `done` is called exactly once, at once or
  // later on another thread (when the key changes or the wait ends). May
  // block the caller for one store round trip.
  using FetchDone = std::function<void(absl::StatusOr<FetchResult>)>;
  void FetchAsync(const FetchRequest& request, FetchDone done);
  // FetchAsync for a batch: the store reads all of them together (Redis: one
  // pipelined round trip per server, on the caller's thread). A fresh hit is
  // answered as soon as its read returns.
  struct PendingFetch {
    FetchRequest request;
    FetchDone done;
  };
  void FetchMany(std::vector<PendingFetch> fetches);
  // Runs `task` where blocking on the store is allowed: at once for a store
  // whose calls never block, else on the engine's executor.
  void RunBlocking(std::function<void()> task);
  // With a lease token: the rechecked commit. Without: unconditional write.
  absl::StatusOr<Commit> Store(const EntryWrite& write,
                               absl::string_view lease_token);
  absl::StatusOr<bool> Release(const Key& key, absl::string_view lease_token);

  absl::StatusOr<int64_t> Expire(const Selector& selector);
  absl::StatusOr<int64_t> Delete(const Selector& selector);
  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at = 0);
  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys();
  // Store::ForgetTags for tags last invalidated more than `older_than`
  // (0 .. 10 years) before cluster now; logged.
  absl::StatusOr<ForgottenTags> ForgetTags(absl::Duration older_than);
  // Store::ResetExpiryKey with the bound Invalidate keeps (1 minute past
  // cluster now); logged.
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key);
  // Calls `progress` after each batch; stops early (Cancelled) when it
  // returns false.
  absl::Status Purge(const PurgeRequest& request,
                     const std::function<bool(const PurgeProgress&)>& progress);
  // Calls `emit(meta, fresh)` per entry in key order; stops when it returns
  // false.
  absl::Status List(
      const ListRequest& request,
      const std::function<bool(const EntryMeta&, bool fresh)>& emit);

  const Stats& stats() const { return stats_; }
  Stats& stats() { return stats_; }
  // Fetches waiting now.
  int waiting() const {
    absl::MutexLock lock(&waiters_mu_);
    return waiters_;
  }
  absl::StatusOr<StoreUsage> Usage() { return store_->Usage(); }
  // Cluster time from the store: one round trip (a readiness probe).
  absl::StatusOr<int64_t> StoreNow() { return store_->Now(); }
  const ContentCacheOptions& options() const { return options_; }

  // Ends every wait now and makes later ones end at once (TIMEOUT), so a
  // server can shut down without waiting out leases. Store-wide: waits of
  // any other ContentCache over the same store end too. The destructor calls
  // it.
  void CancelWaits();

 private:
  // Sleeps `d`; false, at once, when CancelWaits is called or `cancelled`
  // says so (checked every 50 ms).
  bool PauseUnlessStopped(absl::Duration d,
                          const std::function<bool()>& cancelled);
  struct Waiter;
  // One look at the key, never waiting: kWouldBlock when another caller
  // holds the lease and there is no stale copy to serve.
  absl::StatusOr<FetchResult> Look(const FetchRequest& request,
                                   ScopeCounters* c);
  // Waits for the key to change after `Look` said kWouldBlock; the one
  // waiting path behind Fetch and FetchAsync.
  void Wait(const FetchRequest& request, ScopeCounters* c, FetchDone done);
  void Retry(const std::shared_ptr<Waiter>& w);
  // Retry on the executor: a watch fires on the thread that changed the key,
  // which must not answer every waiter itself.
  void RetrySoon(const std::shared_ptr<Waiter>& w);
  // Look, then Wait if needed.
  void LookThenWait(const FetchRequest& request, ScopeCounters* c,
                    FetchDone done);
  FetchResult Timeout(ScopeCounters* c);
  // A store call failed: UNAVAILABLE for Unavailable, else the error.
  static absl::StatusOr<FetchResult> StoreFailed(const absl::Status& status,
                                                 ScopeCounters* c);
  absl::Status ValidateFetch(const FetchRequest& request) const;
  // The HIT for `lookup` if its entry is fresh for `request` (counted);
  // the one place a hit is decided, for Look and the async fast path.
  std::optional<FetchResult> FreshHit(const FetchRequest& request,
                                      Lookup& lookup, ScopeCounters* c);

  // The stale copy in `lookup` if it is still within its scope's keep time;
  // otherwise null, and a too-old copy is removed (then *seen_mtime = 0).
  EntryRef UsableStaleCopy(const Lookup& lookup, int64_t* seen_mtime);
  absl::Status ValidateWrite(const EntryWrite& write) const;
  absl::Status ValidateSelector(const Selector& selector) const;
  // Counts an expiry or deletion that succeeded: by key or by prefix.
  void CountInvalidation(const Selector& selector);

  const ContentCacheOptions options_;
  Stats stats_;
  TimedStore timed_store_;  // the store, timed into stats_.store_ops
  clustercache::Store* const store_ = &timed_store_;
  std::atomic<bool> waits_cancelled_{false};
  // Whether one more waiter on `key` fits the caps; if so it is counted
  // until EndWaiter.
  bool AdmitWaiter(const Key& key);
  void EndWaiter(const Key& key);
  mutable absl::Mutex waiters_mu_;
  absl::flat_hash_map<std::string, int> waiters_per_key_
      ABSL_GUARDED_BY(waiters_mu_);
  int waiters_ ABSL_GUARDED_BY(waiters_mu_) = 0;
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  TimerQueue timers_;
  // Where waiters' looks run, and, for stores whose calls may block, looks
  // that are not a fresh hit. Last: destroyed (drained, joined) first.
  std::unique_ptr<Executor> executor_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_CONTENT_CACHE_H_
