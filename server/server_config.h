// ServerConfig: every setting of clustercached, registered as rows of a
// FlagTable (name, help, default in one place), validated as a whole, and
// printable so the effective configuration appears in the start-up log.
#ifndef CLUSTERCACHE_SERVER_SERVER_CONFIG_H_
#define CLUSTERCACHE_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "cache/scope_policy.h"
#include "cache/util/flag_table.h"
#include "server/cache_server.h"

namespace clustercache {

struct ServerConfig {
  std::string listen = "127.0.0.1:7411";
  std::string admin_listen;                       // empty: Admin on `listen`
  std::string http_listen = "127.0.0.1:7412";     // empty: no HTTP face
  std::string metrics_listen = "127.0.0.1:7413";  // empty: none
  std::string access_log;                         // empty: none; "-": stdout
  HttpLimits http;               // max_body_bytes = max_payload
  HttpRouteOptions http_routes;  // node_name set by Finish
  std::string store = "memory";
  absl::Duration store_wait;  // at start: how long to wait for the store
  std::string namespace_name = "cc";
  int64_t memory_limit = int64_t{1} << 30;
  std::string node_name;            // empty = the host name
  std::string log_level = "info";   // debug, info, warn, error
  std::string log_format = "text";  // text, json
  std::string auth_file;            // empty = no tokens needed
  ServerTls tls;
  bool insecure = false;  // allow a non-loopback listener without TLS/auth
  int64_t max_payload = int64_t{8} << 20;
  int64_t worker_threads = 2;
  int64_t max_health_watchers = 1000;
  int64_t max_streams_per_connection = 1000;
  int64_t max_admin_threads = 32;
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration idle_connection_timeout = absl::Minutes(10);
  int64_t max_waiters_per_key = 10000;
  int64_t max_waiters = 100000;
  int64_t redis_pool_size = 8;
  absl::Duration redis_timeout = absl::Milliseconds(500);
  int64_t memcached_pool_size = 8;
  absl::Duration memcached_timeout = absl::Milliseconds(500);
  std::string ledger;  // mysql://...; empty = none
  int64_t ledger_pool_size = 4;
  absl::Duration ledger_timeout = absl::Seconds(2);
  std::string migrate_from;  // a live move: the store moved from
  std::string migrate_from_ledger;
  absl::Duration clock_offset;  // testing: skew this node's clock
  ScopePolicy policy;

  // Adds one row per field to `table`; parsing sets the fields.
  void Register(FlagTable* table);
  // Fills defaults that depend on the machine (node name).
  void Finish();
  absl::Status Validate() const;
  ServerLimits Limits() const;
  // True when --listen (and --admin-listen, --http-listen, --metrics-listen)
  // are loopback addresses or unix sockets.
  bool ListensOnLoopback() const;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_SERVER_CONFIG_H_
