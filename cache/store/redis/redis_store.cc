#include "cache/store/redis/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <future>
#include <map>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cache/store/key_watchers.h"
#include "cache/store/redis/redis_clock.h"
#include "cache/store/redis/redis_records.h"
#include "cache/store/redis/redis_router.h"
#include "cache/store/redis/tag_hints.h"
#include "cache/util/store_url.h"
#include "cache/util/thread_name.h"

namespace clustercache {
namespace {

int64_t Int(const redisReply* r) {
  int64_t v = 0;
  if (!ReplyIsNil(r)) (void)absl::SimpleAtoi(ReplyString(r), &v);
  return v;
}

class RedisStore : public Store {
 public:
  explicit RedisStore(const RedisStoreOptions& options)
      : options_(options), channel_(options.prefix + ":w") {}

  ~RedisStore() override {
    {
      absl::MutexLock lock(&sub_mu_);
      stopping_ = true;
      if (subscriber_conn_ != nullptr) subscriber_conn_->Interrupt();
      sub_cv_.SignalAll();
    }
    if (subscriber_.joinable()) subscriber_.join();
  }

  absl::Status Start() {
    std::unique_ptr<RedisTopology> topology;
    if (options_.cluster_seeds.empty()) {
      topology =
          RedisTopology::Standalone(options_.endpoint, options_.pool_size);
    } else {
      std::vector<RedisEndpoint> seeds = options_.cluster_seeds;
      for (RedisEndpoint& seed : seeds)
        seed.timeout = options_.endpoint.timeout;
      absl::StatusOr<std::unique_ptr<RedisTopology>> t =
          RedisTopology::Cluster(seeds, options_.pool_size);
      if (!t.ok()) return t.status();
      topology = *std::move(t);
    }
    router_ = std::make_unique<RedisRouter>(std::move(topology));
    if (absl::Status s = router_->LoadScripts(); !s.ok()) return s;
    clock_ = std::make_unique<RedisClock>([this] { return router_->Now(); },
                                          absl::Milliseconds(500));
    if (absl::Status s = clock_->Start(); !s.ok()) return s;
    subscriber_ = std::thread([this] {
      NameThisThread("cc-redis-sub");
      SubscriberLoop();
    });
    absl::MutexLock lock(&sub_mu_);
    auto subscribed = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return subscribed_;
    };
    if (!sub_mu_.AwaitWithTimeout(absl::Condition(&subscribed),
                                  options_.endpoint.timeout * 10)) {
      return absl::UnavailableError(absl::StrCat(
          router_->topology().Describe(), ": cannot subscribe to ", channel_));
    }
    return absl::OkStatus();
  }

  std::string Describe() const override {
    return absl::StrCat(router_->topology().Describe(), " (pool ",
                        options_.pool_size, " per node, ", options_.buckets,
                        " buckets, timeout ",
                        absl::FormatDuration(options_.endpoint.timeout), ")");
  }

  absl::StatusOr<int64_t> Now() override { return router_->Now(); }

  // One command (ReadFor). A wrong guess about tags costs a second one.
  absl::StatusOr<Lookup> Read(const Key& key) override {
    absl::StatusOr<Lookup> out;
    ReadMany({key},
             [&](size_t, absl::StatusOr<Lookup> l) { out = std::move(l); });
    return out;
  }

  // The reads of a batch pipelined: one round trip per server, on the
  // caller's thread.
  void ReadMany(const std::vector<Key>& keys, const ReadDone& done) override {
    std::vector<RedisCmd> cmds;
    std::vector<bool> tagged;
    cmds.reserve(keys.size());
    tagged.reserve(keys.size());
    for (const Key& key : keys) {
      tagged.push_back(hints_.Tagged(key.encoded()));
      cmds.push_back(ReadFor(key, tagged.back()));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!replies.ok()) {
        done(i, replies.status());
        continue;
      }
      const RedisReply& r = (*replies)[i];
      if (r.is_error()) {
        done(i, absl::InternalError("redis read: " + r.str()));
        continue;
      }
      bool needs_tags = false;
      absl::StatusOr<Lookup> lookup =
          Answer(keys[i], r, tagged[i], &needs_tags);
      done(i, needs_tags ? Read(keys[i]) : std::move(lookup));
    }
  }

