// RedisRouter: sends commands to the Redis server that holds their keys and
// follows the cluster while doing so: NOSCRIPT loads the script on that
// server and retries; MOVED rereads the slot map and goes to the named node;
// ASK sends ASKING first; TRYAGAIN, CLUSTERDOWN and LOADING retry after a
// pause. Standalone Redis is the one-node case. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_ROUTER_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_ROUTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cache/store/redis/redis_scripts.h"
#include "cache/store/redis/redis_topology.h"

namespace clustercache {

struct RedisCmd {
  std::string route;  // a key of the command: decides the server
  std::vector<std::string> argv;
  int script = -1;  // the RedisScript it runs, for NOSCRIPT
};

class RedisRouter {
 public:
  explicit RedisRouter(std::unique_ptr<RedisTopology> topology)
      : topology_(std::move(topology)) {}

  // Loads every script on every node.
  absl::Status LoadScripts();
  RedisCmd Script(RedisScript script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args);

  // One command; error replies that the cluster does not explain are
  // returned as replies.
  absl::StatusOr<RedisReply> Exec(const RedisCmd& cmd);
  // A script whose error replies become errors.
  absl::StatusOr<RedisReply> Run(RedisScript script,
                                 const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args);
  // One round trip per node; replies in the order of `cmds`.
  absl::StatusOr<std::vector<RedisReply>> ExecMany(
      const std::vector<RedisCmd>& cmds);
  // TIME of the first node, in microseconds.
  absl::StatusOr<int64_t> Now();

  RedisTopology& topology() { return *topology_; }

 private:
  std::unique_ptr<RedisTopology> topology_;
  RedisScripts scripts_;
};

// "redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]": the seeds.
absl::StatusOr<std::vector<RedisEndpoint>> ParseRedisClusterUrl(
    absl::string_view url);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_ROUTER_H_
