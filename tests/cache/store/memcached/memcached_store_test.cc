// What the memcached store must do beyond the conformance suite: payloads
// larger than an item, evicted expiry copies, a dead or restarted server,
// and an unreachable ledger. The test owns its memcached servers (real ones
// on free loopback ports) because it kills them; the ledger is the MariaDB
// of scripts/test, reached through a proxy the test can cut.
#include "cache/store/memcached/memcached_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/clock.h"
#include "cache/freshness.h"
#include "cache/store/ledger/ledger_store.h"
#include "cache/store/ledger/mysql_ledger.h"
#include "cache/store/memcached/memcached_items.h"
#include "cache/store/memcached/memcached_pool.h"
#include "gtest/gtest.h"
#include "tests/support/entries.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"
#include "tests/support/tcp_proxy.h"

namespace clustercache {
namespace {

constexpr int kBuckets = 64;  // enough that both servers hold some

class MemcachedStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    prefix_ = absl::StrCat("m", getpid(), "-", absl::ToUnixMicros(absl::Now()));
    for (int i = 0; i < 2; ++i) {
      ports_.push_back(FreeLoopbackPort());
      pids_.push_back(StartMemcached(ports_.back()));
      ASSERT_GT(pids_.back(), 0) << "memcached did not start";
    }
    absl::StatusOr<std::unique_ptr<MemcachedPool>> raw =
        MemcachedPool::Open(Servers(), absl::Milliseconds(200), 1);
    ASSERT_TRUE(raw.ok()) << raw.status();
    raw_ = *std::move(raw);
  }

  void TearDown() override {
    store_.reset();
    for (pid_t pid : pids_) {
      if (pid > 0) KillAndReap(pid);
    }
  }

  static pid_t StartMemcached(int port) {
    return SpawnUntilReady(
        {"memcached", "-l", "127.0.0.1", "-p", std::to_string(port), "-U", "0",
         "-m", "64", "-u", "root"},
        absl::StrCat("memcstat --servers=127.0.0.1:", port,
                     " >/dev/null 2>&1"));
  }

  std::vector<MemcachedEndpoint> Servers() const {
    std::vector<MemcachedEndpoint> servers;
    for (int port : ports_) servers.push_back({"127.0.0.1", port});
    return servers;
  }

  MemcachedStoreOptions Options() const {
    MemcachedStoreOptions options;
    options.servers = Servers();
    options.prefix = prefix_;
    options.buckets = kBuckets;
    options.timeout = absl::Milliseconds(200);
    return options;
  }

  void Open(std::shared_ptr<Ledger> ledger = nullptr) {
    MemcachedStoreOptions options = Options();
    if (ledger)
      options.expiry_source = [ledger] { return ledger->ExpiryKeys(); };
    absl::StatusOr<std::unique_ptr<Store>> store = OpenMemcachedStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    if (ledger) store_ = NewLedgerStore(std::move(store_), ledger);
  }

  // Another node on the same pool, with its own clock (null: the system's).
  std::unique_ptr<Store> OpenNode(Clock* clock) {
    MemcachedStoreOptions options = Options();
    options.clock = clock;
    absl::StatusOr<std::unique_ptr<Store>> store = OpenMemcachedStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // A ledger in a namespace of our own, reached through `proxy` if given.
  std::shared_ptr<Ledger> OpenLedger(std::unique_ptr<TcpProxy>* proxy) {
    std::string url = TestServer("CLUSTERCACHE_TEST_MYSQL");
    if (url.empty()) return nullptr;
    absl::StatusOr<MysqlUrl> parsed = ParseMysqlUrl(url);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (proxy != nullptr) {
      *proxy = std::make_unique<TcpProxy>(parsed->port);
      parsed->port = (*proxy)->port();
    }
    MysqlLedgerOptions options;
    options.url = *parsed;
    options.ns = prefix_;
    options.timeout = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenMysqlLedger(options);
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    if (!ledger.ok()) return nullptr;
    return *std::move(ledger);
  }

  // The store with a ledger of its own, reached through `proxy` if given.
  void OpenWithLedger(std::unique_ptr<TcpProxy>* proxy = nullptr) {
    std::shared_ptr<Ledger> ledger = OpenLedger(proxy);
    ASSERT_NE(ledger, nullptr);
    Open(ledger);
  }

  // Which of the two servers holds `key`'s bucket.
  uint32_t ServerOf(const Key& key) {
    McLayout layout(prefix_, kBuckets);
    return raw_->ServerIndex(layout.Group(layout.BucketOf(key)));
  }

  // Deletes an item behind the store's back (as an eviction would).
  void Evict(const Key& key, const std::string& item) {
    McLayout layout(prefix_, kBuckets);
    absl::StatusOr<bool> gone = raw_->With([&](McHandle& h) {
      return h.Delete(layout.Group(layout.BucketOf(key)), item);
    });
    ASSERT_TRUE(gone.ok()) << gone.status();
    ASSERT_TRUE(*gone) << item << " was not there";
  }

  void Restart(int server) {
    KillAndReap(pids_[server]);
    pids_[server] = StartMemcached(ports_[server]);
    ASSERT_GT(pids_[server], 0);
  }

  // Reads until the store answers (a restarted server is retried after a
  // second), up to 5 s.
  absl::StatusOr<Lookup> ReadWhenBack(const Key& key) {
    absl::StatusOr<Lookup> l = store_->Read(key);
    for (int i = 0; i < 50 && !l.ok(); ++i) {
      absl::SleepFor(absl::Milliseconds(100));
      l = store_->Read(key);
    }
    return l;
  }

  static bool Fresh(const Lookup& l) {
    return l.entry != nullptr && IsFresh(l.entry->meta, l.expiry, {}, l.now);
  }

  std::string prefix_;
  std::vector<int> ports_;
  std::vector<pid_t> pids_;
  std::unique_ptr<MemcachedPool> raw_;
  std::unique_ptr<Store> store_;
};

TEST_F(MemcachedStoreTest, PayloadsLargerThanAnItemAreStoredInChunks) {
  Open();
  std::string payload;
  for (int i = 0; payload.size() < (3u << 20) + 12345; ++i) {
    absl::StrAppend(&payload, i, ",");
  }
  Key key("content-view", "big");
  absl::StatusOr<int64_t> mtime = store_->Put(WriteOf(key, payload));
  ASSERT_TRUE(mtime.ok()) << mtime.status();
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_NE(l->entry, nullptr);
  EXPECT_EQ(l->entry->payload->size(), payload.size());
  EXPECT_TRUE(*l->entry->payload == payload) << "read back whole";
  // One chunk lost: a miss, never a truncated payload.
  McLayout layout(prefix_, kBuckets);
  Evict(key, layout.ChunkItem(key, *mtime, 1));
  l = store_->Read(key);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->entry, nullptr);
}

