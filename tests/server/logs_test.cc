// Issue 17, item 2: --log-level and --log-format govern every line a node
// writes, gRPC's own lines included.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

// A node run for 2 s (then SIGTERM: a clean stop) with `flags`; its log.
std::vector<std::string> LogOfARun(const std::string& flags) {
  ShellResult r = Shell(absl::StrCat(
      "timeout 2 ", CLUSTERCACHED_BIN,
      " --listen=127.0.0.1:0 --http-listen= --metrics-listen= ", flags,
      " 2>&1"));
  return absl::StrSplit(r.out, '\n', absl::SkipEmpty());
}

TEST(LogsTest, JsonLinesCarryTimeLevelAndMessageAndGrpcsOwnLines) {
  std::vector<std::string> lines =
      LogOfARun("--log-format=json --log-level=debug");
  ASSERT_GT(lines.size(), 3u);
  bool grpc = false, serving = false;
  for (const std::string& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j["time"].is_string()) << line;
    EXPECT_TRUE(j["level"] == "debug" || j["level"] == "info" ||
                j["level"] == "warn" || j["level"] == "error")
        << line;
    ASSERT_TRUE(j["message"].is_string()) << line;
    const std::string message = j["message"];
    grpc = grpc || absl::StartsWith(message, "grpc ");
    serving = serving || absl::StrContains(message, "serving on 127.0.0.1:");
  }
  EXPECT_TRUE(grpc) << "gRPC's debug lines come through ours";
  EXPECT_TRUE(serving);
}

TEST(LogsTest, LinesBelowTheLevelAreNotWritten) {
  std::vector<std::string> info = LogOfARun("");
  ASSERT_FALSE(info.empty());
  for (const std::string& line : info) {
    EXPECT_EQ(line.find(" DEBUG "), std::string::npos) << line;
    EXPECT_EQ(line.find("gRPC EXPERIMENT"), std::string::npos) << line;
  }
  std::vector<std::string> warn = LogOfARun("--log-level=warn");
  for (const std::string& line : warn) {
    EXPECT_EQ(line.find(" INFO "), std::string::npos) << line;
  }
  EXPECT_LT(warn.size(), info.size());
}

TEST(LogsTest, AnUnknownLevelOrFormatIsRefusedSayingWhatWorks) {
  ShellResult level =
      Shell(absl::StrCat(CLUSTERCACHED_BIN, " --log-level=loud 2>&1"));
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_NE(level.out.find("want debug, info, warn or error"),
            std::string::npos)
      << level.out;
  ShellResult format =
      Shell(absl::StrCat(CLUSTERCACHED_BIN, " --log-format=xml 2>&1"));
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.out.find("want text or json"), std::string::npos)
      << format.out;
}

// ServerProcess finds a JSON-logging node's addresses too.
TEST(LogsTest, AJsonLoggingNodeServes) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--log-format=json"});
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=",
                               (*node)->address(), " stats >/dev/null"))
                .exit_code,
            0);
  EXPECT_EQ(Shell(absl::StrCat("curl -sf -o /dev/null http://",
                               (*node)->http_address(), "/healthz"))
                .exit_code,
            0);
}

// A JSON line may carry named fields: the audit line of an admin call has
// its operation, caller, peer and result as fields a collector can index.
TEST(LogsTest, TheAuditLineCarriesItsFieldsInJson) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--log-format=json"});
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_EQ(Shell(absl::StrCat(CLUSTERCACHECTL_BIN, " --server=",
                               (*node)->address(), " expire news a"))
                .exit_code,
            0);
  (*node)->Stop();
  bool found = false;
  for (absl::string_view line :
       absl::StrSplit(ReadFile((*node)->log_path()), '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("fields")) continue;
    const nlohmann::json& f = j["fields"];
    if (f.value("audit", "") != "Expire") continue;
    found = true;
    EXPECT_EQ(f["result"], "OK");
    EXPECT_EQ(f["caller"], "-");  // no auth file
    EXPECT_EQ(f["count"], "0");
    EXPECT_NE(f["target"].get<std::string>().find("news"), std::string::npos);
    EXPECT_TRUE(
        absl::StartsWith(f["peer"].get<std::string>(), "ipv4:127.0.0.1:"));
    EXPECT_TRUE(
        absl::StartsWith(j["message"].get<std::string>(), "audit: Expire"));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace clustercache
