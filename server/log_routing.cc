#include "server/log_routing.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

absl::string_view BaseName(const char* path) {
  absl::string_view p = path == nullptr ? "?" : path;
  const size_t slash = p.rfind('/');
  return slash == absl::string_view::npos ? p : p.substr(slash + 1);
}

void FromGrpc(gpr_log_func_args* args) {
  const LogLevel level =
      args->severity == GPR_LOG_SEVERITY_DEBUG  ? LogLevel::kDebug
      : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                : LogLevel::kError;
  if (!LogEnabled(level)) return;
  LogLine(level,
          absl::StrCat("grpc ", BaseName(args->file), ":", args->line, ": ",
                       args->message == nullptr ? "" : args->message));
}

void FromProtobuf(google::protobuf::LogLevel severity, const char* file,
                  int line, const std::string& message) {
  const LogLevel level =
      severity == google::protobuf::LOGLEVEL_INFO      ? LogLevel::kInfo
      : severity == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarn
                                                       : LogLevel::kError;
  if (!LogEnabled(level)) return;
  LogLine(level,
          absl::StrCat("protobuf ", BaseName(file), ":", line, ": ", message));
}

}  // namespace

void ConfigureLogs(LogLevel level, LogFormat format) {
  SetLogOptions(level, format);
  gpr_set_log_verbosity(level == LogLevel::kDebug  ? GPR_LOG_SEVERITY_DEBUG
                        : level == LogLevel::kInfo ? GPR_LOG_SEVERITY_INFO
                                                   : GPR_LOG_SEVERITY_ERROR);
  gpr_set_log_function(&FromGrpc);
  google::protobuf::SetLogHandler(&FromProtobuf);
}

}  // namespace clustercache
