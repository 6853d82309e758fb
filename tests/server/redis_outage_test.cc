// Redis killed and restarted under load: the node stays up, answers
// UNAVAILABLE (render, do not store) while Redis is away, never gives a wrong
// answer, logs the outage once, and recovers by itself. The test owns its
// Redis (a real redis-server on a free loopback port) because it kills it.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

TEST(RedisOutageTest, KilledAndRestartedUnderLoad) {
  // Needs only the redis-server binary that scripts/test installs.
  CLUSTERCACHE_NEED_SERVER(shared, "CLUSTERCACHE_TEST_REDIS");
  const int port = FreeLoopbackPort();
  pid_t redis = StartRedis(port);
  ASSERT_GT(redis, 0) << "redis-server did not start on port " << port;
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({absl::StrCat("--store=redis://127.0.0.1:", port),
                            "--redis-timeout=200ms", "--node-name=outage"});
  ASSERT_TRUE(node.ok()) << node.status();
  ClientOptions options;
  options.servers = {(*node)->address()};
  options.deadline = absl::Seconds(5);
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

  std::ifstream log((*node)->log_path());
  std::stringstream text;
  text << log.rdbuf();
  std::string s = text.str();
  int down = 0;
  for (size_t at = 0; (at = s.find("unreachable", at)) != std::string::npos;
       ++at) {
    ++down;
  }
  EXPECT_EQ(down, 1) << "logged once per outage:\n" << s;
  EXPECT_NE(s.find("reachable again"), std::string::npos) << s;
  KillAndReap(redis);
}

}  // namespace
}  // namespace clustercache
