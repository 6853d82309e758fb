#include "server/cache_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server_builder.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "cache/util/log.h"
#include "server/grpc_call_stats.h"

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

absl::StatusOr<std::string> CacheServer::ReloadTls() {
  if (tls_files_ == nullptr) {
    return absl::FailedPreconditionError("no TLS (--tls-cert, --tls-key)");
  }
  absl::StatusOr<std::string> reloaded = tls_files_->Reload();
  if (reloaded.ok() && http_ != nullptr) {
    absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context =
        HttpTlsContext(*tls_files_);
    if (!context.ok()) return context.status();
    http_->SetTls(*std::move(context));
  }
  return reloaded;
}

namespace {

// Plaintext, or TLS from the checked copies in `*files` (tls_files.h).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> CredentialsFor(
    const ServerTls& tls, std::unique_ptr<ServedTlsFiles>* files) {
  if (tls.cert.empty() && tls.key.empty()) {
    if (!tls.client_ca.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert.empty() || tls.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  std::string served;
  absl::StatusOr<std::unique_ptr<ServedTlsFiles>> opened =
      ServedTlsFiles::Open(tls, &served);
  if (!opened.ok()) return opened.status();
  *files = *std::move(opened);
  LogInfo("TLS: ", served);
  const std::string identity = (*files)->identity_path();
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          identity, identity, (*files)->client_ca_path(),
          /*refresh_interval_sec=*/1);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

absl::Status CacheServer::Start(const std::string& listen, const ServerTls& tls,
                                const std::string& admin_listen) {
  // Every call is counted (and logged) by an interceptor: one per server.
  auto interceptors = [this] {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        v;
    v.push_back(
        std::make_unique<GrpcCallStatsFactory>(&cache_->stats(), access_log_));
    return v;
  };
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      CredentialsFor(tls, &tls_files_);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(false);  // ours: health_service.h
  // Admin on its own address first: it has no queues to drain if the main
  // listener then fails.
  if (!admin_listen.empty()) {
    grpc::ServerBuilder admin;
    admin.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    admin.AddListeningPort(admin_listen, *credentials, &admin_port_);
    grpc::ResourceQuota admin_quota("clustercached-admin");
    admin_quota.SetMaxThreads(limits_.max_admin_threads);
    admin.SetResourceQuota(admin_quota);
    admin.RegisterService(&admin_service_);
    admin.experimental().SetInterceptorCreators(interceptors());
    admin_server_ = admin.BuildAndStart();
    if (admin_server_ == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", admin_listen, " (--admin-listen)"));
    }
  }
  grpc::ServerBuilder builder;
  // Without this gRPC binds with SO_REUSEPORT, and a second node started on
  // a taken port would quietly share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen, *credentials, &port_);
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
  if (admin_listen.empty()) builder.RegisterService(&admin_service_);
  health_service_.Register(&builder);
  // Room for the largest payload plus its metadata; larger messages are
  // refused by gRPC before they reach the cache.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(max_payload_bytes_ + (64 << 10)));
  builder.SetMaxSendMessageSize(
      static_cast<int>(max_payload_bytes_ + (64 << 10)));
  cache_workers_.Register(&builder);
  builder.experimental().SetInterceptorCreators(interceptors());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    if (admin_server_ != nullptr) {
      admin_server_->Shutdown();
      admin_server_->Wait();
      admin_server_.reset();
    }
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen,
                     " (address in use, or not a local address?)"));
  }
  cache_workers_.Start();
  health_service_.Start();
  return absl::OkStatus();
}

absl::Status CacheServer::StartHttp(const std::string& listen,
                                    const HttpLimits& limits,
                                    HttpRouteOptions options) {
  options.metrics = metrics_.get();
  http_routes_ =
      std::make_unique<HttpRoutes>(cache_, &auth_, std::move(options));
  http_ = std::make_unique<HttpServer>(http_routes_.get(), limits,
                                       &cache_->stats());
  http_->SetAccessLog(access_log_);
  if (tls_files_ != nullptr) {  // HTTPS with the same files as gRPC
    absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context =
        HttpTlsContext(*tls_files_);
    if (!context.ok()) return context.status();
    http_->SetTls(*std::move(context));
  }
  absl::Status s = http_->Start(listen);
  if (!s.ok()) http_.reset();
  return s;
}

absl::Status CacheServer::StartMetrics(const std::string& listen,
                                       int64_t memory_limit_bytes) {
  metrics_ = std::make_unique<Metrics>(cache_, memory_limit_bytes);
  metrics_page_ = std::make_unique<MetricsPage>(metrics_.get());
  // A scraper or two: one thread, a few connections.
  HttpLimits limits;
  limits.threads = 1;
  limits.max_connections = 64;
  limits.max_body_bytes = 0;
  metrics_http_ = std::make_unique<HttpServer>(metrics_page_.get(), limits,
                                               &cache_->stats());
  absl::Status s = metrics_http_->Start(listen, "--metrics-listen");
  if (!s.ok()) metrics_http_.reset();
  return s;
}

void CacheServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  // Waiting fetches end now (TIMEOUT: their callers render without storing)
  // instead of holding the shutdown until leases lapse.
  health_service_.Shutdown();
  if (http_routes_ != nullptr) http_routes_->Stopping();
  cache_->CancelWaits();
  // One grace for every face, not one each.
  const absl::Time deadline = absl::Now() + grace;
  const auto grpc_deadline = absl::ToChronoTime(deadline);
  if (http_ != nullptr) http_->Shutdown(grace);
  if (metrics_http_ != nullptr) metrics_http_->Shutdown(absl::ZeroDuration());
  cache_workers_.StopTaking();
  server_->Shutdown(grpc_deadline);
  if (admin_server_ != nullptr) {
    admin_server_->Shutdown(grpc_deadline);
    admin_server_->Wait();
    admin_server_.reset();
  }
  cache_workers_.Join();
  health_service_.Join();
  server_->Wait();
  server_.reset();
}

}  // namespace clustercache
