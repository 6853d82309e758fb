#include "server/admin_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cache/limits.h"
#include "cache/util/log.h"
#include "cache/util/version.h"

namespace clustercache {

absl::StatusOr<std::vector<std::string>> ExpiryKeysOf(
    const InvalidateTarget& target) {
  const int given = target.scope.has_value() + target.all.has_value() +
                    target.tags.has_value();
  if (given != 1) {
    return absl::InvalidArgumentError(
        "target: give exactly one of scope, all, tags");
  }
  if (target.scope.has_value()) {
    if (absl::Status s = ValidateScope(*target.scope); !s.ok()) return s;
    return std::vector<std::string>{ScopeExpiryKey(*target.scope)};
  }
  if (target.all.has_value()) {
    if (!*target.all) {
      return absl::InvalidArgumentError(
          "all: must be true to invalidate everything");
    }
    return std::vector<std::string>{std::string(kExpiryAll)};
  }
  std::vector<std::string> keys = *target.tags;
  if (keys.empty() || keys.size() > static_cast<size_t>(kMaxInvalidateTags)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tags: ", keys.size(), " tags; give 1 .. ", kMaxInvalidateTags));
  }
  for (const std::string& tag : keys) {
    if (absl::Status s = ValidateTag(tag); !s.ok()) return s;
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

absl::StatusOr<std::vector<ExpiryKeyValue>> InvalidateKeys(
    ContentCache& cache, const std::vector<std::string>& keys, int64_t at) {
  std::vector<ExpiryKeyValue> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    absl::StatusOr<int64_t> value = cache.Invalidate(key, at);
    if (!value.ok()) {
      if (out.empty()) return value.status();
      return absl::Status(
          value.status().code(),
          absl::StrCat(value.status().message(), " (", out.size(), " of ",
                       keys.size(), " keys were invalidated before it)"));
    }
    out.push_back({key, *value});
  }
  return out;
}

absl::Status CheckPurge(const PurgeRequest& purge, bool everything) {
  if (purge.batch < 1 || purge.batch > kMaxPurgeBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch: ", purge.batch, " is not 1 .. ", kMaxPurgeBatch));
  }
  const bool filtered = !purge.scope.empty() || !purge.prefix.empty() ||
                        purge.older_than != absl::ZeroDuration() ||
                        purge.only_not_fresh;
  if (filtered == everything) {
    return absl::InvalidArgumentError(
        filtered ? "everything: set with a filter (scope, prefix, "
                   "older_than, only_not_fresh); give one or the other"
                 : "everything: a purge without a filter (scope, prefix, "
                   "older_than, only_not_fresh) removes every entry; "
                   "set everything to say so");
  }
  return absl::OkStatus();
}

AuditLine::AuditLine(absl::string_view op, std::string target, std::string peer,
                     absl::StatusOr<std::string> caller)
    : op_(op), target_(std::move(target)), peer_(std::move(peer)) {
  if (target_.size() > 200) target_ = target_.substr(0, 200) + "...";
  if (caller.ok()) {
    who_ = caller->empty() ? "-" : *caller;
  } else {
    who_ = "(refused)";
    refusal_ = caller.status();
  }
}

AuditLine::~AuditLine() {
  if (!LogEnabled(LogLevel::kInfo)) return;
  const std::string count = count_ >= 0 ? absl::StrCat(count_) : "";
  LogLine(LogLevel::kInfo,
          absl::StrCat("audit: ", op_, " {", target_, "} by ", who_, " from ",
                       peer_, ": ", result_,
                       count.empty() ? "" : absl::StrCat(", count ", count)),
          {{"audit", op_},
           {"target", target_},
           {"caller", who_},
           {"peer", peer_},
           {"result", result_},
           {"count", count}});
}

absl::Status AuditLine::Done(absl::Status status) {
  result_ = status.ok() ? "OK"
                        : absl::StrCat(absl::StatusCodeToString(status.code()),
                                       ": ", status.message());
  return status;
}

v1::StatsResponse CollectStats(ContentCache& cache,
                               absl::string_view node_name) {
  v1::StatsResponse response;
  const Stats& stats = cache.stats();
  response.set_served_by(std::string(node_name));
  response.set_version(std::string(Version()));
  response.set_revision(std::string(Revision()));
  response.set_uptime_ms(
      absl::ToInt64Milliseconds(absl::Now() - stats.started));
  response.set_hit_ratio(stats.HitRatio());
  stats.node().Visit(
      [&](absl::string_view name, absl::string_view, int64_t value) {
        (*response.mutable_node_counters())[std::string(name)] = value;
      });
  stats.VisitScopes([&](const std::string& scope, const ScopeCounters& c) {
    v1::ScopeStats* out = response.add_scopes();
    out->set_scope(scope);
    c.Visit([&](absl::string_view name, absl::string_view, int64_t value) {
      (*out->mutable_counters())[std::string(name)] = value;
    });
  });
  // The counters are worth having while the store cannot count.
  absl::StatusOr<StoreUsage> usage = cache.Usage();
  if (usage.ok()) {
    response.set_entries(usage->entries);
    response.set_bytes(usage->bytes);
  } else {
    response.set_usage_unknown(std::string(usage.status().message()));
  }
  return response;
}

}  // namespace clustercache
