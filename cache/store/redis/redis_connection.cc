#include "cache/store/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

void AppendArgv(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(),
                         lens.data());
}

// hiredis 0.14 believes what a reply announces: "*501591560" made it
// allocate 4 GB for the element array. Every reader's createArray is
// wrapped to refuse more than kMaxRedisReplyElements; hiredis then reports
// "Out of memory" and the connection is broken (Failure says why).
const redisReplyObjectFunctions* default_functions = nullptr;
redisReplyObjectFunctions bounded_functions;

void* BoundedArray(const redisReadTask* task, int elements) {
  if (elements > kMaxRedisReplyElements) return nullptr;
  return default_functions->createArray(task, elements);
}

void BoundReplies(redisContext* c) {
  static const bool once = [c] {
    default_functions = c->reader->fn;
    bounded_functions = *default_functions;
    bounded_functions.createArray = BoundedArray;
    return true;
  }();
  (void)once;
  c->reader->fn = &bounded_functions;
}

}  // namespace

std::string RedisEndpoint::ToString() const {
  return absl::StrCat("redis://", host, ":", port,
                      db ? absl::StrCat("/", db) : "");
}

void RedisReply::Free::operator()(redisReply* r) const {
  if (r) freeReplyObject(r);
}
bool RedisReply::is_nil() const { return ReplyIsNil(reply_.get()); }
bool RedisReply::is_error() const { return reply_->type == REDIS_REPLY_ERROR; }
std::string RedisReply::str() const { return ReplyString(reply_.get()); }
long long RedisReply::integer() const { return reply_->integer; }
size_t RedisReply::size() const {
  return reply_->type == REDIS_REPLY_ARRAY ? reply_->elements : 0;
}
const redisReply* RedisReply::at(size_t i) const { return reply_->element[i]; }

std::string ReplyString(const redisReply* r) {
  if (r == nullptr) return "";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(r->integer);
    default:
      return "";
  }
}

bool ReplyIsNil(const redisReply* r) {
  return r == nullptr || r->type == REDIS_REPLY_NIL;
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisEndpoint& endpoint) {
  redisContext* c = redisConnectWithTimeout(
      endpoint.host.c_str(), endpoint.port, absl::ToTimeval(endpoint.timeout));
  if (c == nullptr || c->err) {
    std::string error = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return absl::UnavailableError(
        absl::StrCat(endpoint.ToString(), ": connect: ", error));
  }
  BoundReplies(c);
  auto conn = std::unique_ptr<RedisConnection>(
      new RedisConnection(c, endpoint.ToString()));
  if (absl::Status s = conn->SetTimeout(endpoint.timeout); !s.ok()) return s;
  redisEnableKeepAlive(c);
  std::vector<std::vector<std::string>> setup;
  if (!endpoint.user.empty()) {
    setup.push_back({"AUTH", endpoint.user, endpoint.password});
  } else if (!endpoint.password.empty()) {
    setup.push_back({"AUTH", endpoint.password});
  }
  if (endpoint.db != 0) setup.push_back({"SELECT", absl::StrCat(endpoint.db)});
  for (const auto& cmd : setup) {
    absl::StatusOr<RedisReply> r = conn->Command(cmd);
    if (!r.ok()) return r.status();
    if (r->is_error()) {
      return absl::PermissionDeniedError(
          absl::StrCat(endpoint.ToString(), ": ", cmd[0], ": ", r->str()));
    }
  }
  return conn;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

int RedisConnection::fd() const { return context_->fd; }

void RedisConnection::Interrupt() { shutdown(context_->fd, SHUT_RDWR); }

absl::Status RedisConnection::Failure(absl::string_view what) {
  if (!broken_) {
    error_ = absl::StrCat(
        what, ": ", context_->err ? context_->errstr : "no reply",
        context_->err == REDIS_ERR_OOM
            ? absl::StrCat(" (or a reply of more than ", kMaxRedisReplyElements,
                           " elements: the element limit)")
            : "");
  }
  broken_ = true;
  return absl::UnavailableError(absl::StrCat(name_, ": ", error_));
}

absl::Status RedisConnection::SetTimeout(absl::Duration timeout) {
  if (redisSetTimeout(context_, absl::ToTimeval(timeout)) != REDIS_OK) {
    return Failure("set timeout");
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisConnection::Command(
    const std::vector<std::string>& argv) {
  absl::StatusOr<std::vector<RedisReply>> replies = Pipeline({&argv});
  if (!replies.ok()) return replies.status();
  return std::move((*replies)[0]);
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::Pipeline(
    absl::Span<const std::vector<std::string>* const> commands) {
  if (broken_) return Failure("connection broken");
  for (const std::vector<std::string>* argv : commands) {
    AppendArgv(context_, *argv);
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
      return Failure((*commands[i])[0]);
    }
    replies.emplace_back(static_cast<redisReply*>(reply));
  }
  return replies;
}

absl::StatusOr<RedisReply> RedisConnection::Next() {
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
    return Failure("read");
  }
  return RedisReply(static_cast<redisReply*>(reply));
}

}  // namespace clustercache
