#include "cache/entry.h"

#include <zlib.h>

#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cache/util/log.h"

namespace clustercache {

EntryMeta MetaForWrite(const EntryWrite& write, int64_t mtime, int64_t now) {
  EntryMeta meta;
  meta.key = write.key;
  meta.mtime = mtime;
  meta.expires_at = write.ttl_us > 0 ? now + write.ttl_us : 0;
  meta.content_type = write.content_type;
  meta.tags = write.tags;
  meta.size = write.payload ? static_cast<int64_t>(write.payload->size()) : 0;
  meta.crc32 = write.payload ? Crc32(*write.payload) : 0;
  return meta;
}

bool PlausibleMeta(const EntryMeta& meta, int64_t max_size) {
  return meta.mtime > 0 && meta.expires_at >= 0 && meta.expired_at >= 0 &&
         meta.size >= 0 && meta.size <= max_size &&
         meta.tags.size() <= kMaxTags &&
         meta.content_type.size() <= kMaxContentTypeBytes &&
         ValidateScope(meta.key.scope()).ok() &&
         ValidateName(meta.key.name()).ok();
}

void LogBadItem(absl::string_view store, absl::string_view key,
                absl::string_view why) {
  static absl::Mutex mu(absl::kConstInit);
  static int64_t minute ABSL_GUARDED_BY(mu) = 0;
  static auto* logged ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_set<std::string>;
  {
    absl::MutexLock lock(&mu);
    const int64_t now = absl::ToUnixSeconds(absl::Now()) / 60;
    if (now != minute) {
      minute = now;
      logged->clear();
    }
    if (logged->size() >= kBadItemKeysRemembered ||
        !logged->insert(std::string(key)).second) {
      return;
    }
  }
  LogWarning(store, ": unreadable item for key ", absl::CHexEscape(key), " (",
             why, "); not fresh until it is written again");
}

uint32_t Crc32(absl::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()),
            static_cast<uInt>(bytes.size())));
}

std::string NewLeaseToken() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

bool IsWellFormedLeaseToken(absl::string_view token) {
  if (token.size() != 32) return false;
  for (char c : token) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::Status ValidateImported(const Entry& entry) {
  const EntryMeta& meta = entry.meta;
  if (!PlausibleMeta(meta, std::numeric_limits<int64_t>::max()) ||
      entry.payload == nullptr ||
      static_cast<int64_t>(entry.payload->size()) != meta.size ||
      Crc32(*entry.payload) != meta.crc32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "import: ", meta.key.scope(), "/", meta.key.name(),
        ": metadata that does not match its payload, or cannot be true"));
  }
  return absl::OkStatus();
}

}  // namespace clustercache
