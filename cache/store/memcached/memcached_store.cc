#include "cache/store/memcached/memcached_store.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "cache/key.h"
#include "cache/limits.h"
#include "cache/store/key_watchers.h"
#include "cache/store/memcached/memcached_items.h"
#include "cache/store/memcached/memcached_reader.h"
#include "cache/util/log.h"

namespace clustercache {
namespace {

constexpr int kMaxAttempts = 32;
constexpr absl::string_view kFloor = "~floor";  // not a valid expiry key
// How long a removed head stays as a tombstone (so a CAS sees the removal).
constexpr time_t kTombstoneSeconds = 2;
// How long the tombstone of a Delete or Expire stays: longer than a commit
// may hold its claim on a lease (kCommitClaim), so a commit that claimed
// before the call always finds it.
constexpr time_t kVoidSeconds = 30;
// An ended lease: no lease (DecodeLease fails on it), kept briefly so that
// ending is a CAS.
constexpr absl::string_view kReleasedLease = "released";
constexpr time_t kReleasedSeconds = 30;
// How long a commit holds its lease against takeover while it writes.
constexpr absl::Duration kCommitClaim = absl::Seconds(10);

using Items = McItems;

const McItem* Find(const Items& items, const std::string& key) {
  auto it = items.find(key);
  return it == items.end() ? nullptr : &it->second;
}

time_t LeaseExptime(absl::Duration lease_time) {
  // Lapsed leases stay readable a while (takeover is by CAS on them).
  return static_cast<time_t>(
             absl::ToInt64Seconds(absl::Ceil(lease_time, absl::Seconds(1)))) +
         30;
}

absl::Status ResetContention(absl::string_view name) {
  return absl::AbortedError(
      absl::StrCat("reset ", name, ": too many concurrent changes"));
}

absl::Status Contention(absl::string_view what, const Key& key) {
  return absl::AbortedError(absl::StrCat(what, " of ", key.ToString(),
                                         ": too many concurrent changes"));
}

class MemcachedStore : public Store {
 public:
  MemcachedStore(MemcachedStoreOptions options,
                 std::unique_ptr<MemcachedPool> pool, int64_t item_limit)
      : options_(std::move(options)),
        layout_(options_.prefix, options_.buckets),
        pool_(std::move(pool)),
        clock_(options_.clock != nullptr ? options_.clock : DefaultClock()),
        item_limit_(item_limit),
        // Room for the head's metadata and the item's own overhead.
        chunk_size_(item_limit - 8192),
        head_limits_{options_.max_payload, chunk_size_},
        reader_(
            std::make_unique<McReader>(pool_.get(), pool_->servers().size())),
        resync_(pool_->servers().size()),
        suspect_(pool_->servers().size()),
        poller_([this] { PollWatches(); }) {
    // Back from an outage: not trusted until its copies are checked (it
    // may have missed invalidations while it was cut off).
    pool_->OnServerBack([this](uint32_t server) {
      if (server >= resync_.size()) return;
      suspect_[server] = true;
      resync_[server] = true;
    });
    for (int b = 0; b < layout_.buckets(); ++b) {
      server_of_.push_back(pool_->ServerIndex(layout_.Group(b)));
    }
  }

  ~MemcachedStore() override {
    stop_.store(true);
    poller_.join();
  }

  std::string Describe() const override {
    std::vector<std::string> servers;
    for (const MemcachedEndpoint& e : pool_->servers()) {
      servers.push_back(e.ToString());
    }
    return absl::StrCat("memcached (", servers.size(),
                        " servers: ", absl::StrJoin(servers, ","),
                        "; ketama, binary protocol, ", layout_.buckets(),
                        " buckets, items up to ", item_limit_, " bytes)");
  }

  absl::StatusOr<int64_t> Now() override { return clock_->NowMicros(); }
  bool CallsMayBlock() const override { return true; }

