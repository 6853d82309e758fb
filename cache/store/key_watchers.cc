#include "cache/store/key_watchers.h"

namespace clustercache {

class KeyWatchers::Handle : public WatchHandle {
 public:
  Handle(KeyWatchers* owner, std::string key, Callback callback)
      : owner_(owner), key_(std::move(key)), callback_(std::move(callback)) {}
  ~Handle() override { owner_->Remove(key_, callback_); }

 private:
  KeyWatchers* owner_;
  std::string key_;
  Callback callback_;
};

std::unique_ptr<WatchHandle> KeyWatchers::Watch(
    const std::string& encoded_key, std::function<void()> on_change) {
  auto callback =
      std::make_shared<const std::function<void()>>(std::move(on_change));
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    watches_[encoded_key].insert(callback);
    active_.fetch_add(1, std::memory_order_relaxed);
    cancelled = cancelled_;
  }
  if (cancelled) (*callback)();
  return std::make_unique<Handle>(this, encoded_key, std::move(callback));
}

void KeyWatchers::Notify(const std::string& encoded_key) {
  if (active_.load(std::memory_order_relaxed) == 0) return;
  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    auto it = watches_.find(encoded_key);
    if (it == watches_.end()) return;
    callbacks.assign(it->second.begin(), it->second.end());
  }
  // Outside the lock: a callback may end its own watch.
  for (const Callback& c : callbacks) (*c)();
}

void KeyWatchers::NotifyAll() {
  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, list] : watches_) {
      callbacks.insert(callbacks.end(), list.begin(), list.end());
    }
  }
  for (const Callback& c : callbacks) (*c)();
}

void KeyWatchers::CancelAll() {
  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (const auto& [key, list] : watches_) {
      callbacks.insert(callbacks.end(), list.begin(), list.end());
    }
  }
  for (const Callback& c : callbacks) (*c)();
}

std::vector<std::string> KeyWatchers::WatchedKeys() {
  std::vector<std::string> keys;
  if (active_.load(std::memory_order_relaxed) == 0) return keys;
  absl::MutexLock lock(&mu_);
  keys.reserve(watches_.size());
  for (const auto& [key, list] : watches_) keys.push_back(key);
  return keys;
}

void KeyWatchers::Remove(const std::string& encoded_key,
                         const Callback& callback) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(encoded_key);
  if (it == watches_.end()) return;
  if (it->second.erase(callback) == 0) return;
  if (it->second.empty()) watches_.erase(it);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace clustercache
