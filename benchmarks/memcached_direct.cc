// The reference for the memcached figure: gets of the same size and
// concurrency straight from the pool with libmemcached (binary protocol,
// ketama, like the store), one blocking handle per thread.
#include <libmemcached/memcached.h>

#include <atomic>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "benchmarks/bench.h"
#include "cache/store/memcached/memcached_pool.h"

namespace clustercache {

int RunMemcachedDirect(const BenchOptions& o) {
  absl::StatusOr<MemcachedUrl> url =
      ParseMemcachedUrl(absl::StrCat("memcached://", o.server));
  if (!url.ok()) {
    std::cerr << "clustercache-bench: " << url.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<MemcachedPool>> pool =
      MemcachedPool::Open(url->servers, absl::Seconds(2),
                          static_cast<int>(o.concurrency), url->sasl);
  if (!pool.ok()) {
    std::cerr << "clustercache-bench: " << pool.status().message() << "\n";
    return 1;
  }
  const std::string payload(o.payload, 'x');
  auto key = [](int64_t i) { return absl::StrCat("bench:direct:", i); };
  for (int64_t i = 0; i < o.keys; ++i) {
    absl::Status s = (*pool)->With(
        [&](McHandle& h) { return h.Set(key(i), key(i), payload); });
    if (!s.ok()) {
      std::cerr << "clustercache-bench: fill: " << s.message() << "\n";
      return 1;
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<int64_t>> latencies(o.concurrency);
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::uniform_int_distribution<int64_t> pick(0, o.keys - 1);
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string k = key(pick(rng));
        absl::Time start = absl::Now();
        absl::StatusOr<bool> ok = (*pool)->With([&](McHandle& h) {
          absl::StatusOr<absl::flat_hash_map<std::string, McItem>> got =
              h.MultiGet(k, {k});
          if (!got.ok()) return absl::StatusOr<bool>(got.status());
          return absl::StatusOr<bool>(got->size() == 1);
        });
        if (!ok.ok() || !*ok) errors.fetch_add(1);
        latencies[t].push_back(absl::ToInt64Microseconds(absl::Now() - start));
      }
    });
  }
  absl::SleepFor(o.duration);
  stop = true;
  for (std::thread& t : threads) t.join();
  std::vector<int64_t> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::cout << absl::StrFormat(
      "memcached direct: %d gets in %s = %.0f gets/s (%d threads, %d-byte "
      "values, %d keys, %d errors)\n",
      all.size(), absl::FormatDuration(o.duration),
      all.size() / absl::ToDoubleSeconds(o.duration), o.concurrency, o.payload,
      o.keys, errors.load());
  std::cout << "latency " << Percentiles(all) << "\n";
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace clustercache
