// The Store contract (cache/store/store.h), executable. Every store passes
// this one suite; a harness per store opens an empty store and moves its
// cluster time forward.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cache/clock.h"
#include "cache/freshness.h"
#include "cache/store/ledger/ledger_store.h"
#include "cache/store/ledger/mysql_ledger.h"
#include "cache/store/memcached/memcached_store.h"
#include "cache/store/memory/memory_store.h"
#include "cache/store/migrating_store.h"
#include "cache/store/redis/redis_router.h"
#include "cache/store/redis/redis_store.h"
#include "cache/store/store.h"
#include "gtest/gtest.h"
#include "tests/support/entries.h"
#include "tests/support/param_name.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

// A key prefix (or ledger namespace) no other test uses.
std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  return absl::StrCat("t", getpid(), "-", counter++, "-",
                      absl::ToUnixMicros(absl::Now()));
}

class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  virtual Store* store() = 0;
  // Lets `d` of cluster time pass.
  virtual void Advance(absl::Duration d) = 0;
  // Whether the store can enumerate entries (Scan, Usage, by prefix).
  virtual bool enumerates() const { return true; }
  // Whether the store takes imports (Store::Import).
  virtual bool imports() const { return true; }
};

// Memory stores on a manual clock.
class MemoryHarness : public StoreHarness {
 public:
  MemoryHarness() { store_ = NewMemoryStore(Options()); }
  Store* store() override { return store_.get(); }
  void Advance(absl::Duration d) override {
    clock_.Advance(absl::ToInt64Microseconds(d));
  }

 protected:
  MemoryStoreOptions Options() {
    MemoryStoreOptions options;
    options.clock = &clock_;
    return options;
  }
  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

// A node on a live move between two memory stores (MigratingStore):
// before the move finished (the store moved from answers, both are
// written) or after (the store moved to answers). One manual clock: the
// contract's times are each store's own, and both keep them.
class MigratingHarness : public MemoryHarness {
 public:
  explicit MigratingHarness(bool finished) {
    std::unique_ptr<Store> to = NewMemoryStore(Options());
    if (finished) {
      EXPECT_TRUE(to->Put(WriteOf(MigrationMarker(), "finished")).ok());
    }
    // Polls are real time: trusted for long, so a loaded machine cannot
    // make reads fail.
    auto store = std::make_unique<MigratingStore>(
        std::move(to), NewMemoryStore(Options()), absl::Milliseconds(250),
        absl::Minutes(10));
    EXPECT_EQ(store->switched(), finished);
    // Once seen, the marker is not needed: out of the way of the counts.
    if (finished) {
      EXPECT_TRUE(store
                      ->Delete({std::string(MigrationMarker().scope()),
                                std::string(MigrationMarker().name()), ""})
                      .ok());
      clock_.Advance(1'000'000);  // the tests' writes come after it
    }
    store_ = std::move(store);
  }
};

// A real Redis at $CLUSTERCACHE_TEST_REDIS (or a Redis Cluster at
// $CLUSTERCACHE_TEST_REDIS_CLUSTER), under a key prefix of its own.
class RedisHarness : public StoreHarness {
 public:
  explicit RedisHarness(bool cluster) {
    std::string address = TestServer(cluster ? "CLUSTERCACHE_TEST_REDIS_CLUSTER"
                                             : "CLUSTERCACHE_TEST_REDIS");
    if (address.empty()) return;
    RedisStoreOptions options;
    if (cluster) {
      absl::StatusOr<std::vector<RedisEndpoint>> seeds =
          ParseRedisClusterUrl(absl::StrCat("redis-cluster://", address));
      EXPECT_TRUE(seeds.ok()) << seeds.status();
      options.cluster_seeds = *seeds;
    } else {
      absl::StatusOr<RedisEndpoint> endpoint =
          ParseRedisUrl(absl::StrCat("redis://", address));
      EXPECT_TRUE(endpoint.ok()) << endpoint.status();
      options.endpoint = *endpoint;
    }
    options.buckets = 8;
    options.prefix = UniquePrefix();
    absl::StatusOr<std::unique_ptr<Store>> store = OpenRedisStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = *std::move(store);
  }
  Store* store() override { return store_.get(); }
  void Advance(absl::Duration d) override { absl::SleepFor(d); }
  std::unique_ptr<Store> Take() { return std::move(store_); }

 private:
  std::unique_ptr<Store> store_;
};

// A pool of real memcached servers at $CLUSTERCACHE_TEST_MEMCACHED, alone
// (no ledger: it cannot enumerate), under a key prefix of its own; or the
// memcached at $CLUSTERCACHE_TEST_MEMCACHED_SASL (USER:PASSWORD@HOST:PORT),
// which serves only clients that authenticate.
class MemcachedHarness : public StoreHarness {
 public:
  explicit MemcachedHarness(
      std::function<absl::StatusOr<std::vector<ExpiryKeyValue>>()> source =
          nullptr,
      const char* env = "CLUSTERCACHE_TEST_MEMCACHED")
      : imports_(source != nullptr) {
    std::string pool = TestServer(env);
    if (pool.empty()) return;
    absl::StatusOr<MemcachedUrl> url =
        ParseMemcachedUrl(absl::StrCat("memcached://", pool));
    EXPECT_TRUE(url.ok()) << url.status();
    if (!url.ok()) return;
    MemcachedStoreOptions options;
    options.servers = url->servers;
    options.sasl = url->sasl;
    options.buckets = 8;
    options.prefix = UniquePrefix();
    options.expiry_source = std::move(source);
    absl::StatusOr<std::unique_ptr<Store>> store = OpenMemcachedStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = *std::move(store);
  }
  Store* store() override { return store_.get(); }
  void Advance(absl::Duration d) override { absl::SleepFor(d); }
  bool enumerates() const override { return false; }
  // Only with a ledger to make its expiry-key map from.
  bool imports() const override { return imports_; }
  std::unique_ptr<Store> Take() { return std::move(store_); }

 private:
  const bool imports_;
  std::unique_ptr<Store> store_;
};

// A store with a MySQL ledger at $CLUSTERCACHE_TEST_MYSQL beside it (under a
// namespace of its own): memcached, or Redis.
class LedgerHarness : public StoreHarness {
 public:
  explicit LedgerHarness(std::nullptr_t) {}
  // Opens the ledger first: the memcached store reloads expiry keys from it.
  static std::unique_ptr<StoreHarness> Memcached() {
    std::shared_ptr<Ledger> ledger = OpenLedger();
    if (ledger == nullptr) return std::make_unique<LedgerHarness>(nullptr);
    MemcachedHarness inner([ledger] { return ledger->ExpiryKeys(); });
    return std::make_unique<LedgerHarness>(inner.Take(), ledger);
  }
  static std::unique_ptr<StoreHarness> Redis() {
    std::shared_ptr<Ledger> ledger = OpenLedger();
    if (ledger == nullptr) return std::make_unique<LedgerHarness>(nullptr);
    return std::make_unique<LedgerHarness>(RedisHarness(false).Take(), ledger);
  }
  LedgerHarness(std::unique_ptr<Store> inner, std::shared_ptr<Ledger> ledger) {
    if (inner != nullptr) {
      store_ = NewLedgerStore(std::move(inner), std::move(ledger));
    }
  }
  Store* store() override { return store_.get(); }
  void Advance(absl::Duration d) override { absl::SleepFor(d); }