  absl::StatusOr<Lookup> Read(const Key& key) override {
    absl::Notification done;
    absl::StatusOr<Lookup> result;
    ReadAsync(key, [&](absl::StatusOr<Lookup> l) {
      result = std::move(l);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  // Each read goes to the server's reader, which coalesces it with other
  // reads of that server; `done` runs on the reader's thread.
  void ReadMany(const std::vector<Key>& keys, const ReadDone& done) override {
    for (size_t i = 0; i < keys.size(); ++i) {
      ReadAsync(keys[i],
                [done, i](absl::StatusOr<Lookup> l) { done(i, std::move(l)); });
    }
  }

  // Entry head, lease, bucket clock and the built-in expiry copies in one
  // multi-get (coalesced with other reads of the same server); a second
  // one only for an entry with tags or chunks.
  void ReadAsync(const Key& key,
                 std::function<void(absl::StatusOr<Lookup>)> done) {
    const int b = layout_.BucketOf(key);
    std::vector<std::string> items = {
        layout_.EntryItem(key),
        layout_.LeaseItem(key),
        layout_.ClockItem(b),
        layout_.CopyItem(b, kExpiryAll),
        layout_.CopyItem(b, ScopeExpiryKey(key.scope())),
        layout_.VoidItem(b, key.scope())};
    reader_->Submit(
        server_of_[b], layout_.Group(b), items,
        [this, key, b, items,
         done = std::move(done)](absl::StatusOr<Items> got) mutable {
          if (!got.ok()) return done(got.status());
          Lookup l;
          l.now = clock_->NowMicros();
          if (const McItem* c = Find(*got, items[2])) {
            l.now = std::max(l.now, DecodeCounter(c->value).value_or(0));
          }
          if (const McItem* lease = Find(*got, items[1])) {
            l.lease = DecodeLease(lease->value);
          }
          // Voids by prefix: a voided lease is no lease; a voided entry is
          // gone (delete) or not fresh (expire). Voids that cannot be read
          // cannot vouch for the entry.
          std::optional<McVoided> voided = VoidedOf(*got, items[5], key);
          if (l.lease && voided && l.lease->granted_at < voided->any) {
            l.lease.reset();
          }
          const McItem* item = Find(*got, items[0]);
          if (item == nullptr) return done(std::move(l));
          std::optional<McHead> head = DecodeHead(item->value, head_limits_);
          if (!head) {
            LogBadItem("memcached", key.ToString(), "entry head");
            return done(std::move(l));  // cannot tell: a miss
          }
          if (head->tombstone || !(head->meta.key == key)) {
            return done(std::move(l));
          }
          if (voided && head->Written() < voided->removed) {
            return done(std::move(l));
          }
          if (voided && head->Written() < voided->any) {
            head->meta.expired_at =
                std::max(head->meta.expired_at, voided->any);
          }
          l.expiry.all = CopyValue(*got, items[3]);
          l.expiry.scope = CopyValue(*got, items[4]);
          if (!voided) l.expiry.all.reset();                  // cannot tell
          if (suspect_[server_of_[b]]) l.expiry.all.reset();  // cannot tell
          std::vector<std::string> more;  // tag copies, then chunks
          for (const std::string& t : head->meta.tags) {
            more.push_back(layout_.CopyItem(b, t));
          }
          for (int i = 0; i < head->chunks; ++i) {
            more.push_back(layout_.ChunkItem(key, head->meta.mtime, i));
          }
          if (more.empty()) {
            l.entry = MakeEntry(*std::move(head), std::nullopt);
            return done(std::move(l));
          }
          std::vector<std::string> keys = more;  // `more` moves below
          reader_->Submit(
              server_of_[b], layout_.Group(b), std::move(keys),
              [this, l = std::move(l), head = *std::move(head),
               more = std::move(more),
               done = std::move(done)](absl::StatusOr<Items> got) mutable {
                if (!got.ok()) return done(got.status());
                const size_t ntags = head.meta.tags.size();
                for (size_t i = 0; i < ntags; ++i) {
                  l.expiry.tags.push_back(CopyValue(*got, more[i]));
                }
                std::optional<std::string> payload;
                if (head.chunks > 0) {
                  payload.emplace();
                  payload->reserve(head.meta.size);
                  for (size_t i = ntags; i < more.size(); ++i) {
                    const McItem* chunk = Find(*got, more[i]);
                    if (chunk == nullptr) return done(std::move(l));  // a miss
                    *payload += chunk->value;
                  }
                }
                l.entry = MakeEntry(std::move(head), std::move(payload));
                done(std::move(l));
              });
        });
  }

  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override {
    return pool_->With([&](McHandle& h) -> absl::StatusOr<Grant> {
      const int b = layout_.BucketOf(key);
      const std::string group = layout_.Group(b);
      const std::string lease_item = layout_.LeaseItem(key);
      // The copies must exist before the grant time is taken: one created
      // later would be newer than the entry, which would be stale at birth.
      if (absl::Status s = EnsureCopies(
              h, b, key.scope(),
              {std::string(kExpiryAll), ScopeExpiryKey(key.scope())});
          !s.ok()) {
        return s;
      }
      const std::string void_item = layout_.VoidItem(b, key.scope());
      for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        absl::StatusOr<int64_t> now = Tick(h, b);
        if (!now.ok()) return now.status();
        Lease lease{NewLeaseToken(), *now,
                    *now + absl::ToInt64Microseconds(lease_time)};
        absl::StatusOr<bool> added = h.Add(
            group, lease_item, EncodeLease(lease), LeaseExptime(lease_time));
        if (!added.ok()) return added.status();
        bool takeover = false;
        if (!*added) {
          absl::StatusOr<Items> got =
              h.MultiGet(group, {lease_item, void_item});
          if (!got.ok()) return got.status();
          const McItem* item = Find(*got, lease_item);
          if (item == nullptr) continue;  // released meanwhile
          std::optional<Lease> held = DecodeLease(item->value);
          std::optional<McVoided> voided = VoidedOf(*got, void_item, key);
          if (held && *now < held->expires_at &&
              !(voided && held->granted_at < voided->any)) {
            return Grant{GrantOutcome::kHeld, *held, false};
          }
          absl::StatusOr<bool> swapped =
              h.Cas(group, lease_item, EncodeLease(lease), item->cas,
                    LeaseExptime(lease_time));
          if (!swapped.ok()) return swapped.status();
          if (!*swapped) continue;
          takeover = held.has_value();
        }
        // The guard, after the lease is ours: a commit that lands before
        // this read is seen; one after it needs the lease.
        absl::StatusOr<Items> got = h.MultiGet(group, {layout_.EntryItem(key)});
        if (!got.ok()) return got.status();
        int64_t mtime = 0;
        if (const McItem* head = Find(*got, layout_.EntryItem(key))) {
          std::optional<McHead> decoded = DecodeHead(head->value, head_limits_);
          if (decoded && !decoded->tombstone && decoded->meta.key == key) {
            mtime = decoded->meta.mtime;
          }
        }
        if (mtime != seen_mtime) {
          absl::StatusOr<bool> ended = EndLease(h, group, key, lease.token);
          if (!ended.ok()) return ended.status();
          return Grant{GrantOutcome::kChanged, Lease(), false};
        }
        return Grant{GrantOutcome::kGranted, lease, takeover};
      }
      return Contention("lease", key);
    });
  }

  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override {
    const Key& key = write.key;
    absl::StatusOr<Commit> commit = pool_->With([&](McHandle& h)
                                                    -> absl::StatusOr<Commit> {
      const int b = layout_.BucketOf(key);
      const std::string group = layout_.Group(b);
      const std::string lease_item = layout_.LeaseItem(key);
      const std::string head_item = layout_.EntryItem(key);
      const std::string void_item = layout_.VoidItem(b, key.scope());
      absl::StatusOr<Items> got =
          h.MultiGet(group, {lease_item, head_item, void_item});
      if (!got.ok()) return got.status();
      // Claim the lease for the commit: re-set by CAS with a lapse time far
      // enough ahead that nobody can take it over while the entry is
      // written. A CAS that fails means the record changed: look again.
      std::optional<Lease> lease;
      absl::Time claim_ends;
      for (int attempt = 0;; ++attempt) {
        const McItem* lease_value = Find(*got, lease_item);
        lease.reset();
        if (lease_value != nullptr) lease = DecodeLease(lease_value->value);
        if (!lease || lease->token != token) {
          return Commit{CommitOutcome::kLeaseLost, 0};
        }
        if (attempt == kMaxAttempts) return Contention("commit", key);
        const int64_t now = clock_->NowMicros();
        Lease claimed = *lease;
        claimed.expires_at = std::max(
            claimed.expires_at, now + absl::ToInt64Microseconds(kCommitClaim));
        absl::StatusOr<bool> ours =
            h.Cas(group, lease_item, EncodeLease(claimed), lease_value->cas,
                  LeaseExptime(absl::Microseconds(claimed.expires_at - now)));
        if (!ours.ok()) return ours.status();
        if (*ours) {
          claim_ends = absl::Now() + kCommitClaim;
          break;
        }
        got = h.MultiGet(group, {lease_item, head_item, void_item});
        if (!got.ok()) return got.status();
      }
      // Voided by an Expire or Delete by prefix since the grant. (A void
      // that lands after this read finds the entry older than itself.)
      if (std::optional<McVoided> voided = VoidedOf(*got, void_item, key);
          voided && lease->granted_at < voided->any) {
        absl::StatusOr<bool> ended = EndLease(h, group, key, lease->token);
        if (!ended.ok()) return ended.status();
        return Commit{CommitOutcome::kLeaseLost, 0};
      }
      if (absl::Status s = EnsureCopies(h, b, key.scope(), ExpiryKeysOf(write));
          !s.ok()) {
        return s;
      }
      EntryMeta meta =
          MetaForWrite(write, lease->granted_at,
                       std::max(lease->granted_at, clock_->NowMicros()));
      std::optional<McItem> head;
      if (const McItem* item = Find(*got, head_item)) head = *item;
      for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        // Past the claim, a void's tombstone may be gone: give up.
        if (absl::Now() > claim_ends) {
          return Commit{CommitOutcome::kLeaseLost, 0};
        }
        if (head) {
          std::optional<McHead> decoded = DecodeHead(head->value, head_limits_);
          // Expired or deleted since the grant: the lease was voided (a
          // commit that claimed it just before cannot land after the call).
          if (decoded && VoidedAt(*decoded, key) > lease->granted_at) {
            absl::StatusOr<bool> ended = EndLease(h, group, key, lease->token);
            if (!ended.ok()) return ended.status();
            return Commit{CommitOutcome::kLeaseLost, 0};
          }
          if (decoded && !decoded->tombstone && decoded->meta.key == key &&
              decoded->Written() > lease->granted_at) {
            absl::StatusOr<bool> ended = EndLease(h, group, key, lease->token);
            if (!ended.ok()) return ended.status();
            return Commit{CommitOutcome::kSuperseded, 0};
          }
        }
        absl::StatusOr<bool> written =
            WriteEntry(h, group, meta, *write.payload, head);
        if (!written.ok()) return written.status();
        if (*written) {
          absl::StatusOr<bool> ended = EndLease(h, group, key, lease->token);
          if (!ended.ok()) return ended.status();
          return Commit{CommitOutcome::kStored, meta.mtime};
        }
        // Someone wrote in between: judge against what they wrote.
        absl::StatusOr<Items> again = h.MultiGet(group, {head_item});
        if (!again.ok()) return again.status();
        head.reset();
        if (const McItem* item = Find(*again, head_item)) head = *item;
      }
      return Contention("commit", key);
    });
    if (commit.ok() && commit->outcome != CommitOutcome::kLeaseLost) {
      watchers_.Notify(key.encoded());
    }
    return commit;
  }

  // Unconditional, but never over a newer entry: the head is read, then
  // the time taken (so it is newer than what was read), then written by CAS
  // (or add) against what was read. Of concurrent puts, the newest stays.
  absl::StatusOr<int64_t> Put(const EntryWrite& write) override {
    absl::StatusOr<int64_t> mtime =
        pool_->With([&](McHandle& h) -> absl::StatusOr<int64_t> {
          const int b = layout_.BucketOf(write.key);
          const std::string group = layout_.Group(b);
          const std::string head_item = layout_.EntryItem(write.key);
          if (absl::Status s =
                  EnsureCopies(h, b, write.key.scope(), ExpiryKeysOf(write));
              !s.ok()) {
            return s;
          }
          for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
            absl::StatusOr<Items> got = h.MultiGet(group, {head_item});
            if (!got.ok()) return got.status();
            std::optional<McItem> head;
            if (const McItem* item = Find(*got, head_item)) head = *item;
            absl::StatusOr<int64_t> now = Tick(h, b);
            if (!now.ok()) return now.status();
            if (head) {
              std::optional<McHead> decoded =
                  DecodeHead(head->value, head_limits_);
              if (decoded && !decoded->tombstone &&
                  decoded->meta.key == write.key && decoded->Written() > *now) {
                return *now;  // a newer entry is there: as if overwritten
              }
            }
            EntryMeta meta = MetaForWrite(write, *now, *now);
            absl::StatusOr<bool> written =
                WriteEntry(h, group, meta, *write.payload, head);
            if (!written.ok()) return written.status();
            if (*written) return *now;
          }
          return Contention("store", write.key);
        });
    if (mtime.ok()) watchers_.Notify(write.key.encoded());
    return mtime;
  }

  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override {
    absl::StatusOr<bool> ended =
        pool_->With([&](McHandle& h) -> absl::StatusOr<bool> {
          return EndLease(h, layout_.Group(layout_.BucketOf(key)), key, token);
        });
    if (ended.ok() && *ended) watchers_.Notify(key.encoded());
    return ended;
  }

  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override {
    return watchers_.Watch(key.encoded(), std::move(on_change));
  }
  void CancelWaits() override { watchers_.CancelAll(); }

