// RequestStats: calls counted by a few label values (a route; a service and
// method; a store operation) and by their result code, with a duration
// histogram per label set. Used for gRPC calls, HTTP requests and store
// operations alike, so /metrics reads all three the same way.
//
// Bounded: at most `max_series` label sets (beyond it, every label is
// "other") and at most kMaxCodes codes per set (beyond it, "other").
// Thread-safe; a Series pointer stays valid for the life of this object.
#ifndef CLUSTERCACHE_CACHE_REQUEST_STATS_H_
#define CLUSTERCACHE_CACHE_REQUEST_STATS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cache/latency_histogram.h"

namespace clustercache {

class RequestStats {
 public:
  static constexpr size_t kMaxCodes = 32;

  class Series {
   public:
    explicit Series(std::vector<std::string> labels)
        : labels_(std::move(labels)) {}
    // One call that ended with `code` after `took`.
    void Record(absl::string_view code, absl::Duration took);
    const std::vector<std::string>& labels() const { return labels_; }
    // (code, count), ordered by code.
    std::vector<std::pair<std::string, int64_t>> Codes() const;
    LatencyHistogram::Snapshot Durations() const { return durations_.Take(); }

   private:
    const std::vector<std::string> labels_;
    mutable absl::Mutex mu_;
    absl::flat_hash_map<std::string, int64_t> codes_ ABSL_GUARDED_BY(mu_);
    LatencyHistogram durations_;
  };

  RequestStats(std::vector<std::string> label_names, size_t max_series)
      : label_names_(std::move(label_names)), max_series_(max_series) {}

  const std::vector<std::string>& label_names() const { return label_names_; }
  // The series of `labels` (one value per label name), created on first use.
  Series* For(const std::vector<absl::string_view>& labels);
  // Calls visit(series) for each, ordered by labels.
  void Visit(const std::function<void(const Series&)>& visit) const;

 private:
  const std::vector<std::string> label_names_;
  const size_t max_series_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Series>> series_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_REQUEST_STATS_H_
