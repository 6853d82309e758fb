#include "cache/entry.h"

#include <zlib.h>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

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

}  // namespace clustercache