  bool CallsMayBlock() const override { return true; }

  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override {
    std::vector<std::string> k = KeysFor(key);
    absl::StatusOr<RedisReply> r =
        router_->Run(RedisScript::kAcquire, k,
                     {absl::StrCat(seen_mtime),
                      absl::StrCat(absl::ToInt64Microseconds(lease_time)),
                      NewLeaseToken(), std::string(key.name())});
    if (!r.ok()) return r.status();
    Grant grant;
    std::string what = r->size() > 0 ? ReplyString(r->at(0)) : "";
    if (what == "changed") return grant;
    if (r->size() < 4) return absl::InternalError("acquire: bad reply");
    grant.lease = Lease{ReplyString(r->at(1)), Int(r->at(2)), Int(r->at(3))};
    if (what == "held") {
      grant.outcome = GrantOutcome::kHeld;
    } else {
      grant.outcome = GrantOutcome::kGranted;
      grant.takeover = r->size() > 4 && ReplyString(r->at(4)) == "1";
    }
    return grant;
  }

  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override {
    std::vector<std::string> args = {std::string(token)};
    AppendWriteArgs(write, &args);
    hints_.Note(write.key.encoded(), !write.tags.empty());
    absl::StatusOr<RedisReply> r =
        router_->Run(RedisScript::kCommit, KeysFor(write.key), args);
    if (!r.ok()) return r.status();
    Commit commit;
    std::string what = r->size() > 0 ? ReplyString(r->at(0)) : "";
    if (what == "superseded") commit.outcome = CommitOutcome::kSuperseded;
    if (what == "stored") {
      commit.outcome = CommitOutcome::kStored;
      commit.mtime = Int(r->at(1));
    }
    return commit;
  }

  absl::StatusOr<int64_t> Put(const EntryWrite& write) override {
    std::vector<std::string> args;
    AppendWriteArgs(write, &args);
    hints_.Note(write.key.encoded(), !write.tags.empty());
    absl::StatusOr<RedisReply> r =
        router_->Run(RedisScript::kPut, KeysFor(write.key), args);
    if (!r.ok()) return r.status();
    return Int(r->get());
  }

  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override {
    std::vector<std::string> k = KeysFor(key);
    absl::StatusOr<RedisReply> r = router_->Run(
        RedisScript::kRelease, {k[1], k[10]},
        {std::string(token), channel_, key.encoded(), std::string(key.name())});
    if (!r.ok()) return r.status();
    return r->integer() == 1;
  }

  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override {
    return watchers_.Watch(key.encoded(), std::move(on_change));
  }

  void CancelWaits() override { watchers_.CancelAll(); }

  absl::StatusOr<int64_t> Expire(const Selector& selector) override {
    return ForSelected(selector, [&](const Key& key) {
      std::vector<std::string> k = KeysFor(key);
      return router_->Script(
          RedisScript::kExpire, {k[0], k[3], k[1], k[10]},
          {std::string(key.name()), channel_, key.encoded()});
    });
  }

  absl::StatusOr<int64_t> Delete(const Selector& selector) override {
    return ForSelected(selector, [&](const Key& key) {
      std::vector<std::string> k = KeysFor(key);
      return router_->Script(
          RedisScript::kDelete, {k[0], k[4], k[5], k[7], k[1], k[10]},
          {std::string(key.name()), channel_, key.encoded()});
    });
  }

  // Scripts per (bucket, scope): many removals in one call.
  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override {
    std::map<std::pair<int, std::string>, std::vector<const KeyVersion*>>
        groups;
    for (const KeyVersion& kv : keys) {
      groups[{BucketOf(kv.key), std::string(kv.key.scope())}].push_back(&kv);
    }
    // At most kChunk entries per script: Redis runs one script at a time,
    // and live fetches must not wait behind a long one.
    constexpr size_t kChunk = 100;
    std::vector<RedisCmd> cmds;
    for (const auto& [group, members] : groups) {
      const auto& [b, scope] = group;
      for (size_t start = 0; start < members.size(); start += kChunk) {
        std::vector<std::string> k = {ScopeKey(b, "n", scope),
                                      ScopeKey(b, "t", scope),
                                      BucketKey(b, "u")};
        std::vector<std::string> args;
        for (size_t i = start; i < std::min(members.size(), start + kChunk);
             ++i) {
          k.push_back(EntryKey(members[i]->key));
          args.push_back(std::string(members[i]->key.name()));
          args.push_back(absl::StrFormat("%020d", members[i]->mtime));
        }
        cmds.push_back(router_->Script(RedisScript::kRemoveMany, k, args));
      }
    }
    // One script in flight at a time: a pipeline of them would run back to
    // back inside Redis, and the fetches of other clients would wait behind
    // all of them.
    Removed removed;
    for (const RedisCmd& cmd : cmds) {
      absl::StatusOr<RedisReply> r = router_->Exec(cmd);
      if (!r.ok()) return r.status();
      if (r->size() != 2) return absl::InternalError("remove: " + r->str());
      removed.count += Int(r->at(0));
      removed.bytes += Int(r->at(1));
    }
    return removed;
  }

