// KeyWatchers: the in-process side of waiting for a key to change. A store
// hands out watches from it and calls Notify(key) whenever the key's entry or
// lease changes (from its own writes, or from another node's, e.g. a Redis
// pub/sub message). Each watch's callback then runs on the notifying thread;
// nothing polls and no thread blocks per watch. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_
#define CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/store.h"

namespace clustercache {

class KeyWatchers {
 public:
  std::unique_ptr<WatchHandle> Watch(const std::string& encoded_key,
                                     std::function<void()> on_change);
  // Calls every watch of the key. Cheap when nobody watches anything.
  void Notify(const std::string& encoded_key);
  // Calls every watch (e.g. after notifications may have been lost).
  void NotifyAll();
  // Calls every watch; watches made later are called at once.
  void CancelAll();
  // The keys watched now (for a store that must poll for other nodes'
  // changes).
  std::vector<std::string> WatchedKeys();

 private:
  class Handle;
  using Callback = std::shared_ptr<const std::function<void()>>;

  void Remove(const std::string& encoded_key, const Callback& callback);

  absl::Mutex mu_;
  // A set per key: ending one of N watches is O(1), so N waiters woken
  // and gone cost O(N), not O(N^2).
  absl::flat_hash_map<std::string, absl::flat_hash_set<Callback>> watches_
      ABSL_GUARDED_BY(mu_);
  std::atomic<int> active_{0};
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_KEY_WATCHERS_H_
