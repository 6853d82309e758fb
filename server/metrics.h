// Metrics: the node's Stats as a Prometheus scrape (text format 0.0.4).
// The families and labels are listed in README "Monitoring"; the figures
// come from the one Stats structure (nothing is counted twice), and the
// exposition is prometheus-cpp's TextSerializer. Store-wide gauges
// (entries, bytes) are read from the store at most every `usage_every`.
// Thread-safe.
#ifndef CLUSTERCACHE_SERVER_METRICS_H_
#define CLUSTERCACHE_SERVER_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/content_cache.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace clustercache {

class Metrics : public prometheus::Collectable {
 public:
  // REQUIRES: `cache` outlives this object.
  Metrics(ContentCache* cache, int64_t memory_limit_bytes,
          absl::Duration usage_every = absl::Seconds(5));

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The scrape, as /metrics answers it.
  std::string Text() const;

 private:
  // The store's usage, read again when older than usage_every_.
  std::optional<StoreUsage> RecentUsage() const;

  ContentCache* const cache_;
  const int64_t memory_limit_bytes_;
  const absl::Duration usage_every_;
  mutable absl::Mutex mu_;
  mutable absl::Time usage_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  mutable std::optional<StoreUsage> usage_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_METRICS_H_
