#include "server/health_service.h"

#include <string>

namespace clustercache {
namespace {

using grpc::health::v1::HealthCheckResponse;

bool Known(const std::string& service) {
  return service.empty() || service == "clustercache.v1.Cache" ||
         service == "clustercache.v1.Admin";
}

}  // namespace

grpc::Status HealthService::Check(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  if (!Known(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service: " + request->service());
  }
  response->set_status(stopping_.HasBeenNotified()
                           ? HealthCheckResponse::NOT_SERVING
                           : HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  HealthCheckResponse status;
  if (!Known(request->service())) {
    status.set_status(HealthCheckResponse::SERVICE_UNKNOWN);
    writer->Write(status);
    return grpc::Status::OK;
  }
  status.set_status(HealthCheckResponse::SERVING);
  if (!stopping_.HasBeenNotified() && writer->Write(status)) {
    // The sync API tells of a departed client only when asked.
    while (!context->IsCancelled() &&
           !stopping_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
    }
  }
  status.set_status(HealthCheckResponse::NOT_SERVING);
  if (!context->IsCancelled()) writer->Write(status);
  return grpc::Status::OK;
}

}  // namespace clustercache
