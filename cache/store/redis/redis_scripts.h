// The atomic steps of the Store contract as Lua scripts, run with EVALSHA
// (loaded at start on every node, and again after NOSCRIPT, e.g. when a
// Redis server restarted).
// Every script touches keys of one bucket only (one hash tag, one slot), so
// the same scripts run on Redis Cluster.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_SCRIPTS_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_SCRIPTS_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/redis/redis_connection.h"

namespace clustercache {

enum class RedisScript {
  kReadTagged,    // a read of an entry with tags: MGET's keys + tag values
  kAcquire,       // lease grant with the seen-mtime guard
  kCommit,        // leased write with its recheck
  kPut,           // unconditional write
  kRelease,       // lease give-up
  kExpire,        // soft-expire one entry
  kDelete,        // remove one entry
  kRemoveIf,      // remove one entry if its mtime is unchanged
  kInvalidate,    // move one expiry key forward in one bucket
  kRemoveMany,    // kRemoveIf for many entries of one bucket and scope
  kRecordExpiry,  // the list of expiry keys, for ListExpiryKeys
  kResetExpiry,   // lower a poisoned expiry key to now in one bucket
  kForgetTags,    // drop old tag keys of one bucket under its ~floor
  kImportExpiry,  // raise one imported expiry key in one bucket
  kImport,        // write an entry as another store held it
  kCount
};

class RedisScripts {
 public:
  RedisScripts();
  // The EVALSHA command line (the script must be loaded on the server that
  // runs it; a NOSCRIPT reply means: Load, then send again).
  std::vector<std::string> EvalShaArgv(RedisScript script,
                                       const std::vector<std::string>& keys,
                                       const std::vector<std::string>& args);
  absl::Status Load(RedisConnection& conn, RedisScript script);

 private:
  std::vector<std::string> sources_;
  absl::Mutex mu_;
  std::vector<std::string> shas_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_SCRIPTS_H_