 private:
  static std::shared_ptr<Ledger> OpenLedger() {
    std::string url = TestServer("CLUSTERCACHE_TEST_MYSQL");
    if (url.empty()) return nullptr;
    absl::StatusOr<MysqlUrl> parsed = ParseMysqlUrl(url);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    MysqlLedgerOptions options;
    options.url = *parsed;
    options.ns = UniquePrefix();
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenMysqlLedger(options);
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    if (!ledger.ok()) return nullptr;
    return *std::move(ledger);
  }

  std::unique_ptr<Store> store_;
};

struct HarnessParam {
  const char* name;
  std::function<std::unique_ptr<StoreHarness>()> open;
};
void PrintTo(const HarnessParam& p, std::ostream* os) { *os << p.name; }

class StoreConformanceTest : public testing::TestWithParam<HarnessParam> {
 protected:
  void SetUp() override {
    harness_ = GetParam().open();
    store_ = harness_->store();
    if (store_ == nullptr) {
      // The harness found no server: fail in CI, skip by hand.
      if (ServersRequired()) FAIL() << GetParam().name << ": no server";
      GTEST_SKIP() << GetParam().name << ": no server (run scripts/test)";
    }
  }

  Lookup MustRead(const Key& key) {
    absl::StatusOr<Lookup> l = store_->Read(key);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : Lookup();
  }

  Grant MustAcquire(const Key& key, int64_t seen_mtime,
                    absl::Duration lease_time = absl::Seconds(60)) {
    absl::StatusOr<Grant> g = store_->AcquireLease(key, seen_mtime, lease_time);
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *g : Grant();
  }

  // For a store that cannot enumerate: checks that what needs enumeration
  // fails with FAILED_PRECONDITION saying how to get it, and returns true
  // (the test ends there).
  bool CannotEnumerate() {
    if (harness_->enumerates()) return false;
    auto check = [](const absl::Status& s) {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      EXPECT_NE(s.message().find("--ledger"), absl::string_view::npos) << s;
    };
    check(store_->Scan({"rss", "", "", 10}).status());
    check(store_->Usage().status());
    check(store_->Expire({"rss", std::nullopt, "a/"}).status());
    check(store_->Delete({"rss", std::nullopt, "a/"}).status());
    return true;
  }

  // Issue 18: an entry as another store held it, generated `age` before
  // this store's now (negative: after, a source clock ahead).
  EntryRef Foreign(const Key& key, std::string payload, absl::Duration age,
                   std::vector<std::string> tags = {}) {
    return EntryFrom(key, std::move(payload),
                     *store_->Now() - absl::ToInt64Microseconds(age),
                     std::move(tags));
  }

  // Whether the store imports. One that must not (memcached without a
  // ledger, whose expiry-key map cannot tell a key never made from one
  // lost) refuses both imports, saying what would do: checked here, and
  // the test ends there.
  bool Imports() {
    absl::StatusOr<std::vector<ImportOutcome>> probe = store_->Import({});
    if (harness_->imports()) {
      EXPECT_TRUE(probe.ok()) << probe.status();
      return true;
    }
    for (const absl::Status& s :
         {probe.status(), store_->ImportExpiryKeys({{"all", 5}})}) {
      EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
      EXPECT_NE(s.message().find("--ledger"), absl::string_view::npos) << s;
    }
    return false;
  }

  std::unique_ptr<StoreHarness> harness_;
  Store* store_ = nullptr;
  const Key key_{"content-view", "site/full/2/123.cache"};
};

TEST_P(StoreConformanceTest, ReadOfAbsentKeyHasNothing) {
  Lookup l = MustRead(key_);
  EXPECT_EQ(l.entry, nullptr);
  EXPECT_FALSE(l.lease.has_value());
  EXPECT_GT(l.now, 0);
}

// A batch read answers each key once, as Read would: the entry that is
// there, nothing where there is none.
TEST_P(StoreConformanceTest, ReadManyAnswersEachKeyAsReadDoes) {
  const Key absent("rss", "absent");
  ASSERT_TRUE(store_->Put(WriteOf(key_, "one")).ok());
  ASSERT_TRUE(store_->Put(WriteOf(Key("rss", "x"), "two")).ok());
  const std::vector<Key> keys = {key_, absent, Key("rss", "x")};
  absl::Mutex mu;
  std::vector<int> answers(keys.size(), 0);
  std::vector<std::string> payloads(keys.size());
  int left = static_cast<int>(keys.size());
  store_->ReadMany(keys, [&](size_t i, absl::StatusOr<Lookup> l) {
    absl::MutexLock lock(&mu);
    ++answers[i];
    --left;
    EXPECT_TRUE(l.ok()) << l.status();
    if (l.ok() && l->entry != nullptr) payloads[i] = *l->entry->payload;
  });
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                      +[](int* n) { return *n == 0; }, &left),
                                  absl::Seconds(30)));
  EXPECT_EQ(answers, std::vector<int>({1, 1, 1}));
  EXPECT_EQ(payloads, std::vector<std::string>({"one", "", "two"}));
}

TEST_P(StoreConformanceTest, PutThenReadReturnsEntryAndMetadata) {
  EntryWrite w = WriteOf(key_, "payload", {"subtree:2"});
  w.ttl_us = 60'000'000;
  absl::StatusOr<int64_t> mtime = store_->Put(w);
  ASSERT_TRUE(mtime.ok());
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_EQ(*l.entry->payload, "payload");
  const EntryMeta& m = l.entry->meta;
  EXPECT_EQ(m.key, key_);
  EXPECT_EQ(m.mtime, *mtime);
  EXPECT_EQ(m.size, 7);
  EXPECT_EQ(m.crc32, Crc32("payload"));
  EXPECT_EQ(m.content_type, "text/html");
  EXPECT_EQ(m.tags, std::vector<std::string>{"subtree:2"});
  EXPECT_FALSE(m.expired());
  EXPECT_NEAR(m.expires_at, *mtime + 60'000'000, 1'000'000);
  ASSERT_EQ(l.expiry.tags.size(), 1u);
  EXPECT_TRUE(IsFresh(m, l.expiry, {}, l.now))
      << "a new entry is fresh: every expiry key it depends on is known and "
         "older";
  EXPECT_GE(l.now, m.mtime);
}

