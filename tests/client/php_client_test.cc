// Issue 16: the PHP client (client/php/ClusterCache.php) with php-cli
// against three real nodes on one Redis: every call and outcome
// (tests/php/client_test.php), and a stampede of 50 PHP processes on one
// key over the three nodes that generates once.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

// Three nodes on one Redis.
class PhpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_PROGRAM("php");
    CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
    auth_ = absl::StrCat(testing::TempDir(), "/php-auth-", getpid());
    ASSERT_EQ(Shell(absl::StrCat("printf 'app admin php-admin-token-0123456789"
                                 "\\n' > ",
                                 auth_))
                  .exit_code,
              0);
    for (int i = 1; i <= 3; ++i) {
      absl::StatusOr<std::unique_ptr<ServerProcess>> node =
          ServerProcess::Start({absl::StrCat("--node-name=php-node", i),
                                "--auth-file=" + auth_,
                                "--store=redis://" + redis});
      ASSERT_TRUE(node.ok()) << node.status();
      nodes_.push_back(*std::move(node));
    }
  }

  // The nodes' base URLs, comma-separated, starting with node `first`.
  std::string Bases(size_t first) const {
    std::vector<std::string> urls;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      urls.push_back(absl::StrCat(
          "http://", nodes_[(first + i) % nodes_.size()]->http_address()));
    }
    return absl::StrJoin(urls, ",");
  }

  std::string Php(const std::string& bases, const std::string& args) const {
    return absl::StrCat("php ", CLUSTERCACHE_SOURCE_DIR,
                        "/tests/php/client_test.php ", bases,
                        " php-admin-token-0123456789 ", args, " 2>&1");
  }

  std::string auth_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

TEST_F(PhpClientTest, EveryCallAndOutcome) {
  ShellResult r = Shell(Php(Bases(0), ""));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "ok\n");
}

// 50 PHP processes ask for the same missing key at once, each through
// another of the three nodes first: one generates (300 ms), the others
// wait for its result; all print the same payload.
TEST_F(PhpClientTest, FiftyProcessesOverThreeNodesGenerateOnce) {
  const std::string counter =
      absl::StrCat(testing::TempDir(), "/php-generations-", getpid());
  unlink(counter.c_str());
  const std::string key =
      absl::StrCat("front-", getpid(), "-", absl::ToUnixMicros(absl::Now()));
  std::vector<std::string> commands;
  for (size_t i = 0; i < 50; ++i) {
    commands.push_back(Php(Bases(i % nodes_.size()),
                           absl::StrCat("stampede ", key, " ", counter)));
  }
  std::vector<ShellResult> results = ShellConcurrently(commands);
  for (const ShellResult& r : results) {
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "generated once");
  }
  std::vector<std::string> lines =
      absl::StrSplit(ReadFile(counter), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1u) << "generations: " << ReadFile(counter);
}

}  // namespace
}  // namespace clustercache
