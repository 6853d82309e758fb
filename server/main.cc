// clustercached: parses flags, opens the store, and serves until SIGTERM or
// SIGINT. Wiring only.
#include <signal.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "cache/clock.h"
#include "cache/content_cache.h"
#include "cache/duration.h"
#include "cache/store/open_store.h"
#include "cache/util/log.h"
#include "cache/util/store_url.h"
#include "cache/util/version.h"
#include "server/cache_server.h"
#include "server/log_routing.h"
#include "server/server_config.h"

namespace {

constexpr char kUsage[] =
    "clustercached: a cluster-wide content cache with global expiry.\n"
    "Serves clustercache.v1.Cache (app nodes) and clustercache.v1.Admin\n"
    "(clustercachectl) over gRPC, plus grpc.health.v1, and an HTTP face.\n\n"
    "usage: clustercached [--flag=value ...] [--flagfile=FILE]\n\n"
    "Every flag may also come from the environment, as $CLUSTERCACHED_ and\n"
    "its name in capitals with '_' for '-' (shown after each flag), or from\n"
    "a flagfile: one setting a line (--name=value, --name value or\n"
    "name=value; # comments). The command line wins over the environment,\n"
    "which wins over flagfiles.\n\n"
    "Durations: 500ms, 90s, 15m, 2h, 2d (sums: 1h30m).\n"
    "Sizes: 4096, 64KiB, 512MB, 1G, 1gb (binary: 1G = 2^30 bytes).\n\n"
    "flags:\n";

// SIGHUP: reopens the access log, re-reads the TLS files and the tokens;
// what fails to load leaves what was there.
void Reload(const clustercache::ServerConfig& config,
            clustercache::CacheServer& server,
            clustercache::AccessLog* access_log) {
  using namespace clustercache;
  if (access_log != nullptr) {
    if (absl::Status s = access_log->Reopen(); !s.ok()) {
      LogWarning("received SIGHUP: ", s.message(),
                 "; access lines go to the file before it");
    } else {
      LogInfo("received SIGHUP: access log reopened");
    }
  }
  if (!config.tls.cert.empty()) {
    absl::StatusOr<std::string> tls = server.ReloadTls();
    if (tls.ok()) {
      LogInfo("received SIGHUP: TLS: ", *tls,
              "; new connections get it, open ones keep theirs");
    } else {
      LogWarning(
          "received SIGHUP: TLS files refused, new connections keep "
          "the certificate before them: ",
          tls.status().message());
    }
  }
  if (config.auth_file.empty()) {
    if (config.tls.cert.empty() && access_log == nullptr) {
      LogInfo(
          "received SIGHUP: nothing to re-read (no --auth-file, no TLS, no "
          "--access-log)");
    }
    return;
  }
  absl::StatusOr<std::string> loaded = server.auth().Load(config.auth_file);
  if (loaded.ok()) {
    LogInfo("received SIGHUP: auth: ", *loaded);
  } else {
    LogWarning(
        "received SIGHUP: auth file refused, the tokens before it "
        "stay: ",
        loaded.status().message());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace clustercache;
  // Debian builds abseil with Mutex deadlock detection on (a debug check that
  // costs every lock); the tests keep it, the server does not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ServerConfig config;
  // URLs with passwords may come from the environment rather than argv
  // (which every user of the machine can read): $CLUSTERCACHED_STORE, or
  // the older names read here, below every other source.
  for (const auto& [name, field] : {std::pair<const char*, std::string*>{
                                        "CLUSTERCACHE_STORE", &config.store},
                                    {"CLUSTERCACHE_LEDGER", &config.ledger}}) {
    if (const char* value = std::getenv(name)) *field = value;
  }
  FlagTable flags;
  config.Register(&flags);
  flags.SetEnvPrefix("CLUSTERCACHED_");
  std::vector<std::string> args(argv + 1, argv + argc), positional;
  if (PrintVersionIfAsked(args, "clustercached")) return 0;
  bool help = false;
  absl::Status parsed = flags.Parse(args, &positional, nullptr, &help);
  if (help) {
    std::cout << kUsage << RedactUrls(flags.Help());
    return 0;
  }
  if (parsed.ok() && !positional.empty()) {
    parsed = absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", positional[0], "\""));
  }
  config.Finish();
  if (parsed.ok()) parsed = config.Validate();
  if (!parsed.ok()) {
    std::cerr << "clustercached: " << parsed.message() << "\n";
    return 2;
  }
  ConfigureLogs(*ParseLogLevel(config.log_level),
                *ParseLogFormat(config.log_format));