  // Every bucket's copy: B scripts, one round trip per node; then the list
  // of expiry keys.
  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override {
    const bool tag =
        expiry_key != "all" && !absl::StartsWith(expiry_key, "scope:");
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      cmds.push_back(router_->Script(
          RedisScript::kInvalidate,
          {tag ? BucketKey(b, "xt") : CopyKey(b, expiry_key),
           BucketKey(b, "c")},
          {std::string(expiry_key), absl::StrCat(at), tag ? "h" : "s"}));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    int64_t value = 0;
    for (const RedisReply& r : *replies) {
      if (r.is_error()) return absl::InternalError("invalidate: " + r.str());
      value = std::max(value, Int(r.get()));
    }
    absl::StatusOr<RedisReply> listed =
        router_->Run(RedisScript::kRecordExpiry, {ExpiryListKey()},
                     {std::string(expiry_key), absl::StrCat(value)});
    if (!listed.ok()) return listed.status();
    return value;
  }

  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override {
    const bool tag =
        expiry_key != "all" && !absl::StartsWith(expiry_key, "scope:");
    const std::string ahead = absl::StrCat(ahead_us);
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      cmds.push_back(
          router_->Script(RedisScript::kResetExpiry,
                          {tag ? BucketKey(b, "xt") : CopyKey(b, expiry_key),
                           BucketKey(b, "c")},
                          {std::string(expiry_key), ahead, tag ? "h" : "s"}));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    ExpiryReset reset;
    for (const RedisReply& r : *replies) {
      if (r.is_error() || r.size() != 2) {
        return absl::InternalError("reset expiry key: " + r.str());
      }
      reset.before = std::max(reset.before, Int(r.at(0)));
      reset.after = std::max(reset.after, Int(r.at(1)));
    }
    absl::StatusOr<RedisReply> listed = router_->Run(
        RedisScript::kResetExpiry, {ExpiryListKey()},
        {std::string(expiry_key), ahead, "h", absl::StrCat(reset.after)});
    if (!listed.ok()) return listed.status();
    return reset;
  }

  // From the list Invalidate keeps (freshness never reads it: if Redis
  // evicts it, this list is short, and entries are still judged by the
  // buckets' copies).
  // Bucket by bucket (each under its ~floor); then the list Invalidate
  // keeps loses the names that every bucket dropped.
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override {
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      cmds.push_back(router_->Script(RedisScript::kForgetTags,
                                     {BucketKey(b, "xt"), BucketKey(b, "s")},
                                     {absl::StrCat(before), Head(b)}));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    absl::flat_hash_map<std::string, int> dropped;  // name -> buckets
    ForgottenTags out;
    for (const RedisReply& r : *replies) {
      if (r.is_error() || r.size() < 1) {
        return absl::InternalError("forget tags: " + r.str());
      }
      out.floor = std::max(out.floor, Int(r.at(0)));
      for (size_t i = 1; i < r.size(); ++i) ++dropped[ReplyString(r.at(i))];
    }
    std::vector<std::string> hdel = {"HDEL", ExpiryListKey()};
    for (const auto& [name, buckets] : dropped) {
      if (buckets < options_.buckets) continue;  // a bucket still holds it
      out.names.push_back(name);
      hdel.push_back(name);
      if (hdel.size() == 1002) {
        if (absl::StatusOr<RedisReply> d =
                router_->Exec({ExpiryListKey(), hdel});
            !d.ok()) {
          return d.status();
        }
        hdel.resize(2);
      }
    }
    if (hdel.size() > 2) {
      absl::StatusOr<RedisReply> d = router_->Exec({ExpiryListKey(), hdel});
      if (!d.ok()) return d.status();
    }
    std::sort(out.names.begin(), out.names.end());
    return out;
  }

