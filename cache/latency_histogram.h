// LatencyHistogram: counts of durations in fixed buckets (seconds, from
// 50 µs to 60 s, roughly ×2.5 apart), their sum and count; lock-free.
// The Prometheus page exposes it as a histogram; nothing here knows the
// format. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_LATENCY_HISTOGRAM_H_
#define CLUSTERCACHE_CACHE_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace clustercache {

class LatencyHistogram {
 public:
  // Upper bounds in seconds; a last bucket (+Inf) holds the rest.
  static constexpr std::array<double, 16> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   60};

  struct Snapshot {
    // counts[i]: observations <= kBounds[i] and > kBounds[i-1] (not
    // cumulative); counts.back(): the rest.
    std::array<uint64_t, kBounds.size() + 1> counts{};
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  // Negative durations count as zero.
  void Observe(absl::Duration d);
  Snapshot Take() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<int64_t> sum_ns_{0};
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_LATENCY_HISTOGRAM_H_
