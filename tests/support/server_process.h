// ServerProcess: a clustercached child process for tests. Starts the built
// binary (or $CLUSTERCACHE_SERVER_BIN) on 127.0.0.1:0 with extra flags, learns
// its port from the start-up log, and stops it (SIGTERM, then waits) when
// destroyed; then fails the test if a password given in a flag's URL
// appears anywhere in its log.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_SERVER_PROCESS_H_
#define CLUSTERCACHE_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clustercache {

class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::vector<std::string>& flags);
  ~ServerProcess();

  const std::string& address() const { return address_; }
  // The HTTP face's HOST:PORT ("" when it has none).
  const std::string& http_address() const { return http_address_; }
  // Where GET /metrics is served ("" with --metrics-listen=).
  const std::string& metrics_address() const { return metrics_address_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits; returns the exit status.
  int Stop();
  // SIGKILL (a crash: nothing is cleaned up) and reap.
  void Kill();

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::string http_address_;
  std::string metrics_address_;
  std::string log_path_;
  std::vector<std::string> secrets_;  // passwords in its flags
};

// Runs `command` through /bin/sh -c; returns exit code and stdout.
struct ShellResult {
  int exit_code;
  std::string out;
};
ShellResult Shell(const std::string& command);
// Runs every command at once (a thread each); results in the same order.
std::vector<ShellResult> ShellConcurrently(
    const std::vector<std::string>& commands);
// The whole file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// A loopback TCP port that was free a moment ago.
int FreeLoopbackPort();
// Starts a server program (args[0] from PATH, stdout to /dev/null) and waits
// up to `timeout` for the shell command `ready` to succeed. The pid, or -1.
pid_t SpawnUntilReady(const std::vector<std::string>& args,
                      const std::string& ready,
                      absl::Duration timeout = absl::Seconds(5));
// SIGKILL and reap.
void KillAndReap(pid_t pid);

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_SERVER_PROCESS_H_