  // In HSCAN pages: one HGETALL of a list with hundreds of thousands of
  // tags would pass the reply element limit.
  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    std::vector<ExpiryKeyValue> out;
    std::string cursor = "0";
    do {
      absl::StatusOr<RedisReply> r =
          router_->Exec({ExpiryListKey(),
                         {"HSCAN", ExpiryListKey(), cursor, "COUNT", "1000"}});
      if (!r.ok()) return r.status();
      if (r->is_error() || r->size() != 2 ||
          r->at(1)->type != REDIS_REPLY_ARRAY) {
        return absl::InternalError("list expiry keys: " + r->str());
      }
      cursor = ReplyString(r->at(0));
      const redisReply* fields = r->at(1);
      for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        out.push_back(
            {ReplyString(fields->element[i]), Int(fields->element[i + 1])});
      }
    } while (cursor != "0" && !cursor.empty());
    // HSCAN may return a field twice (when the hash is rehashed meanwhile).
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const auto& a, const auto& b) {
                            return a.name == b.name;
                          }),
              out.end());
    return out;
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override;

  // Each key in every bucket (kImportExpiry), then in the list that
  // ListExpiryKeys reads.
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override {
    if (absl::Status s = ValidateImportedExpiryKeys(keys); !s.ok()) return s;
    for (const ExpiryKeyValue& k : keys) {
      const bool floor = k.name == kTagFloorKey;
      const bool tag =
          floor || (k.name != "all" && !absl::StartsWith(k.name, "scope:"));
      std::vector<RedisCmd> cmds;
      for (int b = 0; b < options_.buckets; ++b) {
        cmds.push_back(router_->Script(
            RedisScript::kImportExpiry,
            {tag ? BucketKey(b, "xt") : CopyKey(b, k.name), BucketKey(b, "c"),
             BucketKey(b, "u"), BucketKey(b, "i")},
            {k.name, absl::StrCat(k.value),
             floor ? "f"
             : tag ? "h"
                   : "s"}));
      }
      absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
      if (!replies.ok()) return replies.status();
      for (const RedisReply& r : *replies) {
        if (r.is_error()) return absl::InternalError("import: " + r.str());
      }
      if (!floor) {
        absl::StatusOr<RedisReply> listed =
            router_->Run(RedisScript::kRecordExpiry, {ExpiryListKey()},
                         {k.name, absl::StrCat(k.value)});
        if (!listed.ok()) return listed.status();
      }
    }
    return absl::OkStatus();
  }

  // One kImport per entry, pipelined (one round trip per node).
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override {
    for (const EntryRef& e : entries) {
      if (absl::Status s = ValidateImported(*e); !s.ok()) return s;
      if (e->meta.size > options_.max_payload) {
        return absl::InvalidArgumentError(absl::StrCat(
            "import: ", e->meta.key.scope(), "/", e->meta.key.name(), ": ",
            e->meta.size, " bytes, more than --max-payload"));
      }
    }
    std::vector<RedisCmd> cmds;
    for (const EntryRef& e : entries) {
      const EntryMeta& m = e->meta;
      std::vector<std::string> keys = KeysFor(m.key);
      keys.push_back(BucketKey(BucketOf(m.key), "i"));
      hints_.Note(m.key.encoded(), !m.tags.empty());
      cmds.push_back(router_->Script(
          RedisScript::kImport, keys,
          {absl::StrCat(m.mtime), absl::StrCat(m.expires_at),
           absl::StrCat(m.expired_at), *e->payload, m.content_type,
           absl::StrJoin(m.tags, "\n"), absl::StrCat(m.crc32),
           std::string(m.key.scope()), std::string(m.key.name())}));
    }
    // The nodes of a cluster work at once: one pipeline per node, each on
    // a thread of its own (a migration is bound by the nodes' scripts).
    absl::flat_hash_map<RedisNode*, std::vector<size_t>> by_node;
    for (size_t i = 0; i < cmds.size(); ++i) {
      by_node[router_->topology().NodeFor(cmds[i].route)].push_back(i);
    }
    std::vector<std::future<absl::StatusOr<std::vector<RedisReply>>>> sent;
    std::vector<const std::vector<size_t>*> order;
    for (const auto& [node, indexes] : by_node) {
      std::vector<RedisCmd> part;
      part.reserve(indexes.size());
      for (size_t i : indexes) part.push_back(std::move(cmds[i]));
      order.push_back(&indexes);
      sent.push_back(std::async(
          std::launch::async,
          [this, part = std::move(part)] { return router_->ExecMany(part); }));
    }
    std::vector<ImportOutcome> out(cmds.size(), ImportOutcome::kKept);
    absl::Status failed;
    for (size_t n = 0; n < sent.size(); ++n) {
      absl::StatusOr<std::vector<RedisReply>> replies = sent[n].get();
      if (!replies.ok()) {
        if (failed.ok()) failed = replies.status();
        continue;
      }
      for (size_t k = 0; k < replies->size(); ++k) {
        const RedisReply& r = (*replies)[k];
        if (r.is_error()) {
          if (failed.ok()) failed = absl::InternalError("import: " + r.str());
          continue;
        }
        out[(*order[n])[k]] =
            r.integer() == 1 ? ImportOutcome::kImported : ImportOutcome::kKept;
      }
    }
    if (!failed.ok()) return failed;
    return out;
  }

  absl::StatusOr<StoreUsage> Usage() override {
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      std::string u = BucketKey(b, "u");
      cmds.push_back({u, {"HMGET", u, "entries", "bytes"}});
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    StoreUsage usage;
    for (const RedisReply& r : *replies) {
      usage.entries += Int(r.at(0));
      usage.bytes += Int(r.at(1));
    }
    return usage;
  }

 private:
  int BucketOf(const Key& key) const {
    return static_cast<int>(Crc32(key.encoded()) % options_.buckets);
  }
  // "{prefix.b}": the hash tag, so one bucket is one cluster slot, and
  // stores with other prefixes use other slots.
  std::string Head(int b) const {
    return absl::StrCat("{", options_.prefix, ".", b, "}:");
  }
  std::string BucketKey(int b, absl::string_view kind) const {
    return absl::StrCat(Head(b), kind);
  }
  std::string ScopeKey(int b, absl::string_view kind,
                       absl::string_view scope) const {
    return absl::StrCat(Head(b), kind, ":", scope);
  }
  // The bucket's copy of expiry key "all" or "scope:S".
  std::string CopyKey(int b, absl::string_view expiry_key) const {
    return absl::StrCat(Head(b), "x:", expiry_key);
  }
  std::string ExpiryListKey() const {
    return absl::StrCat("{", options_.prefix, "}:expiry-keys");
  }
  // The entry ("E:") or lease ("L:") of `key` in bucket `b`.
  std::string ItemKey(int b, absl::string_view kind, const Key& key) const {
    return absl::StrCat(Head(b), kind, key.encoded());
  }
  std::string EntryKey(const Key& key) const {
    return ItemKey(BucketOf(key), "E:", key);
  }
  // entry, lease, copy of "all", copy of "scope:S", tag hash: what a read
  // needs, built on every fetch.
  std::vector<std::string> ReadKeys(const Key& key) const {
    int b = BucketOf(key);
    return {ItemKey(b, "E:", key), ItemKey(b, "L:", key), CopyKey(b, "all"),
            CopyKey(b, ScopeExpiryKey(key.scope())), BucketKey(b, "xt")};
  }
  // entry, lease, tag hash, clock, names, mtimes, scopes, usage, copy of
  // "all", copy of "scope:S", lease index (the KEYS of the write scripts).
  std::vector<std::string> KeysFor(const Key& key) const {
    int b = BucketOf(key);
    std::vector<std::string> r = ReadKeys(key);
    return {std::move(r[0]),
            std::move(r[1]),
            std::move(r[4]),
            BucketKey(b, "c"),
            ScopeKey(b, "n", key.scope()),
            ScopeKey(b, "t", key.scope()),
            BucketKey(b, "s"),
            BucketKey(b, "u"),
            std::move(r[2]),
            std::move(r[3]),
            ScopeKey(b, "l", key.scope())};
  }
  // The read of `key`: MGET of entry, lease and the two copies; or, for a
  // key this node has seen stored with tags, kReadTagged, which also reads
  // the tag values.
  RedisCmd ReadFor(const Key& key, bool tagged) {
    std::vector<std::string> k = ReadKeys(key);
    if (tagged) return router_->Script(RedisScript::kReadTagged, k, {});
    k.pop_back();
    RedisCmd cmd{k[0], {"MGET"}};
    cmd.argv.insert(cmd.argv.end(), k.begin(), k.end());
    return cmd;
  }
  // A read's reply as a Lookup at cluster time now; keeps the tag hint in
  // step with what it found.
  absl::StatusOr<Lookup> Answer(const Key& key, const RedisReply& r,
                                bool tagged, bool* needs_tags) {
    absl::StatusOr<Lookup> lookup = LookupFromRedis(
        key, r, clock_->Now(), options_.max_payload, needs_tags);
    if (lookup.ok() && lookup->entry) {
      const bool has_tags = !lookup->entry->meta.tags.empty();
      if (has_tags != tagged) hints_.Note(key.encoded(), has_tags);
    }
    return lookup;
  }
  // `verb BUCKETKEY(kind)` for every bucket.
  std::vector<RedisCmd> PerBucket(absl::string_view verb,
                                  absl::string_view kind) const {
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      std::string key = BucketKey(b, kind);
      cmds.push_back({key, {std::string(verb), key}});
    }
    return cmds;
  }

  void AppendWriteArgs(const EntryWrite& w,
                       std::vector<std::string>* args) const {
    const std::string empty;
    const std::string& payload = w.payload ? *w.payload : empty;
    args->push_back(payload);
    args->push_back(absl::StrCat(w.ttl_us));
    args->push_back(w.content_type);
    args->push_back(absl::StrJoin(w.tags, "\n"));
    args->push_back(absl::StrCat(Crc32(payload)));
    args->push_back(std::string(w.key.scope()));
    args->push_back(std::string(w.key.name()));
    args->push_back(channel_);
    args->push_back(w.key.encoded());
  }

  // Runs `make(key)` for each selected key; counts replies of 1.
  absl::StatusOr<int64_t> ForSelected(
      const Selector& selector,
      const std::function<RedisCmd(const Key&)>& make) {
    std::vector<RedisCmd> cmds;
    int64_t count = 0;
    auto flush = [&]() -> absl::Status {
      absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
      if (!replies.ok()) return replies.status();
      for (const RedisReply& r : *replies) count += r.integer() == 1;
      cmds.clear();
      return absl::OkStatus();
    };
    if (selector.name.has_value()) {
      cmds.push_back(make(Key(selector.scope, *selector.name)));
      if (absl::Status s = flush(); !s.ok()) return s;
      return count;
    }
    // Keys with a lease first, then keys with an entry: a commit moves a
    // key from the first to the second in one step, so none is missed.
    std::vector<RedisCmd> leased;
    for (int b = 0; b < options_.buckets; ++b) {
      std::string li = ScopeKey(b, "l", selector.scope);
      leased.push_back(
          {li,
           {"ZRANGEBYLEX", li,
            selector.prefix.empty() ? "-" : "[" + selector.prefix,
            selector.prefix.empty() ? "+" : "(" + selector.prefix + "\xff"}});
    }
    absl::StatusOr<std::vector<RedisReply>> names = router_->ExecMany(leased);
    if (!names.ok()) return names.status();
    for (const RedisReply& r : *names) {
      for (size_t i = 0; i < r.size(); ++i) {
        cmds.push_back(make(Key(selector.scope, ReplyString(r.at(i)))));
      }
    }
    if (absl::Status s = flush(); !s.ok()) return s;
    ScanRequest scan{selector.scope, selector.prefix, "", 1000};
    for (;;) {
      bool more = false;
      absl::StatusOr<std::vector<Key>> keys = ScanKeys(scan, &more);
      if (!keys.ok()) return keys.status();
      for (const Key& key : *keys) cmds.push_back(make(key));
      if (absl::Status s = flush(); !s.ok()) return s;
      if (!more) return count;
      scan.after = keys->back().encoded();
    }
  }

  // The next keys in order from the name indexes (which may still hold
  // entries that are gone; Scan drops those). *more: keys follow.
  absl::StatusOr<std::vector<Key>> ScanKeys(const ScanRequest& request,
                                            bool* more);
  // Any order: bucket by bucket, each scope from its mtime index (old
  // entries) or name index; cursor "bucket|scope|last mtime or name" (mtimes
  // are unique within a bucket).
  absl::Status ScanBuckets(const ScanRequest& request, std::vector<Key>* keys,
                           std::vector<int64_t>* mtimes, bool* more,
                           std::string* next);
  void SubscriberLoop();

  const RedisStoreOptions options_;
  const std::string channel_;
  std::unique_ptr<RedisRouter> router_;
  std::unique_ptr<RedisClock> clock_;
  KeyWatchers watchers_;
  TagHints hints_;

  absl::Mutex sub_mu_;
  absl::CondVar sub_cv_;
  bool stopping_ ABSL_GUARDED_BY(sub_mu_) = false;
  bool subscribed_ ABSL_GUARDED_BY(sub_mu_) = false;
  RedisConnection* subscriber_conn_ ABSL_GUARDED_BY(sub_mu_) = nullptr;
  std::thread subscriber_;
};

