// Issue 17, item 3, on the real program: every flag from the environment
// (the command line wins), a flagfile that includes itself, and a store that
// is down at start: the node fails without promising to serve, or with
// --store-wait waits and then serves.
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

// clustercached with `env` and `flags`, stopped after 2 s; exit code and log.
ShellResult RunNode(const std::string& env, const std::string& flags) {
  return Shell(absl::StrCat(env, " timeout 2 ", CLUSTERCACHED_BIN,
                            " --listen=127.0.0.1:0 --http-listen= "
                            "--metrics-listen= ",
                            flags, " 2>&1"));
}

TEST(ConfigTest, EveryFlagFromTheEnvironmentTheCommandLineWins) {
  ShellResult env = RunNode(
      "CLUSTERCACHED_MEMORY_LIMIT=2G CLUSTERCACHED_LEASE_TIME=45s "
      "CLUSTERCACHED_INSECURE=true",
      "--lease-time=50s");
  EXPECT_NE(env.out.find("memory-limit=2GiB"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("lease-time=50s"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("insecure=true"), std::string::npos) << env.out;
  // A typo in a variable's name is not ignored.
  ShellResult typo = RunNode("CLUSTERCACHED_MEMORY_LIMT=2G", "");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.out.find("CLUSTERCACHED_MEMORY_LIMT"), std::string::npos);
  ShellResult bad = RunNode("CLUSTERCACHED_MEMORY_LIMIT=lots", "");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("$CLUSTERCACHED_MEMORY_LIMIT"), std::string::npos)
      << bad.out;
  // --help lists the variables.
  EXPECT_NE(Shell(absl::StrCat(CLUSTERCACHED_BIN, " --help"))
                .out.find("$CLUSTERCACHED_STORE_WAIT"),
            std::string::npos);
}

TEST(ConfigTest, AFlagfileThatIncludesItselfIsAnErrorNotACrash) {
  const std::string path =
      absl::StrCat(testing::TempDir(), "/self-", getpid(), ".flags");
  std::ofstream(path) << "# the node's settings\n"
                         "memory-limit=64M   # a comment\n"
                         "--flagfile="
                      << path << "\n";
  ShellResult r = RunNode("", "--flagfile=" + path);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("includes itself"), std::string::npos) << r.out;
}

TEST(ConfigTest, AStoreDownAtStartStopsTheNodeWithoutPromisingToServe) {
  const int port = FreeLoopbackPort();
  ShellResult r = RunNode("", absl::StrCat("--store=redis://127.0.0.1:", port));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("not serving"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--store-wait"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("UNAVAILABLE"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("serving on"), std::string::npos) << r.out;
}

TEST(ConfigTest, StoreWaitWaitsForTheStoreThenServes) {
  CLUSTERCACHE_NEED_PROGRAM("redis-server");
  const int port = FreeLoopbackPort();
  pid_t redis = -1;
  std::thread later([&] {
    absl::SleepFor(absl::Seconds(2));
    redis =
        SpawnUntilReady({"redis-server", "--port", absl::StrCat(port), "--bind",
                         "127.0.0.1", "--save", "", "--appendonly", "no"},
                        absl::StrCat("redis-cli -p ", port, " ping"));
  });
  absl::StatusOr<std::unique_ptr<ServerProcess>> node = ServerProcess::Start(
      {absl::StrCat("--store=redis://127.0.0.1:", port), "--store-wait=30s"});
  later.join();
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string log = ReadFile((*node)->log_path());
  EXPECT_NE(log.find("store not reachable yet"), std::string::npos) << log;
  EXPECT_NE(log.find("--store-wait"), std::string::npos);
  // It serves.
  ShellResult put =
      Shell(absl::StrCat("echo hi | ", CLUSTERCACHECTL_BIN,
                         " --server=", (*node)->address(), " put s a"));
  EXPECT_EQ(put.exit_code, 0) << put.out;
  node->reset();
  if (redis > 0) KillAndReap(redis);
}

// Issue 17, item 5: Type=notify. systemd's side of sd_notify is a datagram
// socket named by $NOTIFY_SOCKET: the node says READY once it serves,
// RELOADING and READY around a SIGHUP, and STOPPING on SIGTERM.
TEST(ConfigTest, SystemdHearsReadyReloadingAndStopping) {
  const std::string path =
      absl::StrCat(testing::TempDir(), "/notify-", getpid(), ".sock");
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The next datagram, or "" after 10 s.
  auto next = [fd] {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return std::string();
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, n) : std::string();
  };
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({});
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string ready = next();
  EXPECT_TRUE(absl::StartsWith(ready, "READY=1\nSTATUS=serving on ")) << ready;
  kill((*node)->pid(), SIGHUP);
  EXPECT_EQ(next(), "RELOADING=1");
  EXPECT_EQ(next(), "READY=1");
  (*node)->Stop();
  EXPECT_EQ(next(), "STOPPING=1");
  close(fd);
  unlink(path.c_str());
}

}  // namespace
}  // namespace clustercache
