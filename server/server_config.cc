#include "server/server_config.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cache/key.h"
#include "cache/util/log.h"

namespace clustercache {

void ServerConfig::Register(FlagTable* t) {
  t->AddString("listen", &listen,
               "address to serve gRPC on, HOST:PORT (port 0 picks one)");
  t->AddString("admin-listen", &admin_listen,
               "serve Admin (clustercachectl) here, e.g. 127.0.0.1:7410 or "
               "unix:/run/clustercache/admin.sock, and not on --listen "
               "(default: on --listen)");
  t->AddString("http-listen", &http_listen,
               "the HTTP face (GET /v1/entries/SCOPE/NAME, /healthz, "
               "/readyz, admin routes): HOST:PORT, port 0 picks one; empty: "
               "none. The same tokens and TLS files (--tls-*: HTTPS) as "
               "gRPC, and the same rule beyond loopback");
  t->AddString("metrics-listen", &metrics_listen,
               "GET /metrics (Prometheus text format) on its own listener, "
               "HOST:PORT, without a token; empty: none. Beyond loopback "
               "it needs --insecure (use the HTTP face's /metrics, with a "
               "token and HTTPS, instead)");
  t->AddString("access-log", &access_log,
               "write one line per answered call, gRPC and HTTP (time, "
               "face, peer, method, status, duration, outcome, bytes; as "
               "--log-format says) to this file, reopened on SIGHUP; \"-\": "
               "stdout. Default: none");
  t->AddInt("http-threads", &http.threads, 1, 64,
            "HTTP: threads serving connections (a waiting request holds "
            "none)");
  t->AddInt("http-max-connections", &http.max_connections, 1, 1000000,
            "HTTP: open connections; more are closed at once (counted)");
  t->AddByteSize("http-max-header", &http.max_header_bytes,
                 "HTTP: largest request header (431 beyond)");
  t->AddByteSize("http-max-url", &http.max_url_bytes,
                 "HTTP: longest request target (414 beyond)");
  t->AddDuration("http-header-timeout", &http.header_timeout,
                 "HTTP: a request's header must arrive within this after its "
                 "first byte, else the connection is closed (slowloris)");
  t->AddDuration("http-idle-timeout", &http.idle_timeout,
                 "HTTP: a kept-alive connection with no request for this "
                 "long is closed");
  t->AddString("http-tags-header", &http_routes.tags_header,
               "HTTP: the response header that lists an entry's tags "
               "(xkey, for Varnish's xkey purges; or Surrogate-Key)");
  t->AddScopeDurations("scope-http-max-age", &http_routes.max_age_by_scope,
                       "HTTP: Cache-Control max-age for fresh entries of "
                       "these scopes, e.g. url-alias=1m (default: no-cache, "
                       "a proxy revalidates every time)");
  t->AddString(
      "store", &store,
      "where entries live: memory, or "
      "redis://[[USER]:PASSWORD@]HOST:PORT[/DB], or "
      "redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...], "
      "or memcached://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...] (a "
      "pool, ketama; with a user, SASL). "
      "Special characters in a password may be %-encoded. Also "
      "from the environment (below), which keeps a password out of the "
      "process list");
  t->AddString("namespace", &namespace_name,
               "every key this node writes to redis or memcached starts with "
               "it, and every ledger row carries it: the nodes of one cluster "
               "share it, and two clusters (staging and production, two "
               "sites) with two namespaces share one Redis, memcached pool or "
               "database without seeing each other. 1 to 32 of A-Z a-z 0-9 _ "
               "-. Changing it starts from an empty cache");
  t->AddDuration("store-wait", &store_wait,
                 "at start, wait this long for a store that does not answer "
                 "yet, saying so every 5s, before giving up (0: give up at "
                 "once; at most 1h). Once serving, an outage makes fetches "
                 "answer UNAVAILABLE until the store is back");
  t->AddByteSize("memory-limit", &memory_limit,
                 "memory store: bytes kept before LRU eviction");
  t->AddString("auth-file", &auth_file,
               "tokens and roles, one a line: NAME ROLE TOKEN (role read: "
               "Fetch; write: Fetch, Store, Release; admin: everything); "
               "clients send authorization: Bearer TOKEN. Re-read on SIGHUP. "
               "Default: no tokens needed");
  t->AddString("tls-cert", &tls.cert,
               "TLS on the listener: the server's certificate chain (PEM); "
               "checked, and re-read on SIGHUP: new connections get the new "
               "pair, a pair that fails the check is refused");
  t->AddString("tls-key", &tls.key, "TLS: the certificate's key (PEM)");
  t->AddString("tls-client-ca", &tls.client_ca,
               "mTLS: clients must present a certificate signed by this CA "
               "(PEM)");
  t->AddBool("insecure", &insecure,
             "allow a non-loopback --listen without TLS and --auth-file "
             "(anyone who can reach the port can then purge the cache); "
             "warned at start and every hour");
  t->AddString("log-level", &log_level,
               "debug, info, warn or error: lines below it are not written "
               "(gRPC's and protobuf's own lines too)");
  t->AddString("log-format", &log_format,
               "text (\"TIME LEVEL message\") or json (one object a line: "
               "time, level, message)");
  t->AddString("node-name", &node_name,
               "name reported as served_by (default: the host name)");
  t->AddByteSize("max-payload", &max_payload, "largest payload accepted");
  t->AddInt("worker-threads", &worker_threads, 1, 64,
            "threads answering Fetch, Store and Release; each takes the "
            "fetches that have arrived as one batch (one pipelined round "
            "trip on redis)");
  t->AddInt("max-health-watchers", &max_health_watchers, 1, 100000,
            "open grpc.health.v1 Watch streams (they hold no thread); more "
            "are refused (RESOURCE_EXHAUSTED)");
  t->AddInt("max-streams-per-connection", &max_streams_per_connection, 1,
            100000,
            "concurrent calls one client connection may have open "
            "(HTTP/2 MAX_CONCURRENT_STREAMS); more wait in the client");
  t->AddInt("max-admin-threads", &max_admin_threads, 2, 1024,
            "threads for Admin calls and health checks; a call that finds "
            "none free is refused (RESOURCE_EXHAUSTED)");
  t->AddDuration("handshake-timeout", &handshake_timeout,
                 "a connection that has not completed its HTTP/2 handshake "
                 "by then is closed");
  t->AddDuration("idle-connection-timeout", &idle_connection_timeout,
                 "a connection with no call for this long is closed (clients "
                 "reconnect when they need to)");
  t->AddInt("max-waiters-per-key", &max_waiters_per_key, 1, 1000000,
            "fetches that may wait on one key for another holder's result; "
            "more are refused at once (RESOURCE_EXHAUSTED)");
  t->AddInt("max-waiters", &max_waiters, 1, 10000000,
            "fetches that may wait in all (as above)");
  t->AddInt("redis-pool-size", &redis_pool_size, 1, 1024,
            "redis: connections per server");
  t->AddDuration("redis-timeout", &redis_timeout,
                 "redis: timeout to connect and for every command");
  t->AddInt("memcached-pool-size", &memcached_pool_size, 1, 1024,
            "memcached: connections per server");
  t->AddDuration("memcached-timeout", &memcached_timeout,
                 "memcached: timeout to connect and for every call");
  t->AddString("ledger", &ledger,
               "durable ledger beside a redis or memcached store: "
               "mysql://USER:PASS@HOST:PORT/DB (its own database; the schema "
               "is created and upgraded at start). Lets memcached list and "
               "purge, and keeps expiry keys across store restarts. Also from "
               "the environment");
  t->AddInt("ledger-pool-size", &ledger_pool_size, 1, 256,
            "ledger: connections (plus one for recording stores)");
  t->AddDuration("ledger-timeout", &ledger_timeout,
                 "ledger: timeout to connect and for every statement");
  t->AddString("migrate-from", &migrate_from,
               "a live move: the store this cluster moves from (a --store "
               "URL). Until `clustercachectl migrate --finish` it is read, "
               "and both stores are written; then --store is read. README: "
               "Moving to another store. Also from the environment");
  t->AddString("migrate-from-ledger", &migrate_from_ledger,
               "the ledger beside --migrate-from (mysql://...)");
  t->AddSignedDuration(
      "clock-offset", &clock_offset,
      "testing: shift this node's clock (skew tests); timestamps come from "
      "the store's clock, so a shared store is unaffected");
  t->AddDuration("lease-time", &policy.lease_time,
                 "how long a lease lasts before others may take it over");
  t->AddDuration("keep", &policy.keep,
                 "how long a stale copy is kept and served after it stops "
                 "being fresh");
  t->AddScopeDurations("scope-lease-time", &policy.lease_time_by_scope,
                       "lease time per scope, e.g. content-view=30s,rss=10s");
  t->AddScopeDurations("scope-keep", &policy.keep_by_scope,
                       "keep time per scope, e.g. url-alias=1d");
}

ServerLimits ServerConfig::Limits() const {
  ServerLimits l;
  l.worker_threads = static_cast<int>(worker_threads);
  l.max_health_watchers = static_cast<int>(max_health_watchers);
  l.max_streams_per_connection = static_cast<int>(max_streams_per_connection);
  l.max_admin_threads = static_cast<int>(max_admin_threads);
  l.handshake_timeout = handshake_timeout;
  l.idle_connection_timeout = idle_connection_timeout;
  return l;
}

void ServerConfig::Finish() {
  if (node_name.empty()) {
    char host[256] = {0};
    if (gethostname(host, sizeof(host) - 1) == 0) node_name = host;
    if (node_name.empty()) node_name = "clustercached";
  }
  http_routes.node_name = node_name;
  http.max_body_bytes = max_payload;
}

namespace {

bool IsLoopback(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  absl::string_view host_view = host;
  absl::ConsumePrefix(&host_view, "::ffff:");  // IPv4 in IPv6
  return host_view == "localhost" || host_view == "::1" ||
         absl::StartsWith(host_view, "127.");
}

}  // namespace

bool ServerConfig::ListensOnLoopback() const {
  return IsLoopback(listen) &&
         (admin_listen.empty() || IsLoopback(admin_listen)) &&
         (http_listen.empty() || IsLoopback(http_listen)) &&
         (metrics_listen.empty() || IsLoopback(metrics_listen));
}

absl::Status ServerConfig::Validate() const {
  if (absl::Status s = ParseLogLevel(log_level).status(); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: ", s.message()));
  }
  if (absl::Status s = ParseLogFormat(log_format).status(); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: ", s.message()));
  }
  if (!ListensOnLoopback() && !insecure &&
      (tls.cert.empty() || auth_file.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen=", listen,
        admin_listen.empty() ? ""
                             : absl::StrCat(" --admin-listen=", admin_listen),
        http_listen.empty() ? "" : absl::StrCat(" --http-listen=", http_listen),
        metrics_listen.empty()
            ? ""
            : absl::StrCat(" --metrics-listen=", metrics_listen),
        " is reachable from the network: add TLS (--tls-cert, --tls-key; "
        "both faces use them) and tokens (--auth-file), or --insecure to let "
        "anyone who can reach it read, write and purge the cache"));
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, const std::string*>{"http-listen", &http_listen},
        {"metrics-listen", &metrics_listen}}) {
    if (!value->empty() && value->find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", *value, ": want HOST:PORT"));
    }
  }
  if (http.max_header_bytes < 1024 || http.max_header_bytes > (1 << 20) ||
      http.max_url_bytes < 256 || http.max_url_bytes > (1 << 20)) {
    return absl::InvalidArgumentError(
        "--http-max-header: want 1KiB to 1MiB; --http-max-url: 256B to 1MiB");
  }
  for (const auto& [scope, d] : http_routes.max_age_by_scope) {
    if (d > absl::Hours(24 * 365)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--scope-http-max-age: ", scope, ": want at most a year"));
    }
  }
  if (listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen=", listen, ": want HOST:PORT"));
  }
  for (const auto& [name, d] :
       {std::pair<const char*, absl::Duration>{"handshake-timeout",
                                               handshake_timeout},
        {"idle-connection-timeout", idle_connection_timeout},
        {"http-header-timeout", http.header_timeout},
        {"http-idle-timeout", http.idle_timeout}}) {
    if (d < absl::Milliseconds(100) || d > absl::Hours(24)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": want 100ms to 24h"));
    }
  }
  if (absl::Status s = ValidateNamespace(namespace_name); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
  }
  if (store_wait > absl::Hours(1)) {
    return absl::InvalidArgumentError("--store-wait: want 0 to 1h");
  }
  if (max_payload < 1 || max_payload > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError("--max-payload: want 1 byte to 1GiB");
  }
  return policy.Validate();
}

}  // namespace clustercache
