#include "cache/store/open_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cache/store/memcached_store.h"
#include "cache/store/memory_store.h"
#include "cache/store/redis/redis_router.h"
#include "cache/store/redis_store.h"

namespace clustercache {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(
    absl::string_view url, const StoreSettings& settings) {
  if (url == "memory" || url == "memory://") {
    if (settings.memory_limit < (int64_t{1} << 20)) {
      return absl::InvalidArgumentError("memory-limit: must be at least 1MiB");
    }
    MemoryStoreOptions options;
    options.memory_limit = settings.memory_limit;
    options.clock = settings.clock;
    return NewMemoryStore(options);
  }
  const bool cluster = absl::StartsWith(url, "redis-cluster://");
  if (cluster || absl::StartsWith(url, "redis://")) {
    RedisStoreOptions options;
    if (cluster) {
      absl::StatusOr<std::vector<RedisEndpoint>> seeds =
          ParseRedisClusterUrl(url);
      if (!seeds.ok()) return seeds.status();
      options.cluster_seeds = *seeds;
    } else {
      absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(url);
      if (!endpoint.ok()) return endpoint.status();
      options.endpoint = *endpoint;
    }
    options.endpoint.timeout = settings.redis_timeout;
    options.pool_size = settings.redis_pool_size;
    return OpenRedisStore(options);
  }
  if (absl::StartsWith(url, "memcached://")) {
    absl::StatusOr<std::vector<MemcachedEndpoint>> servers =
        ParseMemcachedUrl(url);
    if (!servers.ok()) return servers.status();
    MemcachedStoreOptions options;
    options.servers = *servers;
    options.timeout = settings.memcached_timeout;
    options.pool_size = settings.memcached_pool_size;
    options.clock = settings.clock;
    return OpenMemcachedStore(options);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("store: unknown store \"", url,
                   "\" (supported: memory, redis://HOST:PORT[/DB], "
                   "redis-cluster://HOST:PORT[,HOST:PORT...], "
                   "memcached://HOST:PORT[,HOST:PORT...])"));
}

}  // namespace clustercache
