#include "cache/store/memcached/memcached_pool.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/util/log.h"
#include "cache/util/store_url.h"

namespace clustercache {

std::string MemcachedEndpoint::ToString() const {
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<MemcachedUrl> ParseMemcachedUrl(absl::string_view url) {
  absl::StatusOr<StoreUrl> u = ParseStoreUrl(url);
  if (!u.ok()) return u.status();
  if (u->scheme != "memcached" || !u->path.empty() || !u->query.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: \"", u->Redacted(),
        "\" is not memcached://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]"));
  }
  if (u->user.empty() != !u->has_password || u->password.size() > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("store: \"", u->Redacted(),
                     "\": SASL needs both a user and a password (USER:"
                     "PASSWORD@, percent-encoded), or neither"));
  }
  MemcachedUrl out;
  for (const UrlHost& h : u->hosts) out.servers.push_back({h.host, h.port});
  out.sasl = {u->user, u->password};
  return out;
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

// Sets the credentials every connection of `memc` authenticates with.
memcached_return_t SetSasl(memcached_st* memc, const MemcachedSasl& sasl) {
  if (sasl.user.empty()) return MEMCACHED_SUCCESS;
  return memcached_set_sasl_auth_data(memc, sasl.user.c_str(),
                                      sasl.password.c_str());
}

// The probe of a server marked down: a handle of its own and a get of a key
// nobody stores; "not found" is an answer.
absl::Status Probe(const MemcachedEndpoint& server, absl::Duration timeout,
                   const MemcachedSasl& sasl) {
  memcached_st* memc = memcached_create(nullptr);
  if (memc == nullptr) return absl::ResourceExhaustedError("memcached");
  const uint64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000);
  memcached_return_t rc = SetSasl(memc, sasl);
  if (memcached_success(rc)) {
    rc = memcached_server_add(memc, server.host.c_str(),
                              static_cast<in_port_t>(server.port));
  }
  if (memcached_success(rc)) {
    constexpr absl::string_view kKey = "clustercache:probe";
    size_t length = 0;
    uint32_t flags = 0;
    char* value =
        memcached_get(memc, kKey.data(), kKey.size(), &length, &flags, &rc);
    free(value);
  }
  std::string why = memcached_strerror(memc, rc);
  memcached_free(memc);
  if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(why);
}

}  // namespace

absl::Status McHandle::Fail(absl::string_view group, memcached_return_t rc) {
  uint32_t index = ServerIndex(group);
  std::string server = index < pool_->servers().size()
                           ? pool_->servers()[index].ToString()
                           : std::string("?");
  std::string why = memcached_strerror(memc_, rc);
  std::string message = absl::StrCat("memcached ", server, ": ", why);
  if (rc == MEMCACHED_E2BIG) return absl::ResourceExhaustedError(message);
  failed_ = true;
  pool_->NoteDown(index, why);
  return absl::UnavailableError(message);
}

absl::Status McHandle::Admit(absl::string_view group) {
  return pool_->Admit(ServerIndex(group));
}

absl::Status McHandle::Check(absl::string_view group, memcached_return_t rc) {
  if (!IsAnswer(rc)) return Fail(group, rc);
  return absl::OkStatus();
}

uint32_t McHandle::ServerIndex(absl::string_view group) const {
  return memcached_generate_hash(memc_, group.data(), group.size());
}

absl::StatusOr<absl::flat_hash_map<std::string, McItem>> McHandle::MultiGet(
    absl::string_view group, const std::vector<std::string>& keys) {
  absl::flat_hash_map<std::string, McItem> found;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (size_t first = 0; first < keys.size(); first += kMaxKeysPerGet) {
    if (absl::Status s = Admit(group); !s.ok()) return s;
    const size_t n = std::min(kMaxKeysPerGet, keys.size() - first);
    ptrs.clear();
    lens.clear();
    for (size_t i = first; i < first + n; ++i) {
      ptrs.push_back(keys[i].data());
      lens.push_back(keys[i].size());
    }
    memcached_return_t rc = memcached_mget_by_key(
        memc_, group.data(), group.size(), ptrs.data(), lens.data(), n);
    if (!IsAnswer(rc)) return Fail(group, rc);  // sent, not yet answered
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
    if (absl::Status s = Check(group, rc); !s.ok()) return s;
  }
  return found;
}

