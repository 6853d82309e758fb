#include "cache/store/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cache/store/key_watchers.h"
#include "cache/store/redis/redis_router.h"

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
    subscriber_ = std::thread([this] { SubscriberLoop(); });
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

  absl::StatusOr<Lookup> Read(const Key& key) override {
    absl::StatusOr<RedisReply> r = router_->Run(
        RedisScript::kRead, ReadKeys(key), {std::string(key.scope())});
    if (!r.ok()) return r.status();
    return ParseLookup(key, *r);
  }

  // One EVALSHA on the node's pipelined connection; its reply thread parses
  // and answers.
  void ReadAsync(const Key& key,
                 std::function<void(absl::StatusOr<Lookup>)> done) override {
    router_->Send(
        router_->Script(RedisScript::kRead, ReadKeys(key),
                        {std::string(key.scope())}),
        [this, key, done = std::move(done)](absl::StatusOr<RedisReply> r) {
          if (r.ok() && r->is_error()) {
            // NOSCRIPT after a restart, MOVED after resharding: the
            // blocking path follows the cluster and reloads scripts.
            return done(Read(key));
          }
          if (!r.ok()) return done(r.status());
          done(ParseLookup(key, *r));
        });
  }

  bool CallsMayBlock() const override { return true; }

  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override {
    std::vector<std::string> k = KeysFor(key);
    absl::StatusOr<RedisReply> r = router_->Run(
        RedisScript::kAcquire, {k[0], k[1], k[3], k[2]},
        {absl::StrCat(seen_mtime),
         absl::StrCat(absl::ToInt64Microseconds(lease_time)), NewLeaseToken()});
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
    absl::StatusOr<RedisReply> r =
        router_->Run(RedisScript::kPut, KeysFor(write.key), args);
    if (!r.ok()) return r.status();
    return Int(r->get());
  }

  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override {
    absl::StatusOr<RedisReply> r =
        router_->Run(RedisScript::kRelease, {KeysFor(key)[1]},
                     {std::string(token), channel_, key.encoded()});
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
      return router_->Script(RedisScript::kExpire, {k[0], k[3]}, {});
    });
  }

  absl::StatusOr<int64_t> Delete(const Selector& selector) override {
    return ForSelected(selector, [&](const Key& key) {
      std::vector<std::string> k = KeysFor(key);
      return router_->Script(RedisScript::kDelete, {k[0], k[4], k[5], k[7]},
                             {std::string(key.name())});
    });
  }

  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override {
    std::vector<RedisCmd> cmds;
    for (const KeyVersion& kv : keys) {
      std::vector<std::string> k = KeysFor(kv.key);
      cmds.push_back(router_->Script(
          RedisScript::kRemoveIf, {k[0], k[4], k[5], k[7]},
          {std::string(kv.key.name()), absl::StrCat(kv.mtime)}));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    Removed removed;
    for (const RedisReply& r : *replies) {
      if (r.integer() >= 0) {
        removed.count++;
        removed.bytes += r.integer();
      }
    }
    return removed;
  }

  // Every bucket's copy: B scripts, one round trip per node.
  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override {
    std::vector<RedisCmd> cmds;
    for (int b = 0; b < options_.buckets; ++b) {
      cmds.push_back(router_->Script(
          RedisScript::kInvalidate, {BucketKey(b, "x"), BucketKey(b, "c")},
          {std::string(expiry_key), absl::StrCat(at)}));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
    if (!replies.ok()) return replies.status();
    int64_t value = 0;
    for (const RedisReply& r : *replies) {
      if (r.is_error()) return absl::InternalError("invalidate: " + r.str());
      value = std::max(value, Int(r.get()));
    }
    return value;
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    absl::StatusOr<std::vector<RedisReply>> replies =
        router_->ExecMany(PerBucket("HGETALL", "x"));
    if (!replies.ok()) return replies.status();
    absl::flat_hash_map<std::string, int64_t> max;
    for (const RedisReply& r : *replies) {
      for (size_t i = 0; i + 1 < r.size(); i += 2) {
        std::string name = ReplyString(r.at(i));
        if (name == "_floor") continue;
        max[name] = std::max(max[name], Int(r.at(i + 1)));
      }
    }
    std::vector<ExpiryKeyValue> out;
    for (const auto& [name, value] : max) out.push_back({name, value});
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override;

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
  // entry, lease, expiry copy, clock, names, mtimes, scopes, usage.
  std::vector<std::string> KeysFor(const Key& key) const {
    int b = BucketOf(key);
    std::string head = Head(b);
    return {absl::StrCat(head, "e:", key.encoded()),
            absl::StrCat(head, "l:", key.encoded()),
            absl::StrCat(head, "x"),
            absl::StrCat(head, "c"),
            ScopeKey(b, "n", key.scope()),
            ScopeKey(b, "t", key.scope()),
            absl::StrCat(head, "s"),
            absl::StrCat(head, "u")};
  }
  std::vector<std::string> ReadKeys(const Key& key) const {
    std::vector<std::string> k = KeysFor(key);
    k.resize(3);
    return k;
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

  static absl::StatusOr<Lookup> ParseLookup(const Key& key,
                                            const RedisReply& r) {
    if (r.size() != 4) return absl::InternalError("read: bad reply");
    Lookup out;
    const redisReply* e = r.at(0);
    if (e->elements == 8 && !ReplyIsNil(e->element[1])) {
      auto entry = std::make_shared<Entry>();
      entry->meta = MetaFrom(key, e, /*first=*/1);
      entry->payload =
          std::make_shared<const std::string>(ReplyString(e->element[0]));
      out.expiry = TimesFrom(r.at(2), entry->meta.tags.size());
      out.entry = std::move(entry);
    }
    const redisReply* l = r.at(1);
    if (l->elements == 3 && !ReplyIsNil(l->element[0])) {
      out.lease = Lease{ReplyString(l->element[0]), Int(l->element[1]),
                        Int(l->element[2])};
    }
    out.now = Int(r.at(3));
    return out;
  }

  // m, x, e, c, g, z, k from element `first` on (HMGET order).
  static EntryMeta MetaFrom(const Key& key, const redisReply* e, int first) {
    EntryMeta meta;
    meta.key = key;
    meta.mtime = Int(e->element[first]);
    meta.expires_at = Int(e->element[first + 1]);
    meta.expired_at = Int(e->element[first + 2]);
    meta.content_type = ReplyString(e->element[first + 3]);
    std::string tags = ReplyString(e->element[first + 4]);
    if (!tags.empty()) meta.tags = absl::StrSplit(tags, '\n');
    meta.size = Int(e->element[first + 5]);
    meta.crc32 = static_cast<uint32_t>(Int(e->element[first + 6]));
    return meta;
  }

  // [_floor, all, scope, tags...]; a missing copy (_floor nil) is unknown.
  static ExpiryTimes TimesFrom(const redisReply* xs, size_t tags) {
    ExpiryTimes times;
    times.tags.resize(tags);
    if (xs->elements < 3 + tags || ReplyIsNil(xs->element[0])) return times;
    int64_t floor = Int(xs->element[0]);
    times.all = std::max(floor, Int(xs->element[1]));
    times.scope = Int(xs->element[2]);
    for (size_t i = 0; i < tags; ++i) times.tags[i] = Int(xs->element[3 + i]);
    return times;
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
  void SubscriberLoop();

  const RedisStoreOptions options_;
  const std::string channel_;
  std::unique_ptr<RedisRouter> router_;
  KeyWatchers watchers_;

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

absl::StatusOr<ScanPage> RedisStore::Scan(const ScanRequest& request) {
  bool more = false;
  absl::StatusOr<std::vector<Key>> keys = ScanKeys(request, &more);
  if (!keys.ok()) return keys.status();
  std::vector<RedisCmd> cmds;
  for (const Key& key : *keys) {
    std::string entry = KeysFor(key)[0];
    cmds.push_back(
        {entry, {"HMGET", entry, "m", "x", "e", "c", "g", "z", "k"}});
  }
  absl::flat_hash_map<int, size_t> expiry_reply;  // bucket → reply index
  for (const Key& key : *keys) {
    int b = BucketOf(key);
    if (expiry_reply.contains(b)) continue;
    expiry_reply[b] = cmds.size();
    cmds.push_back({BucketKey(b, "x"), {"HGETALL", BucketKey(b, "x")}});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = router_->ExecMany(cmds);
  if (!replies.ok()) return replies.status();
  absl::StatusOr<int64_t> now = router_->Now();
  if (!now.ok()) return now.status();
  ScanPage page;
  std::vector<RedisCmd> ghosts;
  for (size_t i = 0; i < keys->size(); ++i) {
    const Key& key = (*keys)[i];
    const redisReply* e = (*replies)[i].get();
    if (e->elements != 7 || ReplyIsNil(e->element[0])) {
      std::vector<std::string> k = KeysFor(key);
      std::string name(key.name());
      ghosts.push_back({k[4], {"ZREM", k[4], name}});
      ghosts.push_back({k[5], {"ZREM", k[5], name}});
      continue;
    }
    ScannedEntry out;
    out.meta = MetaFrom(key, e, /*first=*/0);
    // The expiry values this entry depends on, from its bucket's copy.
    const RedisReply& x = (*replies)[expiry_reply[BucketOf(key)]];
    absl::flat_hash_map<std::string, int64_t> values;
    for (size_t j = 0; j + 1 < x.size(); j += 2) {
      values[ReplyString(x.at(j))] = Int(x.at(j + 1));
    }
    out.expiry.tags.resize(out.meta.tags.size());
    if (values.contains("_floor")) {
      out.expiry.all = std::max(values["_floor"], values["all"]);
      out.expiry.scope = values[ScopeExpiryKey(key.scope())];
      for (size_t t = 0; t < out.meta.tags.size(); ++t) {
        out.expiry.tags[t] = values[out.meta.tags[t]];
      }
    }
    page.entries.push_back(std::move(out));
  }
  if (!ghosts.empty()) (void)router_->ExecMany(ghosts);  // index forgets them
  page.now = *now;
  if (!keys->empty()) page.next_after = keys->back().encoded();
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
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: \"", url, "\" is not redis://[:PASSWORD@]HOST:PORT[/DB]"));
  };
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "redis://")) return bad();
  RedisEndpoint endpoint;
  size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view auth = rest.substr(0, at);
    absl::ConsumePrefix(&auth, ":");
    endpoint.password = std::string(auth);
    rest.remove_prefix(at + 1);
  }
  size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(slash + 1), &endpoint.db) ||
        endpoint.db < 0) {
      return bad();
    }
    rest = rest.substr(0, slash);
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &endpoint.port) ||
      endpoint.port <= 0 || endpoint.port > 65535) {
    return bad();
  }
  endpoint.host = std::string(rest.substr(0, colon));
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
