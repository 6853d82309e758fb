// RedisConnection: one hiredis connection with a connect timeout and a
// timeout on every command, AUTH and SELECT done at connect. A connection that
// failed an I/O is broken() and must be replaced. Not thread-safe: one user at
// a time (RedisPool hands them out).
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CONNECTION_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

struct redisContext;
struct redisReply;

namespace clustercache {

// The most elements a reply may have (an array of MGET or SCAN results;
// HGETALL of the expiry keys). A reply announcing more breaks the
// connection instead of allocating what it announces.
inline constexpr int kMaxRedisReplyElements = 1 << 20;

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string user;  // Redis 6 ACL user ("": the default user)
  std::string password;
  absl::Duration timeout = absl::Milliseconds(500);  // connect and command
  std::string ToString() const;
};

// A reply; owns the hiredis object.
class RedisReply {
 public:
  explicit RedisReply(redisReply* reply) : reply_(reply) {}
  const redisReply* get() const { return reply_.get(); }
  bool is_nil() const;
  bool is_error() const;
  std::string str() const;  // string, status or error text
  long long integer() const;
  size_t size() const;                   // array elements
  const redisReply* at(size_t i) const;  // array element

 private:
  struct Free {
    void operator()(redisReply* r) const;
  };
  std::unique_ptr<redisReply, Free> reply_;
};

// Reading a reply tree.
std::string ReplyString(const redisReply* r);  // "" for nil
bool ReplyIsNil(const redisReply* r);

class RedisConnection {
 public:
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(
      const RedisEndpoint& endpoint);
  ~RedisConnection();

  // One command. Transport failures are Unavailable (and break the
  // connection); a Redis error reply is returned as a reply, not a status.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv);
  // Several commands in one round trip (the callers' argv, not copies).
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      absl::Span<const std::vector<std::string>* const> commands);
  // For subscribers: the next pushed reply, waiting up to the timeout.
  absl::StatusOr<RedisReply> Next();
  absl::Status SetTimeout(absl::Duration timeout);

  bool broken() const { return broken_; }
  // Why it broke ("" while whole).
  const std::string& error() const { return error_; }
  int fd() const;
  // From another thread: makes a blocked read return (shutdown).
  void Interrupt();

 private:
  explicit RedisConnection(redisContext* context, std::string name)
      : context_(context), name_(std::move(name)) {}
  absl::Status Failure(absl::string_view what);

  redisContext* context_;
  std::string name_;
  bool broken_ = false;
  std::string error_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_CONNECTION_H_