  // Expire and Delete of one key void its lease: the lease record is ended
  // (waiters and new callers may take the key at once), and the head
  // carries the call's time (expired_at, or a tombstone's voided_at), so a
  // commit that claimed the lease just before cannot land after the call:
  // it finds the head changed and sees a grant older than the void.
  absl::StatusOr<int64_t> Expire(const Selector& selector) override {
    if (!selector.name) {
      return absl::FailedPreconditionError(kMemcachedCannotEnumerate);
    }
    return VoidKey(Key(selector.scope, *selector.name), /*remove=*/false);
  }

  absl::StatusOr<int64_t> Delete(const Selector& selector) override {
    if (!selector.name) {
      return absl::FailedPreconditionError(kMemcachedCannotEnumerate);
    }
    return VoidKey(Key(selector.scope, *selector.name), /*remove=*/true);
  }

  // Without enumerating: a void of the prefix in every bucket's list of the
  // scope, at that bucket's time (see McVoid). Waiters here on the prefix
  // are woken; other nodes see the list change when they poll.
  absl::Status VoidByPrefix(const Selector& selector, bool remove) override {
    if (selector.name) {
      return absl::InvalidArgumentError("VoidByPrefix: a prefix, not a name");
    }
    int applied = 0;
    absl::Status first_error = pool_->With([&](McHandle& h) {
      absl::Status first;
      for (int b = 0; b < layout_.buckets(); ++b) {
        absl::Status s = AddVoidTo(h, b, selector, remove);
        if (s.ok()) {
          ++applied;
        } else if (first.ok()) {
          first = s;
        }
      }
      return first;
    });
    const std::string begin = EncodedPrefix(selector.scope, selector.prefix);
    for (const std::string& k : watchers_.WatchedKeys()) {
      if (absl::StartsWith(k, begin)) watchers_.Notify(k);
    }
    if (applied == layout_.buckets()) return absl::OkStatus();
    return absl::Status(
        first_error.code(),
        absl::StrCat(remove ? "delete" : "expire", " by prefix: applied to ",
                     applied, " of ", layout_.buckets(), " buckets (",
                     first_error.message(), "); ask again"));
  }

  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override {
    return RemoveHeads(keys);
  }

  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override {
    const std::string name(expiry_key);
    return pool_->With([&](McHandle& h) {
      return RaiseExpiryKey(h, name, at, /*lift_clocks=*/at == 0);
    });
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    return pool_->With(
        [&](McHandle& h) -> absl::StatusOr<std::vector<ExpiryKeyValue>> {
          absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
          if (!master.ok()) return master.status();
          std::vector<ExpiryKeyValue> out;
          if (!*master) return out;
          std::optional<std::map<std::string, int64_t>> values =
              DecodeExpiryMap((*master)->value);
          if (!values) return out;
          for (const auto& [name, value] : *values) {
            if (!absl::StartsWith(name, "~")) out.push_back({name, value});
          }
          return out;
        });
  }

  // The expiry map first (missing copies are made from it), then each
  // bucket's copy against that bucket's time.
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override {
    const std::string name(expiry_key);
    return pool_->With([&](McHandle& h) -> absl::StatusOr<ExpiryReset> {
      ExpiryReset reset;
      absl::StatusOr<int64_t> now = Tick(h, 0);
      if (!now.ok()) return now.status();
      for (int attempt = 0;; ++attempt) {
        if (attempt == kMaxAttempts) return ResetContention(name);
        absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
        if (!master.ok()) return master.status();
        if (!*master) continue;
        std::optional<std::map<std::string, int64_t>> values =
            DecodeExpiryMap((*master)->value);
        if (!values) break;  // unreadable: every key counts as now already
        auto it = values->find(name);
        if (it == values->end()) break;
        reset.before = reset.after = it->second;
        if (it->second <= *now + ahead_us) break;
        it->second = reset.after = *now;
        absl::StatusOr<bool> swapped =
            h.Cas(layout_.MasterGroup(), layout_.MasterItem(),
                  EncodeExpiryMap(*values), (*master)->cas);
        if (!swapped.ok()) return swapped.status();
        if (*swapped) break;
      }
      for (int b = 0; b < layout_.buckets(); ++b) {
        absl::StatusOr<int64_t> bucket_now = Tick(h, b);
        if (!bucket_now.ok()) return bucket_now.status();
        const std::string group = layout_.Group(b);
        const std::string item = layout_.CopyItem(b, name);
        for (int attempt = 0;; ++attempt) {
          if (attempt == kMaxAttempts) return ResetContention(name);
          absl::StatusOr<Items> got = h.MultiGet(group, {item});
          if (!got.ok()) return got.status();
          const McItem* copy = Find(*got, item);
          if (copy == nullptr) break;
          const int64_t value = DecodeCounter(copy->value).value_or(0);
          reset.before = std::max(reset.before, value);
          if (value <= *bucket_now + ahead_us) {
            reset.after = std::max(reset.after, value);
            break;
          }
          absl::StatusOr<bool> swapped =
              h.Cas(group, item, absl::StrCat(*bucket_now), copy->cas);
          if (!swapped.ok()) return swapped.status();
          if (*swapped) {
            reset.after = std::max(reset.after, *bucket_now);
            break;
          }
        }
      }
      return reset;
    });
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest&) override {
    return absl::FailedPreconditionError(kMemcachedCannotEnumerate);
  }
  absl::StatusOr<StoreUsage> Usage() override {
    return absl::FailedPreconditionError(kMemcachedCannotEnumerate);
  }

