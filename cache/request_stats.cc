#include "cache/request_stats.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace clustercache {

void RequestStats::Series::Record(absl::string_view code, absl::Duration took) {
  durations_.Observe(took);
  absl::MutexLock lock(&mu_);
  auto it = codes_.find(code);
  if (it != codes_.end()) {
    ++it->second;
  } else if (codes_.size() < kMaxCodes - 1) {
    codes_.emplace(code, 1);
  } else {
    ++codes_["other"];
  }
}

std::vector<std::pair<std::string, int64_t>> RequestStats::Series::Codes()
    const {
  std::vector<std::pair<std::string, int64_t>> out;
  {
    absl::MutexLock lock(&mu_);
    out.assign(codes_.begin(), codes_.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

RequestStats::Series* RequestStats::For(
    const std::vector<absl::string_view>& labels) {
  std::string id = absl::StrJoin(labels, std::string(1, '\0'));
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(id);
    if (it != series_.end()) return it->second.get();
  }
  std::vector<std::string> values(labels.begin(), labels.end());
  absl::MutexLock lock(&mu_);
  if (series_.size() >= max_series_ && !series_.contains(id)) {
    values.assign(labels.size(), "other");
    id = absl::StrJoin(values, std::string(1, '\0'));
  }
  auto& slot = series_[id];
  if (!slot) slot = std::make_unique<Series>(std::move(values));
  return slot.get();
}

void RequestStats::Visit(
    const std::function<void(const Series&)>& visit) const {
  std::vector<std::pair<std::string, const Series*>> sorted;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, series] : series_) {
      sorted.emplace_back(id, series.get());
    }
  }
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [id, series] : sorted) visit(*series);
}

}  // namespace clustercache
