#include "cache/store/redis/redis_mux.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "cache/util/thread_name.h"

namespace clustercache {
namespace {

// The RESP encoding of one command.
std::string Encode(const std::vector<std::string>& argv) {
  std::string out = absl::StrCat("*", argv.size(), "\r\n");
  for (const std::string& a : argv) {
    absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  }
  return out;
}

}  // namespace

struct RedisMux::Link {
  std::unique_ptr<RedisConnection> conn;  // owns the socket; used raw
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  std::deque<Done> pending ABSL_GUARDED_BY(mu);
  std::string out ABSL_GUARDED_BY(mu);  // encoded, not yet written
  bool writing ABSL_GUARDED_BY(mu) = false;
  // The reader is completing calls: commands queued meanwhile are written
  // by the reader when it is done, in one send.
  bool dispatching ABSL_GUARDED_BY(mu) = false;
};

RedisMux::~RedisMux() {
  std::vector<std::thread> readers;
  {
    absl::MutexLock lock(&mu_);
    if (link_) {
      link_->failed = true;
      link_->conn->Interrupt();
    }
    readers.swap(readers_);
  }
  for (std::thread& t : readers) t.join();
}

void RedisMux::FailAll(Link* link, const absl::Status& status) {
  std::deque<Done> pending;
  {
    // Under the lock: a Send that comes later sees `failed` and fails itself.
    absl::MutexLock lock(&link->mu);
    link->failed = true;
    pending.swap(link->pending);
  }
  for (Done& done : pending) done(status);
}

void RedisMux::Send(const std::vector<std::string>& argv, Done done) {
  std::shared_ptr<Link> link;
  {
    absl::MutexLock lock(&mu_);
    if (!link_ || link_->failed) {
      // Replace the connection; old readers have ended or are ending.
      if (link_) link_->conn->Interrupt();
      for (std::thread& t : readers_) t.join();
      readers_.clear();
      link_.reset();
      absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
          RedisConnection::Connect(endpoint_);
      if (!conn.ok()) {
        done(conn.status());
        return;
      }
      link_ = std::make_shared<Link>();
      link_->conn = *std::move(conn);
      readers_.emplace_back([this, link = link_] {
        NameThisThread("cc-redis-reply");
        ReaderLoop(link);
      });
    }
    link = link_;
  }
  // Queue the command with its callback (same order on the wire and in
  // `pending`); the first caller to find no write in progress writes what
  // everyone queued, so concurrent callers share one send().
  std::string batch;
  bool failed = false;
  {
    absl::MutexLock lock(&link->mu);
    failed = link->failed;
    if (!failed) {
      link->pending.push_back(std::move(done));
      link->out += Encode(argv);
      if (!link->writing && !link->dispatching) {
        link->writing = true;
        batch.swap(link->out);
      }
    }
  }
  if (failed) {
    done(absl::UnavailableError(
        absl::StrCat(endpoint_.ToString(), ": connection failed")));
    return;
  }
  Write(link.get(), std::move(batch));
}

void RedisMux::Write(Link* link, std::string batch) {
  const int fd = link->conn->fd();
  while (!batch.empty()) {
    for (size_t sent = 0; sent < batch.size();) {
      ssize_t n =
          send(fd, batch.data() + sent, batch.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The reader sees the shut socket and fails every pending call.
        link->failed = true;
        link->conn->Interrupt();
        absl::MutexLock lock(&link->mu);
        link->writing = false;
        return;
      }
      sent += n;
    }
    absl::MutexLock lock(&link->mu);
    batch.clear();
    batch.swap(link->out);
    if (batch.empty()) link->writing = false;
  }
}

void RedisMux::ReaderLoop(std::shared_ptr<Link> link) {
  redisReader* reader = redisReaderCreate();
  const int fd = link->conn->fd();
  char buf[1 << 16];
  absl::Status failure;
  while (failure.ok()) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::MutexLock lock(&link->mu);
      if (link->pending.empty()) continue;  // idle: nothing is late
      failure = absl::UnavailableError(
          absl::StrCat(endpoint_.ToString(), ": no reply within ",
                       absl::FormatDuration(endpoint_.timeout)));
      break;
    }
    if (n <= 0) {
      failure = absl::UnavailableError(
          absl::StrCat(endpoint_.ToString(), ": connection closed"));
      break;
    }
    redisReaderFeed(reader, buf, n);
    {
      absl::MutexLock lock(&link->mu);
      link->dispatching = true;
    }
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
        failure = absl::UnavailableError(
            absl::StrCat(endpoint_.ToString(), ": protocol error"));
        break;
      }
      if (reply == nullptr) break;
      Done done;
      {
        absl::MutexLock lock(&link->mu);
        if (!link->pending.empty()) {
          done = std::move(link->pending.front());
          link->pending.pop_front();
        }
      }
      RedisReply owned(static_cast<redisReply*>(reply));
      if (done) done(std::move(owned));
    }
    // What the callbacks (and other callers meanwhile) queued goes out in
    // one send.
    std::string batch;
    {
      absl::MutexLock lock(&link->mu);
      link->dispatching = false;
      if (!link->writing && !link->out.empty()) {
        link->writing = true;
        batch.swap(link->out);
      }
    }
    Write(link.get(), std::move(batch));
  }
  FailAll(link.get(), failure);
  redisReaderFree(reader);
}

}  // namespace clustercache
