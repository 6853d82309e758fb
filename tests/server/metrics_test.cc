// Issue 17, item 1: /metrics on a real node. A scrape passes promtool's
// check and counts exactly what the test did (gets by result, puts, leases,
// invalidations, gRPC calls by method and code, HTTP requests by route and
// code); a real Prometheus started on loopback scrapes the node under a
// short load and answers a hit ratio computed by PromQL equal to the
// load's. Also the access log, both faces, and its reopening on SIGHUP.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cache/util/version.h"
#include "gtest/gtest.h"
#include "tests/support/curl.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

class MetricsTest : public testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    flags.push_back("--node-name=metrics-node");
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start(flags);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }

  std::string Http(const std::string& path) const {
    return absl::StrCat("http://", node_->http_address(), path);
  }
  ShellResult Ctl(const std::string& args) const {
    return Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=",
                              node_->address(), " ", args, " 2>&1"));
  }
  void Put(const std::string& scope, const std::string& name) {
    ASSERT_EQ(Curl(Http(absl::StrCat("/v1/entries/", scope, "/", name)),
                   "-X PUT --data-binary body")
                  .status,
              201);
  }
  int Get(const std::string& scope, const std::string& name) {
    return Curl(Http(absl::StrCat("/v1/entries/", scope, "/", name))).status;
  }

  std::string Scrape() const {
    Reply r =
        Curl(absl::StrCat("http://", node_->metrics_address(), "/metrics"));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(absl::StartsWith(r.Header("content-type"),
                                 "text/plain; version=0.0.4"));
    return r.body;
  }

  // The value of the sample `series` (name{labels} as the page writes it,
  // labels in its order), or -1 when absent.
  static double Sample(const std::string& page, const std::string& series) {
    for (absl::string_view line : absl::StrSplit(page, '\n')) {
      if (absl::StartsWith(line, series + " ")) {
        double v = -1;
        (void)absl::SimpleAtod(line.substr(series.size() + 1), &v);
        return v;
      }
    }
    return -1;
  }

  std::unique_ptr<ServerProcess> node_;
};

