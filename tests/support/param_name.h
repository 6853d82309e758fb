// Parameterised suites whose parameter has a `name`: their cases are named
// by it, so ctest lists Suite.Test/redis (with gtest_discover_tests'
// NO_PRETTY_VALUES, tests/CMakeLists.txt), not the parameter's bytes. Each
// parameter type also gets a one-line PrintTo beside it, for gtest's own
// "where GetParam() = ..." lines.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_PARAM_NAME_H_
#define CLUSTERCACHE_TESTS_SUPPORT_PARAM_NAME_H_

#include <cctype>
#include <string>

#include "gtest/gtest.h"

namespace clustercache {

struct ByName {
  template <typename P>
  std::string operator()(const testing::TestParamInfo<P>& info) const {
    std::string name = info.param.name;
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
  }
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_PARAM_NAME_H_
