#include "server/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace clustercache {
namespace {

absl::StatusOr<int> OpenForAppend(const std::string& path) {
  if (path == "-") return dup(STDOUT_FILENO);
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--access-log: cannot open ", path, ": ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(std::string path,
                                                           LogFormat format) {
  absl::StatusOr<int> fd = OpenForAppend(path);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<AccessLog> log(new AccessLog(std::move(path), format));
  absl::MutexLock lock(&log->mu_);
  log->fd_ = *fd;
  return log;
}

AccessLog::~AccessLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

absl::Status AccessLog::Reopen() {
  absl::StatusOr<int> fd = OpenForAppend(path_);
  if (!fd.ok()) return fd.status();
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = *fd;
  return absl::OkStatus();
}

void AccessLog::Write(const AccessRecord& r) {
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  const double ms = absl::ToDoubleMilliseconds(r.took);
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j = {{"time", time},         {"face", r.face},
                                {"peer", r.peer},       {"method", r.method},
                                {"status", r.status},   {"duration_ms", ms},
                                {"outcome", r.outcome}, {"bytes", r.bytes}};
    // A path from the wire may hold invalid UTF-8: replaced, never a throw.
    line = j.dump(-1, ' ', false,
                  nlohmann::ordered_json::error_handler_t::replace);
  } else {
    // The method is quoted with its quotes and controls escaped, so a path
    // from the wire cannot forge a line.
    std::string method;
    for (unsigned char c : r.method) {
      if (c == '"' || c == '\\' || c < 0x20 || c == 0x7F) {
        absl::StrAppendFormat(&method, "\\x%02x", c);
      } else {
        method.push_back(static_cast<char>(c));
      }
    }
    line = absl::StrFormat("%s %s %s \"%s\" %s %.3fms %s %d", time, r.face,
                           r.peer, method, r.status, ms,
                           r.outcome.empty() ? "-" : r.outcome, r.bytes);
  }
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) (void)!write(fd_, line.data(), line.size());
}

}  // namespace clustercache
