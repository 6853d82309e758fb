#include "cache/store/redis/redis_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace clustercache {

namespace {

// The probe: a new connection (AUTH and SELECT included) and a PING.
absl::Status Ping(const RedisEndpoint& endpoint) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<RedisReply> pong = (*conn)->Command({"PING"});
  if (!pong.ok()) return pong.status();
  if (pong->is_error()) return absl::UnavailableError(pong->str());
  return absl::OkStatus();
}

CircuitBreaker::Options BreakerFor(const RedisEndpoint& endpoint) {
  CircuitBreaker::Options o;
  o.server = absl::StrCat("redis ", endpoint.ToString());
  o.while_down = "fetches answer UNAVAILABLE until it is back";
  o.probe_interval = std::max(endpoint.timeout, absl::Milliseconds(100));
  o.probe = [endpoint] { return Ping(endpoint); };
  return o;
}

}  // namespace

RedisPool::RedisPool(RedisEndpoint endpoint, int size)
    : endpoint_(std::move(endpoint)),
      size_(size),
      breaker_(BreakerFor(endpoint_)) {}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisPool::Acquire() {
  if (absl::Status admitted = breaker_.Admit(); !admitted.ok()) {
    return admitted;
  }
  {
    absl::MutexLock lock(&mu_);
    // Waits for a free connection, or for another call to find the server
    // down (then this one fails at once instead of trying again).
    auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return !idle_.empty() || open_ < size_ || breaker_.down();
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), endpoint_.timeout)) {
      return absl::UnavailableError(absl::StrCat(
          endpoint_.ToString(), ": all ", size_, " connections busy for ",
          absl::FormatDuration(endpoint_.timeout)));
    }
    if (breaker_.down()) return breaker_.Admit();
    if (!idle_.empty()) {
      std::unique_ptr<RedisConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint_);
  if (!conn.ok()) {
    {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    if (absl::IsUnavailable(conn.status())) Failed(conn.status().message());
  } else {
    breaker_.Reached();
  }
  return conn;
}

void RedisPool::Release(std::unique_ptr<RedisConnection> conn) {
  if (conn->broken()) {
    {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    Failed(conn->error());
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
}

void RedisPool::Failed(absl::string_view why) {
  std::vector<std::unique_ptr<RedisConnection>> dropped;
  const bool outage = breaker_.Failed(why);
  absl::MutexLock lock(&mu_);  // also wakes the waiters to fail at once
  if (!outage) return;
  dropped.swap(idle_);
  open_ -= static_cast<int>(dropped.size());
}  // `dropped` closes here, outside the lock

}  // namespace clustercache
