// RedisTopology: which Redis server holds a key. Standalone: one node holds
// everything. Cluster: the slot of the key's hash tag (CRC16 mod 16384) is
// looked up in the map read with CLUSTER SLOTS; Refresh() rereads it (after
// a MOVED). Each node has a pool of blocking connections. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_TOPOLOGY_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_TOPOLOGY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/redis/redis_pool.h"

namespace clustercache {

inline constexpr int kRedisSlots = 16384;

// Redis Cluster's key slot: CRC16/XMODEM of the hash tag ({...}) if the key
// has a non-empty one, else of the whole key, mod 16384.
int RedisKeySlot(absl::string_view key);

struct RedisNode {
  RedisEndpoint endpoint;
  std::unique_ptr<RedisPool> pool;
};

class RedisTopology {
 public:
  static std::unique_ptr<RedisTopology> Standalone(const RedisEndpoint& node,
                                                   int pool_size);
  // `seeds`: any nodes of the cluster (host, port; password and timeout
  // apply to all). Reads the slot map from the first that answers.
  static absl::StatusOr<std::unique_ptr<RedisTopology>> Cluster(
      const std::vector<RedisEndpoint>& seeds, int pool_size);

  bool is_cluster() const { return cluster_; }
  RedisNode* NodeFor(absl::string_view key);
  // The node at HOST:PORT (as named in MOVED/ASK), added if new.
  RedisNode* NodeAt(absl::string_view address);
  std::vector<RedisNode*> Nodes();
  absl::Status Refresh();
  std::string Describe();

 private:
  RedisTopology(bool cluster, RedisEndpoint base, int pool_size)
      : cluster_(cluster), base_(std::move(base)), pool_size_(pool_size) {}
  RedisNode* NodeLocked(const std::string& host, int port)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool cluster_;
  const RedisEndpoint base_;  // password, db, timeout for every node
  const int pool_size_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RedisNode>> nodes_
      ABSL_GUARDED_BY(mu_);  // by "host:port"; never removed
  std::vector<RedisNode*> slots_ ABSL_GUARDED_BY(mu_);  // cluster only
  RedisNode* single_ = nullptr;                         // standalone only
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_TOPOLOGY_H_
