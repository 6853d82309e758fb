// Issue 16: the admin routes of the HTTP face on a real node, through curl:
// invalidation by scope, everything and many tags at once; the proxies'
// PURGE with xkey-purge (soft); expire and delete by key and prefix; purge
// progress and list as NDJSON; stats and expiry keys as JSON; bad input
// refused with nothing written; the admin role.
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/curl.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

using Json = nlohmann::json;

class HttpAdminTest : public testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> flags) {
    flags.push_back("--node-name=admin-node");
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start(flags);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://", node_->http_address(), path);
  }

  // PUT through HTTP with tags (space-separated, may be empty).
  void Put(const std::string& scope, const std::string& name,
           const std::string& body, const std::string& tags = "") {
    Reply r =
        Curl(Url(absl::StrCat("/v1/entries/", scope, "/", name)),
             absl::StrCat("-X PUT --data-binary '", body, "'",
                          tags.empty() ? "" : " -H 'xkey: " + tags + "'"));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  int Status(const std::string& scope, const std::string& name) {
    return Curl(Url(absl::StrCat("/v1/entries/", scope, "/", name))).status;
  }

  Reply Post(const std::string& path, const std::string& json,
             const std::string& args = "") {
    return Curl(Url(path), absl::StrCat("-X POST --data-binary '", json,
                                        "' -H 'Content-Type: "
                                        "application/json' ",
                                        args));
  }

  // The lines of an NDJSON body, parsed.
  static std::vector<Json> Lines(const std::string& body) {
    std::vector<Json> out;
    for (absl::string_view line :
         absl::StrSplit(body, '\n', absl::SkipEmpty())) {
      out.push_back(Json::parse(line, nullptr, false));
    }
    return out;
  }

  std::unique_ptr<ServerProcess> node_;
};

TEST_F(HttpAdminTest, InvalidateAScopeEverythingOrManyTagsAtOnce) {
  Put("news", "a", "A", "t1");
  Put("news", "b", "B", "t2");
  Put("news", "c", "C", "t3");
  Put("blog", "d", "D");
  Reply tags = Post("/v1/invalidate", R"({"tags":["t1","t2","t1"]})");
  ASSERT_EQ(tags.status, 200) << tags.body;
  Json j = Json::parse(tags.body);
  EXPECT_EQ(j["served_by"], "admin-node");
  ASSERT_EQ(j["keys"].size(), 2u) << "a tag named twice counts once";
  EXPECT_EQ(j["keys"][0]["name"], "t1");
  EXPECT_GT(j["keys"][1]["value_us"].get<int64_t>(), 0);
  EXPECT_EQ(Status("news", "a"), 404);
  EXPECT_EQ(Status("news", "b"), 404);
  EXPECT_EQ(Status("news", "c"), 200) << "t3 was not named";
  EXPECT_EQ(Status("blog", "d"), 200);

  ASSERT_EQ(Post("/v1/invalidate", R"({"scope":"news"})").status, 200);
  EXPECT_EQ(Status("news", "c"), 404);
  EXPECT_EQ(Status("blog", "d"), 200);
  ASSERT_EQ(Post("/v1/invalidate", R"({"all":true})").status, 200);
  EXPECT_EQ(Status("blog", "d"), 404);
  Put("blog", "d", "D2");
  EXPECT_EQ(Status("blog", "d"), 200) << "generated after: fresh";
}

TEST_F(HttpAdminTest, GrpcInvalidateTakesManyTagsToo) {
  Put("news", "a", "A", "g1");
  Put("news", "b", "B", "g2");
  Put("news", "c", "C", "g3");
  ShellResult r =
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=", node_->address(),
                         " invalidate --tag g1 --tag g2 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("invalidated g1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("invalidated g2"), std::string::npos) << r.out;
  EXPECT_EQ(Status("news", "a"), 404);
  EXPECT_EQ(Status("news", "b"), 404);
  EXPECT_EQ(Status("news", "c"), 200);
}

// Varnish's xkey convention: PURGE with xkey-purge (or Surrogate-Key).
// Soft: the entries go stale, the stale copy is still there to serve while
// one caller regenerates.
TEST_F(HttpAdminTest, ProxyPurgeByTagsIsSoft) {
  Put("frag", "menu", "M1", "menu nav");
  Put("frag", "footer", "F1", "footer");
  Reply purge = Curl(Url("/"), "-X PURGE -H 'xkey-purge: nav other'");
  ASSERT_EQ(purge.status, 200) << purge.body;
  EXPECT_EQ(Json::parse(purge.body)["keys"].size(), 2u);
  Reply read = Curl(Url("/v1/entries/frag/menu"));
  EXPECT_EQ(read.status, 404);
  EXPECT_NE(read.Header("cache-status").find("fwd=stale"), std::string::npos);
  Reply stale = Curl(Url("/v1/entries/frag/menu?stale=1"));
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, "M1");
  EXPECT_EQ(Status("frag", "footer"), 200);
  ASSERT_EQ(Curl(Url("/"), "-X PURGE -H 'Surrogate-Key: footer'").status, 200);
  EXPECT_EQ(Status("frag", "footer"), 404);
  // PURGE of one entry's URL: that entry goes stale.
  Put("frag", "side", "S1");
  Reply one = Curl(Url("/v1/entries/frag/side"), "-X PURGE");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json::parse(one.body)["count"], 1);
  EXPECT_EQ(Status("frag", "side"), 404);
  EXPECT_EQ(Curl(Url("/v1/entries/frag/side?stale=1")).body, "S1");
}

