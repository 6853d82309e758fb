// The built clustercachectl against a started clustercached process.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cache/util/version.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

class CtlTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ServerProcess>> s =
        ServerProcess::Start({"--node-name=ctl-node"});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  // clustercachectl --server=<ours> ARGS
  std::string Ctl(const std::string& args) {
    return absl::StrCat(CLUSTERCACHECTL_BIN, " --server=", server_->address(),
                        " ", args);
  }
  ShellResult Run(const std::string& args) { return Shell(Ctl(args)); }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CtlTest, PutThenGetAndItsExitCodes) {
  ShellResult put =
      Shell("printf 'hello' | " +
            Ctl("put content-view site/1 --ttl 1h --tag subtree:2"));
  ASSERT_EQ(put.exit_code, 0) << put.out;
  ShellResult get = Run("get content-view site/1");
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "hello");
  EXPECT_EQ(Run("get content-view missing").exit_code, 3);
  EXPECT_EQ(Run("get BAD site/1").exit_code, 2);
  EXPECT_EQ(Run("get content-view").exit_code, 2);
  EXPECT_EQ(Run("frobnicate").exit_code, 2);
  EXPECT_EQ(Run("put content-view x --ttl forever < /dev/null").exit_code, 2);
  EXPECT_EQ(Shell(absl::StrCat(CLUSTERCACHECTL_BIN,
                               " --server=127.0.0.1:1 stats 2>/dev/null"))
                .exit_code,
            1);
  EXPECT_EQ(Run("--help").exit_code, 0);
  EXPECT_NE(Run("purge --help").out.find("--older-than"), std::string::npos);
}

// Issue 17, item 4: help in every form; a mistyped command gets one line
// with a suggestion, not the whole usage.
TEST_F(CtlTest, HelpAndAMistypedCommand) {
  for (const char* args : {"help", "-h", "--help"}) {
    ShellResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    EXPECT_NE(r.out.find("commands:"), std::string::npos) << args;
  }
  ShellResult get = Run("help get");
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out.rfind("usage: clustercachectl get SCOPE NAME", 0), 0u)
      << get.out;
  EXPECT_NE(Run("get -h").out.find("--allow-stale"), std::string::npos);
  ShellResult typo = Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " gte 2>&1"));
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.out,
            "clustercachectl: unknown command \"gte\"; did you mean get? "
            "(clustercachectl help lists them)\n");
  ShellResult prefix = Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " purg 2>&1"));
  EXPECT_NE(prefix.out.find("did you mean purge?"), std::string::npos);
  ShellResult far = Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " xyzzy 2>&1"));
  EXPECT_EQ(far.out.find("did you mean"), std::string::npos) << far.out;
  EXPECT_EQ(std::count(far.out.begin(), far.out.end(), '\n'), 1);
}

