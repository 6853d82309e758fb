#include "cache/latency_histogram.h"

#include <algorithm>

namespace clustercache {

void LatencyHistogram::Observe(absl::Duration d) {
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(d));
  const size_t i = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) -
                   kBounds.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  // A sum in nanoseconds overflows after 292 years of observed time.
  sum_ns_.fetch_add(absl::ToInt64Nanoseconds(std::max(d, absl::ZeroDuration())),
                    std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Take() const {
  Snapshot s;
  for (size_t i = 0; i < counts_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum_seconds = sum_ns_.load(std::memory_order_relaxed) / 1e9;
  return s;
}

}  // namespace clustercache
