// Parsing of the human units used by flags and the CLI: durations ("500ms",
// "90s", "15m", "2h", "2d", or a sum like "1h30m") and byte sizes ("4096",
// "64KiB", "512MiB", "1GiB", "2G").
#ifndef CLUSTERCACHE_CACHE_DURATION_H_
#define CLUSTERCACHE_CACHE_DURATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace clustercache {

// "0" is the zero duration. Negative durations are refused.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);
// The shortest text ParseDuration reads back as `d` ("90s", "2h", "1500ms").
std::string ShowDuration(absl::Duration d);

// "4096", "64KiB", "512MB", "1G", "1gb", "1G512M": any case, with or
// without "B"/"iB", every unit binary (1G = 1GB = 1GiB = 2^30 bytes).
absl::StatusOr<int64_t> ParseByteSize(absl::string_view text);
std::string ShowByteSize(int64_t bytes);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_DURATION_H_
