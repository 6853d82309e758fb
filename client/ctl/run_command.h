// RunCommand: runs a program (searched in PATH) with stdin from /dev/null and
// stderr inherited, and captures its stdout. Used by clustercachectl's
// fetch-or-generate to run the generator.
#ifndef CLUSTERCACHE_CLIENT_CTL_RUN_COMMAND_H_
#define CLUSTERCACHE_CLIENT_CTL_RUN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace clustercache {

struct CommandResult {
  int exit_code = 0;  // 128 + signal number if it was killed
  std::string out;    // everything it wrote to stdout
};

// Errors only when the program cannot be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_CTL_RUN_COMMAND_H_
