#include "cache/store/memcached/memcached_pool.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cache/util/log.h"

namespace clustercache {

std::string MemcachedEndpoint::ToString() const {
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::vector<MemcachedEndpoint>> ParseMemcachedUrl(
    absl::string_view url) {
  constexpr absl::string_view kScheme = "memcached://";
  const std::string usage =
      "store: expected memcached://HOST:PORT[,HOST:PORT...]";
  if (!absl::StartsWith(url, kScheme)) {
    return absl::InvalidArgumentError(usage);
  }
  std::vector<MemcachedEndpoint> servers;
  for (absl::string_view part :
       absl::StrSplit(url.substr(kScheme.size()), ',')) {
    size_t colon = part.rfind(':');
    MemcachedEndpoint e;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(part.substr(colon + 1), &e.port) || e.port <= 0 ||
        e.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat(usage, " (bad server \"", part, "\")"));
    }
    e.host = std::string(part.substr(0, colon));
    servers.push_back(std::move(e));
  }
  return servers;
}

namespace {

// Outcomes that are answers of the protocol, not failures.
bool IsAnswer(memcached_return_t rc) {
  switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_NOTFOUND:
    case MEMCACHED_NOTSTORED:
    case MEMCACHED_DATA_EXISTS:
    case MEMCACHED_END:
    case MEMCACHED_STORED:
    case MEMCACHED_DELETED:
    case MEMCACHED_BUFFERED:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status McHandle::Fail(absl::string_view group, memcached_return_t rc) {
  uint32_t index = ServerIndex(group);
  std::string server = index < pool_->servers().size()
                           ? pool_->servers()[index].ToString()
                           : std::string("?");
  std::string message =
      absl::StrCat("memcached ", server, ": ", memcached_strerror(memc_, rc));
  if (rc == MEMCACHED_E2BIG) return absl::ResourceExhaustedError(message);
  pool_->NoteServer(index, false);
  return absl::UnavailableError(message);
}

uint32_t McHandle::ServerIndex(absl::string_view group) const {
  return memcached_generate_hash(memc_, group.data(), group.size());
}

absl::StatusOr<absl::flat_hash_map<std::string, McItem>> McHandle::MultiGet(
    absl::string_view group, const std::vector<std::string>& keys) {
  absl::flat_hash_map<std::string, McItem> found;
  if (keys.empty()) return found;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(keys.size());
  lens.reserve(keys.size());
  for (const std::string& k : keys) {
    ptrs.push_back(k.data());
    lens.push_back(k.size());
  }
  memcached_return_t rc = memcached_mget_by_key(
      memc_, group.data(), group.size(), ptrs.data(), lens.data(), keys.size());
  if (!IsAnswer(rc)) return Fail(group, rc);
  memcached_result_st result;
  memcached_result_create(memc_, &result);
  while (memcached_fetch_result(memc_, &result, &rc) != nullptr) {
    McItem& item = found[std::string(memcached_result_key_value(&result),
                                     memcached_result_key_length(&result))];
    item.value.assign(memcached_result_value(&result),
                      memcached_result_length(&result));
    item.cas = memcached_result_cas(&result);
  }
  memcached_result_free(&result);
  if (!IsAnswer(rc)) return Fail(group, rc);
  pool_->NoteServer(ServerIndex(group), true);
  return found;
}

absl::Status McHandle::Set(absl::string_view group, absl::string_view key,
                           absl::string_view value, time_t exptime) {
  memcached_return_t rc =
      memcached_set_by_key(memc_, group.data(), group.size(), key.data(),
                           key.size(), value.data(), value.size(), exptime, 0);
  if (!memcached_success(rc)) return Fail(group, rc);
  return absl::OkStatus();
}

absl::StatusOr<bool> McHandle::Add(absl::string_view group,
                                   absl::string_view key,
                                   absl::string_view value, time_t exptime) {
  memcached_return_t rc =
      memcached_add_by_key(memc_, group.data(), group.size(), key.data(),
                           key.size(), value.data(), value.size(), exptime, 0);
  if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS) return false;
  if (!memcached_success(rc)) return Fail(group, rc);
  return true;
}

absl::StatusOr<bool> McHandle::Cas(absl::string_view group,
                                   absl::string_view key,
                                   absl::string_view value, uint64_t cas,
                                   time_t exptime) {
  memcached_return_t rc = memcached_cas_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), value.data(),
      value.size(), exptime, 0, cas);
  if (rc == MEMCACHED_DATA_EXISTS || rc == MEMCACHED_NOTFOUND ||
      rc == MEMCACHED_NOTSTORED) {
    return false;
  }
  if (!memcached_success(rc)) return Fail(group, rc);
  return true;
}