TEST_P(StoreConformanceTest, LeaseHasOneWinner) {
  Grant first = MustAcquire(key_, 0);
  ASSERT_EQ(first.outcome, GrantOutcome::kGranted);
  EXPECT_FALSE(first.takeover);
  EXPECT_TRUE(IsWellFormedLeaseToken(first.lease.token));
  EXPECT_GT(first.lease.expires_at, first.lease.granted_at);
  Grant second = MustAcquire(key_, 0);
  EXPECT_EQ(second.outcome, GrantOutcome::kHeld);
  EXPECT_EQ(second.lease.token, first.lease.token);
  Lookup l = MustRead(key_);
  ASSERT_TRUE(l.lease.has_value());
  EXPECT_EQ(l.lease->token, first.lease.token);
}

TEST_P(StoreConformanceTest, LeaseIsRefusedWhenTheEntryChanged) {
  ASSERT_TRUE(store_->Put(WriteOf(key_, "new")).ok());
  EXPECT_EQ(MustAcquire(key_, /*seen_mtime=*/0).outcome,
            GrantOutcome::kChanged);
  int64_t mtime = MustRead(key_).entry->meta.mtime;
  EXPECT_EQ(MustAcquire(key_, mtime).outcome, GrantOutcome::kGranted);
}

TEST_P(StoreConformanceTest, LapsedLeaseIsTakenOver) {
  Grant first = MustAcquire(key_, 0, absl::Milliseconds(100));
  harness_->Advance(absl::Milliseconds(300));
  Grant second = MustAcquire(key_, 0, absl::Milliseconds(100));
  ASSERT_EQ(second.outcome, GrantOutcome::kGranted);
  EXPECT_TRUE(second.takeover);
  EXPECT_NE(second.lease.token, first.lease.token);
  EXPECT_GT(second.lease.granted_at, first.lease.granted_at);
}

TEST_P(StoreConformanceTest, CommitStoresWithTheGrantTime) {
  Grant g = MustAcquire(key_, 0);
  harness_->Advance(absl::Milliseconds(50));
  absl::StatusOr<Commit> c =
      store_->CommitLeased(WriteOf(key_, "gen"), g.lease.token);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->outcome, CommitOutcome::kStored);
  EXPECT_EQ(c->mtime, g.lease.granted_at);
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_EQ(*l.entry->payload, "gen");
  EXPECT_EQ(l.entry->meta.mtime, g.lease.granted_at);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
      << "a leased entry on a new store is fresh";
  EXPECT_FALSE(l.lease.has_value()) << "the commit ends the lease";
}

TEST_P(StoreConformanceTest, CommitAfterANewerWriteIsSuperseded) {
  Grant g = MustAcquire(key_, 0);
  ASSERT_TRUE(store_->Put(WriteOf(key_, "newer")).ok());
  absl::StatusOr<Commit> c =
      store_->CommitLeased(WriteOf(key_, "older"), g.lease.token);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->outcome, CommitOutcome::kSuperseded);
  EXPECT_EQ(*MustRead(key_).entry->payload, "newer");
  EXPECT_FALSE(MustRead(key_).lease.has_value());
}

TEST_P(StoreConformanceTest, CommitAfterTakeoverIsLeaseLost) {
  Grant a = MustAcquire(key_, 0, absl::Milliseconds(100));
  harness_->Advance(absl::Milliseconds(300));
  Grant b = MustAcquire(key_, 0, absl::Milliseconds(100));
  ASSERT_EQ(b.outcome, GrantOutcome::kGranted);
  absl::StatusOr<Commit> lost =
      store_->CommitLeased(WriteOf(key_, "a"), a.lease.token);
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->outcome, CommitOutcome::kLeaseLost);
  EXPECT_EQ(MustRead(key_).entry, nullptr) << "a lost commit writes nothing";
  absl::StatusOr<Commit> won =
      store_->CommitLeased(WriteOf(key_, "b"), b.lease.token);
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->outcome, CommitOutcome::kStored);
}

