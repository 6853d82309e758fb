// KeyWatchers: the in-process side of waiting for a key to change. A store
// hands out watches from it and calls Notify(key) whenever the key's entry or
// lease changes (from its own writes, or from another node's, e.g. a Redis
// pub/sub message). Waiters block on a condition variable; nothing polls.
// Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_
#define CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/store.h"

namespace clustercache {

class KeyWatchers {
 public:
  std::unique_ptr<KeyWatch> Watch(const std::string& encoded_key);
  // Wakes every watch of the key. Cheap when nobody watches anything.
  void Notify(const std::string& encoded_key);
  int active() const { return active_.load(std::memory_order_relaxed); }

 private:
  class WatchImpl;
  struct Waiter {
    bool changed ABSL_GUARDED_BY(KeyWatchers::mu_) = false;
  };

  void Remove(const std::string& encoded_key, Waiter* waiter);

  absl::Mutex mu_;
  absl::CondVar cv_;
  absl::flat_hash_map<std::string, std::vector<Waiter*>> waiters_
      ABSL_GUARDED_BY(mu_);
  std::atomic<int> active_{0};
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_