  // Signals are taken by sigwait below, not by a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // re-reads --auth-file, checks TLS files
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LogInfo(VersionLine("clustercached"), " starting; effective configuration: ",
          RedactUrls(absl::StrReplaceAll(flags.Show(), {{"\n", " "}})));
  // Each connection is a file descriptor: their limit is the cap on
  // connections. The soft limit is raised as far as the hard one allows.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &files) != 0)
        getrlimit(RLIMIT_NOFILE, &files);
    }
    LogInfo("open files limit ", files.rlim_cur,
            " (caps client connections; raise it with ulimit -n)");
  }
  SystemClock clock(absl::ToInt64Microseconds(config.clock_offset));
  StoreSettings settings;
  settings.clock = &clock;
  settings.namespace_name = config.namespace_name;
  settings.memory_limit = config.memory_limit;
  settings.redis_pool_size = static_cast<int>(config.redis_pool_size);
  settings.redis_timeout = config.redis_timeout;
  settings.memcached_pool_size = static_cast<int>(config.memcached_pool_size);
  settings.memcached_timeout = config.memcached_timeout;
  settings.max_payload = config.max_payload;
  settings.ledger_url = config.ledger;
  settings.ledger_pool_size = static_cast<int>(config.ledger_pool_size);
  settings.ledger_timeout = config.ledger_timeout;
  settings.migrate_from = config.migrate_from;
  settings.migrate_from_ledger = config.migrate_from_ledger;
  // An unreachable store is waited for up to --store-wait (a SIGTERM ends
  // the wait); anything else, or the end of the wait, stops the node.
  const absl::Time give_up = absl::Now() + config.store_wait;
  absl::Time next_note = absl::InfinitePast();
  absl::StatusOr<std::unique_ptr<Store>> store;
  for (;;) {
    store = OpenStore(config.store, settings);
    if (store.ok()) break;
    const absl::Status& why = store.status();
    const absl::Time now = absl::Now();
    if (!(absl::IsUnavailable(why) || absl::IsDeadlineExceeded(why)) ||
        now >= give_up) {
      LogError("cannot open store: ", why.message(), "; not serving",
               config.store_wait > absl::ZeroDuration()
                   ? absl::StrCat(" (waited --store-wait=",
                                  absl::FormatDuration(config.store_wait), ")")
                   : " (--store-wait=30s would wait for it at start)");
      return 1;
    }
    if (now >= next_note) {
      LogWarning(
          "store not reachable yet (", why.message(),
          "); waiting for it, at most ",
          absl::FormatDuration(absl::Ceil(give_up - now, absl::Seconds(1))),
          " more (--store-wait)");
      next_note = now + absl::Seconds(5);
    }
    const timespec second{1, 0};
    const int stop = sigtimedwait(&signals, nullptr, &second);
    if (stop == SIGTERM || stop == SIGINT) {
      LogInfo("received ", stop == SIGTERM ? "SIGTERM" : "SIGINT",
              " while waiting for the store; stopped");
      return 0;
    }
  }
  LogInfo("store: ", (*store)->Describe());
  ContentCacheOptions options;
  options.policy = config.policy;
  options.max_payload_bytes = config.max_payload;
  options.max_waiters_per_key = static_cast<int>(config.max_waiters_per_key);
  options.max_waiters = static_cast<int>(config.max_waiters);
  ContentCache cache(store->get(), options);
  CacheServer server(&cache, config.node_name, config.max_payload,
                     config.Limits());
  std::unique_ptr<AccessLog> access_log;
  if (!config.access_log.empty()) {
    absl::StatusOr<std::unique_ptr<AccessLog>> opened =
        AccessLog::Open(config.access_log, *ParseLogFormat(config.log_format));
    if (!opened.ok()) {
      LogError(opened.status().message());
      return 2;
    }
    access_log = *std::move(opened);
    server.SetAccessLog(access_log.get());
    LogInfo("access log: ",
            config.access_log == "-" ? "stdout" : config.access_log);
  }
  if (!config.auth_file.empty()) {
    absl::StatusOr<std::string> loaded = server.auth().Load(config.auth_file);
    if (!loaded.ok()) {
      LogError("--auth-file: ", loaded.status().message());
      return 2;
    }
    LogInfo("auth: ", *loaded, "; every call needs a token");
  }
  if (absl::Status s =
          server.Start(config.listen, config.tls, config.admin_listen);
      !s.ok()) {
    LogError(s.message());
    return 1;
  }
  if (!config.metrics_listen.empty()) {
    if (absl::Status s = server.StartMetrics(
            config.metrics_listen,
            config.store == "memory" ? config.memory_limit : 0);
        !s.ok()) {
      LogError(s.message());
      server.Shutdown(absl::ZeroDuration());
      return 1;
    }
    LogInfo("metrics on ",
            config.metrics_listen.substr(0, config.metrics_listen.rfind(':')),
            ":", server.metrics_port(), " (GET /metrics)");
  }
  if (!config.http_listen.empty()) {
    if (absl::Status s = server.StartHttp(config.http_listen, config.http,
                                          config.http_routes);
        !s.ok()) {
      LogError(s.message());
      server.Shutdown(absl::ZeroDuration());
      return 1;
    }
    LogInfo("HTTP on ",
            config.http_listen.substr(0, config.http_listen.rfind(':')), ":",
            server.http_port(),
            config.tls.cert.empty() ? "" : " (HTTPS, the --tls-* files)");
  }
  std::string address = config.listen.substr(0, config.listen.rfind(':'));
  if (!config.admin_listen.empty()) {
    const std::string admin =
        config.admin_listen.substr(0, config.admin_listen.rfind(':'));
    LogInfo("Admin on ",
            absl::StartsWith(config.admin_listen, "unix:")
                ? config.admin_listen
                : absl::StrCat(admin, ":", server.admin_port()),
            " only");
  }
  sd_notifyf(0, "READY=1\nSTATUS=serving on %s:%d", address.c_str(),
             server.port());
  LogInfo("serving on ", address, ":", server.port(), " as node \"",
          config.node_name, "\"");

  // --insecure on a network address is said at start and every hour.
  const bool open_to_all =
      !config.ListensOnLoopback() &&
      (config.tls.cert.empty() || config.auth_file.empty());
  auto warn_if_open = [&] {
    if (!open_to_all) return;
    LogWarning("--insecure: ", config.listen, " serves ",
               config.tls.cert.empty() ? "without TLS" : "with TLS",
               config.auth_file.empty() ? " and without tokens" : "",
               ": anyone who can reach it can read, write and purge");
  };
  warn_if_open();
  int sig = 0;
  for (;;) {
    const timespec hour{3600, 0};
    sig = sigtimedwait(&signals, nullptr, &hour);
    if (sig < 0) {  // an hour passed (or EINTR)
      if (errno == EAGAIN) warn_if_open();
      continue;
    }
    if (sig != SIGHUP) break;
    sd_notify(0, "RELOADING=1");
    Reload(config, server, access_log.get());
    sd_notify(0, "READY=1");
  }
  LogInfo("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT",
          "; shutting down (running calls get 5s)");
  sd_notify(0, "STOPPING=1");
  server.Shutdown(absl::Seconds(5));
  LogInfo("stopped");
  return 0;
}
