#include "cache/stats.h"

#include <algorithm>
#include <vector>

namespace clustercache {

void ScopeCounters::Visit(
    const std::function<void(absl::string_view, absl::string_view, int64_t)>&
        visit) const {
#define CLUSTERCACHE_VISIT_COUNTER(name, help) \
  visit(#name, help, name.load(std::memory_order_relaxed));
  CLUSTERCACHE_SCOPE_COUNTERS(CLUSTERCACHE_VISIT_COUNTER)
#undef CLUSTERCACHE_VISIT_COUNTER
}

void NodeCounters::Visit(
    const std::function<void(absl::string_view, absl::string_view, int64_t)>&
        visit) const {
#define CLUSTERCACHE_VISIT_COUNTER(name, help) \
  visit(#name, help, name.load(std::memory_order_relaxed));
  CLUSTERCACHE_NODE_COUNTERS(CLUSTERCACHE_VISIT_COUNTER)
#undef CLUSTERCACHE_VISIT_COUNTER
}

ScopeCounters* Stats::For(absl::string_view scope) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = scopes_.find(scope);
    if (it != scopes_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  if (scopes_.size() >= kMaxScopes && !scopes_.contains(scope)) {
    scope = "other";
  }
  auto& slot = scopes_[scope];
  if (!slot) slot = std::make_unique<ScopeCounters>();
  return slot.get();
}

void Stats::VisitScopes(
    const std::function<void(const std::string&, const ScopeCounters&)>& visit)
    const {
  std::vector<std::pair<std::string, const ScopeCounters*>> sorted;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [scope, counters] : scopes_) {
      sorted.emplace_back(scope, counters.get());
    }
  }
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [scope, counters] : sorted) visit(scope, *counters);
}

double Stats::HitRatio() const {
  int64_t hits = 0, fetches = 0;
  VisitScopes([&](const std::string&, const ScopeCounters& c) {
    hits += c.hits.load(std::memory_order_relaxed);
    fetches += c.hits.load(std::memory_order_relaxed) +
               c.stale_serves.load(std::memory_order_relaxed) +
               c.misses.load(std::memory_order_relaxed);
  });
  return fetches == 0 ? 0 : static_cast<double>(hits) / fetches;
}

}  // namespace clustercache