absl::StatusOr<std::vector<Key>> RedisStore::ScanKeys(
    const ScanRequest& request, bool* more) {
  absl::StatusOr<std::vector<RedisReply>> scopes =
      router_->ExecMany(PerBucket("SMEMBERS", "s"));
  if (!scopes.ok()) return scopes.status();
  std::string after_scope, after_name;
  if (!request.after.empty()) {
    Key after = Key::FromEncoded(request.after);
    after_scope = std::string(after.scope());
    after_name = std::string(after.name());
  }
  const std::string& prefix = request.prefix;
  std::vector<RedisCmd> cmds;
  std::vector<std::string> range_scopes;
  for (int b = 0; b < options_.buckets; ++b) {
    const RedisReply& members = (*scopes)[b];
    for (size_t i = 0; i < members.size(); ++i) {
      std::string scope = ReplyString(members.at(i));
      if (!request.scope.empty() && scope != request.scope) continue;
      if (scope < after_scope) continue;
      std::string min = prefix.empty() ? "-" : "[" + prefix;
      if (scope == after_scope && !after_name.empty() &&
          (prefix.empty() || after_name >= prefix)) {
        min = "(" + after_name;
      }
      std::string max = prefix.empty() ? "+" : "[" + prefix + "\xff";
      std::string names = ScopeKey(b, "n", scope);
      cmds.push_back({names,
                      {"ZRANGEBYLEX", names, min, max, "LIMIT", "0",
                       absl::StrCat(request.limit + 1)}});
      range_scopes.push_back(scope);
    }
  }
  absl::StatusOr<std::vector<RedisReply>> ranges = router_->ExecMany(cmds);
  if (!ranges.ok()) return ranges.status();
  std::vector<Key> keys;
  for (size_t i = 0; i < ranges->size(); ++i) {
    const RedisReply& names = (*ranges)[i];
    for (size_t j = 0; j < names.size(); ++j) {
      keys.emplace_back(range_scopes[i], ReplyString(names.at(j)));
    }
  }
  std::sort(keys.begin(), keys.end());
  *more = keys.size() > static_cast<size_t>(request.limit);
  if (*more) keys.erase(keys.begin() + request.limit, keys.end());
  return keys;
}

