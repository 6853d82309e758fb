// OpenStore: picks and opens a store from its --store URL.
#ifndef CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cache/clock.h"
#include "cache/store/store.h"

namespace clustercache {

struct StoreSettings {
  int64_t memory_limit = int64_t{1} << 30;  // for "memory"
  Clock* clock = nullptr;                   // null = DefaultClock()
};

// "memory" (the embedded default). Unknown schemes are InvalidArgument.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const StoreSettings& settings);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_OPEN_STORE_H_
