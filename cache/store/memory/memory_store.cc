#include "cache/store/memory/memory_store.h"

#include <algorithm>
#include <atomic>
#include <list>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cache/duration.h"
#include "cache/store/expiry_table.h"
#include "cache/store/key_watchers.h"

namespace clustercache {
namespace {

// Bytes an item costs beyond its payload (map nodes, index, metadata).
constexpr int64_t kItemOverhead = 256;

class MemoryStore : public Store {
 public:
  explicit MemoryStore(const MemoryStoreOptions& options)
      : clock_(options.clock ? options.clock : DefaultClock()),
        memory_limit_(options.memory_limit),
        shards_(std::max(1, options.shards)),
        shard_limit_(memory_limit_ / static_cast<int64_t>(shards_.size())) {}

  std::string Describe() const override {
    return absl::StrCat("memory (", shards_.size(), " shards, limit ",
                        ShowByteSize(memory_limit_), ")");
  }

  absl::StatusOr<int64_t> Now() override { return clock_->NowMicros(); }

  absl::StatusOr<Lookup> Read(const Key& key) override {
    Lookup out;
    Shard& shard = ShardFor(key);
    {
      absl::MutexLock lock(&shard.mu);
      auto it = shard.items.find(key.encoded());
      if (it != shard.items.end()) {
        out.entry = it->second.entry;
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
      }
      auto lease = shard.leases.find(key.encoded());
      if (lease != shard.leases.end()) out.lease = lease->second;
    }
    if (out.entry) out.expiry = expiry_.TimesFor(out.entry->meta);
    out.now = clock_->NowMicros();
    return out;
  }

  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override {
    Grant grant;
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.items.find(key.encoded());
    int64_t mtime = it == shard.items.end() ? 0 : it->second.entry->meta.mtime;
    if (mtime != seen_mtime) return grant;  // kChanged
    int64_t now = NextEventTime();
    auto [lease, inserted] = shard.leases.try_emplace(key.encoded());
    if (!inserted && lease->second.expires_at > now) {
      grant.outcome = GrantOutcome::kHeld;
      grant.lease = lease->second;
      return grant;
    }
    grant.takeover = !inserted;
    lease->second = Lease{NewLeaseToken(), now,
                          now + absl::ToInt64Microseconds(lease_time)};
    grant.outcome = GrantOutcome::kGranted;
    grant.lease = lease->second;
    return grant;
  }

  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override {
    Commit commit;
    Shard& shard = ShardFor(write.key);
    {
      absl::MutexLock lock(&shard.mu);
      auto lease = shard.leases.find(write.key.encoded());
      if (lease == shard.leases.end() || lease->second.token != token) {
        return commit;  // kLeaseLost
      }
      int64_t granted_at = lease->second.granted_at;
      shard.leases.erase(lease);
      auto it = shard.items.find(write.key.encoded());
      if (it != shard.items.end() &&
          it->second.entry->meta.mtime > granted_at) {
        commit.outcome = CommitOutcome::kSuperseded;
      } else {
        absl::Status s = InsertLocked(
            shard, MetaForWrite(write, granted_at, clock_->NowMicros()),
            write.payload);
        if (!s.ok()) return s;
        commit.outcome = CommitOutcome::kStored;
        commit.mtime = granted_at;
      }
    }
    watchers_.Notify(write.key.encoded());
    return commit;
  }

  absl::StatusOr<int64_t> Put(const EntryWrite& write) override {
    Shard& shard = ShardFor(write.key);
    int64_t mtime;
    {
      absl::MutexLock lock(&shard.mu);
      mtime = NextEventTime();
      absl::Status s =
          InsertLocked(shard, MetaForWrite(write, mtime, mtime), write.payload);
      if (!s.ok()) return s;
    }
    watchers_.Notify(write.key.encoded());
    return mtime;
  }

  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override {
    Shard& shard = ShardFor(key);
    {
      absl::MutexLock lock(&shard.mu);
      auto lease = shard.leases.find(key.encoded());
      if (lease == shard.leases.end() || lease->second.token != token) {
        return false;
      }
      shard.leases.erase(lease);
    }
    watchers_.Notify(key.encoded());
    return true;
  }

  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override {
    return watchers_.Watch(key.encoded(), std::move(on_change));
  }

  void CancelWaits() override { watchers_.CancelAll(); }