TEST_P(StoreConformanceTest, CommitWithUnknownTokenIsLeaseLost) {
  absl::StatusOr<Commit> c = store_->CommitLeased(
      WriteOf(key_, "x"), "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->outcome, CommitOutcome::kLeaseLost);
  EXPECT_EQ(MustRead(key_).entry, nullptr);
}

TEST_P(StoreConformanceTest, ReleaseEndsTheLeaseOnlyForItsHolder) {
  Grant g = MustAcquire(key_, 0);
  EXPECT_FALSE(*store_->Release(key_, "0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(MustAcquire(key_, 0).outcome, GrantOutcome::kHeld);
  EXPECT_TRUE(*store_->Release(key_, g.lease.token));
  Grant next = MustAcquire(key_, 0);
  EXPECT_EQ(next.outcome, GrantOutcome::kGranted);
  EXPECT_FALSE(next.takeover);
}

// Counts the calls of a watch callback and lets a test wait for them.
class WatchCounter {
 public:
  std::function<void()> Callback() {
    return [this] {
      absl::MutexLock lock(&mu_);
      ++calls_;
    };
  }
  // Waits up to 10 s for at least `n` calls.
  bool AwaitCalls(int n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]()
                       ABSL_NO_THREAD_SAFETY_ANALYSIS { return calls_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a delete does is one step: it voids the lease and removes the entry
// as of one time. Leases granted, entries put and deletes run at once on
// one key: a read never returns an entry older than a write that returned
// before it started (a delete that removed the newer entry also voided the
// lease of any older one). Memcached once wrote a delete's tombstone, from
// the time it took first, over an entry put meanwhile; a lease granted in
// between then committed its older entry over it.
TEST_P(StoreConformanceTest, ConcurrentDeletesNeverLetAnOlderEntryBackIn) {
  struct Written {
    int64_t end_ns, mtime;
  };
  absl::Mutex mu;
  std::vector<Written> written;                    // by end
  std::vector<std::pair<int64_t, int64_t>> reads;  // (start, mtime)
  auto mono = [] { return absl::GetCurrentTimeNanos(); };
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, commits{0}, deletes{0};
  std::string first_error;
  // ABORTED (too much contention on one key) is an honest answer here.
  auto failed = [&](const absl::Status& s) {
    if (absl::IsAborted(s)) return;
    absl::MutexLock lock(&mu);
    if (errors++ == 0) first_error = s.ToString();
  };
  auto note = [&](int64_t mtime) {
    const int64_t end = mono();
    absl::MutexLock lock(&mu);
    written.push_back({end, mtime});
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // generates under leases
    while (!stop.load()) {
      absl::StatusOr<Lookup> l = store_->Read(key_);
      if (!l.ok()) {
        failed(l.status());
        continue;
      }
      const int64_t seen = l->entry ? l->entry->meta.mtime : 0;
      absl::StatusOr<Grant> g =
          store_->AcquireLease(key_, seen, absl::Seconds(60));
      if (!g.ok()) {
        failed(g.status());
        continue;
      }
      if (g->outcome != GrantOutcome::kGranted) continue;
      absl::StatusOr<Commit> c =
          store_->CommitLeased(WriteOf(key_, "leased"), g->lease.token);
      if (!c.ok()) {
        failed(c.status());
      } else if (c->outcome == CommitOutcome::kStored) {
        ++commits;
        note(c->mtime);
      }
    }
  });
  threads.emplace_back([&] {  // puts
    while (!stop.load()) {
      absl::StatusOr<int64_t> m = store_->Put(WriteOf(key_, "put"));
      if (m.ok()) {
        note(*m);
      } else {
        failed(m.status());
      }
    }
  });
  threads.emplace_back([&] {  // deletes
    while (!stop.load()) {
      const Selector one{std::string(key_.scope()), std::string(key_.name()),
                         ""};
      absl::StatusOr<int64_t> d = store_->Delete(one);
      if (d.ok()) {
        ++deletes;
      } else {
        failed(d.status());
      }
    }
  });
  threads.emplace_back([&] {  // reads
    while (!stop.load()) {
      const int64_t start = mono();
      absl::StatusOr<Lookup> l = store_->Read(key_);
      if (!l.ok()) {
        failed(l.status());
      } else if (l->entry) {
        absl::MutexLock lock(&mu);
        reads.push_back({start, l->entry->meta.mtime});
      }
    }
  });
  absl::SleepFor(absl::Seconds(1));
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0) << "the first: " << first_error;
  EXPECT_GT(commits.load(), 0);
  EXPECT_GT(deletes.load(), 0);
  std::sort(
      written.begin(), written.end(),
      [](const Written& a, const Written& b) { return a.end_ns < b.end_ns; });
  std::vector<int64_t> newest(written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    newest[i] = std::max(i ? newest[i - 1] : 0, written[i].mtime);
  }
  int older = 0;
  for (const auto& [start, mtime] : reads) {
    auto before = std::lower_bound(
        written.begin(), written.end(), start,
        [](const Written& w, int64_t t) { return w.end_ns < t; });
    if (before == written.begin()) continue;
    if (mtime < newest[before - written.begin() - 1] && ++older <= 3) {
      ADD_FAILURE() << "a read returned mtime " << mtime << " after a write of "
                    << newest[before - written.begin() - 1] << " returned";
    }
  }
  EXPECT_EQ(older, 0) << "of " << reads.size() << " reads";
}

TEST_P(StoreConformanceTest, WatchIsCalledOnACommit) {
  Grant g = MustAcquire(key_, 0);
  WatchCounter counter;
  std::unique_ptr<WatchHandle> watch = store_->Watch(key_, counter.Callback());
  std::thread writer([&] {
    ASSERT_TRUE(store_->CommitLeased(WriteOf(key_, "v"), g.lease.token).ok());
  });
  EXPECT_TRUE(counter.AwaitCalls(1));
  writer.join();
}

TEST_P(StoreConformanceTest, WatchIsCalledOnPutAndReleaseWhileLeased) {
  Grant g = MustAcquire(key_, 0);
  WatchCounter counter;
  std::unique_ptr<WatchHandle> watch = store_->Watch(key_, counter.Callback());
  ASSERT_TRUE(store_->Put(WriteOf(key_, "v")).ok());
  EXPECT_TRUE(counter.AwaitCalls(1));
  ASSERT_TRUE(*store_->Release(key_, g.lease.token));
  EXPECT_TRUE(counter.AwaitCalls(2));
}

// Watched as the engine watches: while someone holds the key's lease (a
// store that polls may call a watch of an unleased key at once: nothing to
// wait for).
TEST_P(StoreConformanceTest, WatchIgnoresOtherKeysAndEndsWithItsHandle) {
  MustAcquire(key_, 0);
  WatchCounter counter;
  std::unique_ptr<WatchHandle> watch = store_->Watch(key_, counter.Callback());
  ASSERT_TRUE(store_->Put(WriteOf(Key("content-view", "other"), "v")).ok());
  EXPECT_FALSE(counter.AwaitCalls(1, absl::Milliseconds(100)));
  watch.reset();
  ASSERT_TRUE(store_->Put(WriteOf(key_, "v")).ok());
  EXPECT_FALSE(counter.AwaitCalls(1, absl::Milliseconds(100)));
}

TEST_P(StoreConformanceTest, CancelWaitsCallsEveryWatchNowAndLater) {
  WatchCounter counter;
  std::unique_ptr<WatchHandle> before = store_->Watch(key_, counter.Callback());
  store_->CancelWaits();
  EXPECT_TRUE(counter.AwaitCalls(1));
  std::unique_ptr<WatchHandle> after = store_->Watch(key_, counter.Callback());
  EXPECT_TRUE(counter.AwaitCalls(2));
}

// Issue 14, item 14: more expiry keys than one page of any store's listing
// (Redis: an HSCAN page) are listed whole, once each, in name order.
TEST_P(StoreConformanceTest, ManyExpiryKeysAreListedWhole) {
  constexpr int kTags = 1500;
  for (int i = 0; i < kTags; ++i) {
    ASSERT_TRUE(store_->Invalidate(absl::StrCat("tag-", 10000 + i), 0).ok());
  }
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = store_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  int tags = 0;
  for (size_t i = 0; i < keys->size(); ++i) {
    if (absl::StartsWith((*keys)[i].name, "tag-")) ++tags;
    if (i > 0) {
      EXPECT_LT((*keys)[i - 1].name, (*keys)[i].name);
    }
  }
  EXPECT_EQ(tags, kTags);
}

TEST_P(StoreConformanceTest, ExpiryKeysOnlyMoveForward) {
  absl::StatusOr<int64_t> v = store_->Invalidate("scope:content-view", 0);
  ASSERT_TRUE(v.ok());
  EXPECT_GT(*v, 0);
  EXPECT_EQ(*store_->Invalidate("scope:content-view", *v - 1000), *v);
  EXPECT_EQ(*store_->Invalidate("scope:content-view", *v + 1000), *v + 1000);
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = store_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok());
  bool found = false;
  for (const ExpiryKeyValue& k : *keys) {
    if (k.name == "scope:content-view") {
      found = true;
      EXPECT_EQ(k.value, *v + 1000);
    }
  }
  EXPECT_TRUE(found);
}

TEST_P(StoreConformanceTest, InvalidationIsOrderedAgainstWrites) {
  int64_t before = *store_->Put(WriteOf(key_, "before"));
  int64_t t = *store_->Invalidate("scope:content-view", 0);
  EXPECT_GT(t, before) << "an entry written before the invalidation is older";
  int64_t after = *store_->Put(WriteOf(key_, "after"));
  EXPECT_GT(after, t) << "an entry written after it is newer";
}

// A store may apply an invalidation as an event of its own in each place it
// keeps expiry keys (Redis: one copy per bucket), so an entry sees a value
// that is newer than itself and no newer than what Invalidate returned.
TEST_P(StoreConformanceTest, ReadReportsTheEntrysExpiryKeys) {
  int64_t mtime =
      *store_->Put(WriteOf(key_, "v", {"subtree:2", "class:article"}));
  int64_t all = *store_->Invalidate("all", 0);
  int64_t scope = *store_->Invalidate("scope:content-view", 0);
  int64_t tag = *store_->Invalidate("class:article", 0);
  ASSERT_TRUE(store_->Invalidate("scope:rss", 0).ok());  // not this entry's
  Lookup l = MustRead(key_);
  ASSERT_TRUE(l.expiry.all && l.expiry.scope);
  EXPECT_GT(*l.expiry.all, mtime);
  EXPECT_LE(*l.expiry.all, all);
  EXPECT_GT(*l.expiry.scope, mtime);
  EXPECT_LE(*l.expiry.scope, scope);
  ASSERT_EQ(l.expiry.tags.size(), 2u);
  ASSERT_TRUE(l.expiry.tags[0] && l.expiry.tags[1]);
  EXPECT_LT(*l.expiry.tags[0], mtime) << "subtree:2 was never invalidated";
  EXPECT_GT(*l.expiry.tags[1], mtime);
  EXPECT_LE(*l.expiry.tags[1], tag);
  EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
  // Explicit timestamps are stored as given.
  EXPECT_EQ(*store_->Invalidate("class:article", tag + 5000), tag + 5000);
  EXPECT_EQ(*MustRead(key_).expiry.tags[1], tag + 5000);
}

// Issue 14, item 6: store internals share no namespace with user tags (on
// Redis, invalidating the tag "_floor" made every tagged entry stale).
TEST_P(StoreConformanceTest, TagsNamedLikeStoreInternalsAreJustTags) {
  ASSERT_TRUE(store_->Put(WriteOf(key_, "v", {"subtree:2"})).ok());
  for (const char* tag : {"_floor", "floor", "_f", "x", "h", "entries"}) {
    ASSERT_TRUE(store_->Invalidate(tag, 0).ok()) << tag;
  }
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
}

// Issue 14, item 14: old tag keys can be forgotten, and forgetting never
// makes anything fresher: a generation leased before the tag's
// invalidation and committed after the forget is still not fresh; an entry
// written after the invalidation stays fresh; the tag is no longer listed.
TEST_P(StoreConformanceTest, ForgottenTagsReviveNothing) {
  const Key old_key("content-view", "leased-early");
  Grant early = MustAcquire(old_key, 0);  // generation starts
  int64_t invalidated = *store_->Invalidate("class:forgotten", 0);
  int64_t newer = *store_->Put(WriteOf(key_, "after", {"class:forgotten"}));
  ASSERT_GT(newer, invalidated);
  absl::StatusOr<ForgottenTags> forgotten = store_->ForgetTags(invalidated + 1);
  ASSERT_TRUE(forgotten.ok()) << forgotten.status();
  // Only stores that cannot tell their oldest entry forget a tag an entry
  // holds may depend on; here the only entry is newer than the tag.
  EXPECT_EQ(forgotten->names, std::vector<std::string>{"class:forgotten"});
  EXPECT_GE(forgotten->floor, invalidated);
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = store_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok());
  for (const ExpiryKeyValue& k : *keys) EXPECT_NE(k.name, "class:forgotten");
  // The early generation lands now, with its grant time: not fresh.
  absl::StatusOr<Commit> c = store_->CommitLeased(
      WriteOf(old_key, "stale", {"class:forgotten"}), early.lease.token);
  ASSERT_TRUE(c.ok()) << c.status();
  Lookup l = MustRead(old_key);
  if (l.entry != nullptr) {
    EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
        << "generated before the invalidation, fresh after the forget";
  }
  l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
  // Invalidated again, at a time before the floor: still never below it.
  absl::StatusOr<int64_t> again =
      store_->Invalidate("class:forgotten", invalidated - 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_GE(*again, forgotten->floor);
  l = MustRead(key_);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
}

// A tag an entry older than it may depend on is kept where the store can
// tell; memcached alone cannot, and forgets it (its entry keeps the copies
// it was stored with, so it stays fresh until they are evicted).
TEST_P(StoreConformanceTest, TagsTheOldestEntryMayDependOnAreKept) {
  ASSERT_TRUE(store_->Put(WriteOf(key_, "old", {"subtree:9"})).ok());
  int64_t invalidated = *store_->Invalidate("class:kept", 0);
  absl::StatusOr<ForgottenTags> forgotten = store_->ForgetTags(invalidated + 1);
  ASSERT_TRUE(forgotten.ok()) << forgotten.status();
  if (harness_->enumerates()) {
    EXPECT_TRUE(forgotten->names.empty());
  } else {
    EXPECT_EQ(forgotten->names, std::vector<std::string>{"class:kept"});
  }
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
      << "an entry the forget had no reason to touch";
}

// Issue 14, item 2: the way out for a poisoned expiry key.
TEST_P(StoreConformanceTest, ResetBringsAPoisonedExpiryKeyBackToNow) {
  const int64_t hour = int64_t{3600} * 1'000'000, minute = 60'000'000;
  const int64_t now = *store_->Now();
  const int64_t poison = now + hour;
  ASSERT_EQ(*store_->Invalidate("class:article", poison), poison);
  ASSERT_TRUE(store_->Put(WriteOf(key_, "v", {"class:article"})).ok());
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now)) << "poisoned";
  const int64_t legit = *store_->Invalidate("subtree:2", 0);

  absl::StatusOr<ExpiryReset> r =
      store_->ResetExpiryKey("class:article", minute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->before, poison);
  EXPECT_GE(r->after, now);
  EXPECT_LT(r->after, now + minute);
  l = MustRead(key_);
  EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
      << "generated before the reset: still not fresh";
  ASSERT_TRUE(store_->Put(WriteOf(key_, "w", {"class:article"})).ok());
  l = MustRead(key_);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
      << "generated after it: fresh again";
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = store_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok());
  for (const ExpiryKeyValue& k : *keys) {
    if (k.name == "class:article") {
      EXPECT_LE(k.value, r->after);
    }
  }
  // A key within the bound is left as it is.
  absl::StatusOr<ExpiryReset> kept =
      store_->ResetExpiryKey("subtree:2", minute);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->before, legit);
  EXPECT_EQ(kept->after, legit);
}

