#include "cache/store/ledger/ledger_row.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace clustercache {

std::optional<EntryMeta> MetaFromLedgerRow(const LedgerRow& row) {
  EntryMeta meta;
  meta.key =
      Key::FromEncoded(absl::StrCat(row.scope, std::string(1, '\0'), row.name));
  meta.mtime = row.mtime;
  meta.expires_at = row.expires_at;
  meta.expired_at = row.expired_at;
  meta.size = row.size;
  if (row.crc32 < 0 || row.crc32 > std::numeric_limits<uint32_t>::max()) {
    LogBadItem("ledger", meta.key.ToString(), "row");
    return std::nullopt;
  }
  meta.crc32 = static_cast<uint32_t>(row.crc32);
  meta.content_type = row.content_type;
  if (!row.tags.empty()) meta.tags = absl::StrSplit(row.tags, ' ');
  // Metadata only (nothing is allocated by size): any size >= 0.
  if (!PlausibleMeta(meta, std::numeric_limits<int64_t>::max())) {
    LogBadItem("ledger", meta.key.ToString(), "row");
    return std::nullopt;
  }
  return meta;
}

}  // namespace clustercache
