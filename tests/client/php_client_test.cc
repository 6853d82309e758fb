// Issue 16: the PHP client (client/php/ClusterCache.php) with php-cli
// against a real node: every call and outcome (tests/php/client_test.php),
// and a stampede of PHP processes on one key that generates once.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

class PhpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_PROGRAM("php");
    auth_ = absl::StrCat(testing::TempDir(), "/php-auth-", getpid());
    ASSERT_EQ(Shell(absl::StrCat("printf 'app admin php-admin-token-0123456789"
                                 "\\n' > ",
                                 auth_))
                  .exit_code,
              0);
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--node-name=php-node", "--auth-file=" + auth_});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }

  std::string Php(const std::string& args) const {
    return absl::StrCat(
        "php ", CLUSTERCACHE_SOURCE_DIR, "/tests/php/client_test.php http://",
        node_->http_address(), " php-admin-token-0123456789 ", args, " 2>&1");
  }

  std::string auth_;
  std::unique_ptr<ServerProcess> node_;
};

TEST_F(PhpClientTest, EveryCallAndOutcome) {
  ShellResult r = Shell(Php(""));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "ok\n");
}

// 20 PHP processes ask for the same missing key at once: one generates
// (300 ms), the others wait for its result; all get the same payload.
TEST_F(PhpClientTest, AStampedeGeneratesOnce) {
  const std::string counter =
      absl::StrCat(testing::TempDir(), "/php-generations-", getpid());
  unlink(counter.c_str());
  std::vector<std::string> commands(20, Php("stampede front " + counter));
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