// Memcached answers at most -R (default 20) requests of a connection per
// event, then yields; a binary multi-get is a request per key, and a yield
// amid quiet gets left a busy pool waiting out its timeout now and then,
// which every node took for an outage. A multi-get of any size is sent in
// pieces that never make the server yield, and still returns every key.
TEST_F(MemcachedStoreTest, AMultiGetOfManyKeysNeverMakesMemcachedYield) {
  auto yields = [&] {
    int64_t total = 0;
    for (int port : ports_) {
      std::string out;
      FILE* p = popen(
          absl::StrCat("memcstat --servers=127.0.0.1:", port).c_str(), "r");
      if (p == nullptr) return int64_t{-1};
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
      if (pclose(p) != 0) return int64_t{-1};
      const size_t at = out.find("conn_yields: ");
      if (at == std::string::npos) return int64_t{-1};
      total += std::atoll(out.c_str() + at + 13);
    }
    return total;
  };
  std::vector<std::string> keys;
  ASSERT_TRUE(raw_->With([&](McHandle& h) -> absl::Status {
                    for (int i = 0; i < 100; ++i) {
                      keys.push_back(absl::StrCat(prefix_, "-many-", i));
                      if (absl::Status s =
                              h.Set("g", keys.back(), absl::StrCat("v", i));
                          !s.ok()) {
                        return s;
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  for (int i = 0; i < 10; ++i) {
    keys.push_back(absl::StrCat(prefix_, "-missing-", i));
  }
  const int64_t before = yields();
  ASSERT_GE(before, 0) << "memcstat gave no conn_yields";
  absl::StatusOr<absl::flat_hash_map<std::string, McItem>> got =
      raw_->With([&](McHandle& h) { return h.MultiGet("g", keys); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 100u);
  for (int i = 0; i < 100; ++i) {
    auto it = got->find(keys[i]);
    ASSERT_NE(it, got->end()) << keys[i];
    EXPECT_EQ(it->second.value, absl::StrCat("v", i));
  }
  EXPECT_EQ(yields(), before);
}

TEST_F(MemcachedStoreTest, AnEvictedExpiryCopyMakesTheEntryNotFresh) {
  Open();
  Key key("content-view", "tagged");
  ASSERT_TRUE(store_->Put(WriteOf(key, "v", {"class:article"})).ok());
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(Fresh(*l));
  McLayout layout(prefix_, kBuckets);
  for (const std::string& expiry_key :
       {std::string("class:article"), ScopeExpiryKey("content-view")}) {
    Evict(key, layout.CopyItem(layout.BucketOf(key), expiry_key));
    l = store_->Read(key);
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE(Fresh(*l))
        << "a lost " << expiry_key << " copy cannot vouch for the entry";
    // A new write recreates the copy; the new entry is fresh.
    ASSERT_TRUE(store_->Put(WriteOf(key, "v2", {"class:article"})).ok());
    l = store_->Read(key);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(Fresh(*l));
  }
}

// Under load: readers go on through the kill and the restart. Keys of the
// live server never fail; no read ever returns another key's payload.
TEST_F(MemcachedStoreTest, ADeadServerCostsOnlyItsOwnKeys) {
  Open();
  std::vector<Key> keys;
  std::vector<uint32_t> server;
  for (int i = 0; i < 24; ++i) {
    keys.emplace_back("content-view", absl::StrCat("k", i));
    server.push_back(ServerOf(keys.back()));
    ASSERT_TRUE(store_->Put(WriteOf(keys.back(), keys.back().ToString())).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, live_failures{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        for (size_t i = 0; i < keys.size(); ++i) {
          absl::StatusOr<Lookup> l = store_->Read(keys[i]);
          ++reads;
          if (l.ok() && l->entry != nullptr &&
              *l->entry->payload != keys[i].ToString()) {
            ++wrong;
          }
          if (server[i] == 1 && (!l.ok() || !Fresh(*l))) ++live_failures;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  KillAndReap(pids_[0]);
  pids_[0] = -1;
  absl::SleepFor(absl::Milliseconds(300));
  int dead = 0, live = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<Lookup> l = store_->Read(keys[i]);
    if (server[i] == 0) {
      ++dead;
      EXPECT_TRUE(absl::IsUnavailable(l.status())) << l.status();
      EXPECT_TRUE(absl::IsUnavailable(
          store_->AcquireLease(keys[i], 0, absl::Seconds(5)).status()))
          << "no lease: the caller renders and does not store";
    } else {
      ++live;
      ASSERT_TRUE(l.ok()) << keys[i].ToString() << ": " << l.status();
      EXPECT_TRUE(Fresh(*l)) << keys[i].ToString();
    }
  }
  EXPECT_GT(dead, 0);
  EXPECT_GT(live, 0);
  // Back, empty: its keys are misses, the others still hits.
  pids_[0] = StartMemcached(ports_[0]);
  ASSERT_GT(pids_[0], 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<Lookup> l = ReadWhenBack(keys[i]);
    ASSERT_TRUE(l.ok()) << l.status();
    EXPECT_EQ(l->entry != nullptr, server[i] == 1) << keys[i].ToString();
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_GT(reads.load(), 100);
  EXPECT_EQ(wrong.load(), 0) << "a read returned another key's payload";
  EXPECT_EQ(live_failures.load(), 0) << "keys of the live server failed";
}

TEST_F(MemcachedStoreTest,
       RestartedServersReviveNothingAndTheLedgerKeepsExpiry) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger());
  Key key("content-view", "before");
  ASSERT_TRUE(store_->Put(WriteOf(key, "old")).ok());
  absl::StatusOr<int64_t> t = store_->Invalidate("scope:content-view", 0);
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok());
  ASSERT_FALSE(Fresh(*l));
  Restart(0);
  Restart(1);
  l = ReadWhenBack(key);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_FALSE(Fresh(*l)) << "an invalidated entry came back fresh";
  absl::StatusOr<std::vector<ExpiryKeyValue>> kept = store_->ListExpiryKeys();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].value, *t) << "the ledger kept the expiry key";
  // A new entry is fresh, and judged against the value the ledger kept,
  // once the store trusts the servers again: every server is retried
  // within a second of its return, and its copies are checked first.
  Key after("content-view", "after");
  bool fresh = false;
  for (int i = 0; i < 50 && !fresh; ++i) {
    if (i > 0) absl::SleepFor(absl::Milliseconds(100));
    if (!store_->Put(WriteOf(after, "new")).ok()) continue;  // not retried yet
    l = store_->Read(after);
    fresh = l.ok() && Fresh(*l);
  }
  ASSERT_TRUE(fresh) << "the servers were never trusted again";
  ASSERT_TRUE(l->expiry.scope.has_value());
  EXPECT_EQ(*l->expiry.scope, *t);
}

// A server cut off (not restarted) misses an invalidation; when it answers
// again, its buckets' copies are brought up to date, so its entries do not
// stay fresh.
TEST_F(MemcachedStoreTest, AServerCutOffCatchesUpOnInvalidations) {
  TcpProxy proxy(ports_[0]);
  MemcachedStoreOptions options = Options();
  options.servers = {{"127.0.0.1", proxy.port()}, {"127.0.0.1", ports_[1]}};
  absl::StatusOr<std::unique_ptr<MemcachedPool>> hashing =
      MemcachedPool::Open(options.servers, absl::Milliseconds(200), 1);
  ASSERT_TRUE(hashing.ok());
  auto server_of = [&](absl::string_view group) {
    return (*hashing)->ServerIndex(group);
  };
  // The expiry map on the server that stays: this case is about a server
  // that holds only entries and copies.
  for (int i = 0;
       server_of(McLayout(options.prefix, kBuckets).MasterGroup()) != 1; ++i) {
    options.prefix = absl::StrCat(prefix_, "-", i);
  }
  McLayout layout(options.prefix, kBuckets);
  auto key_on = [&](uint32_t server, absl::string_view stem) {
    for (int i = 0;; ++i) {
      Key k("content-view", absl::StrCat(stem, i));
      if (server_of(layout.Group(layout.BucketOf(k))) == server) return k;
    }
  };
  const Key cut = key_on(0, "cut");
  const Key live = key_on(1, "live");
  absl::StatusOr<std::unique_ptr<Store>> store = OpenMemcachedStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  ASSERT_TRUE(store_->Put(WriteOf(cut, "v")).ok());
  ASSERT_TRUE(store_->Put(WriteOf(live, "v")).ok());
  proxy.Cut();
  absl::StatusOr<int64_t> t = store_->Invalidate("scope:content-view", 0);
  ASSERT_FALSE(t.ok()) << "one server was unreachable";
  EXPECT_NE(t.status().message().find("of 64 buckets"), absl::string_view::npos)
      << t.status();
  absl::StatusOr<Lookup> l = store_->Read(live);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_FALSE(Fresh(*l)) << "applied at once where it could be";
  EXPECT_TRUE(absl::IsUnavailable(store_->Read(cut).status()));
  proxy.Restore();
  l = ReadWhenBack(cut);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_FALSE(Fresh(*l)) << "not fresh from the first read after the outage";
  // Once the resync has run (every pooled connection retries the server
  // within a second), new entries there are fresh again...
  const Key cut2 = key_on(0, "new");
  bool fresh = false;
  for (int i = 0; i < 30 && !fresh; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    if (!store_->Put(WriteOf(cut2, "v2")).ok()) continue;  // not retried yet
    l = store_->Read(cut2);
    fresh = l.ok() && Fresh(*l);
  }
  EXPECT_TRUE(fresh) << "the server was never trusted again";
  // ...and the entry from before the invalidation it missed is not.
  l = ReadWhenBack(cut);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_FALSE(Fresh(*l)) << "the invalidation it missed never reached it";
}

// Issue 12, item 1: three nodes with clocks -5 s, 0 and +5 s tick, grant,
// commit and invalidate at once on a fresh pool. Cluster time must stay
// within the fastest node's clock plus a small bound (it doubled when a
// clock was raised by read-then-add), and no grant may lapse early.
TEST_F(MemcachedStoreTest, ClusterTimeStaysNearTheFastestNodeUnderConcurrency) {
  SystemClock slow(-5'000'000), fast(5'000'000);
  std::unique_ptr<Store> nodes[3] = {OpenNode(&slow), OpenNode(nullptr),
                                     OpenNode(&fast)};
  constexpr int64_t kBound = 1'000'000;  // stated: 1 s past the fastest node
  std::atomic<int64_t> worst{0};
  std::atomic<int> errors{0}, lost{0}, ops{0};
  auto note = [&](int64_t t) {
    const int64_t ahead = t - (absl::ToUnixMicros(absl::Now()) + 5'000'000);
    int64_t w = worst.load();
    while (ahead > w && !worst.compare_exchange_weak(w, ahead)) {
    }
  };
  const absl::Time end = absl::Now() + absl::Milliseconds(1500);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Store* s = nodes[t % 3].get();
      for (int i = 0; absl::Now() < end; ++i) {
        ++ops;
        if (i % 5 == 4) {
          absl::StatusOr<int64_t> v =
              s->Invalidate(absl::StrCat("tag-", t, "-", i % 3), 0);
          v.ok() ? note(*v) : void(++errors);
          continue;
        }
        Key key("content-view", absl::StrCat("k", (t * 7 + i) % 10));
        absl::StatusOr<Lookup> l = s->Read(key);
        if (!l.ok()) {
          ++errors;
          continue;
        }
        note(l->now);
        const int64_t seen = l->entry ? l->entry->meta.mtime : 0;
        absl::StatusOr<Grant> g = s->AcquireLease(key, seen, absl::Seconds(60));
        if (!g.ok()) {
          ++errors;
          continue;
        }
        if (g->outcome != GrantOutcome::kGranted) continue;
        note(g->lease.granted_at);
        absl::StatusOr<Commit> c =
            s->CommitLeased(WriteOf(key, "v"), g->lease.token);
        if (!c.ok()) {
          ++errors;
        } else if (c->outcome == CommitOutcome::kLeaseLost) {
          ++lost;  // only a takeover after 60 s could do this
        } else if (c->outcome == CommitOutcome::kStored) {
          note(c->mtime);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(ops.load(), 100);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(lost.load(), 0) << "a 60 s lease lapsed within 1.5 s";
  EXPECT_LE(worst.load(), kBound)
      << "cluster time ran " << worst.load() << " us past the fastest node";
}

// Item 4: a bucket clock or copy created by two nodes at once is a race of
// the protocol, not a failed server: every invalidation succeeds.
TEST_F(MemcachedStoreTest, ConcurrentFirstUsesOfAFreshPoolAllSucceed) {
  std::unique_ptr<Store> nodes[2] = {OpenNode(nullptr), OpenNode(nullptr)};
  std::atomic<int> ready{0};
  std::vector<absl::Status> results(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < 8) {
      }
      results[t] =
          nodes[t % 2]->Invalidate(absl::StrCat("tag-", t), 0).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
}

// Item 2: of concurrent unconditional writes, the one with the newest
// mtime is the one that stays.
TEST_F(MemcachedStoreTest, ConcurrentPutsLeaveTheNewest) {
  std::unique_ptr<Store> nodes[2] = {OpenNode(nullptr), OpenNode(nullptr)};
  int wrong = 0;
  for (int round = 0; round < 30; ++round) {
    Key key("content-view", absl::StrCat("race", round));
    std::atomic<int> ready{0};
    std::vector<absl::StatusOr<int64_t>> mtimes(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < 8) {
        }
        mtimes[t] = nodes[t % 2]->Put(WriteOf(key, absl::StrCat("w", t)));
      });
    }
    for (std::thread& t : threads) t.join();
    int newest = 0;
    for (int t = 0; t < 8; ++t) {
      ASSERT_TRUE(mtimes[t].ok()) << mtimes[t].status();
      if (*mtimes[t] > *mtimes[newest]) newest = t;
    }
    absl::StatusOr<Lookup> l = nodes[0]->Read(key);
    ASSERT_TRUE(l.ok() && l->entry != nullptr);
    if (*l->entry->payload != absl::StrCat("w", newest) ||
        l->entry->meta.mtime != *mtimes[newest]) {
      ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0) << "rounds where an older write was left standing";
}

// Item 3: after a restart, a bucket's clock starts above every expiry value
// it is compared with, so an entry generated through a slow node is fresh.
TEST_F(MemcachedStoreTest, AfterARestartEntriesOfASlowNodeAreFreshAtBirth) {
  SystemClock slow(-5'000'000), fast(5'000'000);
  std::unique_ptr<Store> slow_node = OpenNode(&slow);
  std::unique_ptr<Store> fast_node = OpenNode(&fast);
  McLayout layout(prefix_, kBuckets);
  const uint32_t master = raw_->ServerIndex(layout.MasterGroup());
  const uint32_t other = 1 - master;  // restarted: its clocks and copies go
  std::vector<Key> keys;
  for (int i = 0; keys.size() < 10; ++i) {
    Key k("content-view", absl::StrCat("k", i));
    if (ServerOf(k) == other) keys.push_back(k);
  }
  for (const Key& k : keys) ASSERT_TRUE(slow_node->Put(WriteOf(k, "v")).ok());
  ASSERT_TRUE(fast_node->Invalidate("scope:content-view", 0).ok());
  Restart(other);
  // Until the slow node trusts the server again (it is retried within a
  // second, then its copies are checked), nothing there reads as fresh: an
  // entry written through the fast node tells when that is over.
  const Key probe = keys.back();
  keys.pop_back();
  bool trusted = false;
  for (int i = 0; i < 50 && !trusted; ++i) {
    if (i > 0) absl::SleepFor(absl::Milliseconds(100));
    if (!fast_node->Put(WriteOf(probe, "probe")).ok()) continue;
    absl::StatusOr<Lookup> l = slow_node->Read(probe);
    trusted = l.ok() && Fresh(*l);
  }
  ASSERT_TRUE(trusted) << "the restarted server was never trusted again";
  int stale_at_birth = 0;
  for (const Key& k : keys) {
    absl::StatusOr<Grant> g = slow_node->AcquireLease(k, 0, absl::Seconds(60));
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_EQ(g->outcome, GrantOutcome::kGranted);
    absl::StatusOr<Commit> c =
        slow_node->CommitLeased(WriteOf(k, "new"), g->lease.token);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->outcome, CommitOutcome::kStored);
    absl::StatusOr<Lookup> l = slow_node->Read(k);
    ASSERT_TRUE(l.ok()) << l.status();
    if (!Fresh(*l)) ++stale_at_birth;
  }
  EXPECT_EQ(stale_at_birth, 0) << "of " << keys.size() << " keys";
}

// Issue 12 item 5 without enumeration: a void by prefix reaches entries
// and leases that no ledger lists (written behind the ledger's back here),
// and nothing outside the prefix.
TEST_F(MemcachedStoreTest, AVoidByPrefixReachesWhatNoLedgerLists) {
  Open();
  const Key in("content-view", "a/1"), leased("content-view", "a/2"),
      outside("content-view", "b/1"), deleted("content-view", "c/1");
  ASSERT_TRUE(store_->Put(WriteOf(in, "v")).ok());
  ASSERT_TRUE(store_->Put(WriteOf(outside, "v")).ok());
  ASSERT_TRUE(store_->Put(WriteOf(deleted, "v")).ok());
  absl::StatusOr<Grant> g = store_->AcquireLease(leased, 0, absl::Seconds(60));
  ASSERT_TRUE(g.ok() && g->outcome == GrantOutcome::kGranted);
  ASSERT_TRUE(
      store_->VoidByPrefix({"content-view", std::nullopt, "a/"}, false).ok());
  ASSERT_TRUE(
      store_->VoidByPrefix({"content-view", std::nullopt, "c/"}, true).ok());
  absl::StatusOr<Lookup> l = store_->Read(in);
  ASSERT_TRUE(l.ok() && l->entry != nullptr);
  EXPECT_FALSE(Fresh(*l)) << "expired by prefix";
  EXPECT_EQ(*l->entry->payload, "v") << "kept as a stale copy";
  l = store_->Read(deleted);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->entry, nullptr) << "deleted by prefix";
  l = store_->Read(outside);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(Fresh(*l)) << "outside the prefix";
  l = store_->Read(leased);
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(l->lease.has_value()) << "a voided lease reads as none";
  absl::StatusOr<Commit> c =
      store_->CommitLeased(WriteOf(leased, "late"), g->lease.token);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->outcome, CommitOutcome::kLeaseLost);
  // After the void, everything works as before.
  g = store_->AcquireLease(leased, 0, absl::Seconds(60));
  ASSERT_TRUE(g.ok() && g->outcome == GrantOutcome::kGranted);
  c = store_->CommitLeased(WriteOf(leased, "new"), g->lease.token);
  ASSERT_TRUE(c.ok() && c->outcome == CommitOutcome::kStored);
  ASSERT_TRUE(store_->Put(WriteOf(in, "v2")).ok());
  for (const Key& k : {in, leased}) {
    l = store_->Read(k);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(Fresh(*l)) << k.ToString();
  }
}

// The list of voids stays bounded: past kMaxVoids the oldest fold into one
// void of the whole scope, which leaves nothing older fresh.
TEST_F(MemcachedStoreTest, ManyVoidsFoldWithoutRevivingAnything) {
  std::vector<McVoid> voids;
  for (int i = 0; i < 100; ++i) {
    voids = AddVoid(std::move(voids),
                    {i % 2 == 0, 1000 + i, absl::StrCat("p", i, "/")});
  }
  EXPECT_EQ(voids.size(), kMaxVoids);
  std::optional<std::vector<McVoid>> back = DecodeVoids(EncodeVoids(voids));
  ASSERT_TRUE(back.has_value());
  for (int i = 0; i < 100; ++i) {
    McVoided v = VoidedFor(*back, absl::StrCat("p", i, "/x"));
    EXPECT_GE(v.any, 1000 + i) << "void " << i << " was lost in folding";
  }
  EXPECT_FALSE(DecodeVoids("V1\nq 1 x\n").has_value())
      << "garbage: cannot tell";
  EXPECT_FALSE(DecodeVoids("garbage").has_value());
}

// A pool whose clocks an older version ran away with does not heal by
// itself: the node says so, and how to clear it.
TEST_F(MemcachedStoreTest, ARunawayBucketClockIsReported) {
  Open();
  const Key key("content-view", "k");
  McLayout layout(prefix_, kBuckets);
  const int b = layout.BucketOf(key);
  const int64_t years57 = int64_t{57} * 365 * 24 * 3600 * 1'000'000;
  ASSERT_TRUE(raw_->With([&](McHandle& h) {
                    return h.Set(layout.Group(b), layout.ClockItem(b),
                                 absl::StrCat(absl::ToUnixMicros(absl::Now()) +
                                              years57));
                  })
                  .ok());
  testing::internal::CaptureStderr();
  ASSERT_TRUE(store_->Put(WriteOf(key, "v")).ok());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("ahead of this node's clock"), std::string::npos) << err;
  EXPECT_NE(err.find("memcflush"), std::string::npos) << err;
}

// Issue 18: memcached orders a grant against when an imported head was
// written here, not against the source's (older) mtime: a lease granted
// before the import does not replace it, one granted after does.
TEST_F(MemcachedStoreTest, AnImportBetweenAGrantAndItsCommitSupersedesIt) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger());
  const Key key("content-view", "raced");
  absl::StatusOr<Grant> before = store_->AcquireLease(key, 0, absl::Minutes(1));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->outcome, GrantOutcome::kGranted);
  EntryRef e = EntryFrom(key, "imported",
                         absl::ToUnixMicros(absl::Now() - absl::Minutes(10)));
  ASSERT_LT(e->meta.mtime, before->lease.granted_at);
  absl::StatusOr<std::vector<ImportOutcome>> imported = store_->Import({e});
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(*imported, std::vector<ImportOutcome>{ImportOutcome::kImported});
  absl::StatusOr<Commit> late =
      store_->CommitLeased(WriteOf(key, "generated"), before->lease.token);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->outcome, CommitOutcome::kSuperseded);
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok() && l->entry != nullptr);
  EXPECT_EQ(*l->entry->payload, "imported");
  EXPECT_TRUE(IsFresh(l->entry->meta, l->expiry, {}, l->now));
  // A grant after the import, on what it read, commits over it.
  absl::StatusOr<Grant> after =
      store_->AcquireLease(key, e->meta.mtime, absl::Minutes(1));
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->outcome, GrantOutcome::kGranted);
  absl::StatusOr<Commit> stored =
      store_->CommitLeased(WriteOf(key, "generated"), after->lease.token);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->outcome, CommitOutcome::kStored);
  EXPECT_GT(stored->mtime, e->meta.mtime);
}

