#include "cache/util/timer_queue.h"

namespace clustercache {

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.Signal();
  }
  thread_.join();
}

uint64_t TimerQueue::Schedule(absl::Time when, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  auto it = timers_.emplace(std::make_pair(when, id), std::move(fn)).first;
  due_.emplace(id, when);
  if (it == timers_.begin()) cv_.Signal();
  return id;
}

void TimerQueue::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = due_.find(id);
  if (it == due_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  due_.erase(it);
}

void TimerQueue::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    absl::Time next = timers_.begin()->first.first;
    if (next > absl::Now()) {
      cv_.WaitWithDeadline(&mu_, next);  // Schedule signals a sooner timer
      continue;
    }
    auto it = timers_.begin();
    std::function<void()> fn = std::move(it->second);
    due_.erase(it->first.second);
    timers_.erase(it);
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
}

}  // namespace clustercache