  // Each key as Invalidate at its value (every bucket's clock lifted to
  // it first); the tag floor into the map only (tag copies are made from
  // it). Only into a pool whose expiry map knows every value: see
  // CheckImportable.
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override {
    if (absl::Status s = ValidateImportedExpiryKeys(keys); !s.ok()) return s;
    return pool_->With([&](McHandle& h) -> absl::Status {
      if (absl::Status s = CheckImportable(h); !s.ok()) return s;
      for (const ExpiryKeyValue& k : keys) {
        if (k.value <= 0) continue;  // nothing to raise
        if (k.name != kTagFloorKey) {
          absl::StatusOr<int64_t> raised =
              RaiseExpiryKey(h, k.name, k.value, /*lift_clocks=*/true);
          if (!raised.ok()) return raised.status();
          continue;
        }
        for (int b = 0; b < layout_.buckets(); ++b) {
          if (absl::Status s = LiftClockTo(h, b, k.value); !s.ok()) return s;
        }
        absl::StatusOr<int64_t> raised = RaiseMaster(h, k.name, k.value);
        if (!raised.ok()) return raised.status();
      }
      return absl::OkStatus();
    });
  }

  // Bucket by bucket (a few at once): the copies and void lists the
  // entries need (a void list made now is older than what follows), the
  // bucket's clock past every mtime and soft expiry, then the heads, read
  // and written by CAS with a bucket time taken after the read as their
  // Written() time. So voids, grants and writes of this store order
  // against the import, not against the source's mtime: a void list made
  // for the import does not void what it imports, and a call that ticked
  // before the import does not apply to it.
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override {
    for (const EntryRef& e : entries) {
      if (absl::Status s = ValidateImported(*e); !s.ok()) return s;
      if (e->meta.size > head_limits_.max_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "import: ", e->meta.key.ToString(), " has ", e->meta.size,
            " bytes, more than this store's limit of ", head_limits_.max_size));
      }
    }
    if (absl::Status s = pool_->With(
            [&](McHandle& h) -> absl::Status { return CheckImportable(h); });
        !s.ok()) {
      return s;
    }
    std::map<int, std::vector<size_t>> by_bucket;
    for (size_t i = 0; i < entries.size(); ++i) {
      by_bucket[layout_.BucketOf(entries[i]->meta.key)].push_back(i);
    }
    std::vector<ImportOutcome> out(entries.size());
    absl::Status s = ForBuckets(by_bucket, [&](McHandle& h, int b) {
      return ImportInBucket(h, b, entries, by_bucket.at(b), out);
    });
    if (!s.ok()) return s;
    return out;
  }

  // Creates the expiry map when the pool has none (a new pool).
  absl::Status Initialise() {
    return pool_->With([&](McHandle& h) -> absl::Status {
      absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
      return master.status();
    });
  }

 private:
  std::vector<std::string> ExpiryKeysOf(const EntryWrite& write) const {
    std::vector<std::string> names = {std::string(kExpiryAll),
                                      ScopeExpiryKey(write.key.scope())};
    names.insert(names.end(), write.tags.begin(), write.tags.end());
    return names;
  }

  std::optional<int64_t> CopyValue(const Items& items,
                                   const std::string& item) const {
    const McItem* found = Find(items, item);
    if (found == nullptr) return std::nullopt;  // evicted: cannot tell
    return DecodeCounter(found->value);
  }

