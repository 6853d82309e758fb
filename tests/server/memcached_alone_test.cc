// A node on a memcached pool without a ledger, through the built
// clustercachectl: fetches and stores work; what needs enumeration (list,
// purge, prefix expire/delete) fails with a message saying how to configure
// the ledger; stats shows its counters and says why entries are unknown.
// And a node on a memcached that needs SASL: it authenticates, and a wrong
// password stops it at start with a reason and without the password.
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

// Issue 15, item 4: memcached SASL (the binary protocol, PLAIN).
TEST(MemcachedSaslTest, ANodeAuthenticatesAndAWrongPasswordStopsItAtStart) {
  CLUSTERCACHE_NEED_SERVER(sasl, "CLUSTERCACHE_TEST_MEMCACHED_SASL");
  const std::string host = sasl.substr(sasl.rfind('@') + 1);
  const std::string name =
      absl::StrCat("sasl-", getpid(), "-", absl::ToUnixMicros(absl::Now()));
  {
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--store=memcached://" + sasl});
    ASSERT_TRUE(node.ok()) << node.status();
    auto ctl = [&](const std::string& args) {
      return Shell(absl::StrCat("echo payload | ", CLUSTERCACHECTL_BIN,
                                " --server=", (*node)->address(), " ", args,
                                " 2>&1"));
    };
    ShellResult put = ctl("put rss " + name);
    ASSERT_EQ(put.exit_code, 0) << put.out;
    ShellResult get = ctl("get rss " + name);
    EXPECT_EQ(get.exit_code, 0) << get.out;
    EXPECT_NE(get.out.find("payload"), std::string::npos) << get.out;
  }  // the node's log is scanned for the password as it stops
  for (const std::string& auth :
       {std::string("cc-mc:wrong-pw-9@"), std::string("nobody:wrong-pw-9@"),
        std::string("")}) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--store=memcached://" + auth + host});
    ASSERT_FALSE(node.ok()) << auth << ": a node started without its store";
    EXPECT_NE(node.status().message().find("AUTH"), std::string::npos)
        << auth << ": " << node.status();
    EXPECT_EQ(node.status().message().find("wrong-pw-9"), std::string::npos)
        << node.status();
  }
}

}  // namespace
}  // namespace clustercache
