// GrpcCallStats: a server interceptor that counts every gRPC call by
// grpc_type, grpc_service, grpc_method and its status code (go-grpc-
// prometheus's names: "OK", "NotFound", ...) into Stats::grpc, with its
// duration, and writes it to the access log when there is one.
#ifndef CLUSTERCACHE_SERVER_GRPC_CALL_STATS_H_
#define CLUSTERCACHE_SERVER_GRPC_CALL_STATS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "cache/stats.h"
#include "server/access_log.h"

namespace clustercache {

// go-grpc-prometheus's name of a code ("DeadlineExceeded").
const char* GrpcCodeName(int code);

class GrpcCallStatsFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // REQUIRES: `stats` outlives the server; `access_log` (may be null) too.
  GrpcCallStatsFactory(Stats* stats, AccessLog* access_log)
      : stats_(stats), access_log_(access_log) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  Stats* const stats_;
  AccessLog* const access_log_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_GRPC_CALL_STATS_H_