// Issue 18: Import writes an entry as its source held it.
TEST_P(StoreConformanceTest, ImportKeepsTheSourcesMtimeAndMetadata) {
  if (!Imports()) return;
  EntryRef e = Foreign(key_, "from elsewhere", absl::Minutes(5), {"t:1"});
  absl::StatusOr<std::vector<ImportOutcome>> r = store_->Import({e});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, std::vector<ImportOutcome>{ImportOutcome::kImported});
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_EQ(*l.entry->payload, "from elsewhere");
  const EntryMeta& m = l.entry->meta;
  EXPECT_EQ(m.mtime, e->meta.mtime);
  EXPECT_EQ(m.expires_at, e->meta.expires_at);
  EXPECT_EQ(m.content_type, "text/html");
  EXPECT_EQ(m.tags, std::vector<std::string>{"t:1"});
  EXPECT_EQ(m.crc32, e->meta.crc32);
  EXPECT_TRUE(IsFresh(m, l.expiry, {}, l.now));
  // A soft-expired entry stays expired.
  EntryRef expired = Foreign({"rss", "gone"}, "x", absl::Minutes(5));
  std::const_pointer_cast<Entry>(expired)->meta.expired_at =
      expired->meta.mtime + 1;
  ASSERT_TRUE(store_->Import({expired}).ok());
  Lookup gone = MustRead({"rss", "gone"});
  ASSERT_NE(gone.entry, nullptr);
  EXPECT_TRUE(gone.entry->meta.expired());
  EXPECT_FALSE(IsFresh(gone.entry->meta, gone.expiry, {}, gone.now));
}

