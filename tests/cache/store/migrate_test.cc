// Issue 18: Migrate (cache/store/migrate.h) between real stores, as
// clustercachectl migrate runs it. For each pair: 1000 entries with tags,
// a tag invalidated and some entries soft-expired in the source; after the
// copy every entry fresh in the source is fresh in the target with the same
// payload and mtime, every one that was not stays not fresh, an
// invalidation of everything on the target makes every copied entry stale,
// a second run keeps everything, a dry run writes nothing, and a run
// stopped after its first page resumes after the key it reported.
#include "cache/store/migrate.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/freshness.h"
#include "cache/store/open_store.h"
#include "gtest/gtest.h"
#include "tests/support/entries.h"
#include "tests/support/param_name.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

constexpr int kEntries = 1000;

// The main copy's size: $CLUSTERCACHE_MIGRATE_ENTRIES (CI: 100,000), 1000
// to 1,000,000; default kEntries.
int MainEntries() {
  const char* v = std::getenv("CLUSTERCACHE_MIGRATE_ENTRIES");
  int n = kEntries;
  if (v != nullptr && absl::SimpleAtoi(v, &n) && n >= kEntries &&
      n <= 1'000'000) {
    return n;
  }
  return kEntries;
}

// fn(i) for i in [0, n), on `threads` threads (stores are shared by
// threads).
void ForEach(int n, const std::function<void(int)>& fn, int threads = 8) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) fn(i);
    });
  }
  for (std::thread& t : running) t.join();
}

struct Side {
  const char* name;
  const char* env;  // "" for memory
  const char* scheme;
  bool ledger = false;
};

struct Pair {
  const char* name;
  Side from, to;
};
void PrintTo(const Pair& p, std::ostream* os) { *os << p.name; }

const Side kMemory{"memory", "", "memory"};
const Side kRedis{"redis", "CLUSTERCACHE_TEST_REDIS", "redis://"};
const Side kCluster{"redis_cluster", "CLUSTERCACHE_TEST_REDIS_CLUSTER",
                    "redis-cluster://"};
const Side kMemcachedLedger{"memcached_ledger", "CLUSTERCACHE_TEST_MEMCACHED",
                            "memcached://", true};

// A namespace no other run uses.
std::string UniqueNamespace() {
  static std::atomic<int> counter{0};
  return absl::StrCat("mig", getpid(), "-", counter++, "-",
                      absl::ToUnixMicros(absl::Now()) % 100000000);
}

class MigrateTest : public testing::TestWithParam<Pair> {
 protected:
  void SetUp() override {
    Open(GetParam().from, &from_);
    if (HasFatalFailure() || IsSkipped()) return;
    Open(GetParam().to, &to_);
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_TRUE(from_ != nullptr && to_ != nullptr);
  }

  void Open(const Side& side, std::unique_ptr<Store>* out) {
    std::string url = side.scheme;
    StoreSettings settings;
    settings.namespace_name = UniqueNamespace();
    if (*side.env != '\0') {
      const std::string servers = TestServer(side.env);
      if (servers.empty()) {
        if (ServersRequired()) FAIL() << side.env << " is not set";
        GTEST_SKIP() << side.env << " is not set (run scripts/test)";
      }
      url += servers;
    }
    if (side.ledger) {
      settings.ledger_url = TestServer("CLUSTERCACHE_TEST_MYSQL");
      if (settings.ledger_url.empty()) {
        if (ServersRequired()) FAIL() << "CLUSTERCACHE_TEST_MYSQL is not set";
        GTEST_SKIP() << "CLUSTERCACHE_TEST_MYSQL is not set";
      }
    }
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(url, settings);
    ASSERT_TRUE(store.ok()) << store.status();
    *out = *std::move(store);
  }

