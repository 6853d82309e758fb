// The shared stores that scripts/test starts (Redis standalone, Redis
// Cluster, a memcached pool with its MySQL ledger), as test parameters, and
// the clustercached flags that open one.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_SHARED_STORES_H_
#define CLUSTERCACHE_TESTS_SUPPORT_SHARED_STORES_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/servers.h"

namespace clustercache {

struct SharedStore {
  const char* name;
  const char* env;     // the servers' addresses
  const char* scheme;  // for --store
  bool ledger;         // with --ledger=$CLUSTERCACHE_TEST_MYSQL
};
inline void PrintTo(const SharedStore& p, std::ostream* os) { *os << p.name; }

inline auto SharedStores() {
  return testing::Values(
      SharedStore{"redis", "CLUSTERCACHE_TEST_REDIS", "redis://", false},
      SharedStore{"redis_cluster", "CLUSTERCACHE_TEST_REDIS_CLUSTER",
                  "redis-cluster://", false},
      SharedStore{"memcached_ledger", "CLUSTERCACHE_TEST_MEMCACHED",
                  "memcached://", true});
}

// --store (and --ledger) for `store` into *flags, its servers into
// *servers, the ledger's URL into *ledger; fails or skips the test (see
// CLUSTERCACHE_NEED_SERVER) when they are not set: check
// IsSkipped() || HasFatalFailure() after.
inline void SharedStoreFlags(const SharedStore& store,
                             std::vector<std::string>* flags,
                             std::string* servers_out = nullptr,
                             std::string* ledger_out = nullptr) {
  CLUSTERCACHE_NEED_SERVER(servers, store.env);
  flags->push_back(absl::StrCat("--store=", store.scheme, servers));
  if (servers_out != nullptr) *servers_out = servers;
  if (store.ledger) {
    CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
    flags->push_back("--ledger=" + mysql);
    if (ledger_out != nullptr) *ledger_out = mysql;
  }
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_SHARED_STORES_H_
