#include "server/cache_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace clustercache {

CacheServer::CacheServer(ContentCache* cache, std::string node_name,
                         int64_t max_payload_bytes, int worker_threads)
    : cache_(cache),
      cache_workers_(cache, node_name, worker_threads),
      admin_service_(cache, node_name),
      max_payload_bytes_(max_payload_bytes) {}

CacheServer::~CacheServer() { Shutdown(absl::ZeroDuration()); }

absl::Status CacheServer::Start(const std::string& listen) {
  grpc::EnableDefaultHealthCheckService(false);  // ours: health_service.h
  grpc::ServerBuilder builder;
  // Without this gRPC binds with SO_REUSEPORT, and a second node started on
  // a taken port would quietly share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&admin_service_);
  builder.RegisterService(&health_service_);
  // Room for the largest payload plus its metadata; larger messages are
  // refused by gRPC before they reach the cache.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(max_payload_bytes_ + (64 << 10)));
  builder.SetMaxSendMessageSize(
      static_cast<int>(max_payload_bytes_ + (64 << 10)));
  cache_workers_.Register(&builder);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen,
                     " (address in use, or not a local address?)"));
  }
  cache_workers_.Start();
  return absl::OkStatus();
}

void CacheServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  // Waiting fetches end now (TIMEOUT: their callers render without storing)
  // instead of holding the shutdown until leases lapse.
  health_service_.Shutdown();
  cache_->CancelWaits();
  cache_workers_.StopTaking();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMicroseconds(grace));
  cache_workers_.Join();
  server_->Wait();
  server_.reset();
}

}  // namespace clustercache
