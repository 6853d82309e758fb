// Three clustercached processes on one shared store (Redis standalone, Redis
// Cluster, a memcached pool with its MySQL ledger) behave as one cache: an
// entry
// stored through one node is a hit on the others, an invalidation through one
// is seen at once by all, and a stampede across the nodes runs the generator
// once. Through the built clustercachectl, against the servers of
// scripts/test.
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/param_name.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"
#include "tests/support/shared_stores.h"

namespace clustercache {
namespace {

class SharedStoreNodesTest : public testing::TestWithParam<SharedStore> {
 protected:
  void SetUp() override {
    std::vector<std::string> flags;
    SharedStoreFlags(GetParam(), &flags);
    if (IsSkipped() || HasFatalFailure()) return;
    // Node clocks are skewed by -5 s, 0 and +5 s: cluster time comes from
    // the store, so it must not matter.
    const char* offsets[] = {"-5s", "0", "5s"};
    for (int i = 1; i <= 3; ++i) {
      std::vector<std::string> node_flags = flags;
      node_flags.push_back(absl::StrCat("--node-name=node", i));
      node_flags.push_back(absl::StrCat("--clock-offset=", offsets[i - 1]));
      absl::StatusOr<std::unique_ptr<ServerProcess>> node =
          ServerProcess::Start(node_flags);
      ASSERT_TRUE(node.ok()) << node.status();
      nodes_.push_back(*std::move(node));
    }
    // Names of our own: other tests share these servers.
    tag_ = absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()));
  }

  // clustercachectl against node `i` (1-based).
  std::string Ctl(int i, const std::string& args) {
    return absl::StrCat(CLUSTERCACHECTL_BIN,
                        " --server=", nodes_[i - 1]->address(), " ", args);
  }

  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::string tag_;
};

TEST_P(SharedStoreNodesTest, StoredOnOneNodeIsAHitOnTheOthers) {
  std::string name = "page/" + tag_;
  ASSERT_EQ(
      Shell("printf shared | " + Ctl(1, "put content-view " + name)).exit_code,
      0);
  for (int i : {2, 3}) {
    ShellResult get = Shell(Ctl(i, "get content-view " + name));
    EXPECT_EQ(get.exit_code, 0) << "node" << i;
    EXPECT_EQ(get.out, "shared");
  }
}

TEST_P(SharedStoreNodesTest, InvalidateThroughOneNodeIsSeenAtOnceByAll) {
  std::string scope = "s" + std::to_string(getpid() % 100000) + "-" +
                      std::to_string(absl::ToUnixMicros(absl::Now()) % 100000);
  ASSERT_EQ(Shell("printf v | " + Ctl(1, "put " + scope + " a")).exit_code, 0);
  ASSERT_EQ(Shell(Ctl(3, "get " + scope + " a")).exit_code, 0);
  ASSERT_EQ(Shell(Ctl(2, "invalidate --scope " + scope)).exit_code, 0);
  EXPECT_EQ(Shell(Ctl(1, "get " + scope + " a")).exit_code, 3);
  EXPECT_EQ(Shell(Ctl(3, "get " + scope + " a")).exit_code, 3);
}

TEST_P(SharedStoreNodesTest, ClockSkewNeverReordersInvalidationAndGeneration) {
  std::string scope =
      "k" + std::to_string(absl::ToUnixMicros(absl::Now()) % 1000000000);
  // Written through the fast node (+5 s), invalidated through the slow one
  // (-5 s): stale everywhere.
  ASSERT_EQ(Shell("printf old | " + Ctl(3, "put " + scope + " a")).exit_code,
            0);
  ASSERT_EQ(Shell(Ctl(1, "invalidate --scope " + scope)).exit_code, 0);
  for (int i : {1, 2, 3}) {
    EXPECT_EQ(Shell(Ctl(i, "get " + scope + " a")).exit_code, 3) << i;
  }
  // Written through the slow node right after: fresh at once, everywhere.
  ASSERT_EQ(Shell("printf new | " + Ctl(1, "put " + scope + " a")).exit_code,
            0);
  for (int i : {1, 2, 3}) {
    EXPECT_EQ(Shell(Ctl(i, "get " + scope + " a")).out, "new") << i;
  }
  // Generated on the slow node while the fast node invalidates: the result
  // lands stale (its mtime is the lease's grant time).
  std::string gen = Ctl(1, "fetch-or-generate " + scope +
                               " b -- sh -c 'sleep 0.5; echo generated'");
  std::thread generation([&] { EXPECT_EQ(Shell(gen).out, "generated\n"); });
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_EQ(Shell(Ctl(3, "invalidate --scope " + scope)).exit_code, 0);
  generation.join();
  for (int i : {1, 2, 3}) {
    EXPECT_EQ(Shell(Ctl(i, "get " + scope + " b")).exit_code, 3) << i;
  }
}

TEST_P(SharedStoreNodesTest,
       ThirtyRequestersOnEachOfThreeNodesRunTheGeneratorOnce) {
  std::string counter = testing::TempDir() + "/redis-runs-" + tag_;
  std::string name = "hot/" + tag_;
  std::vector<std::string> commands;
  for (int i = 0; i < 90; ++i) {
    commands.push_back(
        Ctl(1 + i % 3, absl::StrCat("fetch-or-generate content-view ", name,
                                    " --wait 20s -- sh -c 'echo run >> ",
                                    counter, "; sleep 0.5; echo value'")));
  }
  for (const ShellResult& r : ShellConcurrently(commands)) {
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "value\n");
  }
  EXPECT_EQ(ReadFile(counter), "run\n")
      << "one generator run across three nodes";
}

INSTANTIATE_TEST_SUITE_P(Stores, SharedStoreNodesTest, SharedStores(),
                         ByName());

}  // namespace
}  // namespace clustercache
