// MemoryStore: the embedded default store. Everything lives in this process:
// sharded hash maps under a mutex each, LRU eviction under a memory limit,
// expiry keys in one table. Cluster time is the injected clock, made strictly
// increasing for writes so that no two events share a timestamp.
// Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_MEMORY_MEMORY_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_MEMORY_MEMORY_STORE_H_

#include <cstdint>
#include <memory>

#include "cache/clock.h"
#include "cache/store/store.h"

namespace clustercache {

struct MemoryStoreOptions {
  int64_t memory_limit = int64_t{1} << 30;  // bytes, all shards together
  int shards = 16;
  Clock* clock = nullptr;  // null = DefaultClock()
};

std::unique_ptr<Store> NewMemoryStore(const MemoryStoreOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MEMORY_MEMORY_STORE_H_
