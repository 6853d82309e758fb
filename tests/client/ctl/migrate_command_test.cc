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

// A run's namespace suffix: no other run uses it.
std::string RunId() {
  return absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000);
}

// Puts news/<name_prefix><i> = "<value_prefix><i>", i < n, through a node
// on `store` under `ns`, as an application would.
void PutThroughNode(const std::string& store, const std::string& ns,
                    const std::string& name_prefix,
                    const std::string& value_prefix, int n) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--store=" + store, "--namespace=" + ns});
  ASSERT_TRUE(node.ok()) << node.status();
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(Shell(absl::StrCat("printf '", value_prefix, i, "' | ",
                                 CLUSTERCACHECTL_BIN,
                                 " --server=", (*node)->address(), " put news ",
                                 name_prefix, i))
                  .exit_code,
              0);
  }
}

TEST(MigrateCommandTest, CopiesBetweenStoresAndANodeServesTheCopy) {
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  CLUSTERCACHE_NEED_SERVER(cluster, "CLUSTERCACHE_TEST_REDIS_CLUSTER");
  const std::string run = RunId();
  const std::string from_ns = "ctlsrc-" + run, to_ns = "ctldst-" + run;
  const std::string from = "redis://" + redis;
  const std::string to = "redis-cluster://" + cluster;
  PutThroughNode(from, from_ns, "p/", "v", 30);
  if (HasFatalFailure()) return;
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

// Into memcached only with its ledger: alone it is refused, naming the
// flag, before the pool is touched (so the same move with the ledger works
// after); with one, a node on that pool and ledger serves the copy and the
// ledger lists it.
TEST(MigrateCommandTest, AMoveIntoMemcachedTakesItsLedger) {
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  CLUSTERCACHE_NEED_SERVER(memcached, "CLUSTERCACHE_TEST_MEMCACHED");
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  const std::string run = RunId();
  const std::string from_ns = "ctlmsrc-" + run, to_ns = "ctlmdst-" + run;
  const std::string from = "redis://" + redis;
  const std::string to = "memcached://" + memcached;
  PutThroughNode(from, from_ns, "m/", "m", 5);
  if (HasFatalFailure()) return;
  const std::string migrate = absl::StrCat(
      CLUSTERCACHECTL_BIN, " migrate --from=", from,
      " --from-namespace=", from_ns, " --to=", to, " --to-namespace=", to_ns);
  ShellResult alone = Shell(migrate + " 2>&1");
  EXPECT_EQ(alone.exit_code, 2) << alone.out;
  EXPECT_NE(alone.out.find("--to-ledger"), std::string::npos) << alone.out;
  ShellResult copied =
      Shell(migrate + " --to-ledger=" + mysql + " --json 2>/dev/null");
  ASSERT_EQ(copied.exit_code, 0) << copied.out;
  nlohmann::json summary = nlohmann::json::parse(copied.out, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << copied.out;
  EXPECT_EQ(summary["copied"], 5);

  absl::StatusOr<std::unique_ptr<ServerProcess>> target = ServerProcess::Start(
      {"--store=" + to, "--ledger=" + mysql, "--namespace=" + to_ns});
  ASSERT_TRUE(target.ok()) << target.status();
  ShellResult got =
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN,
                         " --server=", (*target)->address(), " get news m/3"));
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.out, "m3");
  ShellResult listed =
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " store ", to,
                         " --ledger=", mysql, " --namespace=", to_ns));
  EXPECT_NE(listed.out.find("entries\t5"), std::string::npos) << listed.out;
}

