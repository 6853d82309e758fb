#include "cache/util/version.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "build_revision.h"  // generated: CLUSTERCACHE_REVISION

namespace clustercache {

absl::string_view Version() { return CLUSTERCACHE_VERSION; }
absl::string_view Revision() { return CLUSTERCACHE_REVISION; }

std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", Version(), " (git ", Revision(), ")");
}

bool PrintVersionIfAsked(const std::vector<std::string>& args,
                         absl::string_view program) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--version") {
      std::cout << VersionLine(program) << "\n";
      return true;
    }
  }
  return false;
}

}  // namespace clustercache
