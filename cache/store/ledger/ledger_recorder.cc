#include "cache/store/ledger/ledger_recorder.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "cache/util/log.h"
#include "cache/util/thread_name.h"

namespace clustercache {

LedgerRecorder::LedgerRecorder(Ledger* ledger, size_t capacity)
    : ledger_(ledger), capacity_(capacity), thread_([this] { Run(); }) {}

LedgerRecorder::~LedgerRecorder() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void LedgerRecorder::Record(EntryMeta meta) {
  absl::MutexLock lock(&mu_);
  ++queued_;
  if (queue_.size() >= capacity_) {
    // Counted as done at once: Flush must not wait for it.
    ++done_;
    if (unrecorded_++ == unrecorded_logged_) {
      LogWarning("ledger: ", capacity_,
                 " entries wait to be recorded; later ones are left out of "
                 "its index until it catches up");
    }
    return;
  }
  queue_.push_back(std::move(meta));
}

bool LedgerRecorder::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = queued_;
  auto recorded = [this, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return done_ >= target;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&recorded), timeout);
}

int64_t LedgerRecorder::unrecorded() const {
  absl::MutexLock lock(&mu_);
  return unrecorded_;
}

void LedgerRecorder::Run() {
  NameThisThread("cc-ledger-rec");
  for (;;) {
    std::deque<EntryMeta> batch;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&work));
      if (queue_.empty()) return;  // stopping, and nothing left
      batch.swap(queue_);
    }
    // In order, kRecordBatch to a transaction. After a failure the rest of
    // the batch is given up at once: one ledger timeout per batch, not one
    // per entry.
    size_t recorded = 0;
    while (recorded < batch.size()) {
      const size_t end = std::min(batch.size(), recorded + kRecordBatch);
      std::vector<EntryMeta> chunk(
          std::make_move_iterator(batch.begin() + recorded),
          std::make_move_iterator(batch.begin() + end));
      if (!ledger_->Record(chunk).ok()) break;
      recorded = end;
    }
    absl::MutexLock lock(&mu_);
    done_ += static_cast<int64_t>(batch.size());
    unrecorded_ += static_cast<int64_t>(batch.size() - recorded);
    if (recorded == batch.size() && unrecorded_ > unrecorded_logged_) {
      LogWarning("ledger: ", unrecorded_ - unrecorded_logged_,
                 " stored entries are not in its index (it was unreachable "
                 "or behind); purge will not find them, TTL and eviction "
                 "will");
      unrecorded_logged_ = unrecorded_;
    }
  }
}

}  // namespace clustercache
