// Issue 17, item 2: every program says its version (project(VERSION) and
// the git revision of the build), and a node says it in its start-up log,
// in stats (gRPC and HTTP) and on its HTTP probes.
#include "cache/util/version.h"

#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/curl.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

TEST(VersionTest, EveryProgramPrintsItsVersion) {
  const std::regex line(
      R"(^\S+ [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7}(-dirty)?|unknown)\)\n$)");
  for (const std::string& program :
       {std::string(CLUSTERCACHED_BIN), std::string(CLUSTERCACHECTL_BIN)}) {
    ShellResult r = Shell(program + " --version");
    EXPECT_EQ(r.exit_code, 0) << program;
    EXPECT_TRUE(std::regex_match(r.out, line)) << r.out;
    const std::string name = program.substr(program.rfind('/') + 1);
    EXPECT_EQ(r.out, VersionLine(name) + "\n") << "the build this test has";
  }
  ShellResult ctl = Shell(
      absl::StrCat(CLUSTERCACHECTL_BIN, " --server=127.0.0.1:1 --version"));
  EXPECT_EQ(ctl.exit_code, 0) << "after a global flag too";
}

TEST(VersionTest, ANodeSaysItsVersion) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--node-name=versioned"});
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string version = VersionLine("clustercached");
  EXPECT_NE(ReadFile((*node)->log_path()).find(version + " starting"),
            std::string::npos);
  ShellResult stats = Shell(absl::StrCat(
      CLUSTERCACHECTL_BIN, " --server=", (*node)->address(), " stats"));
  EXPECT_NE(stats.out.find(absl::StrCat("version\t", Version(), " (git ",
                                        Revision(), ")\n")),
            std::string::npos)
      << stats.out;
  const std::string base = "http://" + (*node)->http_address();
  Reply http_stats = Curl(base + "/v1/stats");
  EXPECT_NE(http_stats.body.find(absl::StrCat("\"version\":\"", Version())),
            std::string::npos)
      << http_stats.body;
  const std::string server =
      absl::StrCat("clustercached/", Version(), " (git ", Revision(), ")");
  EXPECT_EQ(Curl(base + "/healthz").Header("server"), server);
  EXPECT_EQ(Curl(base + "/readyz").Header("server"), server);
}

}  // namespace
}  // namespace clustercache
