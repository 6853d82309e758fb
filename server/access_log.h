// AccessLog: one line per answered call, gRPC and HTTP alike (--access-log):
// time, face, peer, method, status, duration, served outcome, bytes. Text
// ("2026-12-07T10:00:00.123Z http 127.0.0.1:41234 \"GET /v1/entries/a/b\"
// 200 0.412ms HIT 4096") or one JSON object a line, as --log-format says.
// A file is opened for appending and reopened on Reopen (SIGHUP, after
// logrotate moved it); "-" is stdout. Thread-safe (one write per line).
#ifndef CLUSTERCACHE_SERVER_ACCESS_LOG_H_
#define CLUSTERCACHE_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/util/log.h"

namespace clustercache {

struct AccessRecord {
  const char* face = "";  // "grpc" or "http"
  std::string peer;
  std::string method;  // "/clustercache.v1.Cache/Fetch", "GET /v1/..."
  std::string status;  // "OK", "NotFound"; "200"
  absl::Duration took;
  std::string outcome;  // "HIT", "STALE", ...; empty if none
  int64_t bytes = 0;    // of the answer's messages or body
};

class AccessLog {
 public:
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(std::string path,
                                                         LogFormat format);
  ~AccessLog();

  void Write(const AccessRecord& record);
  // Opens the path again (a rotated file is left to its new name).
  absl::Status Reopen();

 private:
  AccessLog(std::string path, LogFormat format)
      : path_(std::move(path)), format_(format) {}

  const std::string path_;
  const LogFormat format_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_ACCESS_LOG_H_