TEST_F(HttpAdminTest, ExpireAndDeleteByKeyAndPrefix) {
  for (const char* n : {"p/1", "p/2", "q/1"}) Put("files", n, n);
  Reply one = Post("/v1/expire", R"({"scope":"files","name":"p/1"})");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json::parse(one.body)["count"], 1);
  EXPECT_EQ(Status("files", "p/1"), 404);
  EXPECT_EQ(Curl(Url("/v1/entries/files/p/1?stale=1")).status, 200)
      << "expired, not deleted";
  Reply prefix = Post("/v1/delete", R"({"scope":"files","prefix":"p/"})");
  ASSERT_EQ(prefix.status, 200) << prefix.body;
  EXPECT_EQ(Json::parse(prefix.body)["count"], 2);
  EXPECT_EQ(Curl(Url("/v1/entries/files/p/2?stale=1")).status, 404);
  EXPECT_EQ(Status("files", "q/1"), 200);
  Reply whole = Post("/v1/delete", R"({"scope":"files","prefix":""})");
  EXPECT_EQ(Json::parse(whole.body)["count"], 1);
  EXPECT_EQ(Status("files", "q/1"), 404);
}

TEST_F(HttpAdminTest, PurgeProgressAndListAsNdjson) {
  // 1200 entries with long names: the list is several chunks.
  const std::string config =
      absl::StrCat(testing::TempDir(), "/bulk-urls-", getpid());
  {
    std::ofstream out(config);
    for (int i = 0; i < 1200; ++i) {
      out << "url = \""
          << Url(absl::StrCat("/v1/entries/bulk/", std::string(100, 'n'), i))
          << "\"\n";
    }
  }
  ASSERT_EQ(Shell(absl::StrCat("curl -s --max-time 60 -X PUT -d x -o /dev/null "
                               "-K ",
                               config))
                .exit_code,
            0);
  Reply list = Curl(Url("/v1/list?scope=bulk"));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(list.Header("transfer-encoding"), "chunked");
  std::vector<Json> entries = Lines(list.body);
  ASSERT_EQ(entries.size(), 1200u);
  for (const Json& e : entries) {
    ASSERT_FALSE(e.is_discarded());
    EXPECT_EQ(e["scope"], "bulk");
    EXPECT_EQ(e["fresh"], true);
    EXPECT_EQ(e["size"], 1);
  }
  EXPECT_EQ(Lines(Curl(Url("/v1/list?scope=bulk&limit=5")).body).size(), 5u);

  Reply dry =
      Post("/v1/purge", R"({"scope":"bulk","batch":500,"dry_run":true})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(Lines(dry.body).back()["purged"], 1200);
  EXPECT_EQ(Lines(Curl(Url("/v1/list?scope=bulk")).body).size(), 1200u);
  Reply purge = Post("/v1/purge", R"({"scope":"bulk","batch":500})");
  ASSERT_EQ(purge.status, 200) << purge.body;
  std::vector<Json> progress = Lines(purge.body);
  ASSERT_GE(progress.size(), 3u) << "a line per batch of 500";
  EXPECT_EQ(progress.back()["done"], true);
  EXPECT_EQ(progress.back()["purged"], 1200);
  EXPECT_EQ(progress.back()["examined"], 1200);
  EXPECT_EQ(Curl(Url("/v1/list?scope=bulk")).body, "");
}

TEST_F(HttpAdminTest, StatsAndExpiryKeysAsJson) {
  Put("news", "a", "A", "tagged");
  EXPECT_EQ(Status("news", "a"), 200);
  EXPECT_EQ(Status("news", "zz"), 404);
  ASSERT_EQ(Post("/v1/invalidate", R"({"tag":"tagged"})").status, 200);
  Reply stats = Curl(Url("/v1/stats"));
  ASSERT_EQ(stats.status, 200) << stats.body;
  Json s = Json::parse(stats.body);
  EXPECT_EQ(s["entries"], 1);
  EXPECT_GE(s["node_counters"]["http_requests"].get<int64_t>(), 5);
  EXPECT_EQ(s["node_counters"]["http_connections"], 1) << "this one";
  ASSERT_EQ(s["scopes"].size(), 1u);
  EXPECT_EQ(s["scopes"][0]["scope"], "news");
  EXPECT_EQ(s["scopes"][0]["counters"]["stores"], 1);
  EXPECT_EQ(s["scopes"][0]["counters"]["hits"], 1);
  Reply keys = Curl(Url("/v1/expiry-keys"));
  ASSERT_EQ(keys.status, 200);
  bool found = false;
  const Json listed = Json::parse(keys.body);
  for (const Json& k : listed["keys"]) {
    found = found || k["name"] == "tagged";
  }
  EXPECT_TRUE(found) << keys.body;
}

TEST_F(HttpAdminTest, BadInputIsRefusedByFieldAndWritesNothing) {
  Put("news", "a", "A", "t1");
  const std::string before = Curl(Url("/v1/expiry-keys")).body;
  struct Case {
    std::string path, body, field;
  };
  const std::vector<Case> cases = {
      {"/v1/invalidate", R"({"scpoe":"news"})", "scpoe"},
      {"/v1/invalidate", R"({"scope":7})", "scope"},
      {"/v1/invalidate", R"({"scope":"news","all":true})", "target"},
      {"/v1/invalidate", R"({"all":false})", "all"},
      {"/v1/invalidate", R"({"tags":[]})", "tags"},
      {"/v1/invalidate", R"({"tags":["ok",3]})", "tags"},
      {"/v1/invalidate", R"({"tags":"t1"})", "tags"},
      {"/v1/invalidate", R"({"tag":""})", "tag"},
      {"/v1/invalidate", R"({"scope":"news","at_us":-1})", "at_us"},
      {"/v1/invalidate", "[[[[[[[[[[[[[[[[", "body"},
      {"/v1/invalidate", "not json", "body"},
      {"/v1/expire", R"({"scope":"news"})", "selector"},
      {"/v1/delete", R"({"scope":"news","name":"a","prefix":""})", "selector"},
      {"/v1/purge", R"({})", "everything"},
      {"/v1/purge", R"({"scope":"news","everything":true})", "everything"},
      {"/v1/purge", R"({"scope":"news","batch":0})", "batch"},
      {"/v1/purge", R"({"scope":"news","pause":"2h"})", "pause"},
  };
  for (const Case& c : cases) {
    Reply r = Post(c.path, c.body);
    EXPECT_EQ(r.status, 400) << c.path << " " << c.body << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j.value("field", ""), c.field) << c.body << ": " << r.body;
  }
  std::string many = R"({"tags":[)";
  for (int i = 0; i < 1001; ++i) absl::StrAppend(&many, i ? "," : "", "\"x\"");
  EXPECT_EQ(Post("/v1/invalidate", many + "]}").status, 400) << "over 1000";
  EXPECT_EQ(Curl(Url("/v1/invalidate")).status, 405);
  EXPECT_EQ(Curl(Url("/v1/list"), "-I").status, 405) << "a stream has no HEAD";
  EXPECT_EQ(Curl(Url("/v1/expiry-keys")).body, before) << "nothing moved";
  EXPECT_EQ(Status("news", "a"), 200) << "nothing expired or deleted";
}

