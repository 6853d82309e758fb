// RedisStore: entries, leases and expiry keys in Redis, shared by every
// clustercached node that uses the same server. Every atomic step of the
// Store contract is one Lua script (cache/store/redis/redis_scripts.cc).
//
// Layout (prefix "cc", B buckets, bucket = crc32(key) % B; "{cc.b}" is the
// hash tag, so one bucket is one Redis Cluster slot; formats in
// redis/redis_records.h):
//   {cc.b}:E:<scope>\0<name>  entry string     {cc.b}:x:all      copy of "all"
//   {cc.b}:L:<scope>\0<name>  lease string     {cc.b}:x:scope:S  copy of
//   {cc.b}:xt  tag values (hash, "~floor")                         "scope:S"
//   {cc.b}:n:<scope>  names (lex zset)        {cc.b}:s  scopes in bucket
//   {cc.b}:t:<scope>  names by mtime (zset)   {cc.b}:u  entry/byte counts
//   {cc.b}:c  bucket clock                    {cc}:expiry-keys  for listing
// A fetch is one command: MGET of entry, lease and the two copies, or, for
// an entry with tags, one EVALSHA that also reads the tag values (which
// read a node takes is guessed from what it has seen: TagHints). Copies
// and tag hash are made at a grant or write when missing, with the current
// event time, so a lost (evicted) copy never makes an older entry fresh.
// Invalidate writes the expiry key into every bucket's copy (B scripts,
// pipelined): O(B), independent of the number of entries, and no single hot
// key. Cluster time is Redis TIME: event times are taken inside the
// scripts; a fetch's "now" is this node's clock plus the measured offset
// (RedisClock). Waiters on other nodes are woken through pub/sub (channel
// "cc:w", message = the key). On Redis Cluster each bucket is one slot:
// calls go to the slot's master (RedisRouter follows MOVED/ASK);
// Invalidate and scans fan out per node. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cache/store/redis/redis_connection.h"
#include "cache/store/store.h"

namespace clustercache {

struct RedisStoreOptions {
  RedisEndpoint endpoint;  // standalone; its timeout also for a cluster
  std::vector<RedisEndpoint> cluster_seeds;  // set: Redis Cluster
  int pool_size = 8;
  int buckets = 64;
  std::string prefix = "cc";  // tests use their own, for isolation
  // The largest payload an entry may have (--max-payload): a record that
  // says more is corrupt, not fresh.
  int64_t max_payload = int64_t{8} << 20;
};

// "redis://[:PASSWORD@]HOST:PORT[/DB]".
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// Connects (and subscribes) before returning; Unavailable if Redis cannot be
// reached.
absl::StatusOr<std::unique_ptr<Store>> OpenRedisStore(
    const RedisStoreOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_STORE_H_
