// Issue 17, item 3: --namespace. Two clusters (staging and production) on
// one Redis, one Redis Cluster, or one memcached pool with one ledger
// database: the same key holds each cluster's own value, an invalidation of
// everything in one leaves the other fresh, a list shows only its own
// entries, and the keys in Redis and the ledger's rows carry the namespace.
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cache/store/ledger/mysql_ledger.h"
#include "gtest/gtest.h"
#include "tests/support/param_name.h"
#include "tests/support/server_process.h"
#include "tests/support/shared_stores.h"

namespace clustercache {
namespace {

class NamespaceTest : public testing::TestWithParam<SharedStore> {
 protected:
  void SetUp() override {
    std::vector<std::string> flags;
    SharedStoreFlags(GetParam(), &flags, &servers_, &mysql_);
    if (IsSkipped() || HasFatalFailure()) return;
    // Namespaces of our own: other runs share these servers.
    const std::string run =
        absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()) % 1000000);
    for (const char* cluster : {"staging", "production"}) {
      namespaces_.push_back(absl::StrCat(cluster, "-", run));
      std::vector<std::string> node_flags = flags;
      node_flags.push_back("--namespace=" + namespaces_.back());
      absl::StatusOr<std::unique_ptr<ServerProcess>> node =
          ServerProcess::Start(node_flags);
      ASSERT_TRUE(node.ok()) << node.status();
      nodes_.push_back(*std::move(node));
    }
  }

  ShellResult Ctl(int node, const std::string& args) {
    return Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=",
                              nodes_[node]->address(), " ", args, " 2>&1"));
  }

  // printf BODY | clustercachectl put SCOPE NAME (the body has no newline)
  int Put(int node, const std::string& scope, const std::string& name,
          const std::string& body) {
    return Shell(absl::StrCat("printf '", body, "\\n' | ", CLUSTERCACHECTL_BIN,
                              " --server=", nodes_[node]->address(), " put ",
                              scope, " ", name))
        .exit_code;
  }

  std::string servers_, mysql_;
  std::map<std::string, int> keys_;
  std::vector<std::string> namespaces_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

TEST_P(NamespaceTest, TwoClustersShareTheStoreWithoutSeeingEachOther) {
  ASSERT_EQ(Put(0, "site", "home/1", "staging-page"), 0);
  ASSERT_EQ(Put(1, "site", "home/1", "production-page"), 0);
  ASSERT_EQ(Put(1, "site", "only-in-production", "p"), 0);
  EXPECT_EQ(Ctl(0, "get site home/1").out, "staging-page\n");
  EXPECT_EQ(Ctl(1, "get site home/1").out, "production-page\n");
  EXPECT_EQ(Ctl(0, "get site only-in-production").exit_code, 3);

  // Everything invalidated in staging: production stays fresh.
  ASSERT_EQ(Ctl(0, "invalidate --all").exit_code, 0);
  EXPECT_EQ(Ctl(0, "get site home/1").exit_code, 3);
  EXPECT_EQ(Ctl(1, "get site home/1").out, "production-page\n");

  // A list (and so a purge) sees its own cluster's entries only.
  ShellResult listed = Ctl(0, "list --scope site");
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("home/1"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("only-in-production"), std::string::npos)
      << listed.out;
  ShellResult deleted = Ctl(1, "delete site --prefix home/");
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out;
  EXPECT_EQ(Ctl(1, "get site home/1").exit_code, 3);
  EXPECT_EQ(Ctl(0, "get site home/1 --allow-stale").out, "staging-page\n");
}

// What is written carries the namespace: Redis keys start with it (in the
// hash tag), ledger rows have it in their ns column.
TEST_P(NamespaceTest, WhatIsWrittenCarriesTheNamespace) {
  ASSERT_EQ(Put(0, "site", "carried", "x"), 0);
  ASSERT_EQ(Put(1, "site", "carried", "y"), 0);
  if (GetParam().ledger) {
    absl::StatusOr<MysqlUrl> url = ParseMysqlUrl(mysql_);
    ASSERT_TRUE(url.ok()) << url.status();
    for (const std::string& ns : namespaces_) {
      ShellResult rows = Shell(absl::StrCat(
          "MYSQL_PWD='", url->password, "' mariadb -N -h ", url->host, " -P ",
          url->port, " -u ", url->user, " ", url->database,
          " -e \"SELECT COUNT(*) FROM cc_entries WHERE ns='", ns,
          "' AND name='carried'\""));
      EXPECT_EQ(rows.out, "1\n") << ns << ": " << rows.out;
    }
    return;
  }
  // Every node of a Redis Cluster holds some slots: ask each.
  for (absl::string_view server : absl::StrSplit(servers_, ',')) {
    const std::string port(server.substr(server.rfind(':') + 1));
    for (const std::string& ns : namespaces_) {
      ShellResult keys = Shell(absl::StrCat(
          "redis-cli -p ", port, " --scan --pattern '{", ns, "*' | wc -l"));
      keys_[ns] += std::atoi(keys.out.c_str());
    }
  }
  for (const std::string& ns : namespaces_) {
    EXPECT_GT(keys_[ns], 0) << "no key of namespace " << ns;
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, NamespaceTest, SharedStores(), ByName());

}  // namespace
}  // namespace clustercache
