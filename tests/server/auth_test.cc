// Issue 15, item 1: tokens with roles, on a real node. Every role against
// every RPC; a wrong token learns nothing about the keys; the auth file is
// re-read on SIGHUP (a bad one is refused and the old tokens stay); refusals
// are counted; no token appears in the node's log.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cache_client.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

constexpr char kRead[] = "read-token-0123456789";
constexpr char kWrite[] = "write-token-0123456789";
constexpr char kAdmin[] = "admin-token-0123456789";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

v1::Key K(const std::string& name) {
  v1::Key k;
  k.set_scope("content-view");
  k.set_name(name);
  return k;
}

// Each RPC with a request that is otherwise fine.
const std::vector<
    std::pair<std::string, std::function<absl::Status(GrpcClient&)>>>&
Calls() {
  static const auto* calls = new std::vector<
      std::pair<std::string, std::function<absl::Status(GrpcClient&)>>>{
      {"Fetch",
       [](GrpcClient& c) {
         v1::FetchRequest r;
         *r.mutable_key() = K("page");
         return c.Fetch(r).status();
       }},
      {"Store",
       [](GrpcClient& c) {
         v1::StoreRequest r;
         *r.mutable_key() = K("page");
         r.set_payload("v");
         return c.Store(r).status();
       }},
      {"Release",
       [](GrpcClient& c) {
         v1::ReleaseRequest r;
         *r.mutable_key() = K("page");
         r.set_lease_token("none");
         return c.Release(r).status();
       }},
      {"Expire",
       [](GrpcClient& c) {
         v1::ExpireRequest r;
         r.mutable_selector()->set_scope("content-view");
         r.mutable_selector()->set_name("page");
         return c.Expire(r).status();
       }},
      {"Delete",
       [](GrpcClient& c) {
         v1::DeleteRequest r;
         r.mutable_selector()->set_scope("content-view");
         r.mutable_selector()->set_name("gone");
         return c.Delete(r).status();
       }},
      {"Invalidate",
       [](GrpcClient& c) {
         v1::InvalidateRequest r;
         r.set_tag("class:none");
         return c.Invalidate(r).status();
       }},
      {"ListExpiryKeys",
       [](GrpcClient& c) { return c.ListExpiryKeys().status(); }},
      {"ResetExpiryKey",
       [](GrpcClient& c) {
         v1::ResetExpiryKeyRequest r;
         r.set_name("class:none");
         return c.ResetExpiryKey(r).status();
       }},
      {"ForgetTags",
       [](GrpcClient& c) {
         v1::ForgetTagsRequest r;
         r.set_older_than_ms(86'400'000);
         return c.ForgetTags(r).status();
       }},
      {"Purge",
       [](GrpcClient& c) {
         v1::PurgeRequest r;
         r.set_scope("rss");
         r.set_dry_run(true);
         return c.Purge(r, [](const v1::PurgeProgress&) { return true; });
       }},
      {"List",
       [](GrpcClient& c) {
         v1::ListRequest r;
         return c.List(r, [](const v1::ListResponse&) { return true; });
       }},
      {"Stats", [](GrpcClient& c) { return c.Stats().status(); }},
  };
  return *calls;
}

