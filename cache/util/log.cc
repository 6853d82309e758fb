#include "cache/util/log.h"

#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace clustercache {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};

constexpr const char* kUpper[] = {"DEBUG", "INFO", "WARN", "ERROR"};
constexpr const char* kLower[] = {"debug", "info", "warn", "error"};

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (text == kLower[i]) return static_cast<LogLevel>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "log level \"", text, "\": want debug, info, warn or error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", text, "\": want text or json"));
}

void SetLogOptions(LogLevel level, LogFormat format) {
  g_level = level;
  g_format = format;
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >=
         static_cast<int>(g_level.load(std::memory_order_relaxed));
}

void LogLine(LogLevel level, absl::string_view text) {
  LogLine(level, text, {});
}

void LogLine(LogLevel level, absl::string_view text, const LogFields& fields) {
  const int l = static_cast<int>(level);
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::string line;
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    nlohmann::ordered_json j = {
        {"time", time}, {"level", kLower[l]}, {"message", std::string(text)}};
    if (!fields.empty()) {
      nlohmann::ordered_json& f = j["fields"] =
          nlohmann::ordered_json::object();
      for (const auto& [name, value] : fields) f[name] = value;
    }
    // Invalid UTF-8 (a name from the wire) is replaced, never a throw.
    line = j.dump(-1, ' ', false,
                  nlohmann::ordered_json::error_handler_t::replace);
    line.push_back('\n');
  } else {
    line = absl::StrCat(time, " ", kUpper[l], " ", text, "\n");
  }
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace clustercache