// A node's embedded memory store has no URL: `--from=node` reads it through
// the node --server names. What the node judges fresh arrives fresh; what
// it does not (a tag invalidated there) arrives as a stale copy, never
// fresh; the expiry keys come too.
TEST(MigrateCommandTest, ANodesEmbeddedMemoryStoreMovesThroughTheNode) {
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  const std::string ns = "ctlnode-" + RunId();
  absl::StatusOr<std::unique_ptr<ServerProcess>> source =
      ServerProcess::Start({"--store=memory://"});
  ASSERT_TRUE(source.ok()) << source.status();
  const std::string ctl =
      absl::StrCat(CLUSTERCACHECTL_BIN, " --server=", (*source)->address());
  for (int i = 0; i < 24; ++i) {
    ASSERT_EQ(Shell(absl::StrCat("printf 'v", i, "' | ", ctl, " put news p/",
                                 i < 10 ? "0" : "", i,
                                 i % 3 == 0 ? " --tag=old" : ""))
                  .exit_code,
              0);
  }
  ASSERT_EQ(Shell(ctl + " invalidate --tag=old").exit_code, 0);

  const std::string migrate =
      absl::StrCat(ctl, " migrate --from=node --to=", "redis://", redis,
                   " --to-namespace=", ns);
  ShellResult copied = Shell(migrate + " --batch=5 --json 2>/dev/null");
  ASSERT_EQ(copied.exit_code, 0) << copied.out;
  nlohmann::json summary = nlohmann::json::parse(copied.out, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << copied.out;
  EXPECT_EQ(summary["examined"], 24);
  EXPECT_EQ(summary["copied"], 24);
  EXPECT_EQ(summary["last_key"], "news/p/23");
  EXPECT_GE(summary["expiry_keys"].get<int>(), 1);  // the tag
  // Resumed half-way, it looks only at what follows.
  ShellResult resumed =
      Shell(migrate + " --resume-after=news/p/11 --json 2>/dev/null");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  summary = nlohmann::json::parse(resumed.out, nullptr, false);
  EXPECT_EQ(summary["examined"], 12);
  EXPECT_EQ(summary["kept"], 12);

  absl::StatusOr<std::unique_ptr<ServerProcess>> target =
      ServerProcess::Start({"--store=redis://" + redis, "--namespace=" + ns});
  ASSERT_TRUE(target.ok()) << target.status();
  const std::string at =
      absl::StrCat(CLUSTERCACHECTL_BIN, " --server=", (*target)->address());
  ShellResult fresh = Shell(at + " get news p/04");
  EXPECT_EQ(fresh.exit_code, 0);
  EXPECT_EQ(fresh.out, "v4");
  EXPECT_EQ(Shell(at + " get news p/03").exit_code, 3) << "invalidated there";
  ShellResult stale = Shell(at + " get news p/03 --allow-stale");
  EXPECT_EQ(stale.out, "v3");
  // A node is a source only.
  ShellResult refused = Shell(
      absl::StrCat(CLUSTERCACHECTL_BIN, " --server=", (*source)->address(),
                   " migrate --from=redis://", redis, " --from-namespace=", ns,
                   " --to=node 2>&1"));
  EXPECT_NE(refused.exit_code, 0);
}

// The live move as an operator runs it: a node still on the old store, a
// node with --migrate-from (it reads the old store), then migrate
// --finish: the migrating node reads the new store from then on, and a
// plain copy into a store a move finished in is refused with a reason.
TEST(MigrateCommandTest, ALiveMoveEndsWithFinish) {
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  CLUSTERCACHE_NEED_SERVER(cluster, "CLUSTERCACHE_TEST_REDIS_CLUSTER");
  const std::string ns = "live-" + RunId();
  const std::string from = "redis://" + redis;
  const std::string to = "redis-cluster://" + cluster;
  absl::StatusOr<std::unique_ptr<ServerProcess>> old_node =
      ServerProcess::Start({"--store=" + from, "--namespace=" + ns});
  ASSERT_TRUE(old_node.ok()) << old_node.status();
  absl::StatusOr<std::unique_ptr<ServerProcess>> moving = ServerProcess::Start(
      {"--store=" + to, "--migrate-from=" + from, "--namespace=" + ns});
  ASSERT_TRUE(moving.ok()) << moving.status();
  auto ctl = [](const ServerProcess& node, const std::string& args,
                const std::string& in = "") {
    return Shell(absl::StrCat("printf '", in, "' | ", CLUSTERCACHECTL_BIN,
                              " --server=", node.address(), " ", args,
                              " 2>&1"));
  };
  ASSERT_EQ(ctl(**old_node, "put news a", "old").exit_code, 0);
  EXPECT_EQ(ctl(**moving, "get news a").out, "old")
      << "before --finish a migrating node reads the old store";
  ASSERT_EQ(ctl(**moving, "put news b", "both").exit_code, 0);
  EXPECT_EQ(ctl(**old_node, "get news b").out, "both");

  const std::string migrate =
      absl::StrCat(CLUSTERCACHECTL_BIN, " migrate --from=", from, " --to=", to,
                   " --from-namespace=", ns, " --to-namespace=", ns);
  ShellResult refused = Shell(migrate + " --finish --scope=news 2>&1");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("--finish moves everything"), std::string::npos)
      << refused.out;
  ShellResult finished = Shell(migrate + " --finish 2>/dev/null");
  ASSERT_EQ(finished.exit_code, 0) << finished.out;
  EXPECT_NE(finished.out.find("finished: checked 2 entries"), std::string::npos)
      << finished.out;
  // The old store is no longer read: what reaches it alone is not seen.
  ASSERT_EQ(ctl(**old_node, "put news a", "old-only").exit_code, 0);
  EXPECT_EQ(ctl(**moving, "get news a").out, "old");
  EXPECT_EQ(ctl(**moving, "get news b").out, "both");

  ShellResult again = Shell(migrate + " 2>&1");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.out.find("holds the marker of a finished live move"),
            std::string::npos)
      << again.out;
}

}  // namespace
}  // namespace clustercache