  static bool Fresh(Store& store, const Key& key, EntryRef* entry = nullptr) {
    absl::StatusOr<Lookup> l = store.Read(key);
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok() || l->entry == nullptr) return false;
    if (entry != nullptr) *entry = l->entry;
    return IsFresh(l->entry->meta, l->expiry, {}, l->now);
  }

  // n entries over two scopes; every 10th tagged "hot" (then
  // invalidated), every 7th soft-expired. Returns each one's freshness.
  // Into a ledgered store on two threads only: its recorder's queue is
  // bounded, and entries written faster than the ledger takes them are
  // left out of its index (by design: a Store never waits for the ledger)
  // and so out of the copy; eight threads outran it under CI's load.
  std::vector<char> Fill(int n) {
    ForEach(
        n,
        [&](int i) {
          std::vector<std::string> tags = {absl::StrCat("item:", i)};
          if (i % 10 == 0) tags.push_back("hot");
          EXPECT_TRUE(
              from_->Put(WriteOf(KeyOf(i), absl::StrCat("payload ", i), tags))
                  .ok());
        },
        GetParam().from.ledger ? 2 : 8);
    EXPECT_TRUE(from_->Invalidate("hot", 0).ok());
    ForEach((n + 6) / 7, [&](int j) {
      EXPECT_TRUE(from_
                      ->Expire({std::string(KeyOf(j * 7).scope()),
                                std::string(KeyOf(j * 7).name()), ""})
                      .ok());
    });
    std::vector<char> fresh(n);
    ForEach(n, [&](int i) { fresh[i] = Fresh(*from_, KeyOf(i)); });
    return fresh;
  }

  static Key KeyOf(int i) {
    return Key(i % 2 == 0 ? "news" : "blog", absl::StrCat("page/", i));
  }

  absl::StatusOr<MigrateProgress> Run(MigrateOptions options = {}) {
    return Migrate(*from_, *to_, options,
                   [](const MigrateProgress&) { return true; });
  }

  std::unique_ptr<Store> from_, to_;
};

TEST_P(MigrateTest, WhatWasFreshIsFreshAndNothingElse) {
  const int n = MainEntries();
  std::vector<char> fresh = Fill(n);
  int fresh_count = 0;
  for (char f : fresh) fresh_count += f;
  ASSERT_GT(fresh_count, n / 2);
  ASSERT_LT(fresh_count, n);

  MigrateOptions dry;
  dry.dry_run = true;
  absl::StatusOr<MigrateProgress> counted = Run(dry);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->copied, n);
  EXPECT_FALSE(Fresh(*to_, KeyOf(1))) << "a dry run wrote";

  const absl::Time start = absl::Now();
  absl::StatusOr<MigrateProgress> copied = Run();
  ASSERT_TRUE(copied.ok()) << copied.status();
  std::cout << GetParam().name << ": copied " << copied->copied << " in "
            << absl::FormatDuration(absl::Now() - start) << std::endl;
  EXPECT_EQ(copied->examined, n);
  EXPECT_EQ(copied->copied, n);
  EXPECT_TRUE(copied->done);
  std::atomic<int> wrong{0};
  ForEach(n, [&](int i) {
    EntryRef in_source, in_target;
    Fresh(*from_, KeyOf(i), &in_source);
    const bool now_fresh = Fresh(*to_, KeyOf(i), &in_target);
    if (in_target == nullptr || in_source == nullptr ||
        now_fresh != static_cast<bool>(fresh[i]) ||
        *in_target->payload != *in_source->payload ||
        in_target->meta.mtime != in_source->meta.mtime ||
        in_target->meta.tags != in_source->meta.tags) {
      if (wrong++ < 5) ADD_FAILURE() << KeyOf(i).ToString() << " differs";
    }
  });
  EXPECT_EQ(wrong.load(), 0);

  // A second run finds everything there already.
  absl::StatusOr<MigrateProgress> again = Run();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->copied, 0);
  EXPECT_EQ(again->kept, n);

  // Everything invalidated on the target, after the copy: nothing fresh.
  ASSERT_TRUE(to_->Invalidate("all", 0).ok());
  std::atomic<int> still{0};
  ForEach(n, [&](int i) { still += Fresh(*to_, KeyOf(i)); });
  EXPECT_EQ(still.load(), 0);
}

