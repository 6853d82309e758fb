// OpenStore: picks and opens a store from its --store URL.
#ifndef CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache/clock.h"
#include "cache/store/store.h"

namespace clustercache {

struct StoreSettings {
  // Every key a network store writes starts with it, and every ledger row
  // carries it: clusters with different namespaces share one Redis, one
  // memcached pool or one database without seeing each other.
  std::string namespace_name = "cc";
  int64_t memory_limit = int64_t{1} << 30;  // for "memory"
  // --max-payload: what a network store's decoder accepts as an entry.
  int64_t max_payload = int64_t{8} << 20;
  Clock* clock = nullptr;   // null = DefaultClock()
  int redis_pool_size = 8;  // for "redis://"
  absl::Duration redis_timeout = absl::Milliseconds(500);
  int memcached_pool_size = 8;  // for "memcached://"
  absl::Duration memcached_timeout = absl::Milliseconds(500);
  // "mysql://USER:PASS@HOST:PORT/DB": a ledger beside a redis or memcached
  // store ("" = none).
  std::string ledger_url;
  int ledger_pool_size = 4;
  // A live move (migrating_store.h): the store moved from, and its ledger.
  // The other settings apply to it too.
  std::string migrate_from;
  std::string migrate_from_ledger;
  absl::Duration ledger_timeout = absl::Seconds(2);
};

// "memory" (the embedded default), "redis://[:PASSWORD@]HOST:PORT[/DB]",
// "redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]" or
// "memcached://HOST:PORT[,HOST:PORT...]".
// Unknown schemes and a bad namespace are InvalidArgument; an unreachable
// server Unavailable.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const StoreSettings& settings);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_
