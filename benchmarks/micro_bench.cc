// Micro benchmarks of the core: the freshness check, and fetch hits and
// stores on the memory store through ContentCache (the real fetch path),
// 4 KiB payloads, 1 and 2 threads.
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "benchmark/benchmark.h"
#include "cache/content_cache.h"
#include "cache/freshness.h"
#include "cache/store/memory/memory_store.h"

namespace clustercache {
namespace {

constexpr int kKeys = 10000;
constexpr size_t kPayload = 4096;

void BM_IsFresh(benchmark::State& state) {
  EntryMeta e;
  e.mtime = 1000;
  e.tags = {"subtree:2", "class:article"};
  ExpiryTimes times{10, 20, {30, 40}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(IsFresh(e, times, {}, 5000));
  }
}
BENCHMARK(BM_IsFresh);

// One cache shared by all threads of a benchmark run.
struct Fixture {
  Fixture() {
    store = NewMemoryStore({});
    cache = std::make_unique<ContentCache>(store.get(), ContentCacheOptions{});
    payload = std::make_shared<const std::string>(kPayload, 'x');
    for (int i = 0; i < kKeys; ++i) {
      keys.emplace_back("content-view",
                        "site/full/2/" + std::to_string(i) + ".cache");
      EntryWrite w;
      w.key = keys.back();
      w.payload = payload;
      w.tags = {"subtree:2"};
      (void)cache->Store(w, "");
    }
  }
  std::unique_ptr<Store> store;
  std::unique_ptr<ContentCache> cache;
  Payload payload;
  std::vector<Key> keys;
};

Fixture& Shared() {
  // As in clustercached: no debug deadlock detection on the measured path.
  static bool quiet = [] {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    return true;
  }();
  (void)quiet;
  static Fixture* f = new Fixture();
  return *f;
}

void BM_FetchHit(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = state.thread_index() * 7919;
  int64_t bytes = 0;
  for (auto _ : state) {
    FetchRequest request{f.keys[i++ % kKeys]};
    absl::StatusOr<FetchResult> r = f.cache->Fetch(request);
    if (!r.ok() || r->outcome != FetchOutcome::kHit) {
      state.SkipWithError("not a hit");
      break;
    }
    bytes += r->entry->payload->size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_FetchHit)->Threads(1)->Threads(2)->UseRealTime();

void BM_StoreRead(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = state.thread_index() * 7919;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.store->Read(f.keys[i++ % kKeys]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreRead)->Threads(1)->Threads(2)->UseRealTime();

void BM_Store(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = state.thread_index() * 7919;
  EntryWrite w;
  w.payload = f.payload;
  w.tags = {"subtree:2"};
  for (auto _ : state) {
    w.key = f.keys[i++ % kKeys];
    if (!f.cache->Store(w, "").ok()) {
      state.SkipWithError("store failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Store)->Threads(1)->Threads(2)->UseRealTime();

// N fetches wait on one key for its holder; one store wakes them. Timed:
// from the store to the last answer (issue 14: 5000 took 4.2 s when ending
// a watch was O(N)).
void BM_WakeWaiters(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::unique_ptr<Store> store = NewMemoryStore({});
  ContentCacheOptions options;
  options.max_waiters_per_key = n;
  options.max_waiters = n;
  ContentCache cache(store.get(), options);
  int round = 0;
  for (auto _ : state) {
    const Key key("content-view", "wake/" + std::to_string(round++));
    if (cache.Fetch(FetchRequest{key})->outcome != FetchOutcome::kMissLease) {
      state.SkipWithError("no lease");
      break;
    }
    absl::BlockingCounter answered(n);
    FetchRequest request{key};
    request.wait = absl::Seconds(60);
    for (int i = 0; i < n; ++i) {
      cache.FetchAsync(request, [&answered](absl::StatusOr<FetchResult>) {
        answered.DecrementCount();
      });
    }
    EntryWrite w;
    w.key = key;
    w.payload = std::make_shared<const std::string>("v");
    const absl::Time start = absl::Now();
    (void)cache.Store(w, "");
    answered.Wait();
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_WakeWaiters)
    ->Arg(200)
    ->Arg(5000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace clustercache