TEST_P(MigrateTest, AStoppedRunResumesAfterTheKeyItReported) {
  std::vector<char> fresh = Fill(kEntries);
  MigrateOptions first;
  first.batch = 100;
  std::string last;
  absl::StatusOr<MigrateProgress> part =
      Migrate(*from_, *to_, first, [&](const MigrateProgress& p) {
        last = p.last_key;
        return false;  // stop after the first page
      });
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(part->examined, 100);
  EXPECT_FALSE(part->done);
  ASSERT_FALSE(last.empty());
  MigrateOptions rest;
  rest.resume_after = last;
  absl::StatusOr<MigrateProgress> resumed = Run(rest);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->examined, kEntries - 100);
  EXPECT_EQ(resumed->kept, 0) << "the first page was not read again";
  for (int i = 0; i < kEntries; ++i) {
    EXPECT_EQ(Fresh(*to_, KeyOf(i)), static_cast<bool>(fresh[i]))
        << KeyOf(i).ToString();
  }
}

// The target's cluster time stays near real time: an entry from a source
// whose clock ran an hour ahead is skipped, and an expiry key that far
// ahead stops the copy before anything is written.
TEST_P(MigrateTest, NothingFromFarAheadMovesTheTargetsClock) {
  ASSERT_TRUE(from_->Put(WriteOf(KeyOf(2), "today")).ok());
  const int64_t ahead =
      *from_->Now() + absl::ToInt64Microseconds(absl::Hours(1));
  // An entry stamped an hour ahead (a source whose clock ran ahead): only
  // a source that imports can be made to hold one.
  EntryRef future = EntryFrom(KeyOf(1), "from the future", ahead);
  const bool holds_future = from_->Import({future}).ok();
  absl::StatusOr<MigrateProgress> copied = Run();
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(copied->copied, 1);
  EXPECT_EQ(copied->skipped, holds_future ? 1 : 0);
  EXPECT_FALSE(Fresh(*to_, KeyOf(1)));
  EXPECT_LT(*to_->Put(WriteOf(KeyOf(1), "x")), ahead);
  // An expiry key an hour ahead (poisoned) stops the copy.
  ASSERT_TRUE(from_->Invalidate("far", ahead).ok());
  absl::StatusOr<MigrateProgress> refused = Run();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("--reset far"),
            absl::string_view::npos);
}

// Every pair among memory, redis, redis-cluster and memcached with a
// ledger (memcached alone cannot be imported into: see its Import).
INSTANTIATE_TEST_SUITE_P(
    Pairs, MigrateTest,
    testing::Values(
        Pair{"memory_to_redis", kMemory, kRedis},
        Pair{"memory_to_redis_cluster", kMemory, kCluster},
        Pair{"redis_to_redis", kRedis, kRedis},
        Pair{"redis_to_redis_cluster", kRedis, kCluster},
        Pair{"redis_cluster_to_redis", kCluster, kRedis},
        Pair{"memcached_ledger_to_redis", kMemcachedLedger, kRedis},
        Pair{"memcached_ledger_to_redis_cluster", kMemcachedLedger, kCluster},
        Pair{"redis_to_memory", kRedis, kMemory},
        Pair{"memory_to_memcached_ledger", kMemory, kMemcachedLedger},
        Pair{"redis_to_memcached_ledger", kRedis, kMemcachedLedger},
        Pair{"redis_cluster_to_memcached_ledger", kCluster, kMemcachedLedger},
        Pair{"memcached_ledger_to_memcached_ledger", kMemcachedLedger,
             kMemcachedLedger}),
    ByName());

}  // namespace
}  // namespace clustercache