TEST_F(HttpAdminTest, AdminRoutesNeedTheAdminRole) {
  const std::string auth =
      absl::StrCat(testing::TempDir(), "/http-admin-auth-", getpid());
  ASSERT_EQ(Shell(absl::StrCat("printf 'writer write write-token-0123456789\\n"
                               "boss admin admin-token-0123456789\\n' > ",
                               auth))
                .exit_code,
            0);
  node_.reset();
  Start({"--auth-file=" + auth});
  const std::string writer =
      "-H 'Authorization: Bearer write-token-0123456789'";
  const std::string boss = "-H 'Authorization: Bearer admin-token-0123456789'";
  EXPECT_EQ(Post("/v1/invalidate", R"({"all":true})").status, 401);
  EXPECT_EQ(Post("/v1/invalidate", R"({"all":true})", writer).status, 403);
  EXPECT_EQ(Curl(Url("/"), "-X PURGE -H 'xkey-purge: a' " + writer).status,
            403);
  EXPECT_EQ(Curl(Url("/v1/stats"), writer).status, 403);
  EXPECT_EQ(Curl(Url("/v1/list"), writer).status, 403);
  EXPECT_EQ(Post("/v1/invalidate", R"({"all":true})", boss).status, 200);
  EXPECT_EQ(Curl(Url("/v1/stats"), boss).status, 200);
  // The audit line names the token, never shows it.
  const std::string log = ReadFile(node_->log_path());
  EXPECT_NE(log.find("audit: Invalidate"), std::string::npos);
  EXPECT_NE(log.find("by boss"), std::string::npos);
  EXPECT_EQ(log.find("admin-token-0123456789"), std::string::npos);
}

}  // namespace
}  // namespace clustercache
