// Log: one line per event on stderr, as text
// ("2026-11-22T10:00:00.123Z INFO text") or as JSON (one object a line:
// {"time":..., "level":"info", "message":..., "fields": {...}}); lines
// below the level are
// not written (nor formatted). gRPC's and protobuf's own log lines are
// routed here by the programs (server/log_routing.h). Thread-safe (one
// write per line).
#ifndef CLUSTERCACHE_CACHE_UTIL_LOG_H_
#define CLUSTERCACHE_CACHE_UTIL_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace clustercache {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error"; an error says which work.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);
// "text", "json".
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);
// Defaults: info, text.
void SetLogOptions(LogLevel level, LogFormat format);
bool LogEnabled(LogLevel level);

void LogLine(LogLevel level, absl::string_view text);
// The same line with named fields: in JSON they are an object "fields"
// beside the message (for a collector to index); text lines carry the
// message only, which should say the same.
using LogFields = std::vector<std::pair<std::string, std::string>>;
void LogLine(LogLevel level, absl::string_view text, const LogFields& fields);

template <typename... Args>
void LogDebug(const Args&... args) {
  if (LogEnabled(LogLevel::kDebug)) {
    LogLine(LogLevel::kDebug, absl::StrCat(args...));
  }
}
template <typename... Args>
void LogInfo(const Args&... args) {
  if (LogEnabled(LogLevel::kInfo)) {
    LogLine(LogLevel::kInfo, absl::StrCat(args...));
  }
}
template <typename... Args>
void LogWarning(const Args&... args) {
  if (LogEnabled(LogLevel::kWarn)) {
    LogLine(LogLevel::kWarn, absl::StrCat(args...));
  }
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_LOG_H_
