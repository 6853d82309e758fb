#include "server/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_split.h"
#include "cache/util/version.h"
#include "prometheus/text_serializer.h"

namespace clustercache {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void AddValue(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

// A family of one value.
void AddOne(std::vector<MetricFamily>& out, std::string name, std::string help,
            MetricType type, Labels labels, double value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  AddValue(f, std::move(labels), value);
  out.push_back(std::move(f));
}

void AddHistogram(MetricFamily& f, Labels labels,
                  const LatencyHistogram::Snapshot& s) {
  ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = s.count;
  m.histogram.sample_sum = s.sum_seconds;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.counts.size(); ++i) {
    cumulative += s.counts[i];
    m.histogram.bucket.push_back(
        {cumulative, i < LatencyHistogram::kBounds.size()
                         ? LatencyHistogram::kBounds[i]
                         : std::numeric_limits<double>::infinity()});
  }
  f.metric.push_back(std::move(m));
}

// Calls of one RequestStats: a counter by labels and code, and a duration
// histogram by labels.
void AddRequests(std::vector<MetricFamily>& out, const RequestStats& stats,
                 const std::string& count_name, const std::string& count_help,
                 const std::string& code_label, bool errors_only,
                 const std::string& duration_name,
                 const std::string& duration_help) {
  MetricFamily counts = Family(count_name, count_help, MetricType::Counter);
  MetricFamily durations =
      Family(duration_name, duration_help, MetricType::Histogram);
  stats.Visit([&](const RequestStats::Series& series) {
    Labels labels;
    for (size_t i = 0; i < stats.label_names().size(); ++i) {
      labels.push_back({stats.label_names()[i], series.labels()[i]});
    }
    for (const auto& [code, n] : series.Codes()) {
      if (errors_only && code == "OK") continue;
      Labels with_code = labels;
      with_code.push_back({code_label, code});
      AddValue(counts, std::move(with_code), static_cast<double>(n));
    }
    AddHistogram(durations, labels, series.Durations());
  });
  out.push_back(std::move(counts));
  out.push_back(std::move(durations));
}

// process_* as the Prometheus client libraries name them, from /proc.
void AddProcess(std::vector<MetricFamily>& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis, from field 3 (state).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::vector<std::string> f =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  if (f.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto field = [&](int n) { return std::strtod(f[n - 3].c_str(), nullptr); };
  AddOne(out, "process_cpu_seconds_total",
         "Total user and system CPU time spent in seconds.",
         MetricType::Counter, {}, (field(14) + field(15)) / ticks);
  AddOne(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
         MetricType::Gauge, {}, field(23));
  AddOne(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
         MetricType::Gauge, {}, field(24) * page);
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  if (uptime_file >> uptime) {
    const double boot = absl::ToUnixMicros(absl::Now()) / 1e6 - uptime;
    AddOne(out, "process_start_time_seconds",
           "Start time of the process since unix epoch in seconds.",
           MetricType::Gauge, {}, boot + field(22) / ticks);
  }
  int fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++fds;
    closedir(dir);
    fds -= 3;  // ".", ".." and the directory's own
  }
  AddOne(out, "process_open_fds", "Number of open file descriptors.",
         MetricType::Gauge, {}, fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    AddOne(out, "process_max_fds", "Maximum number of open file descriptors.",
           MetricType::Gauge, {}, static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace

Metrics::Metrics(ContentCache* cache, int64_t memory_limit_bytes,
                 absl::Duration usage_every)
    : cache_(cache),
      memory_limit_bytes_(memory_limit_bytes),
      usage_every_(usage_every) {}

std::optional<StoreUsage> Metrics::RecentUsage() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now - usage_read_ >= usage_every_) {
    absl::StatusOr<StoreUsage> usage = cache_->Usage();
    usage_read_ = now;
    usage_.reset();
    if (usage.ok()) usage_ = *usage;
  }
  return usage_;
}

std::vector<MetricFamily> Metrics::Collect() const {
  std::vector<MetricFamily> out;
  const Stats& stats = cache_->stats();

  MetricFamily gets =
      Family("clustercache_gets_total",
             "Fetches by scope and what they served.", MetricType::Counter);
  MetricFamily puts =
      Family("clustercache_puts_total", "Writes by scope and how they ended.",
             MetricType::Counter);
  MetricFamily leases =
      Family("clustercache_leases_total",
             "Leases by scope: granted (none held before), takeover (over a "
             "lapsed one), released, lapsed (the holder came back too late).",
             MetricType::Counter);
  MetricFamily refused =
      Family("clustercache_waits_refused_total",
             "Fetches refused a wait: too many waiters.", MetricType::Counter);
  MetricFamily lease_wait =
      Family("clustercache_lease_wait_seconds",
             "How long fetches waited for another holder's result, by scope.",
             MetricType::Histogram);
  stats.VisitScopes([&](const std::string& scope, const ScopeCounters& c) {
    auto v = [](const std::atomic<int64_t>& a) {
      return static_cast<double>(a.load(std::memory_order_relaxed));
    };
    auto with = [&](const char* result) {
      return Labels{{"scope", scope}, {"result", result}};
    };
    // misses counts timeouts too; stores counts unconditional writes too.
    AddValue(gets, with("hit"), v(c.hits));
    AddValue(gets, with("stale"), v(c.stale_serves));
    AddValue(gets, with("miss"), v(c.misses) - v(c.timeouts));
    AddValue(gets, with("timeout"), v(c.timeouts));
    AddValue(gets, with("unavailable"), v(c.unavailable));
    AddValue(puts, with("stored"), v(c.stores) - v(c.unconditional_stores));
    AddValue(puts, with("unconditional"), v(c.unconditional_stores));
    AddValue(puts, with("superseded"), v(c.superseded));
    AddValue(puts, with("lease_lost"), v(c.lease_lost));
    AddValue(leases, with("granted"), v(c.leases_granted) - v(c.takeovers));
    AddValue(leases, with("takeover"), v(c.takeovers));
    AddValue(leases, with("released"), v(c.releases));
    AddValue(leases, with("lapsed"), v(c.lapsed));
    AddValue(refused, {{"scope", scope}}, v(c.waits_refused));
    AddHistogram(lease_wait, {{"scope", scope}}, c.lease_wait.Take());
  });
  for (MetricFamily* f : {&gets, &puts, &leases, &refused, &lease_wait}) {
    out.push_back(std::move(*f));
  }

  MetricFamily wake = Family("clustercache_waiter_wake_seconds",
                             "From a watch's news of a stored entry to each "
                             "waiter's answer handed to its face.",
                             MetricType::Histogram);
  AddHistogram(wake, {}, stats.waiter_wake.Take());
  out.push_back(std::move(wake));
  AddRequests(out, stats.store_ops, "clustercache_store_errors_total",
              "Store operations that failed, by op and code.", "code",
              /*errors_only=*/true, "clustercache_store_operation_seconds",
              "Store operations' durations, by op.");

  const NodeCounters& n = stats.node();
  auto node = [](const std::atomic<int64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  MetricFamily invalidations =
      Family("clustercache_invalidations_total",
             "Invalidations by kind: scope, all, tag (an expiry key moved); "
             "key, prefix (an expire or delete).",
             MetricType::Counter);
  AddValue(invalidations, {{"kind", "scope"}}, node(n.invalidations_scope));
  AddValue(invalidations, {{"kind", "all"}}, node(n.invalidations_all));
  AddValue(invalidations, {{"kind", "tag"}}, node(n.invalidations_tag));
  AddValue(invalidations, {{"kind", "key"}}, node(n.invalidations_key));
  AddValue(invalidations, {{"kind", "prefix"}}, node(n.invalidations_prefix));
  out.push_back(std::move(invalidations));
  AddOne(out, "clustercache_purged_entries_total",
         "Entries removed by purges through this node.", MetricType::Counter,
         {}, node(n.purged_entries));
  MetricFamily calls_refused =
      Family("clustercache_calls_refused_total",
             "Calls refused by authorization, by reason.", MetricType::Counter);
  AddValue(calls_refused, {{"reason", "unauthenticated"}},
           node(n.unauthenticated));
  AddValue(calls_refused, {{"reason", "permission_denied"}},
           node(n.permission_denied));
  out.push_back(std::move(calls_refused));
  AddOne(out, "clustercache_http_connections", "HTTP connections open now.",
         MetricType::Gauge, {}, node(n.http_connections));
  AddOne(out, "clustercache_http_connections_refused_total",
         "HTTP connections closed at once: the connection cap.",
         MetricType::Counter, {}, node(n.http_connections_refused));
  AddOne(out, "clustercache_http_bad_requests_total",
         "HTTP requests malformed, over a limit or timed out.",
         MetricType::Counter, {}, node(n.http_bad_requests));

  if (std::optional<StoreUsage> usage = RecentUsage()) {
    AddOne(out, "clustercache_entries",
           "Entries in the store, cluster-wide (read every few "
           "seconds).",
           MetricType::Gauge, {}, static_cast<double>(usage->entries));
    AddOne(out, "clustercache_bytes",
           "Bytes of entries in the store, cluster-wide.", MetricType::Gauge,
           {}, static_cast<double>(usage->bytes));
    if (usage->evictions >= 0) {
      AddOne(out, "clustercache_evictions_total",
             "Entries pushed out by the memory limit.", MetricType::Counter, {},
             static_cast<double>(usage->evictions));
    }
  }
  if (memory_limit_bytes_ > 0) {
    AddOne(out, "clustercache_memory_limit_bytes",
           "The memory store's limit (--memory-limit).", MetricType::Gauge, {},
           static_cast<double>(memory_limit_bytes_));
  }

  AddRequests(out, stats.grpc, "grpc_server_handled_total",
              "Total number of RPCs completed on the server, regardless of "
              "success or failure.",
              "grpc_code", /*errors_only=*/false,
              "grpc_server_handling_seconds",
              "Histogram of response latency (seconds) of gRPC that had been "
              "application-level handled by the server.");
  AddRequests(out, stats.http, "http_requests_total",
              "HTTP requests answered, by route and status code.", "code",
              /*errors_only=*/false, "http_request_duration_seconds",
              "HTTP requests' durations, by route.");

  AddOne(out, "clustercache_build_info",
         "The running build: version and git revision.", MetricType::Gauge,
         {{"version", std::string(Version())},
          {"revision", std::string(Revision())}},
         1);
  AddOne(out, "clustercache_uptime_seconds", "Seconds since this node started.",
         MetricType::Gauge, {},
         absl::ToDoubleSeconds(absl::Now() - stats.started));
  AddProcess(out);
  return out;
}

std::string Metrics::Text() const {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, Collect());
  return text.str();
}

}  // namespace clustercache
