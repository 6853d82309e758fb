// A node on a memcached pool without a ledger, through the built
// clustercachectl: fetches and stores work; what needs enumeration (list,
// purge, prefix expire/delete) fails with a message saying how to configure
// the ledger; stats shows its counters and says why entries are unknown.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

class MemcachedAloneTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_SERVER(pool, "CLUSTERCACHE_TEST_MEMCACHED");
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--store=memcached://" + pool});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    name_ =
        absl::StrCat("alone-", getpid(), "-", absl::ToUnixMicros(absl::Now()));
  }

  // clustercachectl, stderr folded into the output.
  ShellResult Ctl(const std::string& args) {
    return Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=",
                              node_->address(), " ", args, " 2>&1"));
  }

  std::unique_ptr<ServerProcess> node_;
  std::string name_;
};

TEST_F(MemcachedAloneTest, FetchesWorkAndEnumerationSaysToAddALedger) {
  ASSERT_EQ(Ctl("put rss " + name_ + " < /dev/null").exit_code, 0);
  EXPECT_EQ(Ctl("get rss " + name_).exit_code, 0);
  EXPECT_EQ(Ctl("expire rss " + name_).exit_code, 0) << "one key: works";
  EXPECT_EQ(Ctl("get rss " + name_).exit_code, 3) << "expired";
  for (const std::string& command :
       {std::string("list --scope rss"), std::string("purge --older-than 1d"),
        std::string("expire rss --prefix ") + name_,
        std::string("delete rss --prefix ") + name_}) {
    ShellResult r = Ctl(command);
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out;
    EXPECT_NE(r.out.find("--ledger=mysql://"), std::string::npos)
        << command << ": " << r.out;
  }
  ShellResult stats = Ctl("stats");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("entries\tunknown (memcached alone"),
            std::string::npos)
      << stats.out;
  EXPECT_NE(stats.out.find("rss\thits\t1"), std::string::npos) << stats.out;
}

}  // namespace
}  // namespace clustercache