  // The next cluster time of bucket `b`: unique within the bucket, at least
  // this node's clock unless other ticks raced it (then just above theirs),
  // and above every expiry value when the clock is (re)created. Never
  // raised by read-then-add: one CAS to max(counter + 1, node clock); if
  // another tick changed the counter meanwhile, an `incr` by one (atomic,
  // unique; it may lag the node's clock by the ticks that raced). So every
  // tick ends in at most three round trips, and cluster time runs ahead of
  // the fastest node's clock by at most one microsecond per tick taken in
  // the same microsecond.
  absl::StatusOr<int64_t> Tick(McHandle& h, int b) {
    const std::string group = layout_.Group(b);
    const std::string item = layout_.ClockItem(b);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const int64_t local = clock_->NowMicros();
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      const McItem* current = Find(*got, item);
      std::optional<int64_t> v;
      if (current != nullptr) v = DecodeCounter(current->value);
      if (current == nullptr || !v) {
        if (current != nullptr) {  // not a counter: made again
          (void)h.Delete(group, item);
        }
        absl::StatusOr<std::optional<int64_t>> made = MakeClock(h, b, local);
        if (!made.ok()) return made.status();
        if (**made > 0) return **made;
        continue;  // another node made it first
      }
      const int64_t next = std::max(*v + 1, local);
      absl::StatusOr<bool> swapped =
          h.Cas(group, item, absl::StrCat(next), current->cas);
      if (!swapped.ok()) return swapped.status();
      if (*swapped) {
        NoteRunaway(b, next, local);
        return next;
      }
      absl::StatusOr<std::optional<uint64_t>> t = h.Increment(group, item, 1);
      if (!t.ok()) return t.status();
      if (*t) return static_cast<int64_t>(**t);
      // Gone meanwhile (evicted, flushed): make it again.
    }
    return absl::AbortedError(absl::StrCat("cluster time of bucket ", b,
                                           ": too many concurrent changes"));
  }

  // A bucket clock far ahead of this node's clock was raised by an older
  // version's read-then-add (or by hand): it never comes back by itself.
  // Said once a minute: what it is and how to clear it.
  void NoteRunaway(int b, int64_t ticked, int64_t local) {
    constexpr int64_t kFarAhead = int64_t{3600} * 1'000'000;
    if (ticked - local < kFarAhead) return;
    int64_t last = runaway_logged_at_.load();
    if (local - last < 60'000'000 ||
        !runaway_logged_at_.compare_exchange_strong(last, local)) {
      return;
    }
    LogError("memcached: cluster time of bucket ", b, " is ",
             absl::FormatDuration(absl::Microseconds(ticked - local)),
             " ahead of this node's clock; leases, TTLs and max-age do not "
             "work there. Flush the pool (memcflush) and reset the expiry "
             "keys to clear it");
  }

  // Creates bucket b's clock (new pool, restarted server, evicted clock) at
  // max(at_least, every expiry value in the map + 1): a grant from this
  // clock is newer than any invalidation the bucket will be judged by. The
  // value it was created at, or 0 when another node created it first.
  absl::StatusOr<std::optional<int64_t>> MakeClock(McHandle& h, int b,
                                                   int64_t at_least) {
    absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
    if (!master.ok()) return master.status();
    int64_t start = at_least;
    if (*master) {
      std::optional<std::map<std::string, int64_t>> values =
          DecodeExpiryMap((*master)->value);
      // A value more than the Invalidate bound past this node's clock is a
      // poisoned key (ResetExpiryKey is the way out): starting above it
      // would move cluster time that far ahead for good.
      const int64_t poisoned =
          clock_->NowMicros() + absl::ToInt64Microseconds(kMaxInvalidateAhead);
      if (values) {
        for (const auto& [name, value] : *values) {
          if (value <= poisoned) start = std::max(start, value + 1);
        }
      }
    }
    absl::StatusOr<bool> added =
        h.Add(layout_.Group(b), layout_.ClockItem(b), absl::StrCat(start));
    if (!added.ok()) return added.status();
    return std::optional<int64_t>(*added ? start : 0);
  }

  // Moves bucket b's clock to at least `value` (never back), by CAS.
  // `seen`: the clock as the caller read it, if it did.
  absl::Status LiftClock(McHandle& h, int b, int64_t value,
                         const McItem* seen) {
    const std::string group = layout_.Group(b);
    const std::string item = layout_.ClockItem(b);
    std::optional<McItem> current;
    if (seen != nullptr) current = *seen;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      if (!current) {
        absl::StatusOr<std::optional<int64_t>> made = MakeClock(h, b, value);
        if (!made.ok()) return made.status();
        if (**made > 0) return absl::OkStatus();
      } else {
        std::optional<int64_t> v = DecodeCounter(current->value);
        if (v && *v >= value) return absl::OkStatus();
        absl::StatusOr<bool> swapped =
            h.Cas(group, item, absl::StrCat(value), current->cas);
        if (!swapped.ok()) return swapped.status();
        if (*swapped) return absl::OkStatus();
      }
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      current.reset();
      if (const McItem* found = Find(*got, item)) current = *found;
    }
    return absl::AbortedError(absl::StrCat("cluster time of bucket ", b,
                                           ": too many concurrent changes"));
  }

  // Copy of `name` in bucket b := max(copy, value), by CAS.
  absl::Status RaiseCopy(McHandle& h, int b, const std::string& name,
                         int64_t value, const McItem* seen) {
    const std::string group = layout_.Group(b);
    const std::string item = layout_.CopyItem(b, name);
    std::optional<McItem> current;
    if (seen != nullptr) current = *seen;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      absl::StatusOr<bool> done;
      if (!current) {
        done = h.Add(group, item, absl::StrCat(value));
      } else if (DecodeCounter(current->value).value_or(0) >= value) {
        return absl::OkStatus();
      } else {
        done = h.Cas(group, item, absl::StrCat(value), current->cas);
      }
      if (!done.ok()) return done.status();
      if (*done) return absl::OkStatus();
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      current.reset();
      if (const McItem* found = Find(*got, item)) current = *found;
    }
    return absl::AbortedError(
        absl::StrCat("invalidate ", name, ": too many concurrent changes"));
  }

  // The expiry map; recreated when missing: from the expiry source when
  // there is one, else with a floor of now (every expiry key not in it
  // counts as invalidated now: safe, since its real value was lost).
  absl::StatusOr<std::optional<McItem>> ReadMaster(McHandle& h) {
    const std::string group = layout_.MasterGroup();
    const std::string item = layout_.MasterItem();
    for (int attempt = 0; attempt < 2; ++attempt) {
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      if (const McItem* found = Find(*got, item)) {
        return std::optional<McItem>(*found);
      }
      std::map<std::string, int64_t> values;
      bool complete = false;
      if (options_.expiry_source) {
        absl::StatusOr<std::vector<ExpiryKeyValue>> source =
            options_.expiry_source();
        if (source.ok()) {
          for (const ExpiryKeyValue& kv : *source) values[kv.name] = kv.value;
          complete = true;
        } else {
          LogWarning("memcached: expiry keys missing and their source failed (",
                     source.status().message(), "); treating them as now");
        }
      }
      values[std::string(kFloor)] = complete ? 0 : clock_->NowMicros();
      absl::StatusOr<bool> added = h.Add(group, item, EncodeExpiryMap(values));
      if (!added.ok()) return added.status();
      if (*added && !complete) {
        LogInfo("memcached: expiry-key map created (", layout_.MasterItem(),
                "); unknown expiry keys count from now");
      }
    }
    return std::optional<McItem>();
  }

  // What an expiry key the map does not hold counts as: the map's floor,
  // and for a tag also the tag floor (raised by ForgetTags).
  static int64_t Unlisted(const std::map<std::string, int64_t>& values,
                          const std::string& name) {
    auto floor = values.find(std::string(kFloor));
    int64_t v = floor == values.end() ? 0 : floor->second;
    if (name != kExpiryAll && !absl::StartsWith(name, "scope:")) {
      auto tags = values.find(std::string(kTagFloorKey));
      if (tags != values.end()) v = std::max(v, tags->second);
    }
    return v;
  }

  // Drops old tags from the expiry map under its tag floor (by CAS). The
  // buckets' copies of them stay until evicted: each is the tag's real
  // value, and a missing one is made from the floor. Memcached cannot tell
  // its oldest entry: tagged entries older than the floor become stale.
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override {
    return pool_->With([&](McHandle& h) -> absl::StatusOr<ForgottenTags> {
      for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
        if (!master.ok()) return master.status();
        if (!*master) continue;
        std::optional<std::map<std::string, int64_t>> values =
            DecodeExpiryMap((*master)->value);
        if (!values) return ForgottenTags{};
        ForgottenTags out;
        int64_t& floor = (*values)[std::string(kTagFloorKey)];
        for (auto it = values->begin(); it != values->end();) {
          const std::string& name = it->first;
          if (name == kExpiryAll || absl::StartsWith(name, "scope:") ||
              absl::StartsWith(name, "~") || it->second >= before) {
            ++it;
            continue;
          }
          floor = std::max(floor, it->second);
          out.names.push_back(name);
          it = values->erase(it);
        }
        out.floor = floor;
        if (out.names.empty()) return out;
        absl::StatusOr<bool> swapped =
            h.Cas(layout_.MasterGroup(), layout_.MasterItem(),
                  EncodeExpiryMap(*values), (*master)->cas);
        if (!swapped.ok()) return swapped.status();
        if (*swapped) return out;
      }
      return absl::AbortedError("forget tags: too many concurrent changes");
    });
  }

  // map[name] := max(map[name], value), by CAS. Returns the value after.
  absl::StatusOr<int64_t> RaiseMaster(McHandle& h, const std::string& name,
                                      int64_t value) {
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
      if (!master.ok()) return master.status();
      if (!*master) continue;
      std::map<std::string, int64_t> values =
          DecodeExpiryMap((*master)->value)
              .value_or(std::map<std::string, int64_t>{
                  {std::string(kFloor), clock_->NowMicros()}});
      auto [slot, added] = values.try_emplace(name, 0);
      if (added) slot->second = Unlisted(values, name);
      int64_t& v = slot->second;
      if (v >= value) return v;
      v = value;
      absl::StatusOr<bool> swapped =
          h.Cas(layout_.MasterGroup(), layout_.MasterItem(),
                EncodeExpiryMap(values), (*master)->cas);
      if (!swapped.ok()) return swapped.status();
      if (*swapped) return value;
    }
    return absl::AbortedError(
        absl::StrCat("invalidate ", name, ": too many concurrent changes"));
  }

  // Invalidate's work: `name` raised to `at` (0: past every bucket's
  // clock) in the expiry map and in every bucket's copy; with
  // `lift_clocks`, each bucket's clock is first moved to at least the
  // value (nothing granted after it is older).
  absl::StatusOr<int64_t> RaiseExpiryKey(McHandle& h, const std::string& name,
                                         int64_t at, bool lift_clocks) {
    // Every bucket's clock and copy, one multi-get per server. A server
    // that does not answer is left to ResyncServer when it is back.
    std::map<uint32_t, std::vector<int>> by_server;
    for (int b = 0; b < layout_.buckets(); ++b) {
      by_server[server_of_[b]].push_back(b);
    }
    Items seen;
    std::set<uint32_t> unreached;
    absl::Status first_error;
    for (const auto& [server, buckets] : by_server) {
      std::vector<std::string> items;
      for (int b : buckets) {
        items.push_back(layout_.ClockItem(b));
        items.push_back(layout_.CopyItem(b, name));
      }
      absl::StatusOr<Items> got =
          h.MultiGet(layout_.Group(buckets.front()), items);
      if (!got.ok()) {
        unreached.insert(server);
        if (first_error.ok()) first_error = got.status();
        continue;
      }
      seen.merge(*got);
    }
    if (unreached.size() == by_server.size()) return first_error;
    int64_t value = at;
    if (at == 0) {
      // Newer than every bucket's clock: newer than every grant so far.
      value = clock_->NowMicros();
      for (int b = 0; b < layout_.buckets(); ++b) {
        if (const McItem* c = Find(seen, layout_.ClockItem(b))) {
          value = std::max(value, DecodeCounter(c->value).value_or(0) + 1);
        }
      }
    }
    absl::StatusOr<int64_t> raised = RaiseMaster(h, name, value);
    if (!raised.ok()) return raised.status();
    value = *raised;
    int applied = 0;
    for (int b = 0; b < layout_.buckets(); ++b) {
      if (unreached.count(server_of_[b]) > 0) continue;
      absl::Status s;
      if (lift_clocks) {
        s = LiftClock(h, b, value, Find(seen, layout_.ClockItem(b)));
      }
      if (s.ok()) {
        s = RaiseCopy(h, b, name, value, Find(seen, layout_.CopyItem(b, name)));
      }
      if (s.ok()) {
        ++applied;
      } else {
        unreached.insert(server_of_[b]);
        if (first_error.ok()) first_error = s;
      }
    }
    if (unreached.empty()) return value;
    for (uint32_t server : unreached) {
      suspect_[server] = true;
      resync_[server] = true;
    }
    return absl::UnavailableError(absl::StrCat(
        "invalidate ", name, ": applied to ", applied, " of ",
        layout_.buckets(), " buckets (", first_error.message(),
        "); the keys of an unreachable server answer UNAVAILABLE and take "
        "the new value when it answers again"));
  }

  // Whether entries and expiry keys may be imported here: only when the
  // expiry map knows every expiry key's value (a floor of 0: made new from
  // a ledger). A map made without one counts every key it does not list
  // as invalidated when it was made, since that key's real value may have
  // been lost with an earlier map; against that floor every entry older
  // than the map would be stale once imported, and lowering it could make
  // fresh again what the lost value had invalidated.
  absl::Status CheckImportable(McHandle& h) {
    absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
    if (!master.ok()) return master.status();
    if (!*master) {
      return absl::UnavailableError(
          "memcached: the expiry-key map is being made; import again");
    }
    std::optional<std::map<std::string, int64_t>> values =
        DecodeExpiryMap((*master)->value);
    if (!values) {
      return absl::FailedPreconditionError(
          absl::StrCat("memcached: cannot import: the expiry-key map (",
                       layout_.MasterItem(), ") cannot be read"));
    }
    auto floor = values->find(std::string(kFloor));
    if (floor == values->end() || floor->second == 0) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "memcached: cannot import: this pool's expiry-key map was made at ",
        absl::FormatTime(absl::FromUnixMicros(floor->second)),
        " without a ledger to fill it, so every expiry key it does not list "
        "counts from then and every entry imported from before then would "
        "be stale (a ledger added later cannot know what the pool lost); "
        "import under a new namespace, or into a flushed pool, with a "
        "ledger beside it (--ledger=mysql://...), which makes the map"));
  }

  // Moves bucket b's clock to at least `value` (read first).
  absl::Status LiftClockTo(McHandle& h, int b, int64_t value) {
    const std::string clock = layout_.ClockItem(b);
    absl::StatusOr<Items> got = h.MultiGet(layout_.Group(b), {clock});
    if (!got.ok()) return got.status();
    return LiftClock(h, b, value, Find(*got, clock));
  }

  // Import's work in bucket b for entries[i], i in `list`.
  absl::Status ImportInBucket(McHandle& h, int b,
                              const std::vector<EntryRef>& entries,
                              const std::vector<size_t>& list,
                              std::vector<ImportOutcome>& out) {
    const std::string group = layout_.Group(b);
    std::map<std::string, std::set<std::string>> names_by_scope;
    int64_t latest = 0;
    for (size_t i : list) {
      const EntryMeta& m = entries[i]->meta;
      std::set<std::string>& names = names_by_scope[std::string(m.key.scope())];
      names.insert(std::string(kExpiryAll));
      names.insert(ScopeExpiryKey(m.key.scope()));
      names.insert(m.tags.begin(), m.tags.end());
      latest = std::max({latest, m.mtime, m.expired_at});
    }
    for (const auto& [scope, names] : names_by_scope) {
      if (absl::Status s = EnsureCopies(
              h, b, scope,
              std::vector<std::string>(names.begin(), names.end()));
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = LiftClockTo(h, b, latest); !s.ok()) return s;
    std::vector<size_t> pending = list;
    for (int attempt = 0; !pending.empty(); ++attempt) {
      if (attempt == kMaxAttempts) {
        return absl::AbortedError(absl::StrCat(
            "import into bucket ", b, ": too many concurrent changes"));
      }
      std::vector<std::string> items;
      for (size_t i : pending) {
        items.push_back(layout_.EntryItem(entries[i]->meta.key));
      }
      absl::StatusOr<Items> got = h.MultiGet(group, items);
      if (!got.ok()) return got.status();
      absl::StatusOr<int64_t> now = Tick(h, b);  // after what was read
      if (!now.ok()) return now.status();
      std::vector<size_t> again;
      for (size_t k = 0; k < pending.size(); ++k) {
        const Entry& e = *entries[pending[k]];
        std::optional<McItem> current;
        if (const McItem* item = Find(*got, items[k])) current = *item;
        if (current) {
          std::optional<McHead> head = DecodeHead(current->value, head_limits_);
          if (head && !head->tombstone && head->meta.key == e.meta.key &&
              head->meta.mtime >= e.meta.mtime) {
            out[pending[k]] = ImportOutcome::kKept;
            continue;
          }
        }
        absl::StatusOr<bool> written =
            WriteEntry(h, group, e.meta, *e.payload, current, *now);
        if (!written.ok()) return written.status();
        if (*written) {
          out[pending[k]] = ImportOutcome::kImported;
        } else {
          again.push_back(pending[k]);  // changed meanwhile: judge again
        }
      }
      pending = std::move(again);
    }
    return absl::OkStatus();
  }

  // Creates the bucket's copies of `names` that are missing, from the
  // expiry map, and its void list of `scope`. A missing list was evicted
  // (or never made): it is made with a void of the whole scope as an
  // expire at the bucket's next time, so nothing older is trusted, and
  // a grant after it is newer.
  absl::Status EnsureCopies(McHandle& h, int b, absl::string_view scope,
                            const std::vector<std::string>& names) {
    const std::string group = layout_.Group(b);
    std::vector<std::string> items;
    for (const std::string& n : names) items.push_back(layout_.CopyItem(b, n));
    const std::string void_item = layout_.VoidItem(b, scope);
    items.push_back(void_item);
    absl::StatusOr<Items> got = h.MultiGet(group, items);
    if (!got.ok()) return got.status();
    items.pop_back();
    if (Find(*got, void_item) == nullptr) {
      absl::StatusOr<int64_t> now = Tick(h, b);
      if (!now.ok()) return now.status();
      absl::StatusOr<bool> added =
          h.Add(group, void_item, EncodeVoids({McVoid{false, *now, ""}}));
      if (!added.ok()) return added.status();
    }
    std::vector<size_t> missing;
    for (size_t i = 0; i < names.size(); ++i) {
      if (Find(*got, items[i]) == nullptr) missing.push_back(i);
    }
    if (missing.empty()) return absl::OkStatus();
    absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
    if (!master.ok()) return master.status();
    std::optional<std::map<std::string, int64_t>> values;
    if (*master) values = DecodeExpiryMap((*master)->value);
    for (size_t i : missing) {
      int64_t value = clock_->NowMicros();  // no map to read: as of now
      if (values) {
        auto it = values->find(names[i]);
        value = it != values->end() ? it->second : Unlisted(*values, names[i]);
      }
      absl::StatusOr<bool> added = h.Add(group, items[i], absl::StrCat(value));
      if (!added.ok()) return added.status();
    }
    return absl::OkStatus();
  }

  // The entry of a head, with the chunks' payload if it had chunks; null
  // when the payload is not whole (a chunk from another version).
  static EntryRef MakeEntry(McHead head, std::optional<std::string> chunked) {
    auto entry = std::make_shared<Entry>();
    std::string payload =
        chunked ? *std::move(chunked) : std::move(head.inline_payload);
    if (static_cast<int64_t>(payload.size()) != head.meta.size ||
        (chunked && Crc32(payload) != head.meta.crc32)) {
      return EntryRef();
    }
    entry->payload = std::make_shared<const std::string>(std::move(payload));
    entry->meta = std::move(head.meta);
    return EntryRef(std::move(entry));
  }

  // Writes chunks (if the payload needs them), then the head: by CAS over
  // `current` when given, by add when not. false: the head changed
  // meanwhile (the chunks written for it are removed again). `written_at`:
  // see McHead (0: the mtime).
  absl::StatusOr<bool> WriteEntry(McHandle& h, const std::string& group,
                                  const EntryMeta& meta,
                                  absl::string_view payload,
                                  const std::optional<McItem>& current,
                                  int64_t written_at = 0) {
    int chunks = 0;
    absl::string_view inline_payload = payload;
    if (static_cast<int64_t>(payload.size()) > chunk_size_) {
      chunks =
          static_cast<int>((payload.size() + chunk_size_ - 1) / chunk_size_);
      for (int i = 0; i < chunks; ++i) {
        absl::Status s =
            h.Set(group, layout_.ChunkItem(meta.key, meta.mtime, i),
                  payload.substr(i * chunk_size_, chunk_size_));
        if (!s.ok()) return s;
      }
      inline_payload = absl::string_view();
    }
    const std::string head =
        EncodeHead(meta, chunks, inline_payload, written_at);
    const std::string item = layout_.EntryItem(meta.key);
    absl::StatusOr<bool> written = current
                                       ? h.Cas(group, item, head, current->cas)
                                       : h.Add(group, item, head);
    if (written.ok() && !*written) {
      for (int i = 0; i < chunks; ++i) {
        (void)h.Delete(group, layout_.ChunkItem(meta.key, meta.mtime, i));
      }
    }
    return written;
  }

  // What the void list `item` in `got` says of `key`; nullopt when it is
  // missing or cannot be read (cannot tell).
  static std::optional<McVoided> VoidedOf(const Items& got,
                                          const std::string& item,
                                          const Key& key) {
    const McItem* found = Find(got, item);
    if (found == nullptr) return std::nullopt;
    std::optional<std::vector<McVoid>> voids = DecodeVoids(found->value);
    if (!voids) return std::nullopt;
    return VoidedFor(*voids, key.name());
  }

  // When the head was voided by Expire or Delete (0: never).
  static int64_t VoidedAt(const McHead& head, const Key& key) {
    if (head.tombstone) return head.voided_at;
    return head.meta.key == key ? head.meta.expired_at : 0;
  }

  // Expire (remove: false) or Delete of one key: see Expire. Returns 1 when
  // an entry was newly expired or removed.
  absl::StatusOr<int64_t> VoidKey(const Key& key, bool remove) {
    const int b = layout_.BucketOf(key);
    const std::string group = layout_.Group(b);
    const std::string head_item = layout_.EntryItem(key);
    absl::StatusOr<int64_t> count =
        pool_->With([&](McHandle& h) -> absl::StatusOr<int64_t> {
          absl::StatusOr<int64_t> now = Tick(h, b);
          if (!now.ok()) return now.status();
          if (absl::Status s = VoidLease(h, group, key); !s.ok()) return s;
          for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
            absl::StatusOr<Items> got = h.MultiGet(group, {head_item});
            if (!got.ok()) return got.status();
            const McItem* item = Find(*got, head_item);
            std::optional<McHead> head;
            if (item != nullptr) head = DecodeHead(item->value, head_limits_);
            const bool live = head && !head->tombstone && head->meta.key == key;
            if (head && VoidedAt(*head, key) >= *now) return 0;
            // Written after this call's time (by a grant or put since the
            // tick): this call came first. Voiding it as of `now` would
            // leave a tombstone older than a lease granted meanwhile, and
            // that lease's older entry could then land over the newer one.
            if (live && head->Written() > *now) return 0;
            std::string value;
            int64_t result = 0;
            if (live && !remove) {
              result = head->meta.expired() ? 0 : 1;
              head->meta.expired_at = *now;
              value = EncodeHead(head->meta, head->chunks, head->inline_payload,
                                 head->written_at);
            } else {
              result = live ? 1 : 0;
              value = TombstoneHead(*now);
            }
            const time_t exptime = live && !remove ? 0 : kVoidSeconds;
            absl::StatusOr<bool> written =
                item == nullptr
                    ? h.Add(group, head_item, value, exptime)
                    : h.Cas(group, head_item, value, item->cas, exptime);
            if (!written.ok()) return written.status();
            if (!*written) continue;
            if (live && remove) {
              for (int c = 0; c < head->chunks; ++c) {
                (void)h.Delete(group,
                               layout_.ChunkItem(key, head->meta.mtime, c));
              }
            }
            return result;
          }
          return Contention(remove ? "delete" : "expire", key);
        });
    watchers_.Notify(key.encoded());
    return count;
  }

  // Adds a void of `selector`'s prefix to bucket b's list of its scope, by
  // CAS. A list that cannot be read is replaced by a void of the whole
  // scope (nothing older is trusted).
  absl::Status AddVoidTo(McHandle& h, int b, const Selector& selector,
                         bool remove) {
    const std::string group = layout_.Group(b);
    const std::string item = layout_.VoidItem(b, selector.scope);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      absl::StatusOr<int64_t> now = Tick(h, b);
      if (!now.ok()) return now.status();
      const McItem* found = Find(*got, item);
      std::vector<McVoid> voids;
      if (found != nullptr) {
        voids = DecodeVoids(found->value)
                    .value_or(std::vector<McVoid>{McVoid{false, *now, ""}});
      }
      const std::string value = EncodeVoids(
          AddVoid(std::move(voids), {remove, *now, selector.prefix}));
      absl::StatusOr<bool> written =
          found == nullptr ? h.Add(group, item, value)
                           : h.Cas(group, item, value, found->cas);
      if (!written.ok()) return written.status();
      if (*written) return absl::OkStatus();
    }
    return absl::AbortedError(absl::StrCat("void ", selector.scope, "/",
                                           selector.prefix,
                                           ": too many concurrent changes"));
  }

  // Ends whatever lease `key` has (by CAS, to a released record).
  absl::Status VoidLease(McHandle& h, const std::string& group,
                         const Key& key) {
    const std::string item = layout_.LeaseItem(key);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      absl::StatusOr<Items> got = h.MultiGet(group, {item});
      if (!got.ok()) return got.status();
      const McItem* found = Find(*got, item);
      if (found == nullptr || !DecodeLease(found->value)) {
        return absl::OkStatus();
      }
      absl::StatusOr<bool> swapped =
          h.Cas(group, item, kReleasedLease, found->cas, kReleasedSeconds);
      if (!swapped.ok()) return swapped.status();
      if (*swapped) return absl::OkStatus();
    }
    return Contention("void lease", key);
  }

  // Deletes the lease item if `token` holds it.
  // By CAS to a "released" record (read as no lease; the next grant
  // replaces it by CAS), so a takeover that lands in between is never
  // ended by mistake.
  absl::StatusOr<bool> EndLease(McHandle& h, const std::string& group,
                                const Key& key, absl::string_view token) {
    const std::string item = layout_.LeaseItem(key);
    absl::StatusOr<Items> got = h.MultiGet(group, {item});
    if (!got.ok()) return got.status();
    const McItem* found = Find(*got, item);
    if (found == nullptr) return false;
    std::optional<Lease> lease = DecodeLease(found->value);
    if (!lease || lease->token != token) return false;
    return h.Cas(group, item, kReleasedLease, found->cas, kReleasedSeconds);
  }

  // Replaces heads by tombstones (by CAS, so a newer version that lands
  // meanwhile is kept). mtime 0 = whatever version is there.
  absl::StatusOr<Removed> RemoveHeads(const std::vector<KeyVersion>& keys) {
    std::map<int, std::vector<const KeyVersion*>> by_bucket;
    for (const KeyVersion& kv : keys) {
      by_bucket[layout_.BucketOf(kv.key)].push_back(&kv);
    }
    std::map<int, Removed> removed;
    for (const auto& [b, list] : by_bucket) removed[b];  // no insert below
    absl::Status s = ForBuckets(by_bucket, [&](McHandle& h, int b) {
      absl::StatusOr<Removed> r = RemoveInBucket(h, b, by_bucket.at(b));
      if (!r.ok()) return r.status();
      removed.at(b) = *r;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    Removed total;
    for (const auto& [b, r] : removed) {
      total.count += r.count;
      total.bytes += r.bytes;
    }
    return total;
  }

  // Runs work(handle, b) for each bucket b of `by_bucket`, the buckets split
  // over up to four handles at once (a purge or import batch is large).
  // The first error, if any.
  template <typename List>
  absl::Status ForBuckets(
      const std::map<int, List>& by_bucket,
      const std::function<absl::Status(McHandle&, int)>& work) {
    constexpr size_t kWorkers = 4;
    std::vector<std::vector<int>> shares(std::min(kWorkers, by_bucket.size()));
    size_t next = 0;
    for (const auto& [b, list] : by_bucket) {
      shares[next++ % shares.size()].push_back(b);
    }
    std::vector<absl::Status> results(shares.size());
    auto run = [&](size_t w) {
      results[w] = pool_->With([&](McHandle& h) -> absl::Status {
        for (int b : shares[w]) {
          if (absl::Status s = work(h, b); !s.ok()) return s;
        }
        return absl::OkStatus();
      });
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < shares.size(); ++w) threads.emplace_back(run, w);
    if (!shares.empty()) run(0);
    for (std::thread& t : threads) t.join();
    for (const absl::Status& r : results) {
      if (!r.ok()) return r;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Removed> RemoveInBucket(
      McHandle& h, int b, const std::vector<const KeyVersion*>& list) {
    const std::string group = layout_.Group(b);
    std::vector<std::string> items;
    for (const KeyVersion* kv : list) {
      items.push_back(layout_.EntryItem(kv->key));
    }
    absl::StatusOr<Items> got = h.MultiGet(group, items);
    if (!got.ok()) return got.status();
    Removed removed;
    for (size_t i = 0; i < list.size(); ++i) {
      const McItem* item = Find(*got, items[i]);
      if (item == nullptr) continue;
      std::optional<McHead> head = DecodeHead(item->value, head_limits_);
      if (!head || head->tombstone || !(head->meta.key == list[i]->key) ||
          (list[i]->mtime != 0 && head->meta.mtime != list[i]->mtime)) {
        continue;
      }
      absl::StatusOr<bool> swapped =
          h.Cas(group, items[i], TombstoneHead(), item->cas, kTombstoneSeconds);
      if (!swapped.ok()) return swapped.status();
      if (!*swapped) continue;  // changed meanwhile: not this version
      ++removed.count;
      removed.bytes += head->meta.size;
      for (int c = 0; c < head->chunks; ++c) {
        absl::StatusOr<bool> gone = h.Delete(
            group, layout_.ChunkItem(head->meta.key, head->meta.mtime, c));
        if (!gone.ok()) return gone.status();
      }
    }
    return removed;
  }

  // A server that was unreachable (not restarted: then it is empty) may have
  // missed invalidations: its buckets' copies are raised to the expiry
  // map's values. Retried by the poller until it succeeds.
  void ResyncServer(uint32_t server) {
    int raised = 0;
    absl::Status s = pool_->With([&](McHandle& h) -> absl::Status {
      absl::StatusOr<std::optional<McItem>> master = ReadMaster(h);
      if (!master.ok()) return master.status();
      if (!*master) return absl::OkStatus();
      std::optional<std::map<std::string, int64_t>> values =
          DecodeExpiryMap((*master)->value);
      if (!values) return absl::OkStatus();
      values->erase(std::string(kFloor));
      values->erase(std::string(kTagFloorKey));
      for (int b = 0; b < layout_.buckets(); ++b) {
        if (server_of_[b] != server) continue;
        std::vector<std::string> items;
        for (const auto& [name, value] : *values) {
          items.push_back(layout_.CopyItem(b, name));
        }
        items.push_back(layout_.ClockItem(b));
        absl::StatusOr<Items> got = h.MultiGet(layout_.Group(b), items);
        if (!got.ok()) return got.status();
        // A copy that missed an invalidation is raised past every grant of
        // its bucket: the server's clock may have been ahead of the value
        // the others got, and its entries are not trusted (as after a
        // restart, which loses them).
        const McItem* clock = Find(*got, items.back());
        const int64_t past_grants =
            clock ? DecodeCounter(clock->value).value_or(0) + 1 : 0;
        size_t i = 0;
        for (const auto& [name, value] : *values) {
          const McItem* copy = Find(*got, items[i++]);
          // A missing copy is recreated from the map when next needed.
          if (copy == nullptr ||
              DecodeCounter(copy->value).value_or(0) >= value) {
            continue;
          }
          const int64_t target = std::max(value, past_grants);
          absl::Status r = LiftClock(h, b, target, clock);
          if (r.ok()) r = RaiseCopy(h, b, name, target, copy);
          if (!r.ok()) return r;
          ++raised;
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) {
      resync_[server] = true;  // again on the next round
      return;
    }
    suspect_[server] = false;
    LogInfo("memcached ", pool_->servers()[server].ToString(),
            ": expiry copies brought up to date (", raised, " raised)");
  }

  // Other nodes cannot tell this one about their writes: the keys that
  // someone here waits on are checked every watch_poll, and their watchers
  // called when the lease or the entry changed.
  void PollWatches() {
    absl::flat_hash_map<std::string, std::string> last;  // key -> state
    while (!stop_.load()) {
      absl::SleepFor(options_.watch_poll);
      for (uint32_t server = 0; server < resync_.size(); ++server) {
        if (resync_[server].exchange(false)) ResyncServer(server);
      }
      std::vector<std::string> keys = watchers_.WatchedKeys();
      if (keys.empty()) {
        last.clear();
        continue;
      }
      absl::flat_hash_map<std::string, std::string> next;
      for (const std::string& encoded : keys) {
        const Key key = Key::FromEncoded(encoded);
        const std::string lease_item = layout_.LeaseItem(key);
        const std::string head_item = layout_.EntryItem(key);
        const int b = layout_.BucketOf(key);
        const std::string void_item = layout_.VoidItem(b, key.scope());
        absl::StatusOr<Items> got = pool_->With([&](McHandle& h) {
          return h.MultiGet(layout_.Group(b),
                            {lease_item, head_item, void_item});
        });
        if (!got.ok()) continue;
        const McItem* lease = Find(*got, lease_item);
        const bool leased = lease != nullptr && DecodeLease(lease->value);
        const McItem* head = Find(*got, head_item);
        const McItem* voids = Find(*got, void_item);
        std::string state =
            absl::StrCat(lease ? lease->value : "-", "|", head ? head->cas : 0,
                         "|", voids ? voids->cas : 0);
        auto it = last.find(encoded);
        bool changed = it == last.end() ? !leased : it->second != state;
        next[encoded] = state;
        if (changed) watchers_.Notify(encoded);
      }
      last = std::move(next);
    }
  }

  const MemcachedStoreOptions options_;
  const McLayout layout_;
  std::unique_ptr<MemcachedPool> pool_;
  Clock* const clock_;
  const int64_t item_limit_;
  const int64_t chunk_size_;
  const McHeadLimits head_limits_;
  std::unique_ptr<McReader> reader_;
  std::vector<uint32_t> server_of_;  // by bucket: fixed (no ejection)
  // Servers back from an outage, whose expiry copies the poller brings up
  // to date.
  std::vector<std::atomic<bool>> resync_;
  // Servers whose copies may be behind: their entries are not fresh until
  // the resync is done.
  std::vector<std::atomic<bool>> suspect_;
  KeyWatchers watchers_;
  std::atomic<int64_t> runaway_logged_at_{0};
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenMemcachedStore(
    const MemcachedStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<MemcachedPool>> pool = MemcachedPool::Open(
      options.servers, options.timeout, options.pool_size, options.sasl);
  if (!pool.ok()) return pool.status();
  absl::StatusOr<int64_t> limit = (*pool)->ItemSizeLimit();
  if (!limit.ok()) return limit.status();
  (*pool)->Serving();
  auto store =
      std::make_unique<MemcachedStore>(options, *std::move(pool), *limit);
  if (absl::Status s = store->Initialise(); !s.ok()) {
    LogWarning("memcached: cannot read the expiry-key map yet (", s.message(),
               "); invalidations wait for its server");
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace clustercache