TEST_F(CtlTest, ServerFromTheEnvironment) {
  ShellResult r = Shell(absl::StrCat("CLUSTERCACHE_SERVER=", server_->address(),
                                     " ", CLUSTERCACHECTL_BIN, " stats"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("node\tctl-node"), std::string::npos) << r.out;
}

TEST_F(CtlTest, InvalidatePrintsTheTimestampAndHidesOlderEntries) {
  ASSERT_EQ(Shell("printf v | " + Ctl("put rss feed")).exit_code, 0);
  ShellResult inv = Run("invalidate --scope rss");
  ASSERT_EQ(inv.exit_code, 0);
  int64_t ts = std::stoll(inv.out);
  EXPECT_GT(ts, 1'600'000'000'000'000);
  EXPECT_EQ(Run("get rss feed").exit_code, 3);
  ShellResult stale = Run("get rss feed --allow-stale");
  EXPECT_EQ(stale.exit_code, 0);
  EXPECT_EQ(stale.out, "v");
  EXPECT_NE(Run("expiry-keys").out.find(absl::StrCat("scope:rss\t", ts)),
            std::string::npos);
  EXPECT_EQ(Run("invalidate --scope rss --all").exit_code, 2);
  EXPECT_EQ(Run("invalidate").exit_code, 2);
  EXPECT_EQ(Run("invalidate --tag subtree:9").exit_code, 0);
  EXPECT_EQ(Run("invalidate --all").exit_code, 0);
}

// Issue 14, item 14: old tag keys are forgotten on request, the others
// kept.
TEST_F(CtlTest, ExpiryKeysForgetsOldTags) {
  ASSERT_EQ(Run("invalidate --tag once:1").exit_code, 0);
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_EQ(Run("invalidate --tag recent:1").exit_code, 0);
  ShellResult forgot = Run("expiry-keys --forget-tags-older-than 1s");
  ASSERT_EQ(forgot.exit_code, 0) << forgot.out;
  EXPECT_NE(forgot.out.find("forgot 1 tag keys"), std::string::npos)
      << forgot.out;
  ShellResult keys = Run("expiry-keys");
  EXPECT_EQ(keys.out.find("once:1"), std::string::npos) << keys.out;
  EXPECT_NE(keys.out.find("recent:1"), std::string::npos) << keys.out;
  EXPECT_EQ(
      Run("expiry-keys --forget-tags-older-than 1s --reset all").exit_code, 2);
}

TEST_F(CtlTest, FailingGeneratorStoresNothingAndReleasesTheLease) {
  ShellResult failed = Run(
      "fetch-or-generate content-view page -- sh -c 'echo partial; exit 7'");
  EXPECT_EQ(failed.exit_code, 7);
  EXPECT_EQ(Run("get content-view page").exit_code, 3);
  // The lease was given back: the next call generates at once.
  ShellResult ok =
      Run("fetch-or-generate content-view page --wait 0 -- echo rendered");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.out, "rendered\n");
  EXPECT_EQ(Run("get content-view page").out, "rendered\n");
  ShellResult hit =
      Run("fetch-or-generate content-view page -- sh -c 'echo again'");
  EXPECT_EQ(hit.out, "rendered\n") << "a hit does not run the command";
  // A command that cannot be run: 127, like a shell; the lease is given
  // back.
  ShellResult missing =
      Run("fetch-or-generate content-view other -- /no/such/command 2>&1");
  EXPECT_EQ(missing.exit_code, 127) << missing.out;
  EXPECT_EQ(
      Run("fetch-or-generate content-view other --wait 0 -- echo x").exit_code,
      0);
}

// Rendered without storing: said on stderr, with why.
TEST_F(CtlTest, FetchOrGenerateSaysWhenItDidNotStore) {
  // Another caller holds the lease (taken over HTTP; it lapses after the
  // lease time, or goes with the node).
  ShellResult held = Shell(absl::StrCat(
      "curl -s -o /dev/null -w '%{http_code}' 'http://",
      server_->http_address(), "/v1/entries/content-view/held?lease=1'"));
  ASSERT_EQ(held.out, "404") << "MISS_LEASE";
  ShellResult timeout =
      Run("fetch-or-generate content-view held --wait 200ms -- echo mine 2>&1");
  EXPECT_EQ(timeout.exit_code, 0);
  EXPECT_EQ(timeout.out,
            "clustercachectl: rendered without storing: TIMEOUT (another "
            "caller held the lease past --wait)\nmine\n");
}

TEST_F(CtlTest, FiftyParallelFetchOrGenerateRunTheGeneratorOnce) {
  std::string counter =
      testing::TempDir() + "/runs-" + std::to_string(getpid());
  std::remove(counter.c_str());
  std::string cmd = Ctl(absl::StrCat(
      "fetch-or-generate content-view hot --wait 20s -- sh -c 'echo run >> ",
      counter, "; sleep 0.5; echo value'"));
  for (const ShellResult& r :
       ShellConcurrently(std::vector<std::string>(50, cmd))) {
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "value\n");
  }
  EXPECT_EQ(ReadFile(counter), "run\n") << "the generator ran exactly once";
}

// Issue 14, item 4: removing a whole scope, or everything, must be said.
TEST_F(CtlTest, AWholeScopeOrEverythingMustBeSaid) {
  for (const char* name : {"a/1", "a/2"}) {
    ASSERT_EQ(
        Shell(absl::StrCat("printf x | ", Ctl(absl::StrCat("put rss ", name))))
            .exit_code,
        0);
  }
  ShellResult whole = Run("delete rss 2>&1");
  EXPECT_EQ(whole.exit_code, 2);
  EXPECT_NE(whole.out.find("--whole-scope"), std::string::npos) << whole.out;
  EXPECT_EQ(Run("delete rss --dry-run").out,
            "would delete 2 entries, 2 bytes\n");
  ShellResult all = Run("purge 2>&1");
  EXPECT_EQ(all.exit_code, 2);
  EXPECT_NE(all.out.find("--everything"), std::string::npos) << all.out;
  EXPECT_EQ(Run("purge --everything --scope rss").exit_code, 2);
  EXPECT_EQ(Run("purge --dry-run").out, "would purge 2 entries, 2 bytes\n");
  EXPECT_EQ(Run("list --scope rss").out.empty(), false) << "nothing removed";
  EXPECT_EQ(Run("delete rss --whole-scope").out, "deleted 2 entries\n");
  ASSERT_EQ(Shell(absl::StrCat("printf x | ", Ctl("put rss b"))).exit_code, 0);
  EXPECT_EQ(Run("purge --everything").out, "purged 1 entry, 1 byte\n");
}

