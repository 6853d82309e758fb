#include "tests/support/server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/util/store_url.h"
#include "client/ctl/run_command.h"
#include "gtest/gtest.h"

extern char** environ;

namespace clustercache {

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::vector<std::string>& flags) {
  static std::atomic<int> counter{0};
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
  server->log_path_ = absl::StrCat(testing::TempDir(), "/clustercached-",
                                   getpid(), "-", counter++, ".log");
  // CLUSTERCACHE_SERVER_BIN runs the tests against another build (e.g. the
  // history checker against an older clustercached).
  const char* other = std::getenv("CLUSTERCACHE_SERVER_BIN");
  std::vector<std::string> args = {
      other != nullptr && *other != '\0' ? other : CLUSTERCACHED_BIN,
      "--listen=127.0.0.1:0"};
  // Many nodes run at once: each takes an HTTP port of its own, unless the
  // test says where.
  if (std::none_of(flags.begin(), flags.end(), [](const std::string& f) {
        return absl::StartsWith(f, "--http-listen");
      })) {
    args.push_back("--http-listen=127.0.0.1:0");
  }
  if (std::none_of(flags.begin(), flags.end(), [](const std::string& f) {
        return absl::StartsWith(f, "--metrics-listen");
      })) {
    args.push_back("--metrics-listen=127.0.0.1:0");
  }
  args.insert(args.end(), flags.begin(), flags.end());
  // Every password given in a URL, for the log scan at the end.
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos) continue;
    absl::StatusOr<StoreUrl> url = ParseStoreUrl(flag.substr(eq + 1), 1);
    if (url.ok() && url->password.size() >= 4) {
      server->secrets_.push_back(url->password);
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                   server->log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = posix_spawn(&server->pid_, argv[0], &actions, nullptr, argv.data(),
                       environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError("cannot start clustercached");
  const std::string marker = "serving on ";
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(20))) {
    std::ifstream log(server->log_path_);
    std::stringstream text;
    text << log.rdbuf();
    std::string s = text.str();
    size_t at = s.find(marker);
    if (at != std::string::npos) {
      // The address ends at a space, or a quote in a JSON log line.
      size_t end = s.find_first_of(" \"\n", at + marker.size());
      server->address_ = s.substr(at + marker.size(), end - at - marker.size());
      const std::string http = "HTTP on ";
      size_t h = s.find(http);
      if (h != std::string::npos && h < at) {
        size_t e = s.find_first_of(" \"\n", h + http.size());
        server->http_address_ = s.substr(h + http.size(), e - h - http.size());
      }
      const std::string metrics = "metrics on ";
      size_t m = s.find(metrics);
      if (m != std::string::npos && m < at) {
        size_t e = s.find_first_of(" \"\n", m + metrics.size());
        server->metrics_address_ =
            s.substr(m + metrics.size(), e - m - metrics.size());
      }
      return server;
    }
    int status;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;
      return absl::InternalError("clustercached exited at start: " + s);
    }
  }
  return absl::DeadlineExceededError("clustercached did not start in 10s");
}

int ServerProcess::Stop() {
  if (pid_ < 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void ServerProcess::Kill() {
  if (pid_ < 0) return;
  KillAndReap(pid_);
  pid_ = -1;
}

// Issue 15, item 5: no password given to a node ever appears in its log.
ServerProcess::~ServerProcess() {
  Stop();
  const std::string log = ReadFile(log_path_);
  for (const std::string& secret : secrets_) {
    EXPECT_EQ(log.find(secret), std::string::npos)
        << "a password given to clustercached is in its log " << log_path_;
  }
}

ShellResult Shell(const std::string& command) {
  absl::StatusOr<CommandResult> r = RunCommand({"/bin/sh", "-c", command});
  if (!r.ok()) return {-1, ""};
  return {r->exit_code, r->out};
}

std::vector<ShellResult> ShellConcurrently(
    const std::vector<std::string>& commands) {
  std::vector<ShellResult> results(commands.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < commands.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Shell(commands[i]); });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

pid_t SpawnUntilReady(const std::vector<std::string>& args,
                      const std::string& ready, absl::Duration timeout) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) !=
      0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  const absl::Time deadline = absl::Now() + timeout;
  while (pid > 0 && absl::Now() < deadline) {
    if (Shell(ready).exit_code == 0) return pid;
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (pid > 0) KillAndReap(pid);
  return -1;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace clustercache
