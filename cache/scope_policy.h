// ScopePolicy: the per-scope settings of the lease protocol: how long a lease
// lasts, and how long a stale copy is kept (served while someone regenerates)
// after it stops being fresh. Defaults, plus overrides per scope.
#ifndef CLUSTERCACHE_CACHE_SCOPE_POLICY_H_
#define CLUSTERCACHE_CACHE_SCOPE_POLICY_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace clustercache {

// "scope=duration[,scope=duration...]" as given on the command line.
using ScopeDurations = absl::flat_hash_map<std::string, absl::Duration>;
absl::Status ParseScopeDurations(absl::string_view text, ScopeDurations* out);
std::string FormatScopeDurations(const ScopeDurations& durations);

struct ScopePolicy {
  absl::Duration lease_time = absl::Seconds(60);
  absl::Duration keep = absl::Hours(1);
  ScopeDurations lease_time_by_scope;
  ScopeDurations keep_by_scope;

  absl::Duration LeaseTime(absl::string_view scope) const;
  absl::Duration Keep(absl::string_view scope) const;
  // Lease times must be positive; keep times must not be negative.
  absl::Status Validate() const;
  std::string ToString() const;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_SCOPE_POLICY_H_