TEST_F(CtlTest, ListExpireDeleteAndPurge) {
  for (const char* name : {"a/1", "a/2", "b/1"}) {
    ASSERT_EQ(
        Shell(absl::StrCat("printf x | ", Ctl(absl::StrCat("put rss ", name))))
            .exit_code,
        0);
  }
  ShellResult list = Run("list --scope rss --prefix a/");
  std::vector<std::string> lines =
      absl::StrSplit(list.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << list.out;
  EXPECT_EQ(lines[0].rfind("rss\ta/1\t1\t", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\tfresh\t"), std::string::npos);
  EXPECT_EQ(Run("expire rss --prefix a/").out, "expired 2 entries\n");
  EXPECT_NE(Run("list --scope rss").out.find("a/2\t1\t"), std::string::npos);
  EXPECT_EQ(Run("expire rss a/1 --prefix a/").exit_code, 2);
  EXPECT_EQ(Run("purge --not-fresh-only --dry-run").out,
            "would purge 2 entries, 2 bytes\n");
  EXPECT_EQ(Run("purge --not-fresh-only --batch 1").out,
            "purged 2 entries, 2 bytes\n");
  EXPECT_EQ(Run("delete rss b/1").out, "deleted 1 entry\n");
  EXPECT_EQ(Run("list").out, "");
  EXPECT_EQ(Run("purge --prefix x").exit_code, 2) << "prefix needs a scope";
  ShellResult stats = Run("stats");
  EXPECT_NE(stats.out.find("rss\tstores\t3"), std::string::npos) << stats.out;
}

TEST(ServerFlagsTest, BadFlagsAreRefusedWithExitCode2) {
  ShellResult r =
      Shell(absl::StrCat(CLUSTERCACHED_BIN, " --memory-limit=lots 2>&1"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--memory-limit=lots"), std::string::npos) << r.out;
  EXPECT_EQ(
      Shell(absl::StrCat(CLUSTERCACHED_BIN, " --lease-time=0 2>/dev/null"))
          .exit_code,
      2);
  EXPECT_EQ(
      Shell(absl::StrCat(CLUSTERCACHED_BIN,
                         " --store=nope --listen=127.0.0.1:0 2>/dev/null"))
          .exit_code,
      1);
  EXPECT_NE(Shell(absl::StrCat(CLUSTERCACHED_BIN, " --help"))
                .out.find("--scope-keep"),
            std::string::npos);
}

TEST(ServerFlagsTest, FlagfileAndEffectiveConfigurationInTheLog) {
  std::string flagfile = testing::TempDir() + "/cc-flags";
  std::ofstream(flagfile)
      << "# test\n--node-name=from-file\n--lease-time=30s\n";
  absl::StatusOr<std::unique_ptr<ServerProcess>> s =
      ServerProcess::Start({"--flagfile=" + flagfile});
  ASSERT_TRUE(s.ok()) << s.status();
  std::ifstream log((*s)->log_path());
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("node-name=from-file"), std::string::npos);
  EXPECT_NE(text.str().find("lease-time=30s"), std::string::npos);
  EXPECT_EQ((*s)->Stop(), 0) << "SIGTERM ends it cleanly";
}

// Issue 17, item 4: --json on get, list, stats, expiry-keys, purge and
// invalidate: one document (NDJSON for streams) with the proto's field
// names, names and tags as text, numbers as numbers.
TEST_F(CtlTest, JsonOutputHasTheProtosFieldNames) {
  using Json = nlohmann::json;
  auto parse = [](const std::string& text) {
    std::vector<Json> docs;
    for (absl::string_view line :
         absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      docs.push_back(Json::parse(line, nullptr, false));
      EXPECT_FALSE(docs.back().is_discarded()) << line;
    }
    return docs;
  };
  ASSERT_EQ(Shell("printf 'hello' | " +
                  Ctl("put news a/1 --tag t1 --content-type text/html"))
                .exit_code,
            0);
  ASSERT_EQ(Shell("printf 'x' | " + Ctl("put news a/2")).exit_code, 0);

  ShellResult get = Run("get news a/1 --json");
  EXPECT_EQ(get.exit_code, 0);
  std::vector<Json> got = parse(get.out);
  ASSERT_EQ(got.size(), 1u) << get.out;
  EXPECT_EQ(got[0]["outcome"], "HIT");
  EXPECT_EQ(got[0]["meta"]["key"]["name"], "a/1");
  EXPECT_EQ(got[0]["meta"]["content_type"], "text/html");
  EXPECT_EQ(got[0]["meta"]["tags"], Json::array({"t1"}));
  EXPECT_EQ(got[0]["meta"]["size"], 5);
  EXPECT_EQ(got[0]["payload"], "");  // metadata only
  EXPECT_EQ(got[0]["served_by"], "ctl-node");
  ShellResult miss = Run("get news none --json");
  EXPECT_EQ(miss.exit_code, 3);
  EXPECT_EQ(parse(miss.out).at(0)["outcome"], "MISS");

  std::vector<Json> listed = parse(Run("list --scope news --json").out);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["meta"]["key"]["scope"], "news");
  EXPECT_TRUE(listed[0]["meta"]["fresh"].get<bool>());
  EXPECT_TRUE(listed[0]["meta"]["mtime_us"].is_number_integer());

  std::vector<Json> stats = parse(Run("stats --json").out);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["entries"], 2);
  EXPECT_EQ(stats[0]["version"], std::string(Version()));
  EXPECT_GE(stats[0]["uptime_ms"].get<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(stats[0]["hit_ratio"].get<double>(), 0.5);  // 1 of 2
  EXPECT_EQ(stats[0]["scopes"][0]["counters"]["stores"], 2);

  std::vector<Json> invalidated = parse(Run("invalidate --tag t1 --json").out);
  ASSERT_EQ(invalidated.size(), 1u);
  EXPECT_EQ(invalidated[0]["expiry_key"], "t1");
  EXPECT_GT(invalidated[0]["value_us"].get<int64_t>(), 0);
  std::vector<Json> keys = parse(Run("expiry-keys --json").out);
  ASSERT_EQ(keys.size(), 1u);
  bool found = false;
  for (const Json& k : keys[0]["keys"]) found = found || k["name"] == "t1";
  EXPECT_TRUE(found) << keys[0];

  ShellResult purge = Run("purge --scope news --json");
  EXPECT_EQ(purge.exit_code, 0);
  std::vector<Json> steps = parse(purge.out);
  ASSERT_FALSE(steps.empty());
  EXPECT_TRUE(steps.back()["done"].get<bool>());
  EXPECT_EQ(steps.back()["purged"], 2);
}

// Issue 17, item 4: stats says which figures are the store's and which
// this node's.
TEST_F(CtlTest, StatsSaysWhoseFiguresTheyAre) {
  ShellResult stats = Run("stats");
  EXPECT_NE(stats.out.find("# store-wide"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("# this node, since it started"), std::string::npos);
  EXPECT_NE(stats.out.find("\nuptime\t"), std::string::npos);
  EXPECT_NE(stats.out.find("\nhit_ratio\t0.0000"), std::string::npos);
}

// Issue 17, item 4: bash completion made from the command table.
TEST(CtlCompletionTest, BashCompletesCommandsAndEachCommandsFlags) {
  const std::string script =
      absl::StrCat(testing::TempDir(), "/completion-", getpid(), ".bash");
  ASSERT_EQ(
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " completion bash > ", script))
          .exit_code,
      0);
  // The words bash offers after `line` (the last word is being typed).
  auto complete = [&](const std::string& line) {
    ShellResult r =
        Shell(absl::StrCat("bash -c 'source ", script, "; COMP_WORDS=(", line,
                           "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                           "_clustercachectl; echo \"${COMPREPLY[*]}\"'"));
    return r.out;
  };
  EXPECT_EQ(complete("clustercachectl pu"), "put purge\n");
  EXPECT_EQ(complete("clustercachectl purge --ol"), "--older-than\n");
  EXPECT_EQ(complete("clustercachectl --server 127.0.0.1:1 get --js"),
            "--json\n");
  EXPECT_EQ(complete("clustercachectl --tok"), "--token-file\n");
  EXPECT_EQ(complete("clustercachectl help inv"), "invalidate\n");
  EXPECT_EQ(
      Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " completion zsh")).exit_code, 2);
}

}  // namespace
}  // namespace clustercache