// A payload larger than one memcached item (kept there in chunks).
TEST_P(StoreConformanceTest, ImportOfALargePayloadReadsBackWhole) {
  if (!Imports()) return;
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = 'a' + (i / 4096) % 26;
  EntryRef e = Foreign(key_, big, absl::Minutes(2));
  ASSERT_TRUE(store_->Import({e}).ok());
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_TRUE(*l.entry->payload == big);
  EXPECT_EQ(l.entry->meta.mtime, e->meta.mtime);
  EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
}

TEST_P(StoreConformanceTest, ImportNeverReplacesANewerEntry) {
  if (!Imports()) return;
  harness_->Advance(absl::Seconds(1));
  const int64_t put = *store_->Put(WriteOf(key_, "here"));
  EntryRef older = Foreign(key_, "older", absl::Minutes(1));
  EXPECT_EQ(*store_->Import({older}),
            std::vector<ImportOutcome>{ImportOutcome::kKept});
  EXPECT_EQ(*MustRead(key_).entry->payload, "here");
  EXPECT_EQ(MustRead(key_).entry->meta.mtime, put);
  EntryRef newer = Foreign(key_, "newer", -absl::Minutes(1));
  EXPECT_EQ(*store_->Import({newer}),
            std::vector<ImportOutcome>{ImportOutcome::kImported});
  EXPECT_EQ(*MustRead(key_).entry->payload, "newer");
  // The same import again is kept: it is not newer than itself.
  EXPECT_EQ(*store_->Import({newer}),
            std::vector<ImportOutcome>{ImportOutcome::kKept});
}

// Issue 18: an entry from a source whose clock ran an hour ahead is made
// stale by an invalidation issued after the import, and a write after it
// is newer.
TEST_P(StoreConformanceTest, EverythingAfterAnImportIsLaterThanIt) {
  if (!Imports()) return;
  EntryRef ahead = Foreign(key_, "ahead", -absl::Hours(1), {"t:2"});
  ASSERT_TRUE(store_->Import({ahead}).ok());
  const int64_t all = *store_->Invalidate("all", 0);
  EXPECT_GT(all, ahead->meta.mtime);
  Lookup l = MustRead(key_);
  ASSERT_NE(l.entry, nullptr);
  EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now))
      << "an invalidation after the import must make it stale";
  // A write of the key after its import is newer than it (a store may keep
  // time per part, as Redis per bucket: what must be later is what
  // concerns the imported key).
  EntryRef ahead2 = Foreign({"rss", "a"}, "ahead", -absl::Hours(1));
  ASSERT_TRUE(store_->Import({ahead2}).ok());
  EXPECT_GT(*store_->Put(WriteOf({"rss", "a"}, "later")), ahead2->meta.mtime);
  EXPECT_GT(*store_->Invalidate("t:2", 0), ahead->meta.mtime);
}

// Issue 18: the source's expiry keys come first; entries imported after
// them are judged as the source judged them, and an expiry key is never
// lowered.
TEST_P(StoreConformanceTest, ImportedExpiryKeysJudgeImportedEntries) {
  if (!Imports()) return;
  const int64_t now = *store_->Now();
  const int64_t scope_t = now - 600'000'000;  // 10 minutes ago
  const int64_t tag_t = now - 300'000'000;    // 5 minutes ago
  ASSERT_TRUE(
      store_
          ->ImportExpiryKeys({{"scope:content-view", scope_t}, {"t:3", tag_t}})
          .ok());
  const Key stale_by_scope{"content-view", "old"};
  const Key fresh{"content-view", "new"};
  const Key stale_by_tag{"rss", "tagged"};
  const Key untouched{"rss", "plain"};
  ASSERT_TRUE(
      store_
          ->Import({Foreign(stale_by_scope, "a", absl::Minutes(20)),
                    Foreign(fresh, "b", absl::Minutes(8)),
                    Foreign(stale_by_tag, "c", absl::Minutes(8), {"t:3"}),
                    Foreign(untouched, "d", absl::Minutes(30))})
          .ok());
  auto fresh_now = [&](const Key& k) {
    Lookup l = MustRead(k);
    return l.entry != nullptr && IsFresh(l.entry->meta, l.expiry, {}, l.now);
  };
  EXPECT_FALSE(fresh_now(stale_by_scope));
  EXPECT_TRUE(fresh_now(fresh));
  EXPECT_FALSE(fresh_now(stale_by_tag));
  EXPECT_TRUE(fresh_now(untouched));
  // Lower values do not lower the keys.
  ASSERT_TRUE(store_->ImportExpiryKeys({{"scope:content-view", 1}}).ok());
  EXPECT_FALSE(fresh_now(stale_by_scope));
  bool listed = false;
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = store_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  for (const ExpiryKeyValue& k : *keys) {
    if (k.name == "scope:content-view") {
      listed = true;
      EXPECT_GE(k.value, scope_t);
    }
  }
  EXPECT_TRUE(listed);
}