absl::Status RedisStore::ScanBuckets(const ScanRequest& request,
                                     std::vector<Key>* keys,
                                     std::vector<int64_t>* mtimes, bool* more,
                                     std::string* next) {
  int first_bucket = 0;
  std::string first_scope, position;
  if (!request.after.empty()) {
    std::vector<std::string> parts =
        absl::StrSplit(request.after, absl::MaxSplits('|', 2));
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &first_bucket)) {
      return absl::InvalidArgumentError("scan: bad cursor");
    }
    first_scope = parts[1];
    position = parts[2];
  }
  // Old entries come from the mtime index; everything else (and prefixes)
  // from the name index.
  const bool by_mtime = request.mtime_before > 0 && request.prefix.empty();
  const std::string& prefix = request.prefix;
  for (int b = first_bucket; b < options_.buckets; ++b) {
    absl::StatusOr<RedisReply> members =
        router_->Exec({BucketKey(b, "s"), {"SMEMBERS", BucketKey(b, "s")}});
    if (!members.ok()) return members.status();
    std::vector<std::string> scopes;
    for (size_t i = 0; i < members->size(); ++i) {
      scopes.push_back(ReplyString(members->at(i)));
    }
    std::sort(scopes.begin(), scopes.end());
    for (const std::string& scope : scopes) {
      if (!request.scope.empty() && scope != request.scope) continue;
      if (b == first_bucket && scope < first_scope) continue;
      bool resume =
          b == first_bucket && scope == first_scope && !position.empty();
      int want = request.limit - static_cast<int>(keys->size());
      std::vector<std::string> argv;
      if (by_mtime) {
        std::string index = ScopeKey(b, "t", scope);
        argv = {"ZRANGEBYSCORE",
                index,
                resume ? "(" + position : "-inf",
                absl::StrCat("(", request.mtime_before),
                "WITHSCORES",
                "LIMIT",
                "0",
                absl::StrCat(want)};
      } else {
        std::string index = ScopeKey(b, "n", scope);
        std::string min = resume           ? "(" + position
                          : prefix.empty() ? "-"
                                           : "[" + prefix;
        argv = {"ZRANGEBYLEX",
                index,
                min,
                prefix.empty() ? "+" : "[" + prefix + "\xff",
                "LIMIT",
                "0",
                absl::StrCat(want)};
      }
      absl::StatusOr<RedisReply> range = router_->Exec({argv[1], argv});
      if (!range.ok()) return range.status();
      const size_t step = by_mtime ? 2 : 1;
      for (size_t i = 0; i < range->size(); i += step) {
        keys->emplace_back(scope, ReplyString(range->at(i)));
        if (by_mtime) {
          double score = 0;
          (void)absl::SimpleAtod(ReplyString(range->at(i + 1)), &score);
          position = absl::StrCat(static_cast<int64_t>(score));
          mtimes->push_back(static_cast<int64_t>(score));
        } else {
          position = ReplyString(range->at(i));
        }
      }
      if (static_cast<int>(keys->size()) == request.limit) {
        *more = true;
        *next = absl::StrCat(b, "|", scope, "|", position);
        return absl::OkStatus();
      }
      position.clear();
    }
    first_scope.clear();
  }
  *more = false;
  next->clear();
  return absl::OkStatus();
}