  absl::StatusOr<int64_t> Expire(const Selector& selector) override {
    int64_t now = NextEventTime();
    return ForSelected(selector, [&](Shard& shard, Item& item) {
      if (item.entry->meta.expired()) return false;
      auto copy = std::make_shared<Entry>(*item.entry);
      copy->meta.expired_at = now;
      item.entry = std::move(copy);
      return true;
    });
  }

  absl::StatusOr<int64_t> Delete(const Selector& selector) override {
    return ForSelected(selector, [&](Shard& shard, Item& item) {
      EraseLocked(shard, item.entry->meta.key.encoded());
      return true;
    });
  }

  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override {
    Removed removed;
    for (const KeyVersion& kv : keys) {
      Shard& shard = ShardFor(kv.key);
      absl::MutexLock lock(&shard.mu);
      auto it = shard.items.find(kv.key.encoded());
      if (it == shard.items.end() || it->second.entry->meta.mtime != kv.mtime) {
        continue;
      }
      removed.count++;
      removed.bytes += it->second.entry->meta.size;
      EraseLocked(shard, kv.key.encoded());
    }
    return removed;
  }

  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override {
    return expiry_.Advance(expiry_key, at != 0 ? at : NextEventTime());
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    return expiry_.List();
  }

  // Keeps every tag key the oldest entry held may depend on.
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override {
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      for (const auto& [encoded, item] : shard.items) {
        before = std::min(before, item.entry->meta.mtime);
      }
    }
    return expiry_.ForgetTags(before);
  }

  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override {
    return expiry_.LowerIfAhead(expiry_key, NextEventTime(), ahead_us);
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override {
    std::string begin = request.scope.empty()
                            ? ""
                            : EncodedPrefix(request.scope, request.prefix);
    ScanPage page;
    std::vector<ScannedEntry> merged;
    bool cut = false;
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      auto it = request.after.empty() || request.after < begin
                    ? shard.order.lower_bound(begin)
                    : shard.order.upper_bound(request.after);
      int taken = 0;
      for (; it != shard.order.end() && absl::StartsWith(*it, begin); ++it) {
        if (taken == request.limit) {
          cut = true;
          break;
        }
        merged.push_back({shard.items.at(*it).entry->meta, {}});
        ++taken;
      }
    }
    std::sort(merged.begin(), merged.end(),
              [](const ScannedEntry& a, const ScannedEntry& b) {
                return a.meta.key < b.meta.key;
              });
    if (merged.size() > static_cast<size_t>(request.limit)) {
      merged.resize(request.limit);
      cut = true;
    }
    for (ScannedEntry& e : merged) e.expiry = expiry_.TimesFor(e.meta);
    if (!merged.empty()) page.next_after = merged.back().meta.key.encoded();
    page.entries = std::move(merged);
    page.done = !cut;
    page.now = clock_->NowMicros();
    return page;
  }

