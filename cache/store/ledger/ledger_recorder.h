// LedgerRecorder: records stored entries in the ledger off the store's
// path. A commit hands the entry's metadata to a bounded queue and returns;
// one thread records them in order, kRecordBatch to a transaction, so a
// slow or hung ledger never adds to a Store's latency and never serialises
// Stores behind one connection, and a burst costs a commit per batch. An
// entry is left unrecorded (not in the ledger's index: listing and purge do
// not find it; TTL and eviction do) when the queue is full or the ledger
// fails; those are counted and logged once recording works again.
// Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_RECORDER_H_
#define CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_RECORDER_H_

#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/entry.h"
#include "cache/store/ledger/ledger.h"

namespace clustercache {

class LedgerRecorder {
 public:
  // The most entries waiting to be recorded.
  static constexpr size_t kDefaultCapacity = 10000;
  // The most entries recorded in one transaction.
  static constexpr size_t kRecordBatch = 500;

  explicit LedgerRecorder(Ledger* ledger, size_t capacity = kDefaultCapacity);
  // Records what is queued (each batch waits at most the ledger's own
  // timeout), then stops.
  ~LedgerRecorder();

  // Queues `meta`; never blocks.
  void Record(EntryMeta meta);
  // Waits until everything queued before the call has been recorded (or
  // given up), at most `timeout`; false if it had not. Listing, expiring
  // and forgetting call it first, so they see the Stores that returned
  // before them.
  bool Flush(absl::Duration timeout);
  // Entries not recorded since the start.
  int64_t unrecorded() const;

 private:
  void Run();

  Ledger* const ledger_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<EntryMeta> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // ever queued
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;    // of those, recorded or not
  int64_t unrecorded_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unrecorded_logged_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the rest is set up
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_RECORDER_H_
