// The entry model: metadata, payload, leases, and the expiry-key values an
// entry is judged against. Plain values; copy freely.
#ifndef CLUSTERCACHE_CACHE_ENTRY_H_
#define CLUSTERCACHE_CACHE_ENTRY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cache/key.h"

namespace clustercache {

// Everything known about an entry but its payload.
struct EntryMeta {
  Key key{"x", "x"};
  int64_t mtime = 0;       // generation time, cluster time (us)
  int64_t expires_at = 0;  // 0 = no per-entry TTL
  int64_t expired_at = 0;  // set by Expire: when it was soft-expired; 0 = no
  std::string content_type;
  std::vector<std::string> tags;
  int64_t size = 0;
  uint32_t crc32 = 0;

  bool expired() const { return expired_at != 0; }
};

// Payloads are shared, never copied on the read path.
using Payload = std::shared_ptr<const std::string>;

struct Entry {
  EntryMeta meta;
  Payload payload;
};
// Stored entries are immutable and shared: a hit costs a reference count.
using EntryRef = std::shared_ptr<const Entry>;

// The write lock on one key. A lease whose expires_at has passed has lapsed:
// anyone may take it over.
struct Lease {
  std::string token;
  int64_t granted_at = 0;
  int64_t expires_at = 0;
};

// The values of the expiry keys one entry depends on. nullopt = the store
// cannot tell (evicted, unreachable): the entry cannot be fresh.
struct ExpiryTimes {
  std::optional<int64_t> all;
  std::optional<int64_t> scope;
  std::vector<std::optional<int64_t>> tags;  // parallel to EntryMeta::tags
};

// What a write carries in; the store fills in mtime, expires_at and checksum.
struct EntryWrite {
  Key key{"x", "x"};
  Payload payload;
  int64_t ttl_us = 0;  // 0 = no per-entry TTL
  std::vector<std::string> tags;
  std::string content_type;
};

// Builds the metadata of a write landing at `mtime` (and at store time
// `now`, which starts the TTL).
EntryMeta MetaForWrite(const EntryWrite& write, int64_t mtime, int64_t now);

// Whether metadata decoded from a store's bytes (memcached item, Redis
// record, ledger row) can be true: timestamps not negative, an mtime, a
// size within `max_size`, at most kMaxTags tags and a key of a valid scope
// and name. A store treats anything else as "cannot tell" (not fresh, never
// a crash), and says so with LogBadItem.
bool PlausibleMeta(const EntryMeta& meta, int64_t max_size);

// Whether `entry`, from another store, can be imported (Store::Import):
// plausible metadata (any size) whose size and crc32 are its payload's.
absl::Status ValidateImported(const Entry& entry);

// Logs a store item that cannot be read (at most once a minute per key,
// and per process at most kBadItemKeysRemembered keys a minute).
void LogBadItem(absl::string_view store, absl::string_view key,
                absl::string_view why);
inline constexpr size_t kBadItemKeysRemembered = 1000;

uint32_t Crc32(absl::string_view bytes);

// Lease tokens are 32 lowercase hex digits.
std::string NewLeaseToken();
bool IsWellFormedLeaseToken(absl::string_view token);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_ENTRY_H_
