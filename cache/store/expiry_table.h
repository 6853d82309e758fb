// ExpiryTable: expiry-key values held in this process (the MemoryStore's).
// Values only move forward. Reads take a shared lock. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_EXPIRY_TABLE_H_
#define CLUSTERCACHE_CACHE_STORE_EXPIRY_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cache/entry.h"
#include "cache/store/store.h"

namespace clustercache {

class ExpiryTable {
 public:
  // The values `meta` depends on; keys never set are 0.
  ExpiryTimes TimesFor(const EntryMeta& meta) const;
  // REQUIRES: ValidateExpiryKey(name).ok(). Returns the value after.
  int64_t Advance(absl::string_view name, int64_t at);
  // A value later than now + ahead becomes now (Store::ResetExpiryKey).
  ExpiryReset LowerIfAhead(absl::string_view name, int64_t now, int64_t ahead);
  // Every key set, and the tag floor (kTagFloorKey) once it is above 0.
  std::vector<ExpiryKeyValue> List() const;
  // Store::ImportExpiryKeys for one key: Advance, or for kTagFloorKey the
  // tag floor raised.
  void Import(absl::string_view name, int64_t value);
  // Store::ForgetTags, for tags with values before `before`: each dropped
  // after the tag floor (what a tag not held counts as) is raised to it.
  ForgottenTags ForgetTags(int64_t before);

 private:
  int64_t* SlotLocked(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  int64_t all_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int64_t> scopes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> tags_ ABSL_GUARDED_BY(mu_);
  int64_t tag_floor_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_EXPIRY_TABLE_H_
