// Issue 18: clustercachectl migrate and store, the programs as an operator
// runs them: entries written through a node on Redis are copied into a
// Redis Cluster under another namespace and served by a node there; the
// summary as JSON; the key to resume after; what cannot work is refused
// with a reason.
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

TEST(MigrateCommandTest, CopiesBetweenStoresAndANodeServesTheCopy) {
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  CLUSTERCACHE_NEED_SERVER(cluster, "CLUSTERCACHE_TEST_REDIS_CLUSTER");
  const std::string run =
      absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000);
  const std::string from_ns = "ctlsrc-" + run, to_ns = "ctldst-" + run;
  const std::string from = "redis://" + redis;
  const std::string to = "redis-cluster://" + cluster;
  {
    absl::StatusOr<std::unique_ptr<ServerProcess>> source =
        ServerProcess::Start({"--store=" + from, "--namespace=" + from_ns});
    ASSERT_TRUE(source.ok()) << source.status();
    for (int i = 0; i < 30; ++i) {
      ASSERT_EQ(Shell(absl::StrCat("printf 'v", i, "' | ", CLUSTERCACHECTL_BIN,
                                   " --server=", (*source)->address(),
                                   " put news p/", i))
                    .exit_code,
                0);
    }
  }
  ShellResult described = Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " store ",
                                             from, " --namespace=", from_ns));
  EXPECT_EQ(described.exit_code, 0);
  EXPECT_NE(described.out.find("entries\t30"), std::string::npos)
      << described.out;

  const std::string migrate = absl::StrCat(
      CLUSTERCACHECTL_BIN, " migrate --from=", from,
      " --from-namespace=", from_ns, " --to=", to, " --to-namespace=", to_ns);
  ShellResult copied = Shell(migrate + " --batch=7 --json 2>/dev/null");
  ASSERT_EQ(copied.exit_code, 0) << copied.out;
  nlohmann::json summary = nlohmann::json::parse(copied.out, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << copied.out;
  EXPECT_EQ(summary["copied"], 30);
  EXPECT_EQ(summary["kept"], 0);
  EXPECT_TRUE(summary["done"].get<bool>());
  EXPECT_EQ(summary["last_key"], "news/p/9");  // key order: p/9 is last
  // Progress names the key to resume after.
  ShellResult again = Shell(migrate + " --batch=10 2>&1 >/dev/null");
  EXPECT_NE(again.out.find("resume after news/p/"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("kept 30"), std::string::npos) << again.out;

  absl::StatusOr<std::unique_ptr<ServerProcess>> target =
      ServerProcess::Start({"--store=" + to, "--namespace=" + to_ns});
  ASSERT_TRUE(target.ok()) << target.status();
  ShellResult got =
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN,
                         " --server=", (*target)->address(), " get news p/17"));
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.out, "v17");

  // Refused, with a reason.
  EXPECT_EQ(Shell(migrate + " --resume-after=nonsense 2>/dev/null").exit_code,
            2);
  EXPECT_EQ(Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " migrate --from=", from,
                               " 2>/dev/null"))
                .exit_code,
            2);
  ShellResult same = Shell(absl::StrCat(
      CLUSTERCACHECTL_BIN, " migrate --from=", from, " --to=", from, " 2>&1"));
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.out.find("the same store"), std::string::npos) << same.out;
}

}  // namespace
}  // namespace clustercache