absl::StatusOr<ScanPage> RedisStore::Scan(const ScanRequest& request) {
  bool more = false;
  std::string next;
  absl::StatusOr<std::vector<Key>> keys;
  if (request.any_order) {
    keys = std::vector<Key>();
    std::vector<int64_t> mtimes;
    if (absl::Status s = ScanBuckets(request, &*keys, &mtimes, &more, &next);
        !s.ok()) {
      return s;
    }
    if (!request.metadata && mtimes.size() == keys->size()) {
      // The mtime index said all that is needed.
      ScanPage page;
      for (size_t i = 0; i < keys->size(); ++i) {
        ScannedEntry e;
        e.meta.key = (*keys)[i];
        e.meta.mtime = mtimes[i];
        page.entries.push_back(std::move(e));
      }
      page.now = clock_->Now();
      page.next_after = next;
      page.done = !more;
      return page;
    }
  } else {
    keys = ScanKeys(request, &more);
    if (!keys.ok()) return keys.status();
    if (!keys->empty()) next = keys->back().encoded();
  }
  // Each entry as a fetch reads it, without its payload.
  std::vector<RedisCmd> cmds;
  for (const Key& key : *keys) {
    cmds.push_back(
        router_->Script(RedisScript::kReadTagged, ReadKeys(key), {"meta"}));
  }
  absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
  if (!replies.ok()) return replies.status();
  ScanPage page;
  page.now = clock_->Now();
  std::vector<RedisCmd> ghosts;
  for (size_t i = 0; i < keys->size(); ++i) {
    const Key& key = (*keys)[i];
    bool needs_tags = false;
    absl::StatusOr<Lookup> read =
        LookupFromRedis(key, (*replies)[i], page.now, options_.max_payload,
                        &needs_tags, /*meta_only=*/true);
    if (!read.ok()) return read.status();
    if (!read->entry) {
      std::vector<std::string> k = KeysFor(key);
      std::string name(key.name());
      ghosts.push_back({k[4], {"ZREM", k[4], name}});
      ghosts.push_back({k[5], {"ZREM", k[5], name}});
      continue;
    }
    ScannedEntry out;
    out.meta = read->entry->meta;
    out.expiry = std::move(read->expiry);
    page.entries.push_back(std::move(out));
  }
  if (!ghosts.empty()) (void)router_->ExecMany(ghosts);  // index forgets them
  page.next_after = next;
  page.done = !more;
  return page;
}

