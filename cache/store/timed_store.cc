#include "cache/store/timed_store.h"

#include <utility>

namespace clustercache {
namespace {

constexpr absl::string_view kOpNames[] = {"now",
                                          "read",
                                          "read_many",
                                          "acquire_lease",
                                          "commit_leased",
                                          "put",
                                          "release",
                                          "expire",
                                          "delete",
                                          "void_by_prefix",
                                          "remove_if_unchanged",
                                          "invalidate",
                                          "list_expiry_keys",
                                          "forget_tags",
                                          "reset_expiry_key",
                                          "scan",
                                          "usage",
                                          "import_expiry_keys",
                                          "import"};

std::string CodeOf(const absl::Status& status) {
  return absl::StatusCodeToString(status.code());
}

}  // namespace

TimedStore::TimedStore(Store* inner, RequestStats* ops) : inner_(inner) {
  static_assert(std::size(kOpNames) == kOps);
  for (int op = 0; op < kOps; ++op) series_[op] = ops->For({kOpNames[op]});
}

template <class Call>
auto TimedStore::Timed(Op op, Call call) -> decltype(call()) {
  const absl::Time start = absl::Now();
  auto result = call();
  absl::Status status;
  if constexpr (std::is_same_v<decltype(result), absl::Status>) {
    status = result;
  } else {
    status = result.status();
  }
  series_[op]->Record(CodeOf(status), absl::Now() - start);
  return result;
}

absl::StatusOr<int64_t> TimedStore::Now() {
  return Timed(kNow, [&] { return inner_->Now(); });
}

absl::StatusOr<Lookup> TimedStore::Read(const Key& key) {
  return Timed(kRead, [&] { return inner_->Read(key); });
}

void TimedStore::ReadMany(const std::vector<Key>& keys, const ReadDone& done) {
  const absl::Time start = absl::Now();
  RequestStats::Series* series = series_[kReadMany];
  // Each key's answer may come later, on a store thread: timed there.
  inner_->ReadMany(
      keys, [series, start, done](size_t i, absl::StatusOr<Lookup> read) {
        series->Record(CodeOf(read.status()), absl::Now() - start);
        done(i, std::move(read));
      });
}

absl::StatusOr<Grant> TimedStore::AcquireLease(const Key& key,
                                               int64_t seen_mtime,
                                               absl::Duration lease_time) {
  return Timed(kAcquireLease, [&] {
    return inner_->AcquireLease(key, seen_mtime, lease_time);
  });
}

absl::StatusOr<Commit> TimedStore::CommitLeased(const EntryWrite& write,
                                                absl::string_view token) {
  return Timed(kCommitLeased,
               [&] { return inner_->CommitLeased(write, token); });
}

absl::StatusOr<int64_t> TimedStore::Put(const EntryWrite& write) {
  return Timed(kPut, [&] { return inner_->Put(write); });
}

absl::StatusOr<bool> TimedStore::Release(const Key& key,
                                         absl::string_view token) {
  return Timed(kRelease, [&] { return inner_->Release(key, token); });
}

absl::StatusOr<int64_t> TimedStore::Expire(const Selector& selector) {
  return Timed(kExpire, [&] { return inner_->Expire(selector); });
}

absl::StatusOr<int64_t> TimedStore::Delete(const Selector& selector) {
  return Timed(kDelete, [&] { return inner_->Delete(selector); });
}

absl::Status TimedStore::VoidByPrefix(const Selector& selector, bool remove) {
  return Timed(kVoidByPrefix,
               [&] { return inner_->VoidByPrefix(selector, remove); });
}

absl::StatusOr<Removed> TimedStore::RemoveIfUnchanged(
    const std::vector<KeyVersion>& keys) {
  return Timed(kRemoveIfUnchanged,
               [&] { return inner_->RemoveIfUnchanged(keys); });
}

absl::StatusOr<int64_t> TimedStore::Invalidate(absl::string_view expiry_key,
                                               int64_t at) {
  return Timed(kInvalidate, [&] { return inner_->Invalidate(expiry_key, at); });
}

absl::StatusOr<std::vector<ExpiryKeyValue>> TimedStore::ListExpiryKeys() {
  return Timed(kListExpiryKeys, [&] { return inner_->ListExpiryKeys(); });
}

absl::StatusOr<ForgottenTags> TimedStore::ForgetTags(int64_t before) {
  return Timed(kForgetTags, [&] { return inner_->ForgetTags(before); });
}

absl::StatusOr<ExpiryReset> TimedStore::ResetExpiryKey(
    absl::string_view expiry_key, int64_t ahead_us) {
  return Timed(kResetExpiryKey,
               [&] { return inner_->ResetExpiryKey(expiry_key, ahead_us); });
}

absl::StatusOr<ScanPage> TimedStore::Scan(const ScanRequest& request) {
  return Timed(kScan, [&] { return inner_->Scan(request); });
}

absl::StatusOr<StoreUsage> TimedStore::Usage() {
  return Timed(kUsage, [&] { return inner_->Usage(); });
}

absl::Status TimedStore::ImportExpiryKeys(
    const std::vector<ExpiryKeyValue>& keys) {
  return Timed(kImportExpiryKeys,
               [&] { return inner_->ImportExpiryKeys(keys); });
}

absl::StatusOr<std::vector<ImportOutcome>> TimedStore::Import(
    const std::vector<EntryRef>& entries) {
  return Timed(kImport, [&] { return inner_->Import(entries); });
}

}  // namespace clustercache