absl::StatusOr<bool> McHandle::Delete(absl::string_view group,
                                      absl::string_view key) {
  memcached_return_t rc = memcached_delete_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), 0);
  if (rc == MEMCACHED_NOTFOUND) return false;
  if (!memcached_success(rc)) return Fail(group, rc);
  return true;
}

absl::StatusOr<std::optional<uint64_t>> McHandle::Increment(
    absl::string_view group, absl::string_view key, uint64_t delta) {
  uint64_t value = 0;
  memcached_return_t rc = memcached_increment_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), delta, &value);
  // Answers of the protocol, not outages: no such item (or, in the text
  // protocol, not a number).
  if (rc == MEMCACHED_NOTFOUND || rc == MEMCACHED_NOTSTORED) {
    return std::optional<uint64_t>();
  }
  if (!memcached_success(rc)) return Fail(group, rc);
  return std::optional<uint64_t>(value);
}

absl::StatusOr<std::unique_ptr<MemcachedPool>> MemcachedPool::Open(
    std::vector<MemcachedEndpoint> servers, absl::Duration timeout, int size) {
  if (servers.empty()) {
    return absl::InvalidArgumentError("store: memcached pool has no servers");
  }
  memcached_st* master = memcached_create(nullptr);
  if (master == nullptr) return absl::ResourceExhaustedError("memcached");
  const uint64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  const std::pair<memcached_behavior_t, uint64_t> behaviours[] = {
      {MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1},
      {MEMCACHED_BEHAVIOR_DISTRIBUTION,
       MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA},
      {MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1},
      {MEMCACHED_BEHAVIOR_TCP_NODELAY, 1},
      {MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms},
      {MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms},
      {MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000},
      {MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000},
      {MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 2},
      {MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1},
      {MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 1},
  };
  for (const auto& [behaviour, value] : behaviours) {
    memcached_return_t rc = memcached_behavior_set(master, behaviour, value);
    if (!memcached_success(rc)) {
      std::string message = memcached_strerror(master, rc);
      memcached_free(master);
      return absl::InternalError(
          absl::StrCat("memcached: cannot set behaviour: ", message));
    }
  }
  for (const MemcachedEndpoint& e : servers) {
    memcached_return_t rc = memcached_server_add(
        master, e.host.c_str(), static_cast<in_port_t>(e.port));
    if (!memcached_success(rc)) {
      std::string message = memcached_strerror(master, rc);
      memcached_free(master);
      return absl::InvalidArgumentError(absl::StrCat(
          "store: memcached server ", e.ToString(), ": ", message));
    }
  }
  auto pool = std::unique_ptr<MemcachedPool>(
      new MemcachedPool(std::move(servers), master, std::max(1, size)));
  absl::MutexLock lock(&pool->mu_);
  pool->down_.assign(pool->servers_.size(), false);
  return pool;
}

MemcachedPool::~MemcachedPool() {
  absl::MutexLock lock(&mu_);
  for (memcached_st* m : idle_) memcached_free(m);
  memcached_free(master_);
}

memcached_st* MemcachedPool::Acquire() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](MemcachedPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !p->idle_.empty() || p->open_ < p->size_;
      },
      this));
  if (!idle_.empty()) {
    memcached_st* m = idle_.back();
    idle_.pop_back();
    return m;
  }
  ++open_;
  return memcached_clone(nullptr, master_);
}

void MemcachedPool::Release(memcached_st* memc) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(memc);
}

void MemcachedPool::NoteServer(uint32_t index, bool up) {
  if (up && down_count_.load(std::memory_order_relaxed) == 0) return;
  {
    absl::MutexLock lock(&mu_);
    if (index >= down_.size() || down_[index] == !up) return;
    down_[index] = !up;
    down_count_ += up ? -1 : 1;
  }
  if (up) {
    LogInfo("memcached ", servers_[index].ToString(), " reachable again");
    if (on_back_) on_back_(index);
  } else {
    LogWarning("memcached ", servers_[index].ToString(),
               " unreachable; its keys answer UNAVAILABLE until it is back");
  }
}

int64_t MemcachedPool::ItemSizeLimit() {
  int64_t limit = 0;
  With([&](McHandle& h) {
    memcached_stat_execute(
        h.memc_, "settings",
        +[](const memcached_instance_st*, const char* key, size_t key_length,
            const char* value, size_t value_length, void* context) {
          if (absl::string_view(key, key_length) == "item_size_max") {
            int64_t v = 0;
            if (absl::SimpleAtoi(absl::string_view(value, value_length), &v)) {
              int64_t* limit = static_cast<int64_t*>(context);
              *limit = *limit == 0 ? v : std::min(*limit, v);
            }
          }
          return MEMCACHED_SUCCESS;
        },
        &limit);
    return 0;
  });
  return limit;
}

}  // namespace clustercache