void RedisStore::SubscriberLoop() {
  absl::Duration backoff = absl::Milliseconds(100);
  bool reconnected = false;
  size_t attempt = 0;
  for (;;) {
    {
      absl::MutexLock lock(&sub_mu_);
      if (stopping_) return;
    }
    // Any node: in a cluster, PUBLISH reaches the subscribers of every node.
    std::vector<RedisNode*> nodes = router_->topology().Nodes();
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        RedisConnection::Connect(nodes[attempt++ % nodes.size()]->endpoint);
    absl::StatusOr<RedisReply> subscribed =
        conn.ok() ? (*conn)->Command({"SUBSCRIBE", channel_})
                  : absl::StatusOr<RedisReply>(conn.status());
    if (!subscribed.ok() || !(*conn)->SetTimeout(absl::ZeroDuration()).ok()) {
      absl::MutexLock lock(&sub_mu_);
      sub_cv_.WaitWithTimeout(&sub_mu_, backoff);
      backoff = std::min(backoff * 2, absl::Seconds(2));
      reconnected = true;
      continue;
    }
    backoff = absl::Milliseconds(100);
    {
      absl::MutexLock lock(&sub_mu_);
      if (stopping_) return;
      subscriber_conn_ = conn->get();
      subscribed_ = true;
    }
    // Messages sent while we were away are lost: every waiter looks again.
    if (reconnected) watchers_.NotifyAll();
    for (;;) {
      absl::StatusOr<RedisReply> message = (*conn)->Next();
      if (!message.ok()) break;
      if (message->size() == 3 && ReplyString(message->at(0)) == "message") {
        watchers_.Notify(ReplyString(message->at(2)));
      }
    }
    absl::MutexLock lock(&sub_mu_);
    subscriber_conn_ = nullptr;
    reconnected = true;
  }
}

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  absl::StatusOr<StoreUrl> u = ParseStoreUrl(url);
  if (!u.ok()) return u.status();
  RedisEndpoint endpoint;
  if (u->scheme != "redis" || u->hosts.size() != 1 || !u->query.empty() ||
      (!u->path.empty() &&
       (!absl::SimpleAtoi(u->path, &endpoint.db) || endpoint.db < 0))) {
    return absl::InvalidArgumentError(
        absl::StrCat("store: \"", u->Redacted(),
                     "\" is not redis://[[USER]:PASSWORD@]HOST:PORT[/DB]"));
  }
  endpoint.host = u->hosts[0].host;
  endpoint.port = u->hosts[0].port;
  endpoint.user = u->user;
  endpoint.password = u->password;
  return endpoint;
}

absl::StatusOr<std::unique_ptr<Store>> OpenRedisStore(
    const RedisStoreOptions& options) {
  if (options.pool_size < 1 || options.buckets < 1) {
    return absl::InvalidArgumentError("redis: pool size and buckets >= 1");
  }
  auto store = std::make_unique<RedisStore>(options);
  if (absl::Status s = store->Start(); !s.ok()) return s;
  return store;
}

}  // namespace clustercache
