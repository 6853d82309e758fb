#include "server/cache_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace clustercache {

CacheServer::CacheServer(ContentCache* cache, std::string node_name,
                         int64_t max_payload_bytes, ServerLimits limits)
    : cache_(cache),
      auth_(&cache->stats().node()),
      cache_workers_(cache, node_name, limits.worker_threads, &auth_),
      admin_service_(cache, node_name, &auth_),
      health_service_(limits.max_health_watchers),
      max_payload_bytes_(max_payload_bytes),
      limits_(limits) {}

CacheServer::~CacheServer() { Shutdown(absl::ZeroDuration()); }

absl::Status CacheServer::Start(const std::string& listen) {
  grpc::EnableDefaultHealthCheckService(false);  // ours: health_service.h
  grpc::ServerBuilder builder;
  // Without this gRPC binds with SO_REUSEPORT, and a second node started on
  // a taken port would quietly share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port_);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             limits_.max_streams_per_connection);
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(limits_.handshake_timeout)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(
                                 limits_.idle_connection_timeout)));
  // The synchronous threads (Admin, Health.Check) are capped; a call that
  // finds none free is refused (RESOURCE_EXHAUSTED) rather than queued.
  grpc::ResourceQuota quota("clustercached");
  quota.SetMaxThreads(limits_.max_admin_threads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&admin_service_);
  health_service_.Register(&builder);
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
  health_service_.Start();
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
  health_service_.Join();
  server_->Wait();
  server_.reset();
}

}  // namespace clustercache
