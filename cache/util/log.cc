#include "cache/util/log.h"

#include <unistd.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace clustercache {

void LogLine(absl::string_view level, absl::string_view text) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " ", level, " ", text, "\n");
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace clustercache
