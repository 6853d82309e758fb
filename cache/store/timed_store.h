// TimedStore: a Store that passes every call to another and records how
// long it took and how it ended (RequestStats, by op), for
// clustercache_store_operation_seconds and clustercache_store_errors_total.
// The engine wraps its store in one, so no store records its own.
#ifndef CLUSTERCACHE_CACHE_STORE_TIMED_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_TIMED_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "cache/request_stats.h"
#include "cache/store/store.h"

namespace clustercache {

class TimedStore : public Store {
 public:
  // REQUIRES: `inner` and `ops` (labels: op) outlive this object.
  TimedStore(Store* inner, RequestStats* ops);

  std::string Describe() const override { return inner_->Describe(); }
  absl::StatusOr<int64_t> Now() override;
  absl::StatusOr<Lookup> Read(const Key& key) override;
  void ReadMany(const std::vector<Key>& keys, const ReadDone& done) override;
  bool CallsMayBlock() const override { return inner_->CallsMayBlock(); }
  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override;
  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override;
  absl::StatusOr<int64_t> Put(const EntryWrite& write) override;
  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override;
  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override {
    return inner_->Watch(key, std::move(on_change));
  }
  void CancelWaits() override { inner_->CancelWaits(); }
  absl::StatusOr<int64_t> Expire(const Selector& selector) override;
  absl::StatusOr<int64_t> Delete(const Selector& selector) override;
  absl::Status VoidByPrefix(const Selector& selector, bool remove) override;
  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override;
  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override;
  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override;
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override;
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override;
  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override;
  absl::StatusOr<StoreUsage> Usage() override;
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override;
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override;

 private:
  enum Op {
    kNow,
    kRead,
    kReadMany,
    kAcquireLease,
    kCommitLeased,
    kPut,
    kRelease,
    kExpire,
    kDelete,
    kVoidByPrefix,
    kRemoveIfUnchanged,
    kInvalidate,
    kListExpiryKeys,
    kForgetTags,
    kResetExpiryKey,
    kScan,
    kUsage,
    kImportExpiryKeys,
    kImport,
    kOps
  };
  // Runs `call`, records it under `op`, returns what it returned.
  template <class Call>
  auto Timed(Op op, Call call) -> decltype(call());

  Store* const inner_;
  RequestStats::Series* series_[kOps];
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_TIMED_STORE_H_