// Issue 18: a pool whose expiry-key map was made without a ledger keeps
// refusing imports once a ledger is beside it: the map's floor stands for
// values it may have lost, and a ledger that came later cannot know them.
TEST_F(MemcachedStoreTest, APoolUsedWithoutALedgerRefusesImportsWithOne) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  Open();
  ASSERT_TRUE(store_->Put(WriteOf(Key("rss", "a"), "v")).ok());
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger());
  const absl::Status refused =
      store_
          ->Import({EntryFrom(Key("rss", "b"), "x",
                              absl::ToUnixMicros(absl::Now()))})
          .status();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_NE(refused.message().find("--ledger"), absl::string_view::npos)
      << refused;
  EXPECT_TRUE(
      absl::IsFailedPrecondition(store_->ImportExpiryKeys({{"all", 5}})));
  absl::StatusOr<Lookup> l = store_->Read(Key("rss", "b"));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->entry, nullptr) << "a refused import wrote";
}

TEST_F(MemcachedStoreTest, AFreshHitSendsNothingToTheLedger) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  std::unique_ptr<TcpProxy> proxy;
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger(&proxy));
  Key key("content-view", "hot");
  ASSERT_TRUE(store_->Put(WriteOf(key, "v", {"class:article"})).ok());
  // The store's own ledger traffic (its statement close is sent without a
  // reply) has passed the proxy before counting starts.
  absl::SleepFor(absl::Milliseconds(200));
  const int64_t before = proxy->bytes_relayed();
  ASSERT_GT(before, 0) << "the store was recorded through the proxy";
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<Lookup> l = store_->Read(key);
    ASSERT_TRUE(l.ok()) << l.status();
    ASSERT_TRUE(Fresh(*l));
  }
  EXPECT_EQ(proxy->bytes_relayed(), before);
}

