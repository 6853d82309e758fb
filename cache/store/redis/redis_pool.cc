#include "cache/store/redis/redis_pool.h"

#include "cache/util/log.h"

namespace clustercache {

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](RedisPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !p->idle_.empty() || p->open_ < p->size_;
        },
        this));
    if (!idle_.empty()) {
      std::unique_ptr<RedisConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint_);
  NoteOutcome(conn.status());
  if (!conn.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return conn;
}

void RedisPool::Release(std::unique_ptr<RedisConnection> conn) {
  absl::MutexLock lock(&mu_);
  if (conn->broken()) {
    --open_;
    if (!down_) {
      down_ = true;
      LogWarning("redis ", endpoint_.ToString(),
                 " unreachable; fetches answer UNAVAILABLE until it is back");
    }
    return;
  }
  // Back once a connection comes back whole from use: a connect alone can
  // succeed against a server that is going down (its listen backlog), which
  // logged a second outage for one.
  if (down_) {
    down_ = false;
    LogInfo("redis ", endpoint_.ToString(), " reachable again");
  }
  idle_.push_back(std::move(conn));
}

void RedisPool::NoteOutcome(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!status.ok() && !down_) {
    down_ = true;
    LogWarning("redis ", endpoint_.ToString(), " unreachable (",
               status.message(),
               "); fetches answer UNAVAILABLE until it is back");
  }
}

}  // namespace clustercache