class AuthTest : public testing::Test {
 protected:
  void SetUp() override {
    auth_file_ = absl::StrCat(testing::TempDir(), "/auth-", getpid());
    WriteFile(auth_file_, absl::StrCat("# name role token\nweb1 read ", kRead,
                                       "\napp1 write ", kWrite, "\nops admin ",
                                       kAdmin, "\n"));
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--auth-file=" + auth_file_});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }
  std::unique_ptr<GrpcClient> Client(const std::string& token) {
    ClientOptions o;
    o.servers = {node_->address()};
    o.token = token;
    return NewGrpcClient(o);
  }

  std::string auth_file_;
  std::unique_ptr<ServerProcess> node_;
};

TEST_F(AuthTest, EveryRoleAgainstEveryCall) {
  // What each token gets: allowed (any other answer), or refused.
  const std::map<std::string, std::set<std::string>> allowed = {
      {kRead, {"Fetch"}},
      {kWrite, {"Fetch", "Store", "Release"}},
  };
  for (const std::string& token :
       {std::string(), std::string("not-a-known-token-at-all"),
        std::string(kRead), std::string(kWrite), std::string(kAdmin)}) {
    std::unique_ptr<GrpcClient> client = Client(token);
    for (const auto& [name, call] : Calls()) {
      SCOPED_TRACE(absl::StrCat(name, " with token \"", token, "\""));
      absl::Status s = call(*client);
      if (token != kRead && token != kWrite && token != kAdmin) {
        EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
      } else if (token == kAdmin || allowed.at(token).count(name)) {
        EXPECT_NE(s.code(), absl::StatusCode::kUnauthenticated) << s;
        EXPECT_NE(s.code(), absl::StatusCode::kPermissionDenied) << s;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
      }
    }
  }
  absl::StatusOr<v1::StatsResponse> stats = Client(kAdmin)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->node_counters().at("unauthenticated"),
            2 * static_cast<int64_t>(Calls().size()));
  EXPECT_EQ(stats->node_counters().at("permission_denied"),
            static_cast<int64_t>(Calls().size() - 1 + Calls().size() - 3));
  // Issue 15, item 6: each admin call logged once, with the token's name
  // (never the token), the peer, the request, the result and the count.
  const std::string log = ReadFile(node_->log_path());
  EXPECT_NE(log.find("audit: Invalidate {tag: \"class:none\"} by ops from "
                     "ipv4:127.0.0.1:"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("audit: Delete {selector { scope: \"content-view\" "
                     "name: \"gone\" }} by ops from"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(": OK, count 0"), std::string::npos) << log;
  EXPECT_NE(log.find("by (refused) from"), std::string::npos) << log;
  EXPECT_NE(log.find("UNAUTHENTICATED"), std::string::npos) << log;
  EXPECT_EQ(log.find(kAdmin), std::string::npos) << "a token in the log";
}

TEST_F(AuthTest, AWrongTokenLearnsNothingAboutKeys) {
  v1::StoreRequest store;
  *store.mutable_key() = K("exists");
  store.set_payload("secret page");
  ASSERT_TRUE(Client(kWrite)->Store(store).ok());
  std::unique_ptr<GrpcClient> stranger = Client("guessed-token-0123456789");
  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("exists");
  absl::Status there = stranger->Fetch(fetch).status();
  *fetch.mutable_key() = K("never-stored");
  absl::Status not_there = stranger->Fetch(fetch).status();
  EXPECT_EQ(there.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(there.code(), not_there.code());
  EXPECT_EQ(there.message(), not_there.message());
}

TEST_F(AuthTest, SighupReReadsTheFileAndKeepsTheOldOnABadOne) {
  const std::string rotated = "rotated-admin-token-98765";
  WriteFile(auth_file_, absl::StrCat("ops admin ", rotated, "\n"));
  kill(node_->pid(), SIGHUP);
  bool switched = false;
  for (int i = 0; i < 100 && !switched; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    switched = Client(rotated)->Stats().ok();
  }
  EXPECT_TRUE(switched) << "the new token works";
  EXPECT_EQ(Client(kAdmin)->Stats().status().code(),
            absl::StatusCode::kUnauthenticated)
      << "the old one does not";
  WriteFile(auth_file_, "ops superuser short\n");  // refused
  kill(node_->pid(), SIGHUP);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_TRUE(Client(rotated)->Stats().ok()) << "kept after a bad file";
  const std::string log = ReadFile(node_->log_path());
  EXPECT_NE(log.find("auth file refused"), std::string::npos) << log;
  EXPECT_NE(log.find("received SIGHUP: auth: 1 tokens"), std::string::npos)
      << log;
  for (const std::string& token : {std::string(kRead), std::string(kWrite),
                                   std::string(kAdmin), rotated}) {
    EXPECT_EQ(log.find(token), std::string::npos) << "a token in the log";
  }
  EXPECT_EQ(node_->Stop(), 0) << "SIGHUP did not end it; SIGTERM does";
}

TEST(AuthFileTest, BadFilesAreRefusedAtStart) {
  const std::string path =
      absl::StrCat(testing::TempDir(), "/bad-auth-", getpid());
  WriteFile(path, "ops admin too-short\n");
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--auth-file=" + path});
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("line 1"), std::string::npos)
      << node.status();
  EXPECT_EQ(node.status().message().find("too-short"), std::string::npos)
      << "the token is not shown";
}

}  // namespace
}  // namespace clustercache
