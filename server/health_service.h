// HealthService: grpc.health.v1.Health for load balancers and probes. The
// server ("") and the clustercache.v1 services are SERVING until shutdown
// begins, then NOT_SERVING; other names are NOT_FOUND (Check) or
// SERVICE_UNKNOWN (Watch). On gRPC's synchronous API: gRPC's built-in health
// service runs on its callback threads, which would share polling with the
// cache workers and cost every fetch a hand-off.
#ifndef CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_
#define CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_

#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace clustercache {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Sends the status, and again when shutdown begins (then ends the
  // stream); ends when the client goes away.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

  // NOT_SERVING from now on; open Watch streams end.
  void Shutdown() {
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
  }

 private:
  absl::Notification stopping_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_