// Issue 18: expires and deletes after an import apply to what it wrote,
// whatever clock its mtimes came from; and an import after them writes
// again (the store holds nothing newer). Memcached orders its own calls
// against when it wrote an imported head, not against the source's mtime:
// by mtime, its delete by prefix would also void the entry imported after
// it, and the void list an import makes would void what it imports.
TEST_P(StoreConformanceTest, ImportedEntriesTakeLaterExpiresAndDeletes) {
  if (!Imports()) return;
  const Key a1{"rss", "a/1"}, a2{"rss", "a/2"}, b1{"rss", "b/1"};
  const EntryRef old_b1 = Foreign(b1, "b1", absl::Minutes(10));
  ASSERT_TRUE(store_
                  ->Import({Foreign(a1, "a1", absl::Minutes(10)),
                            Foreign(a2, "a2", -absl::Hours(1)), old_b1})
                  .ok());
  auto fresh_now = [&](const Key& k) {
    Lookup l = MustRead(k);
    return l.entry != nullptr && IsFresh(l.entry->meta, l.expiry, {}, l.now);
  };
  ASSERT_TRUE(fresh_now(a1) && fresh_now(a2) && fresh_now(b1));
  EXPECT_EQ(*store_->Delete({"rss", std::string("b/1"), ""}), 1);
  EXPECT_EQ(MustRead(b1).entry, nullptr);
  if (!harness_->enumerates()) return;
  ASSERT_TRUE(store_->Expire({"rss", std::nullopt, "a/"}).ok());
  EXPECT_FALSE(fresh_now(a1));
  EXPECT_FALSE(fresh_now(a2)) << "an mtime from a clock an hour ahead";
  ASSERT_TRUE(store_->Delete({"rss", std::nullopt, ""}).ok());
  EXPECT_EQ(MustRead(a1).entry, nullptr);
  EXPECT_EQ(MustRead(a2).entry, nullptr);
  absl::StatusOr<std::vector<ImportOutcome>> again = store_->Import({old_b1});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, std::vector<ImportOutcome>{ImportOutcome::kImported});
  EXPECT_TRUE(fresh_now(b1)) << "imported after the delete";
}

TEST_P(StoreConformanceTest, ImportRefusesAnEntryThatCannotBeTrue) {
  if (!Imports()) return;
  EntryRef good = Foreign({"rss", "good"}, "fine", absl::Minutes(1));
  EntryRef bad = Foreign(key_, "payload", absl::Minutes(1));
  std::const_pointer_cast<Entry>(bad)->meta.size = 1000;  // not its payload's
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Import({good, bad}).status()));
  EXPECT_EQ(MustRead(key_).entry, nullptr);
  EXPECT_EQ(MustRead({"rss", "good"}).entry, nullptr)
      << "a batch with a bad entry writes nothing";
  EXPECT_TRUE(
      absl::IsInvalidArgument(store_->ImportExpiryKeys({{"no such key!", 5}})));
}

TEST_P(StoreConformanceTest, ExpireMarksByNameAndPrefix) {
  for (const char* name : {"a/1", "a/2", "b/1"}) {
    ASSERT_TRUE(store_->Put(WriteOf(Key("rss", name), "v")).ok());
  }
  ASSERT_TRUE(store_->Put(WriteOf(Key("other", "a/1"), "v")).ok());
  EXPECT_EQ(*store_->Expire({"rss", std::string("b/1"), ""}), 1);
  EXPECT_EQ(*store_->Expire({"rss", std::string("b/1"), ""}), 0);
  EXPECT_TRUE(MustRead(Key("rss", "b/1")).entry->meta.expired());
  if (CannotEnumerate()) return;
  EXPECT_EQ(*store_->Expire({"rss", std::nullopt, "a/"}), 2);
  EXPECT_EQ(*store_->Expire({"rss", std::nullopt, ""}), 0) << "already expired";
  EXPECT_TRUE(MustRead(Key("rss", "a/2")).entry->meta.expired());
  EXPECT_FALSE(MustRead(Key("other", "a/1")).entry->meta.expired());
  EXPECT_EQ(*MustRead(Key("rss", "a/1")).entry->payload, "v") << "kept";
}

TEST_P(StoreConformanceTest, DeleteRemovesByNameAndPrefix) {
  for (const char* name : {"a/1", "a/2", "b/1"}) {
    ASSERT_TRUE(store_->Put(WriteOf(Key("rss", name), "v")).ok());
  }
  ASSERT_TRUE(store_->Put(WriteOf(Key("other", "a/1"), "v")).ok());
  EXPECT_EQ(*store_->Delete({"rss", std::string("b/1"), ""}), 1);
  EXPECT_EQ(MustRead(Key("rss", "b/1")).entry, nullptr);
  EXPECT_EQ(*store_->Delete({"rss", std::string("b/1"), ""}), 0);
  if (CannotEnumerate()) return;
  EXPECT_EQ(*store_->Delete({"rss", std::nullopt, "a/"}), 2);
  EXPECT_EQ(MustRead(Key("rss", "a/1")).entry, nullptr);
  EXPECT_NE(MustRead(Key("other", "a/1")).entry, nullptr);
  EXPECT_EQ(store_->Usage()->entries, 1);
}

// Issue 12, item 5 (Facebook's leases: a delete voids the token): an
// Expire or Delete of a key ends a generation in flight. Its commit is
// LEASE_LOST, the key can be leased again at once, and its waiters are
// woken. A lease granted after the call commits as usual.
TEST_P(StoreConformanceTest, ExpireAndDeleteByNameVoidALeaseInFlight) {
  for (bool remove : {false, true}) {
    SCOPED_TRACE(remove ? "delete" : "expire");
    const Key key("rss", remove ? "deleted" : "expired");
    const int64_t seen = *store_->Put(WriteOf(key, "old"));
    Grant g = MustAcquire(key, seen);
    ASSERT_EQ(g.outcome, GrantOutcome::kGranted);
    WatchCounter counter;
    std::unique_ptr<WatchHandle> watch = store_->Watch(key, counter.Callback());
    const Selector one{"rss", std::string(key.name()), ""};
    absl::StatusOr<int64_t> n =
        remove ? store_->Delete(one) : store_->Expire(one);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 1);
    EXPECT_TRUE(counter.AwaitCalls(1)) << "the waiters were not woken";
    absl::StatusOr<Commit> c =
        store_->CommitLeased(WriteOf(key, "rendered before"), g.lease.token);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->outcome, CommitOutcome::kLeaseLost);
    Lookup l = MustRead(key);
    if (l.entry != nullptr) {
      EXPECT_EQ(*l.entry->payload, "old");
      EXPECT_FALSE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
    }
    const int64_t now_seen = l.entry ? l.entry->meta.mtime : 0;
    Grant again = MustAcquire(key, now_seen);
    ASSERT_EQ(again.outcome, GrantOutcome::kGranted)
        << "the lease was not voided";
    c = store_->CommitLeased(WriteOf(key, "rendered after"), again.lease.token);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->outcome, CommitOutcome::kStored);
    l = MustRead(key);
    ASSERT_NE(l.entry, nullptr);
    EXPECT_EQ(*l.entry->payload, "rendered after");
    EXPECT_TRUE(IsFresh(l.entry->meta, l.expiry, {}, l.now));
  }
}

