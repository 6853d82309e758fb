// The version of every program: CMake's project(VERSION) and the git
// revision the build was made from.
#ifndef CLUSTERCACHE_CACHE_UTIL_VERSION_H_
#define CLUSTERCACHE_CACHE_UTIL_VERSION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace clustercache {

absl::string_view Version();   // "0.3.0"
absl::string_view Revision();  // "abc1234", "abc1234-dirty" or "unknown"
// "PROGRAM 0.3.0 (git abc1234)": what --version prints.
std::string VersionLine(absl::string_view program);
// When `args` (without the program name) hold --version before any "--":
// prints VersionLine(program) on stdout and returns true (the program then
// exits 0).
bool PrintVersionIfAsked(const std::vector<std::string>& args,
                         absl::string_view program);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_VERSION_H_
