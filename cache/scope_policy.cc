#include "cache/scope_policy.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/duration.h"
#include "cache/key.h"

namespace clustercache {
namespace {

absl::Duration Lookup(const ScopeDurations& by_scope, absl::string_view scope,
                      absl::Duration fallback) {
  auto it = by_scope.find(scope);
  return it == by_scope.end() ? fallback : it->second;
}

}  // namespace

absl::Status ParseScopeDurations(absl::string_view text, ScopeDurations* out) {
  out->clear();
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (absl::Status s = ValidateScope(kv.first); !s.ok()) return s;
    absl::StatusOr<absl::Duration> d = ParseDuration(kv.second);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("scope ", kv.first, ": ", d.status().message()));
    }
    (*out)[kv.first] = *d;
  }
  return absl::OkStatus();
}

std::string FormatScopeDurations(const ScopeDurations& durations) {
  std::vector<std::string> items;
  for (const auto& [scope, d] : durations) {
    items.push_back(absl::StrCat(scope, "=", ShowDuration(d)));
  }
  std::sort(items.begin(), items.end());
  return absl::StrJoin(items, ",");
}

absl::Duration ScopePolicy::LeaseTime(absl::string_view scope) const {
  return Lookup(lease_time_by_scope, scope, lease_time);
}

absl::Duration ScopePolicy::Keep(absl::string_view scope) const {
  return Lookup(keep_by_scope, scope, keep);
}

absl::Status ScopePolicy::Validate() const {
  auto positive = [](absl::Duration d) { return d > absl::ZeroDuration(); };
  bool ok = positive(lease_time) && keep >= absl::ZeroDuration();
  for (const auto& [scope, d] : lease_time_by_scope) ok = ok && positive(d);
  for (const auto& [scope, d] : keep_by_scope) {
    ok = ok && d >= absl::ZeroDuration();
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "lease times must be > 0 and keep times >= 0: " + ToString());
}

std::string ScopePolicy::ToString() const {
  return absl::StrCat(
      "lease_time=", ShowDuration(lease_time), " keep=", ShowDuration(keep),
      " lease_time_by_scope={", FormatScopeDurations(lease_time_by_scope),
      "} keep_by_scope={", FormatScopeDurations(keep_by_scope), "}");
}

}  // namespace clustercache