TEST_F(MemcachedStoreTest, AnUnreachableLedgerStopsAdminNotFetches) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  std::unique_ptr<TcpProxy> proxy;
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger(&proxy));
  Key key("content-view", "kept");
  ASSERT_TRUE(store_->Put(WriteOf(key, "v")).ok());
  proxy->Cut();
  // Fetches keep working from memcached alone.
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_TRUE(Fresh(*l));
  // So do generators: lease, commit.
  Key other("content-view", "generated");
  absl::StatusOr<Grant> g = store_->AcquireLease(other, 0, absl::Seconds(10));
  ASSERT_TRUE(g.ok()) << g.status();
  absl::StatusOr<Commit> c =
      store_->CommitLeased(WriteOf(other, "w"), g->lease.token);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->outcome, CommitOutcome::kStored);
  // What needs the ledger fails, saying so, and changes nothing.
  absl::StatusOr<int64_t> t = store_->Invalidate("scope:content-view", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("ledger"), absl::string_view::npos)
      << t.status();
  l = store_->Read(key);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(Fresh(*l)) << "a failed invalidation changed nothing";
  absl::StatusOr<ScanPage> scan = store_->Scan({"content-view", "", "", 10});
  ASSERT_FALSE(scan.ok());
  EXPECT_NE(scan.status().message().find("ledger"), absl::string_view::npos);
  // Issue 14, item 16: by prefix, too (the prefix was voided in memcached
  // before the ledger was read, and the call said it failed).
  EXPECT_FALSE(store_->Expire({"content-view", std::nullopt, ""}).ok());
  EXPECT_FALSE(store_->Delete({"content-view", std::nullopt, ""}).ok());
  l = store_->Read(key);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(Fresh(*l)) << "a failed expire or delete changed nothing";
  // Back: admin works again.
  proxy->Restore();
  t = store_->Invalidate("scope:content-view", 0);
  ASSERT_TRUE(t.ok()) << t.status();
  l = store_->Read(key);
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(Fresh(*l));
}

}  // namespace
}  // namespace clustercache