absl::Status McHandle::Set(absl::string_view group, absl::string_view key,
                           absl::string_view value, time_t exptime) {
  if (absl::Status s = Admit(group); !s.ok()) return s;
  memcached_return_t rc =
      memcached_set_by_key(memc_, group.data(), group.size(), key.data(),
                           key.size(), value.data(), value.size(), exptime, 0);
  if (absl::Status s = Check(group, rc); !s.ok()) return s;
  if (!memcached_success(rc)) {
    return absl::InternalError(
        absl::StrCat("memcached set: ", memcached_strerror(memc_, rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> McHandle::Add(absl::string_view group,
                                   absl::string_view key,
                                   absl::string_view value, time_t exptime) {
  if (absl::Status s = Admit(group); !s.ok()) return s;
  memcached_return_t rc =
      memcached_add_by_key(memc_, group.data(), group.size(), key.data(),
                           key.size(), value.data(), value.size(), exptime, 0);
  if (absl::Status s = Check(group, rc); !s.ok()) return s;
  return memcached_success(rc);  // else NOTSTORED or DATA_EXISTS
}

absl::StatusOr<bool> McHandle::Cas(absl::string_view group,
                                   absl::string_view key,
                                   absl::string_view value, uint64_t cas,
                                   time_t exptime) {
  if (absl::Status s = Admit(group); !s.ok()) return s;
  memcached_return_t rc = memcached_cas_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), value.data(),
      value.size(), exptime, 0, cas);
  if (absl::Status s = Check(group, rc); !s.ok()) return s;
  return memcached_success(rc);  // else DATA_EXISTS, NOTFOUND or NOTSTORED
}

absl::StatusOr<bool> McHandle::Delete(absl::string_view group,
                                      absl::string_view key) {
  if (absl::Status s = Admit(group); !s.ok()) return s;
  memcached_return_t rc = memcached_delete_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), 0);
  if (absl::Status s = Check(group, rc); !s.ok()) return s;
  return memcached_success(rc);  // else NOTFOUND
}

absl::StatusOr<std::optional<uint64_t>> McHandle::Increment(
    absl::string_view group, absl::string_view key, uint64_t delta) {
  uint64_t value = 0;
  if (absl::Status s = Admit(group); !s.ok()) return s;
  memcached_return_t rc = memcached_increment_by_key(
      memc_, group.data(), group.size(), key.data(), key.size(), delta, &value);
  if (absl::Status s = Check(group, rc); !s.ok()) return s;
  // Else an answer of the protocol, not an outage: no such item (or, in
  // the text protocol, not a number).
  if (!memcached_success(rc)) return std::optional<uint64_t>();
  return std::optional<uint64_t>(value);
}

absl::StatusOr<std::unique_ptr<MemcachedPool>> MemcachedPool::Open(
    std::vector<MemcachedEndpoint> servers, absl::Duration timeout, int size,
    const MemcachedSasl& sasl) {
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
      // No failure limit or dead timeout: libmemcached uses them only to
      // eject servers, which we never do. Its per-handle backoff does not
      // apply either: a handle that failed is freed (Release).
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
  if (memcached_return_t rc = SetSasl(master, sasl); !memcached_success(rc)) {
    std::string message = memcached_strerror(master, rc);
    memcached_free(master);
    return absl::InternalError(absl::StrCat("memcached: SASL: ", message));
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
  return std::unique_ptr<MemcachedPool>(new MemcachedPool(
      std::move(servers), master, timeout, std::max(1, size), sasl));
}

MemcachedPool::MemcachedPool(std::vector<MemcachedEndpoint> servers,
                             memcached_st* master, absl::Duration timeout,
                             int size, const MemcachedSasl& sasl)
    : servers_(std::move(servers)),
      master_(master),
      timeout_(timeout),
      size_(size) {
  for (uint32_t i = 0; i < servers_.size(); ++i) {
    CircuitBreaker::Options o;
    o.server = absl::StrCat("memcached ", servers_[i].ToString());
    o.while_down = "its keys answer UNAVAILABLE until it is back";
    o.probe_interval = std::max(timeout, absl::Milliseconds(100));
    o.probe = [e = servers_[i], timeout, sasl] {
      return Probe(e, timeout, sasl);
    };
    o.on_back = [this, i] {
      if (on_back_) on_back_(i);
    };
    breakers_.push_back(std::make_unique<CircuitBreaker>(std::move(o)));
  }
}

MemcachedPool::~MemcachedPool() {
  absl::MutexLock lock(&mu_);
  for (memcached_st* m : idle_) memcached_free(m);
  memcached_free(master_);
}

absl::StatusOr<memcached_st*> MemcachedPool::Acquire() {
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(
          absl::Condition(
              +[](MemcachedPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return !p->idle_.empty() || p->open_ < p->size_;
              },
              this),
          timeout_)) {
    return absl::UnavailableError(absl::StrCat("memcached: all ", size_,
                                               " handles busy for ",
                                               absl::FormatDuration(timeout_)));
  }
  if (!idle_.empty()) {
    memcached_st* m = idle_.back();
    idle_.pop_back();
    return m;
  }
  ++open_;
  return memcached_clone(nullptr, master_);
}

void MemcachedPool::Release(memcached_st* memc, bool failed) {
  {
    absl::MutexLock lock(&mu_);
    if (!failed) {
      idle_.push_back(memc);
      return;
    }
    --open_;
  }
  memcached_free(memc);
}

uint32_t MemcachedPool::ServerIndex(absl::string_view group) {
  absl::MutexLock lock(&mu_);  // the master handle is shared
  return memcached_generate_hash(master_, group.data(), group.size());
}

absl::Status MemcachedPool::Admit(uint32_t index) {
  if (index >= breakers_.size()) return absl::OkStatus();
  return breakers_[index]->Admit();
}

void MemcachedPool::NoteDown(uint32_t index, absl::string_view why) {
  if (index >= breakers_.size() || !breakers_[index]->Failed(why)) return;
  std::vector<memcached_st*> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
  }
  for (memcached_st* m : dropped) memcached_free(m);
}

absl::StatusOr<int64_t> MemcachedPool::ItemSizeLimit() {
  int64_t limit = 0;
  std::string why = "no handle free";
  With([&](McHandle& h) {
    memcached_return_t rc = memcached_stat_execute(
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
    why = memcached_success(rc)
              // A server that needs SASL answers an unauthenticated stats
              // with nothing.
              ? "no item_size_max in \"stats settings\" (AUTH needed? "
                "memcached://USER:PASSWORD@...)"
              : memcached_strerror(h.memc_, rc);
    return absl::OkStatus();
  }).IgnoreError();  // no handle free: `why` says so
  if (limit > 0) return limit;
  std::vector<std::string> names;
  for (const MemcachedEndpoint& e : servers_) names.push_back(e.ToString());
  return absl::UnavailableError(
      absl::StrCat("store: no memcached server of the pool answers (",
                   absl::StrJoin(names, ","), ": ", why, ")"));
}

}  // namespace clustercache
