// libFuzzer: a cc_entries row of the ledger (its database can be written by
// others). The input is the row's fields, separated by newlines: scope,
// name, mtime, expires_at, expired_at, size, crc32, content type, tags.
// What decodes is plausible metadata.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cache/store/ledger/ledger_row.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> f = absl::StrSplit(in, absl::MaxSplits('\n', 8));
  f.resize(9);
  clustercache::LedgerRow row;
  row.scope = f[0];
  row.name = f[1];
  int64_t* numbers[] = {&row.mtime, &row.expires_at, &row.expired_at, &row.size,
                        &row.crc32};
  for (int i = 0; i < 5; ++i) (void)absl::SimpleAtoi(f[2 + i], numbers[i]);
  row.content_type = f[7];
  row.tags = f[8];
  std::optional<clustercache::EntryMeta> meta =
      clustercache::MetaFromLedgerRow(row);
  if (meta && !clustercache::PlausibleMeta(
                  *meta, std::numeric_limits<int64_t>::max())) {
    abort();
  }
  return 0;
}