namespace clustercache {
namespace {

// Issue 14, item 1: a head is bounded by what it may say.
McHead HeadOf(int64_t size) {
  McHead h;
  h.meta.key = Key("content-view", "k");
  h.meta.mtime = 1'700'000'000'000'000;
  h.meta.size = size;
  return h;
}

TEST(McHeadDecodingTest, AHeadBreakingItsLimitsIsNoHead) {
  const McHeadLimits limits{/*max_size=*/1000, /*chunk_size=*/100};
  McHead h = HeadOf(3);
  EXPECT_TRUE(DecodeHead(EncodeHead(h.meta, 0, "abc"), limits).has_value());
  EXPECT_TRUE(DecodeHead(EncodeHead(HeadOf(250).meta, 3, ""), limits));
  // The corrupt head that ended every node reading it: size -1, a chunk.
  EXPECT_FALSE(DecodeHead(EncodeHead(HeadOf(-1).meta, 1, ""), limits));
  EXPECT_FALSE(DecodeHead(EncodeHead(HeadOf(int64_t{1} << 40).meta, 1, ""),
                          limits));  // > max
  EXPECT_FALSE(DecodeHead(EncodeHead(HeadOf(250).meta, 2, ""), limits));
  EXPECT_FALSE(DecodeHead(EncodeHead(HeadOf(250).meta, 3, "x"), limits));
  EXPECT_FALSE(DecodeHead(EncodeHead(h.meta, 0, "ab"), limits));    // short
  EXPECT_FALSE(DecodeHead(EncodeHead(h.meta, 0, "abcd"), limits));  // long
  McHead old = HeadOf(3);
  old.meta.mtime = -5;
  EXPECT_FALSE(DecodeHead(EncodeHead(old.meta, 0, "abc"), limits));
  const std::string good = EncodeHead(h.meta, 0, "abc");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeHead(good.substr(0, cut), limits)) << cut;
  }
}

