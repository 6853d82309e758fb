#include "cache/store/key_watchers.h"

#include <algorithm>

namespace clustercache {

class KeyWatchers::WatchImpl : public KeyWatch {
 public:
  WatchImpl(KeyWatchers* owner, std::string key)
      : owner_(owner), key_(std::move(key)) {}
  ~WatchImpl() override { owner_->Remove(key_, &waiter_); }

  bool WaitUntil(absl::Time deadline) override {
    absl::MutexLock lock(&owner_->mu_);
    while (!waiter_.changed) {
      if (owner_->cv_.WaitWithDeadline(&owner_->mu_, deadline) &&
          !waiter_.changed) {
        return false;
      }
    }
    waiter_.changed = false;
    return true;
  }

  Waiter* waiter() { return &waiter_; }

 private:
  KeyWatchers* owner_;
  std::string key_;
  Waiter waiter_;
};

std::unique_ptr<KeyWatch> KeyWatchers::Watch(const std::string& encoded_key) {
  auto watch = std::make_unique<WatchImpl>(this, encoded_key);
  absl::MutexLock lock(&mu_);
  waiters_[encoded_key].push_back(watch->waiter());
  active_.fetch_add(1, std::memory_order_relaxed);
  return watch;
}

void KeyWatchers::Notify(const std::string& encoded_key) {
  if (active_.load(std::memory_order_relaxed) == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = waiters_.find(encoded_key);
  if (it == waiters_.end()) return;
  for (Waiter* w : it->second) w->changed = true;
  cv_.SignalAll();
}

void KeyWatchers::Remove(const std::string& encoded_key, Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  auto it = waiters_.find(encoded_key);
  if (it == waiters_.end()) return;
  std::vector<Waiter*>& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), waiter), list.end());
  if (list.empty()) waiters_.erase(it);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace clustercache
