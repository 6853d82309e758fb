// Real servers for tests: scripts/test starts them on loopback and exports
// their addresses. A test that needs one and does not find it fails when
// CLUSTERCACHE_REQUIRE_SERVERS=1 (CI, scripts/test) and skips otherwise (a
// developer running one test binary by hand).
#ifndef CLUSTERCACHE_TESTS_SUPPORT_SERVERS_H_
#define CLUSTERCACHE_TESTS_SUPPORT_SERVERS_H_

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace clustercache {

// The value of `env` ("" when unset).
inline std::string TestServer(const char* env) {
  const char* value = std::getenv(env);
  return value == nullptr ? "" : value;
}

inline bool ServersRequired() {
  const char* require = std::getenv("CLUSTERCACHE_REQUIRE_SERVERS");
  return require != nullptr && std::string(require) == "1";
}

// In a test body or SetUp: `address` = $ENV, or fail/skip and return.
#define CLUSTERCACHE_NEED_SERVER(address, env)                    \
  const std::string address = ::clustercache::TestServer((env));  \
  if (address.empty()) {                                          \
    if (::clustercache::ServersRequired()) {                      \
      FAIL() << (env) << " is not set: run through scripts/test"; \
    }                                                             \
    GTEST_SKIP() << (env) << " is not set (run scripts/test)";    \
  }

// In a test body or SetUp: the program `name` (nginx, varnishd, php...) is
// on the PATH, or fail/skip and return. scripts/test installs them.
inline bool ProgramFound(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

#define CLUSTERCACHE_NEED_PROGRAM(name)                                       \
  if (!::clustercache::ProgramFound(name)) {                                  \
    if (::clustercache::ServersRequired()) {                                  \
      FAIL() << (name) << " is not installed: run through scripts/test";      \
    }                                                                         \
    GTEST_SKIP() << (name) << " is not installed (scripts/test installs it)"; \
  }

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_SERVERS_H_
