// Ledger: a durable record, beside a store, of what the store holds and of
// the expiry keys. It lets stores that cannot enumerate (Memcached) list and
// purge by age, and keeps expiry keys across a store's restart. The hit path
// never touches it. LedgerStore (cache/store/ledger_store.h) keeps a ledger
// in step with a store. Errors: Unavailable when the ledger cannot be
// reached. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_H_
#define CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cache/entry.h"
#include "cache/store/store.h"

namespace clustercache {

class Ledger {
 public:
  virtual ~Ledger() = default;

  virtual std::string Describe() const = 0;
  // Ok when the ledger can be reached now.
  virtual absl::Status Ping() = 0;

  // Records entries' metadata, each unless a newer version is recorded, in
  // one transaction (one commit for the lot: a busy node's stores are
  // recorded in batches).
  virtual absl::Status Record(const std::vector<EntryMeta>& metas) = 0;
  // Marks the recorded versions as soft-expired at `at`.
  virtual absl::Status MarkExpired(const std::vector<Key>& keys,
                                   int64_t at) = 0;
  // Forgets entries: each only if its recorded mtime is the one given
  // (0 = whatever is recorded).
  virtual absl::Status Forget(const std::vector<KeyVersion>& keys) = 0;
  // Entry metadata, as Store::Scan (the same paging and hints).
  virtual absl::StatusOr<ScanPage> Scan(const ScanRequest& request) = 0;
  virtual absl::StatusOr<StoreUsage> Usage() = 0;

  // T(name) = max(T, value); returns the value after.
  virtual absl::StatusOr<int64_t> RaiseExpiryKey(absl::string_view name,
                                                 int64_t value) = 0;
  // Every row, the tag floor (kTagFloorKey) included.
  virtual absl::StatusOr<std::vector<ExpiryKeyValue>> ExpiryKeys() = 0;
  // Store::ForgetTags recorded: T(kTagFloorKey) = max(T, floor), and the
  // rows of `names` whose values are not past the floor go.
  virtual absl::Status ForgetTags(const std::vector<std::string>& names,
                                  int64_t floor) = 0;
  // The oldest mtime recorded; 0 when there is no entry.
  virtual absl::StatusOr<int64_t> OldestMtime() = 0;
  // T(name) = value where T > value + ahead (Store::ResetExpiryKey); returns
  // the value before.
  virtual absl::StatusOr<int64_t> LowerExpiryKey(absl::string_view name,
                                                 int64_t value,
                                                 int64_t ahead) = 0;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_H_
