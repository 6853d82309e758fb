#include "cache/store/open_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cache/key.h"
#include "cache/store/ledger/ledger_store.h"
#include "cache/store/ledger/mysql_ledger.h"
#include "cache/store/memcached/memcached_store.h"
#include "cache/store/memory/memory_store.h"
#include "cache/store/migrating_store.h"
#include "cache/store/redis/redis_router.h"
#include "cache/store/redis/redis_store.h"

namespace clustercache {

namespace {

absl::StatusOr<std::unique_ptr<Store>> OpenBareStore(
    absl::string_view url, const StoreSettings& settings,
    const std::shared_ptr<Ledger>& ledger) {
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
    options.max_payload = settings.max_payload;
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
    options.prefix = settings.namespace_name;
    return OpenRedisStore(options);
  }
  if (absl::StartsWith(url, "memcached://")) {
    absl::StatusOr<MemcachedUrl> parsed = ParseMemcachedUrl(url);
    if (!parsed.ok()) return parsed.status();
    MemcachedStoreOptions options;
    options.max_payload = settings.max_payload;
    options.servers = parsed->servers;
    options.sasl = parsed->sasl;
    options.timeout = settings.memcached_timeout;
    options.pool_size = settings.memcached_pool_size;
    options.clock = settings.clock;
    options.prefix = settings.namespace_name;
    if (ledger)
      options.expiry_source = [ledger] { return ledger->ExpiryKeys(); };
    return OpenMemcachedStore(options);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("store: unknown store \"", url,
                   "\" (supported: memory, redis://HOST:PORT[/DB], "
                   "redis-cluster://HOST:PORT[,HOST:PORT...], "
                   "memcached://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...])"));
}

absl::StatusOr<std::unique_ptr<Store>> OpenOne(absl::string_view url,
                                               const StoreSettings& settings) {
  if (settings.ledger_url.empty()) return OpenBareStore(url, settings, nullptr);
  if (!absl::StartsWith(url, "redis") && !absl::StartsWith(url, "memcached")) {
    return absl::InvalidArgumentError(
        "ledger: only beside a redis://, redis-cluster:// or memcached:// "
        "store");
  }
  absl::StatusOr<MysqlUrl> mysql = ParseMysqlUrl(settings.ledger_url);
  if (!mysql.ok()) return mysql.status();
  MysqlLedgerOptions options;
  options.url = *mysql;
  options.pool_size = settings.ledger_pool_size;
  options.timeout = settings.ledger_timeout;
  options.ns = settings.namespace_name;
  absl::StatusOr<std::unique_ptr<Ledger>> opened = OpenMysqlLedger(options);
  if (!opened.ok()) return opened.status();
  std::shared_ptr<Ledger> ledger = *std::move(opened);
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenBareStore(url, settings, ledger);
  if (!store.ok()) return store.status();
  return NewLedgerStore(*std::move(store), ledger);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenStore(
    absl::string_view url, const StoreSettings& settings) {
  if (settings.migrate_from.empty()) return OpenOne(url, settings);
  if (settings.migrate_from == "memory" || url == "memory") {
    return absl::InvalidArgumentError(
        "migrate-from: a live move is between shared stores (redis, "
        "redis-cluster, memcached); a node's embedded memory store moves "
        "offline (clustercachectl migrate --from=node)");
  }
  if (absl::StartsWith(url, "memcached")) {
    return absl::InvalidArgumentError(
        "migrate-from: a live move into memcached is not supported: it ends "
        "by checking every entry the new store holds against the old one, "
        "and memcached can list only what its ledger recorded (the recorder "
        "drops under a burst, by design), so an entry the old store had "
        "invalidated could stay fresh; move into memcached offline "
        "(clustercachectl migrate), or live into redis:// or "
        "redis-cluster://");
  }
  if (settings.migrate_from == url &&
      settings.migrate_from_ledger == settings.ledger_url) {
    return absl::InvalidArgumentError(
        "migrate-from: the same store as --store");
  }
  absl::StatusOr<std::unique_ptr<Store>> to = OpenOne(url, settings);
  if (!to.ok()) return to.status();
  StoreSettings old = settings;
  old.ledger_url = settings.migrate_from_ledger;
  old.migrate_from.clear();
  absl::StatusOr<std::unique_ptr<Store>> from =
      OpenOne(settings.migrate_from, old);
  if (!from.ok()) {
    return absl::Status(
        from.status().code(),
        absl::StrCat("migrate-from: ", from.status().message()));
  }
  return std::make_unique<MigratingStore>(*std::move(to), *std::move(from));
}

}  // namespace clustercache