// Issue 18: an imported head carries the time it was written here beside
// its source's mtime; a head without one was written at its mtime.
TEST(McHeadDecodingTest, AHeadKeepsTheTimeItWasWrittenWhenNotItsMtime) {
  const McHeadLimits limits{/*max_size=*/1000, /*chunk_size=*/100};
  McHead h = HeadOf(3);
  std::optional<McHead> plain =
      DecodeHead(EncodeHead(h.meta, 0, "abc"), limits);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->Written(), h.meta.mtime);
  const int64_t later = h.meta.mtime + 5'000'000;
  const std::string imported = EncodeHead(h.meta, 0, "abc", later);
  std::optional<McHead> read = DecodeHead(imported, limits);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->Written(), later);
  EXPECT_EQ(read->meta.mtime, h.meta.mtime);
  EXPECT_EQ(read->inline_payload, "abc");
  // The same time as the mtime is written as a plain head.
  EXPECT_EQ(EncodeHead(h.meta, 0, "abc", h.meta.mtime),
            EncodeHead(h.meta, 0, "abc"));
  for (size_t cut = 0; cut < imported.size(); ++cut) {
    EXPECT_FALSE(DecodeHead(imported.substr(0, cut), limits)) << cut;
  }
  // A written time of 0 or below in an imported head: not ours.
  std::string zero = imported;
  for (size_t i = 4; i < 12; ++i) zero[i] = '\0';
  EXPECT_FALSE(DecodeHead(zero, limits));
}