TEST_F(MetricsTest, AScrapePassesPromtoolAndCountsWhatWasDone) {
  Start();
  Put("news", "a");
  Put("news", "b");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get("news", "a"), 200);
  EXPECT_EQ(Get("news", "missing"), 404);
  // A lease over HTTP: a miss that takes the lease, then given back.
  Reply lease = Curl(Http("/v1/entries/blog/x?lease=1"));
  ASSERT_EQ(lease.status, 404) << lease.body;
  ASSERT_FALSE(lease.Header("lease-token").empty());
  EXPECT_EQ(
      Curl(Http("/v1/leases/blog/x"),
           "-X DELETE -H 'Lease-Token: " + lease.Header("lease-token") + "'")
          .status,
      204);
  // Over gRPC: a hit, then invalidations of each kind.
  EXPECT_EQ(Ctl("get news a").exit_code, 0);
  EXPECT_EQ(Ctl("invalidate --scope news").exit_code, 0);
  EXPECT_EQ(Ctl("invalidate --tag t1 --tag t2").exit_code, 0);
  EXPECT_EQ(Ctl("expire news b").exit_code, 0);
  EXPECT_EQ(Get("news", "a"), 404);  // invalidated: not served

  const std::string page = Scrape();
  ShellResult lint =
      Shell(absl::StrCat("curl -s http://", node_->metrics_address(),
                         "/metrics | promtool check metrics 2>&1"));
  EXPECT_EQ(lint.exit_code, 0) << lint.out;

  auto gets = [&](const char* scope, const char* result) {
    return Sample(page, absl::StrCat("clustercache_gets_total{scope=\"", scope,
                                     "\",result=\"", result, "\"}"));
  };
  EXPECT_EQ(gets("news", "hit"), 4);  // 3 over HTTP, 1 over gRPC
  EXPECT_EQ(gets("news", "miss"), 1);
  // After the invalidation the read finds a stale copy (a 404 without
  // ?stale=1, but the fetch found one).
  EXPECT_EQ(gets("news", "stale"), 1);
  EXPECT_EQ(gets("blog", "miss"), 1);
  EXPECT_EQ(Sample(page,
                   "clustercache_puts_total{scope=\"news\",result="
                   "\"unconditional\"}"),
            2);
  EXPECT_EQ(Sample(page,
                   "clustercache_leases_total{scope=\"blog\",result="
                   "\"granted\"}"),
            1);
  EXPECT_EQ(Sample(page,
                   "clustercache_leases_total{scope=\"blog\",result="
                   "\"released\"}"),
            1);
  EXPECT_EQ(Sample(page, "clustercache_invalidations_total{kind=\"scope\"}"),
            1);
  EXPECT_EQ(Sample(page, "clustercache_invalidations_total{kind=\"tag\"}"), 2);
  EXPECT_EQ(Sample(page, "clustercache_invalidations_total{kind=\"key\"}"), 1);
  EXPECT_EQ(Sample(page, "clustercache_entries"), 2);
  EXPECT_GT(Sample(page, "clustercache_memory_limit_bytes"), 0);
  EXPECT_EQ(Sample(page,
                   "grpc_server_handled_total{grpc_type=\"unary\","
                   "grpc_service=\"clustercache.v1.Admin\","
                   "grpc_method=\"Invalidate\",grpc_code=\"OK\"}"),
            2);
  EXPECT_EQ(Sample(page,
                   "grpc_server_handling_seconds_count{grpc_type="
                   "\"unary\",grpc_service=\"clustercache.v1.Admin\","
                   "grpc_method=\"Invalidate\"}"),
            2);
  EXPECT_EQ(Sample(page, "http_requests_total{route=\"entries\",code=\"200\"}"),
            3);
  EXPECT_EQ(Sample(page, "http_requests_total{route=\"entries\",code=\"404\"}"),
            3);
  EXPECT_EQ(Sample(page, "http_requests_total{route=\"leases\",code=\"204\"}"),
            1);
  EXPECT_GE(Sample(page,
                   "clustercache_store_operation_seconds_count{op="
                   "\"put\"}"),
            2);
  EXPECT_EQ(
      Sample(page, absl::StrCat("clustercache_build_info{version=\"", Version(),
                                "\",revision=\"", Revision(), "\"}")),
      1);
  EXPECT_GT(Sample(page, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sample(page, "process_open_fds"), 3);
  // No key or name is ever a label.
  EXPECT_EQ(page.find("missing"), std::string::npos);
  EXPECT_EQ(page.find("\"a\""), std::string::npos);
}

TEST_F(MetricsTest, TheHttpFaceServesItToAKnownTokenOnly) {
  const std::string dir = testing::TempDir();
  const std::string auth = absl::StrCat(dir, "/metrics-auth-", getpid());
  {
    std::ofstream f(auth);
    f << "scraper read scraper-token-0123456789abcdef\n";
  }
  Start({"--auth-file=" + auth});
  EXPECT_EQ(Curl(Http("/metrics")).status, 401);
  Reply ok = Curl(Http("/metrics"),
                  "-H 'Authorization: Bearer "
                  "scraper-token-0123456789abcdef'");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("clustercache_build_info"), std::string::npos);
  // The metrics listener answers /metrics only.
  EXPECT_EQ(Curl(absl::StrCat("http://", node_->metrics_address(), "/v1/stats"))
                .status,
            404);
}

TEST_F(MetricsTest, ANetworkMetricsListenerNeedsInsecure) {
  ShellResult r = Shell(absl::StrCat(
      CLUSTERCACHED_BIN,
      " --listen=127.0.0.1:0 --http-listen= --metrics-listen=0.0.0.0:0 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--metrics-listen=0.0.0.0:0"), std::string::npos)
      << r.out;
}

