// CacheServer: owns the gRPC server's lifecycle: builds it over a
// ContentCache, binds (port 0 picks a free port, for tests), serves the Cache,
// Admin and grpc.health.v1 services, and shuts down gracefully.
#ifndef CLUSTERCACHE_SERVER_CACHE_SERVER_H_
#define CLUSTERCACHE_SERVER_CACHE_SERVER_H_

#include <grpcpp/server.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cache/content_cache.h"
#include "server/access_log.h"
#include "server/admin_service.h"
#include "server/cache_workers.h"
#include "server/health_service.h"
#include "server/http/http_routes.h"
#include "server/http/http_server.h"
#include "server/http/metrics_page.h"
#include "server/metrics.h"
#include "server/tls_files.h"

namespace clustercache {

// What one node lets its clients hold (flags of the same names).
struct ServerLimits {
  int worker_threads = 2;                 // Fetch, Store, Release
  int max_health_watchers = 1000;         // open Health.Watch streams
  int max_streams_per_connection = 1000;  // HTTP/2 MAX_CONCURRENT_STREAMS
  int max_admin_threads = 32;  // gRPC's synchronous threads (Admin, Check)
  // A connection that has not finished its HTTP/2 handshake by then, or
  // has had no call for the idle time, is closed.
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration idle_connection_timeout = absl::Minutes(10);
};

// TLS on the listener (PEM file paths; no cert: plaintext). The files are
// watched: a rotated certificate and key are served to new connections
// within a second, without a restart.
class CacheServer {
 public:
  // REQUIRES: `cache` outlives this object.
  CacheServer(ContentCache* cache, std::string node_name,
              int64_t max_payload_bytes, ServerLimits limits = {});
  ~CacheServer();

  // Binds `listen` (HOST:PORT) and starts serving. With `admin_listen`,
  // Admin is served there (its own server and threads) and not on
  // `listen`.
  absl::Status Start(const std::string& listen, const ServerTls& tls = {},
                     const std::string& admin_listen = "");
  // The bound port (after Start).
  int port() const { return port_; }
  // The Admin port with an admin_listen (0 for a unix socket or none).
  int admin_port() const { return admin_port_; }
  // Tokens and roles (--auth-file): load before Start; reload at any time.
  Authorizer& auth() { return auth_; }
  // Every answered call (gRPC and HTTP) is written there too. Before
  // Start; REQUIRES: it outlives this object.
  void SetAccessLog(AccessLog* access_log) { access_log_ = access_log; }
  // /metrics on `listen` (HOST:PORT; its own listener, no token), and on
  // the HTTP face (any known token) if that starts after. Before StartHttp.
  absl::Status StartMetrics(const std::string& listen,
                            int64_t memory_limit_bytes);
  int metrics_port() const {
    return metrics_http_ == nullptr ? 0 : metrics_http_->port();
  }
  // The HTTP face on HOST:PORT (after Start; see http_routes.h). Shutdown
  // stops it first.
  absl::Status StartHttp(const std::string& listen, const HttpLimits& limits,
                         HttpRouteOptions options);
  // Its bound port (0: none).
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  const HttpServer* http() const { return http_.get(); }
  // Re-reads the TLS files (SIGHUP): what is served now, or why the files
  // were refused (then the ones before stay). FailedPrecondition without
  // TLS.
  absl::StatusOr<std::string> ReloadTls();
  // Stops accepting calls; running calls get `grace` to finish.
  void Shutdown(absl::Duration grace);

 private:
  ContentCache* const cache_;
  Authorizer auth_;  // before the services that use it
  CacheWorkers cache_workers_;
  AdminService admin_service_;
  HealthService health_service_;
  const int64_t max_payload_bytes_;
  const ServerLimits limits_;
  std::unique_ptr<ServedTlsFiles> tls_files_;  // outlives the servers
  std::unique_ptr<HttpRoutes> http_routes_;    // outlives http_
  std::unique_ptr<HttpServer> http_;
  AccessLog* access_log_ = nullptr;
  std::unique_ptr<Metrics> metrics_;           // outlives the listeners
  std::unique_ptr<MetricsPage> metrics_page_;  // outlives metrics_http_
  std::unique_ptr<HttpServer> metrics_http_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> admin_server_;  // with an admin_listen
  int admin_port_ = 0;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_CACHE_SERVER_H_