TEST_F(MemcachedStoreTest, APoisonedHeadIsAMissAndIsWrittenOver) {
  Open();
  const Key key("content-view", "poisoned");
  McLayout layout(prefix_, kBuckets);
  McHead bad = HeadOf(-1);
  bad.meta.key = key;
  testing::internal::CaptureStderr();
  for (int64_t size : {int64_t{-1}, int64_t{1} << 40}) {
    bad.meta.size = size;
    ASSERT_TRUE(raw_->With([&](McHandle& h) {
                      return h.Set(layout.Group(layout.BucketOf(key)),
                                   layout.EntryItem(key),
                                   EncodeHead(bad.meta, 1, ""));
                    })
                    .ok());
    absl::StatusOr<Lookup> l = store_->Read(key);  // before: length_error
    ASSERT_TRUE(l.ok()) << l.status();
    EXPECT_EQ(l->entry, nullptr);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unreadable item"), std::string::npos) << err;
  EXPECT_EQ(err.find("unreadable item", err.find("unreadable item") + 1),
            std::string::npos)
      << "logged once a minute per key: " << err;
  ASSERT_TRUE(store_->Put(WriteOf(key, "healed")).ok());
  absl::StatusOr<Lookup> l = store_->Read(key);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_TRUE(Fresh(*l));
  EXPECT_EQ(*l->entry->payload, "healed");
}

// Issue 14, item 9: a hung ledger (accepts, never answers: SIGSTOP) costs
// a Store nothing; the entries it could not record are counted and logged,
// and recording resumes by itself.
TEST_F(MemcachedStoreTest, AHungLedgerAddsNothingToStores) {
  CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
  std::unique_ptr<TcpProxy> proxy;
  ASSERT_NO_FATAL_FAILURE(OpenWithLedger(&proxy));  // ledger timeout 1 s
  ASSERT_TRUE(store_->Put(WriteOf(Key("content-view", "warm"), "v")).ok());
  proxy->Hang(true);
  testing::internal::CaptureStderr();
  absl::Duration slowest;
  for (int i = 0; i < 20; ++i) {
    Key key("content-view", absl::StrCat("during-", i));
    const absl::Time start = absl::Now();
    absl::StatusOr<Grant> g = store_->AcquireLease(key, 0, absl::Seconds(10));
    ASSERT_TRUE(g.ok()) << g.status();
    absl::StatusOr<Commit> c =
        store_->CommitLeased(WriteOf(key, "w"), g->lease.token);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->outcome, CommitOutcome::kStored);
    ASSERT_TRUE(store_->Put(WriteOf(key, "w2")).ok());
    slowest = std::max(slowest, absl::Now() - start);
  }
  // Each of those waited for the ledger before (1 s per Store); now none
  // does (the bound leaves room for a loaded machine).
  EXPECT_LT(slowest, absl::Milliseconds(500));
  proxy->Hang(false);
  proxy->Cut();  // the hung connection is dropped; the next one works
  proxy->Restore();
  Key after("content-view", "after");
  ASSERT_TRUE(store_->Put(WriteOf(after, "v")).ok());
  // Listing waits for the recorder: the entry stored last is there.
  bool listed = false;
  for (int attempt = 0; attempt < 50 && !listed; ++attempt) {
    absl::StatusOr<ScanPage> scan =
        store_->Scan({"content-view", "after", "", 10});
    if (scan.ok()) {
      for (const ScannedEntry& e : scan->entries) {
        listed = listed || e.meta.key.name() == "after";
      }
    }
    if (!listed) {
      ASSERT_TRUE(store_->Put(WriteOf(after, "v")).ok());
    }
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(listed) << "recording resumed after the ledger came back";
  EXPECT_NE(err.find("are not in its index"), std::string::npos) << err;
}

}  // namespace
}  // namespace clustercache