// The same with no entry yet (a first generation), and by prefix and for a
// whole scope, where the store must find keys that have only a lease.
TEST_P(StoreConformanceTest, ExpireAndDeleteVoidLeasesOfKeysWithoutEntries) {
  const Key by_name("rss", "n/1");
  Grant g = MustAcquire(by_name, 0);
  ASSERT_TRUE(store_->Expire({"rss", std::string("n/1"), ""}).ok());
  EXPECT_EQ(store_->CommitLeased(WriteOf(by_name, "x"), g.lease.token)->outcome,
            CommitOutcome::kLeaseLost);
  if (!harness_->enumerates()) return;
  for (bool remove : {false, true}) {
    SCOPED_TRACE(remove ? "delete" : "expire");
    const std::string stem = remove ? "d" : "e";
    const Key in_prefix("rss", stem + "/a/1"), outside("rss", stem + "/b/1"),
        other_scope("other", stem + "/a/1");
    Grant a = MustAcquire(in_prefix, 0), b = MustAcquire(outside, 0),
          o = MustAcquire(other_scope, 0);
    const Selector prefix{"rss", std::nullopt, stem + "/a/"};
    ASSERT_TRUE(
        (remove ? store_->Delete(prefix) : store_->Expire(prefix)).ok());
    EXPECT_EQ(
        store_->CommitLeased(WriteOf(in_prefix, "x"), a.lease.token)->outcome,
        CommitOutcome::kLeaseLost);
    EXPECT_EQ(
        store_->CommitLeased(WriteOf(outside, "x"), b.lease.token)->outcome,
        CommitOutcome::kStored);
    const Selector scope{"other", std::nullopt, ""};
    ASSERT_TRUE((remove ? store_->Delete(scope) : store_->Expire(scope)).ok());
    EXPECT_EQ(
        store_->CommitLeased(WriteOf(other_scope, "x"), o.lease.token)->outcome,
        CommitOutcome::kLeaseLost);
  }
}

TEST_P(StoreConformanceTest, RemoveIfUnchangedSparesNewerVersions) {
  int64_t old_mtime = *store_->Put(WriteOf(key_, "old"));
  Key other("rss", "x");
  int64_t other_mtime = *store_->Put(WriteOf(other, "12345"));
  ASSERT_TRUE(store_->Put(WriteOf(key_, "new")).ok());  // key_ changed
  absl::StatusOr<Removed> r =
      store_->RemoveIfUnchanged({{key_, old_mtime}, {other, other_mtime}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 1);
  EXPECT_EQ(r->bytes, 5);
  EXPECT_EQ(*MustRead(key_).entry->payload, "new");
  EXPECT_EQ(MustRead(other).entry, nullptr);
}

TEST_P(StoreConformanceTest, ScanPagesInKeyOrder) {
  if (CannotEnumerate()) return;
  for (int i = 0; i < 25; ++i) {
    char name[16];
    snprintf(name, sizeof(name), "n/%02d", i);
    ASSERT_TRUE(store_->Put(WriteOf(Key("rss", name), "v")).ok());
    ASSERT_TRUE(store_->Put(WriteOf(Key("atom", name), "v")).ok());
  }
  ASSERT_TRUE(store_->Put(WriteOf(Key("rss", "other"), "v")).ok());
  std::vector<std::string> seen;
  ScanRequest scan{"rss", "n/", "", 10};
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    absl::StatusOr<ScanPage> page = store_->Scan(scan);
    ASSERT_TRUE(page.ok());
    for (const ScannedEntry& e : page->entries) {
      seen.emplace_back(e.meta.key.name());
      EXPECT_EQ(e.meta.key.scope(), "rss");
    }
    if (page->done) break;
    ASSERT_FALSE(page->entries.empty());
    scan.after = page->next_after;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  absl::StatusOr<ScanPage> all = store_->Scan({"", "", "", 1000});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->entries.size(), 51u);
  EXPECT_TRUE(all->done);
  EXPECT_EQ(all->entries.front().meta.key.scope(), "atom");
}

// A full pass in any order (purge): every entry exactly once, across pages;
// with the mtime hint, at least every entry older than it.
TEST_P(StoreConformanceTest, ScanInAnyOrderVisitsEveryEntryOnce) {
  if (CannotEnumerate()) return;
  std::map<std::string, int64_t> mtimes;
  for (int i = 0; i < 25; ++i) {
    for (const char* scope : {"rss", "atom"}) {
      Key key(scope, absl::StrCat("n/", i));
      mtimes[key.encoded()] = *store_->Put(WriteOf(key, "v"));
    }
  }
  auto pass = [&](int64_t mtime_before) {
    std::map<std::string, int> seen;
    ScanRequest scan{"", "", "", 7};
    scan.any_order = true;
    scan.mtime_before = mtime_before;
    for (int pages = 0;; ++pages) {
      EXPECT_LT(pages, 40);
      if (pages >= 40) break;
      absl::StatusOr<ScanPage> page = store_->Scan(scan);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->entries.size(), 7u);
      for (const ScannedEntry& e : page->entries) seen[e.meta.key.encoded()]++;
      if (page->done) break;
      scan.after = page->next_after;
    }
    return seen;
  };
  std::map<std::string, int> all = pass(0);
  EXPECT_EQ(all.size(), mtimes.size());
  for (const auto& [key, count] : all) EXPECT_EQ(count, 1) << key;
  std::vector<int64_t> sorted;
  for (const auto& [key, mtime] : mtimes) sorted.push_back(mtime);
  std::sort(sorted.begin(), sorted.end());
  int64_t cutoff = sorted[20];  // the 20 oldest are before it
  std::map<std::string, int> old = pass(cutoff);
  for (const auto& [key, mtime] : mtimes) {
    if (mtime < cutoff) {
      EXPECT_EQ(old[key], 1) << "old entry missed";
    }
  }
}

TEST_P(StoreConformanceTest, UsageCountsEntriesAndBytes) {
  if (CannotEnumerate()) return;
  ASSERT_TRUE(store_->Put(WriteOf(key_, std::string(1000, 'x'))).ok());
  ASSERT_TRUE(store_->Put(WriteOf(Key("rss", "x"), "y")).ok());
  absl::StatusOr<StoreUsage> u = store_->Usage();
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->entries, 2);
  EXPECT_GE(u->bytes, 1001);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreConformanceTest,
    testing::Values(
        HarnessParam{"memory",
                     [] { return std::make_unique<MemoryHarness>(); }},
        HarnessParam{"redis",
                     [] { return std::make_unique<RedisHarness>(false); }},
        HarnessParam{"redis_cluster",
                     [] { return std::make_unique<RedisHarness>(true); }},
        HarnessParam{"memcached",
                     [] { return std::make_unique<MemcachedHarness>(); }},
        HarnessParam{"memcached_sasl",
                     [] {
                       return std::make_unique<MemcachedHarness>(
                           nullptr, "CLUSTERCACHE_TEST_MEMCACHED_SASL");
                     }},
        HarnessParam{"migrating",
                     [] { return std::make_unique<MigratingHarness>(false); }},
        HarnessParam{"migrating_finished",
                     [] { return std::make_unique<MigratingHarness>(true); }},
        HarnessParam{"memcached_ledger", &LedgerHarness::Memcached},
        HarnessParam{"redis_ledger", &LedgerHarness::Redis}),
    ByName());

}  // namespace
}  // namespace clustercache