  // Nothing here is ever lost: a key never set is 0, so the value given is
  // simply advanced to.
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override {
    if (absl::Status s = ValidateImportedExpiryKeys(keys); !s.ok()) return s;
    for (const ExpiryKeyValue& k : keys) {
      RaiseEventTime(k.value);
      expiry_.Import(k.name, k.value);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override {
    for (const EntryRef& e : entries) {
      if (absl::Status s = ValidateImported(*e); !s.ok()) return s;
    }
    std::vector<ImportOutcome> out;
    out.reserve(entries.size());
    for (const EntryRef& e : entries) {
      const EntryMeta& meta = e->meta;
      RaiseEventTime(std::max(meta.mtime, meta.expired_at));
      Shard& shard = ShardFor(meta.key);
      absl::MutexLock lock(&shard.mu);
      auto it = shard.items.find(meta.key.encoded());
      if (it != shard.items.end() &&
          it->second.entry->meta.mtime >= meta.mtime) {
        out.push_back(ImportOutcome::kKept);
        continue;
      }
      if (absl::Status s = InsertLocked(shard, meta, e->payload); !s.ok()) {
        return s;
      }
      out.push_back(ImportOutcome::kImported);
    }
    return out;
  }

  absl::StatusOr<StoreUsage> Usage() override {
    StoreUsage usage;
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      usage.entries += shard.items.size();
      usage.bytes += shard.bytes;
    }
    usage.evictions = evictions_.load(std::memory_order_relaxed);
    return usage;
  }

 private:
  struct Item {
    EntryRef entry;
    std::list<const std::string*>::iterator lru;
    int64_t charge = 0;
  };
  struct Shard {
    absl::Mutex mu;
    absl::node_hash_map<std::string, Item> items ABSL_GUARDED_BY(mu);
    absl::btree_set<std::string> order ABSL_GUARDED_BY(mu);  // for Scan
    absl::flat_hash_map<std::string, Lease> leases ABSL_GUARDED_BY(mu);
    std::list<const std::string*> lru ABSL_GUARDED_BY(mu);  // front = newest
    int64_t bytes ABSL_GUARDED_BY(mu) = 0;
  };

  Shard& ShardFor(const Key& key) {
    return shards_[absl::Hash<std::string>()(key.encoded()) % shards_.size()];
  }

  // Strictly increasing cluster time for events that write a timestamp.
  // Every event stamped after this is later than `t`.
  void RaiseEventTime(int64_t t) {
    int64_t last = last_event_.load();
    while (last < t && !last_event_.compare_exchange_weak(last, t)) {
    }
  }

  int64_t NextEventTime() {
    int64_t now = clock_->NowMicros();
    int64_t last = last_event_.load();
    int64_t next;
    do {
      next = std::max(now, last + 1);
    } while (!last_event_.compare_exchange_weak(last, next));
    return next;
  }

  absl::Status InsertLocked(Shard& shard, EntryMeta meta, Payload payload)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    int64_t charge = meta.size + meta.key.encoded().size() + kItemOverhead;
    if (charge > shard_limit_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "entry of ", meta.size, " bytes does not fit the memory limit of ",
          ShowByteSize(memory_limit_), " (", shards_.size(), " shards)"));
    }
    std::string encoded = meta.key.encoded();
    EraseLocked(shard, encoded);
    auto entry =
        std::make_shared<Entry>(Entry{std::move(meta), std::move(payload)});
    auto [it, inserted] = shard.items.try_emplace(std::move(encoded));
    it->second.entry = std::move(entry);
    it->second.charge = charge;
    shard.lru.push_front(&it->first);
    it->second.lru = shard.lru.begin();
    shard.order.insert(it->first);
    shard.bytes += charge;
    while (shard.bytes > shard_limit_ && shard.lru.size() > 1) {
      std::string victim = *shard.lru.back();
      EraseLocked(shard, victim);
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

  void EraseLocked(Shard& shard, const std::string& encoded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    auto it = shard.items.find(encoded);
    if (it == shard.items.end()) return;
    shard.bytes -= it->second.charge;
    shard.lru.erase(it->second.lru);
    shard.order.erase(encoded);
    shard.items.erase(it);
  }

  // Applies `fn` to each selected entry under its shard's lock; counts the
  // calls that return true. Also voids every lease of a selected key (an
  // Expire or Delete ends generations in flight: their commits are
  // LEASE_LOST), and then wakes the waiters of those keys.
  template <typename Fn>
  int64_t ForSelected(const Selector& selector, Fn fn) {
    int64_t count = 0;
    std::vector<std::string> voided;
    if (selector.name.has_value()) {
      Key key(selector.scope, *selector.name);
      Shard& shard = ShardFor(key);
      {
        absl::MutexLock lock(&shard.mu);
        auto it = shard.items.find(key.encoded());
        if (it != shard.items.end() && fn(shard, it->second)) ++count;
        if (shard.leases.erase(key.encoded()) > 0)
          voided.push_back(key.encoded());
      }
      for (const std::string& k : voided) watchers_.Notify(k);
      return count;
    }
    std::string begin = EncodedPrefix(selector.scope, selector.prefix);
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      std::vector<std::string> keys;
      for (auto it = shard.order.lower_bound(begin);
           it != shard.order.end() && absl::StartsWith(*it, begin); ++it) {
        keys.push_back(*it);
      }
      for (const std::string& k : keys) {
        if (fn(shard, shard.items.at(k))) ++count;
      }
      for (auto it = shard.leases.begin(); it != shard.leases.end();) {
        if (absl::StartsWith(it->first, begin)) {
          voided.push_back(it->first);
          shard.leases.erase(it++);
        } else {
          ++it;
        }
      }
    }
    for (const std::string& k : voided) watchers_.Notify(k);
    return count;
  }

  Clock* const clock_;
  const int64_t memory_limit_;
  std::vector<Shard> shards_;
  const int64_t shard_limit_;
  std::atomic<int64_t> evictions_{0};
  std::atomic<int64_t> last_event_{0};
  ExpiryTable expiry_;
  KeyWatchers watchers_;
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore(const MemoryStoreOptions& options) {
  return std::make_unique<MemoryStore>(options);
}

}  // namespace clustercache
