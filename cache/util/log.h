// Log: one line per event on stderr, "2026-11-22T10:00:00.123Z LEVEL text".
// Thread-safe (one write per line).
#ifndef CLUSTERCACHE_CACHE_UTIL_LOG_H_
#define CLUSTERCACHE_CACHE_UTIL_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace clustercache {

void LogLine(absl::string_view level, absl::string_view text);

template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine("INFO", absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine("WARN", absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine("ERROR", absl::StrCat(args...));
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_LOG_H_
