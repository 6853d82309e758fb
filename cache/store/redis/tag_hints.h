// TagHints: the keys this node has seen stored with tags, so that a fetch
// picks the read that answers it in one command: a plain MGET for an entry
// without tags, the kReadTagged script (which also reads the tag values)
// for one with. A wrong guess costs a second command, and corrects the
// hint. Bounded: a shard past its share of `capacity` forgets its keys.
// Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_TAG_HINTS_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_TAG_HINTS_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"

namespace clustercache {

class TagHints {
 public:
  explicit TagHints(size_t capacity = size_t{1} << 20)
      : per_shard_(capacity / kShards + 1) {}

  bool Tagged(const std::string& encoded_key) {
    Shard& s = ShardOf(encoded_key);
    absl::MutexLock lock(&s.mu);
    return s.keys.contains(encoded_key);
  }

  void Note(const std::string& encoded_key, bool tagged) {
    Shard& s = ShardOf(encoded_key);
    absl::MutexLock lock(&s.mu);
    if (!tagged) {
      s.keys.erase(encoded_key);
      return;
    }
    if (s.keys.size() >= per_shard_) s.keys.clear();
    s.keys.insert(encoded_key);
  }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_set<std::string> keys ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const std::string& key) {
    return shards_[absl::Hash<std::string>()(key) % kShards];
  }

  const size_t per_shard_;
  Shard shards_[kShards];
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_TAG_HINTS_H_
