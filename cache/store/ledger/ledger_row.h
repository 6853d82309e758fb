// LedgerRow: one cc_entries row as the connector hands it over, and its
// decoding into entry metadata. A row is bytes from a database that others
// can write: a bad one (an implausible key, size, time or tag) is "cannot
// tell", never a crash. Pure, so that tests/fuzz can drive it.
#ifndef CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_ROW_H_
#define CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_ROW_H_

#include <cstdint>
#include <optional>
#include <string>

#include "cache/entry.h"

namespace clustercache {

struct LedgerRow {
  std::string scope, name;
  int64_t mtime = 0, expires_at = 0, expired_at = 0, size = 0, crc32 = 0;
  std::string content_type;
  std::string tags;  // space-separated
};

// The metadata, or nullopt for a row that cannot be read (logged).
std::optional<EntryMeta> MetaFromLedgerRow(const LedgerRow& row);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_ROW_H_
