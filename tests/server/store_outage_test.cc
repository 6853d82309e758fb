// A store server killed, or hung (SIGSTOP), under load: the node stays up,
// answers UNAVAILABLE (render, do not store) while the server is away, never
// gives a wrong answer, answers at once while the server is marked down,
// logs the outage once, and recovers by itself. Each test owns its server
// (a real redis-server or memcached on a free loopback port) because it
// kills or stops it.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cache_client.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

extern char** environ;

namespace clustercache {
namespace {

pid_t StartRedis(int port) {
  return SpawnUntilReady(
      {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
       "--save", "", "--appendonly", "no"},
      absl::StrCat("test \"$(redis-cli -p ", port,
                   " ping 2>/dev/null)\" = PONG"));
}

pid_t StartMemcached(int port) {
  return SpawnUntilReady(
      {"memcached", "-l", "127.0.0.1", "-p", std::to_string(port), "-U", "0",
       "-m", "64", "-u", "root"},
      absl::StrCat("memcstat --servers=127.0.0.1:", port));
}

// A store server of the test's own ("redis" or "memcached", on a free
// loopback port: the test kills or stops it) and a node on it with
// `timeout` for its calls.
struct NodeOnOwnServer {
  int port = 0;
  pid_t server = -1;
  std::unique_ptr<ServerProcess> node;
};
void StartNodeOnOwnServer(const std::string& kind, const std::string& timeout,
                          NodeOnOwnServer* out) {
  const int port = out->port = FreeLoopbackPort();
  out->server = kind == "redis" ? StartRedis(port) : StartMemcached(port);
  ASSERT_GT(out->server, 0) << kind << " did not start on port " << port;
  absl::StatusOr<std::unique_ptr<ServerProcess>> node = ServerProcess::Start(
      {absl::StrCat("--store=", kind, "://127.0.0.1:", port),
       absl::StrCat("--", kind, "-timeout=", timeout), "--node-name=outage"});
  ASSERT_TRUE(node.ok()) << node.status();
  out->node = *std::move(node);
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; ++at) {
    ++n;
  }
  return n;
}

TEST(RedisOutageTest, KilledAndRestartedUnderLoad) {
  // Needs only the redis-server binary that scripts/test installs.
  CLUSTERCACHE_NEED_SERVER(shared, "CLUSTERCACHE_TEST_REDIS");
  NodeOnOwnServer own;
  ASSERT_NO_FATAL_FAILURE(StartNodeOnOwnServer("redis", "200ms", &own));
  pid_t& redis = own.server;
  const int port = own.port;
  ClientOptions options;
  options.servers = {own.node->address()};
  // A third of it per attempt. 5 s (1.7 s an attempt) was once exceeded
  // twice in the sanitizer pass (two cores shared with another test, both
  // processes under ASan); how fast a fetch fails in an outage is measured
  // by HungStoreTest, here only that none hangs.
  options.deadline = absl::Seconds(15);
  std::unique_ptr<GrpcClient> client = NewGrpcClient(options);

  // Two fetchers for 3 s; whoever gets the lease stores "v<n>". Every HIT
  // must carry a payload that was stored.
  std::atomic<bool> stop{false};
  std::atomic<int> stored_versions{0};
  std::mutex mu;
  std::map<std::string, int> outcomes;
  std::vector<std::string> wrong;
  auto fetcher = [&] {
    while (!stop) {
      v1::FetchRequest fetch;
      fetch.mutable_key()->set_scope("content-view");
      fetch.mutable_key()->set_name("page");
      absl::StatusOr<v1::FetchResponse> r = client->Fetch(fetch);
      std::lock_guard<std::mutex> lock(mu);
      if (!r.ok()) {
        outcomes["rpc error: " + std::string(r.status().message())]++;
        continue;
      }
      outcomes[v1::FetchOutcome_Name(r->outcome())]++;
      if (r->outcome() == v1::HIT &&
          (r->payload().rfind("v", 0) != 0 ||
           std::stoi(r->payload().substr(1)) > stored_versions)) {
        wrong.push_back(r->payload());
      }
      if (r->outcome() == v1::MISS_LEASE || r->outcome() == v1::STALE_LEASE) {
        v1::StoreRequest store;
        *store.mutable_key() = fetch.key();
        store.set_payload(absl::StrCat("v", stored_versions + 1));
        store.set_lease_token(r->lease().token());
        absl::StatusOr<v1::StoreResponse> s = client->Store(store);
        if (s.ok() && s->outcome() == v1::STORED) stored_versions++;
      }
    }
  };
  std::thread a(fetcher), b(fetcher);
  absl::SleepFor(absl::Milliseconds(700));
  KillAndReap(redis);  // no persistence: everything stored is gone
  absl::SleepFor(absl::Milliseconds(1000));
  redis = StartRedis(port);
  ASSERT_GT(redis, 0);
  absl::SleepFor(absl::Milliseconds(1500));
  stop = true;
  a.join();
  b.join();

  std::string summary;
  for (const auto& [k, v] : outcomes) absl::StrAppend(&summary, k, "=", v, " ");
  std::cout << "outcomes during the outage test: " << summary << "\n";
  EXPECT_TRUE(wrong.empty()) << "wrong answers: " << wrong.size();
  for (const auto& [k, v] : outcomes) {
    EXPECT_EQ(k.rfind("rpc error", 0), std::string::npos) << summary;
  }
  EXPECT_GT(outcomes["UNAVAILABLE"], 0) << "the outage was seen: " << summary;
  EXPECT_GT(outcomes["HIT"], 0) << summary;
  // Recovered without a restart: a store and a hit after the outage.
  v1::FetchRequest fetch;
  fetch.mutable_key()->set_scope("content-view");
  fetch.mutable_key()->set_name("after");
  absl::StatusOr<v1::FetchResponse> r = client->Fetch(fetch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome(), v1::MISS_LEASE) << summary;

  const std::string s = ReadFile(own.node->log_path());
  const int down = Count(s, " unreachable");
  EXPECT_EQ(down, 1) << "logged once per outage:\n" << s;
  EXPECT_NE(s.find("reachable again"), std::string::npos) << s;
  KillAndReap(redis);
}

// Fetchers on a few keys, storing whatever they get a lease for, each
// fetch timed; the store server is stopped (SIGSTOP: it accepts TCP and
// never answers) for `stall`, then continued.
struct StallResult {
  std::map<std::string, int> outcomes;    // during the stall
  std::vector<absl::Duration> latencies;  // of fetches during the stall
  std::vector<std::string> rpc_errors;    // anywhere
  bool recovered = false;                 // a HIT or a lease after it
  std::string log;
};

StallResult FetchThroughAStall(ServerProcess& node, pid_t server,
                               absl::Duration stall) {
  ClientOptions options;
  options.servers = {node.address()};
  options.deadline = absl::Seconds(5);
  std::unique_ptr<GrpcClient> client = NewGrpcClient(options);
  std::atomic<int> phase{0};  // 0 before, 1 stalled, 2 after
  std::mutex mu;
  StallResult result;
  auto fetcher = [&](int id) {
    for (int i = 0; phase.load() < 3; ++i) {
      v1::FetchRequest fetch;
      fetch.mutable_key()->set_scope("content-view");
      fetch.mutable_key()->set_name(absl::StrCat("page-", (id + i) % 8));
      const int during = phase.load();
      const absl::Time start = absl::Now();
      absl::StatusOr<v1::FetchResponse> r = client->Fetch(fetch);
      const absl::Duration took = absl::Now() - start;
      if (r.ok() &&
          (r->outcome() == v1::MISS_LEASE || r->outcome() == v1::STALE_LEASE)) {
        v1::StoreRequest store;
        *store.mutable_key() = fetch.key();
        store.set_payload("generated");
        store.set_lease_token(r->lease().token());
        (void)client->Store(store);
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!r.ok()) {
        result.rpc_errors.push_back(absl::StrCat(
            r.status().ToString(), " after ", absl::FormatDuration(took)));
      } else if (during == 1 && phase.load() == 1) {
        result.outcomes[v1::FetchOutcome_Name(r->outcome())]++;
        result.latencies.push_back(took);
      } else if (during == 2 && r->outcome() != v1::UNAVAILABLE) {
        result.recovered = true;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id) threads.emplace_back(fetcher, id);
  absl::SleepFor(absl::Milliseconds(700));
  kill(server, SIGSTOP);
  phase = 1;
  absl::SleepFor(stall);
  phase = 2;
  kill(server, SIGCONT);
  // Recovery: the next probe after the server answers again.
  for (int i = 0; i < 50; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    std::lock_guard<std::mutex> lock(mu);
    if (result.recovered) break;
  }
  phase = 3;
  for (std::thread& t : threads) t.join();
  result.log = ReadFile(node.log_path());
  return result;
}

// What every stall test asserts. `timeout`: the node's store timeout.
void ExpectFailedFast(const StallResult& r, absl::Duration timeout,
                      absl::string_view server) {
  std::string summary;
  for (const auto& [k, v] : r.outcomes)
    absl::StrAppend(&summary, k, "=", v, " ");
  std::vector<absl::Duration> sorted = r.latencies;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_FALSE(sorted.empty());
  auto at = [&](double q) {
    return sorted[std::min(sorted.size() - 1,
                           static_cast<size_t>(q * sorted.size()))];
  };
  int slow = 0;  // fetches that waited on the hung server (a probe)
  for (absl::Duration d : sorted) slow += d >= timeout / 2;
  std::cout << server << " stalled: " << sorted.size() << " fetches, "
            << summary << "p50 " << absl::FormatDuration(at(0.5)) << ", p99 "
            << absl::FormatDuration(at(0.99)) << ", max "
            << absl::FormatDuration(sorted.back()) << ", " << slow
            << " waited on the server\n";
  // Nobody ran into the client's deadline: every fetch was answered.
  EXPECT_TRUE(r.rpc_errors.empty())
      << r.rpc_errors.size() << " failed, first: " << r.rpc_errors[0];
  // Only UNAVAILABLE: the node has no copy of its own to serve.
  EXPECT_EQ(r.outcomes.size(), 1u) << summary;
  EXPECT_GT(r.outcomes.count("UNAVAILABLE"), 0u) << summary;
  // No fetch waited much more than one timeout (the bound here leaves room
  // for a loaded machine; the figure is printed above).
  EXPECT_LT(sorted.back(), timeout + absl::Seconds(1)) << summary;
  // While the server is marked down, fetches fail at once: only the probes
  // (about one per timeout) and those in flight at the stop wait on it.
  EXPECT_GT(static_cast<int>(sorted.size()), 10 * slow) << summary;
  EXPECT_TRUE(r.recovered) << "no answer from the store after SIGCONT";
  EXPECT_EQ(Count(r.log, " unreachable"), 1) << "one outage:\n" << r.log;
  EXPECT_EQ(Count(r.log, "reachable again"), 1) << r.log;
}

// Issue 14, item 8: Redis or memcached stopped for 8 s under load.
class HungStoreTest : public testing::TestWithParam<std::string> {};

TEST_P(HungStoreTest, StoppedForEightSecondsFailsFast) {
  const std::string kind = GetParam();
  // Needs only the server binary that scripts/test installs.
  CLUSTERCACHE_NEED_SERVER(shared, kind == "redis"
                                       ? "CLUSTERCACHE_TEST_REDIS"
                                       : "CLUSTERCACHE_TEST_MEMCACHED");
  NodeOnOwnServer own;
  ASSERT_NO_FATAL_FAILURE(StartNodeOnOwnServer(kind, "300ms", &own));
  StallResult r = FetchThroughAStall(*own.node, own.server, absl::Seconds(8));
  KillAndReap(own.server);
  ExpectFailedFast(r, absl::Milliseconds(300), kind);
}

INSTANTIATE_TEST_SUITE_P(Stores, HungStoreTest,
                         testing::Values("redis", "memcached"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace clustercache
