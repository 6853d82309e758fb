// Routes gRPC's and protobuf's own log lines through ours (cache/util/log.h),
// so that one level and one format (--log-level, --log-format) govern every
// line a node writes.
#ifndef CLUSTERCACHE_SERVER_LOG_ROUTING_H_
#define CLUSTERCACHE_SERVER_LOG_ROUTING_H_

#include "cache/util/log.h"

namespace clustercache {

// Sets our level and format, and gRPC's verbosity to match; call before
// anything of gRPC starts.
void ConfigureLogs(LogLevel level, LogFormat format);

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_LOG_ROUTING_H_