// A real Prometheus scrapes the node each second; after a load of 30 hits
// and 10 misses its PromQL hit ratio is 0.75.
TEST_F(MetricsTest, PrometheusComputesTheHitRatioOfALoad) {
  CLUSTERCACHE_NEED_PROGRAM("prometheus");
  Start();
  for (int i = 0; i < 10; ++i) Put("load", absl::StrCat("k", i));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(Get("load", absl::StrCat("k", i)), 200);
    }
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Get("load", absl::StrCat("none", i)), 404);
  }
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/prometheus-", getpid());
  ASSERT_EQ(Shell("rm -rf " + dir + " && mkdir -p " + dir).exit_code, 0);
  {
    std::ofstream conf(dir + "/prometheus.yml");
    conf << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: clustercache\n"
            "    static_configs:\n      - targets: ['"
         << node_->metrics_address() << "']\n";
  }
  const int port = FreeLoopbackPort();
  const std::string listen = absl::StrCat("127.0.0.1:", port);
  pid_t prometheus = SpawnUntilReady(
      {"prometheus", "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/data", "--web.listen-address=" + listen,
       "--log.level=warn"},
      absl::StrCat("curl -sf http://", listen, "/-/ready"), absl::Seconds(30));
  ASSERT_GT(prometheus, 0) << "prometheus did not become ready";
  const std::string query =
      "sum(clustercache_gets_total{job=\"clustercache\",scope=\"load\","
      "result=\"hit\"}) / sum(clustercache_gets_total{job=\"clustercache\","
      "scope=\"load\"})";
  double ratio = -1;
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       absl::Now() < deadline && ratio < 0;
       absl::SleepFor(absl::Milliseconds(500))) {
    Reply r = Curl(absl::StrCat("http://", listen, "/api/v1/query"),
                   "-G --data-urlencode 'query=" + query + "'");
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") continue;
    const nlohmann::json& result = j["data"]["result"];
    if (result.empty()) continue;
    (void)absl::SimpleAtod(result[0]["value"][1].get<std::string>(), &ratio);
  }
  KillAndReap(prometheus);
  EXPECT_DOUBLE_EQ(ratio, 0.75);
}

// --access-log: one line per call of either face, with its fields; text or
// JSON as --log-format says; reopened on SIGHUP after a rotation.
TEST_F(MetricsTest, TheAccessLogHasALinePerCallAndReopensOnSighup) {
  const std::string log =
      absl::StrCat(testing::TempDir(), "/access-", getpid(), ".log");
  std::remove(log.c_str());
  Start({"--access-log=" + log, "--log-format=json"});
  Put("news", "a");
  EXPECT_EQ(Get("news", "a"), 200);
  EXPECT_EQ(Ctl("get news a").exit_code, 0);
  std::vector<nlohmann::json> lines;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(log), '\n', absl::SkipEmpty())) {
    lines.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  ASSERT_EQ(lines.size(), 3u) << ReadFile(log);
  EXPECT_EQ(lines[0]["face"], "http");
  EXPECT_EQ(lines[0]["method"], "PUT /v1/entries/news/a");
  EXPECT_EQ(lines[0]["status"], "201");
  EXPECT_EQ(lines[1]["outcome"], "HIT");
  EXPECT_EQ(lines[1]["bytes"], 4);
  EXPECT_TRUE(
      absl::StartsWith(lines[1]["peer"].get<std::string>(), "127.0.0.1:"));
  EXPECT_EQ(lines[2]["face"], "grpc");
  EXPECT_EQ(lines[2]["method"], "/clustercache.v1.Cache/Fetch");
  EXPECT_EQ(lines[2]["status"], "OK");
  EXPECT_EQ(lines[2]["outcome"], "HIT");
  EXPECT_GT(lines[2]["bytes"].get<int>(), 4);
  EXPECT_GE(lines[2]["duration_ms"].get<double>(), 0);

  // logrotate: the file is moved, then the node told.
  const std::string rotated = log + ".1";
  ASSERT_EQ(std::rename(log.c_str(), rotated.c_str()), 0);
  kill(node_->pid(), SIGHUP);
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline && access(log.c_str(), F_OK) != 0;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Get("news", "a"), 200);
  std::vector<std::string> after =
      absl::StrSplit(ReadFile(log), '\n', absl::SkipEmpty());
  std::vector<std::string> before =
      absl::StrSplit(ReadFile(rotated), '\n', absl::SkipEmpty());
  EXPECT_EQ(after.size(), 1u);
  EXPECT_EQ(before.size(), 3u);
}

}  // namespace
}  // namespace clustercache
