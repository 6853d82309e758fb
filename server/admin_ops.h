// The rules of the admin operations that do not belong to the engine, in
// one place for both faces (the gRPC Admin service and the HTTP admin
// routes): which expiry keys an invalidation moves, when a purge must say
// "everything", and the audit line every admin call leaves.
#ifndef CLUSTERCACHE_SERVER_ADMIN_OPS_H_
#define CLUSTERCACHE_SERVER_ADMIN_OPS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cache/content_cache.h"
#include "clustercache/v1/cache.pb.h"

namespace clustercache {

// What an invalidation names: exactly one of a scope, everything, or tags
// (1 .. kMaxInvalidateTags of them).
struct InvalidateTarget {
  std::optional<std::string> scope;
  std::optional<bool> all;  // when given, must be true
  std::optional<std::vector<std::string>> tags;
};

// The expiry keys `target` moves, checked; a tag named twice counts once.
absl::StatusOr<std::vector<std::string>> ExpiryKeysOf(
    const InvalidateTarget& target);

// Invalidates each key in turn, all at `at` (0: now). On a failure the
// keys before it stay invalidated (an expiry key only moves forward) and
// the error says how many were.
absl::StatusOr<std::vector<ExpiryKeyValue>> InvalidateKeys(
    ContentCache& cache, const std::vector<std::string>& keys, int64_t at);

// A purge with no filter removes every entry: `everything` must say so,
// and must not be set beside a filter. Also checks the batch size.
absl::Status CheckPurge(const PurgeRequest& purge, bool everything);

// The node's stats as both faces answer them (gRPC Stats, GET /v1/stats):
// its counters, uptime and hit ratio, and the store's usage (or, in
// usage_unknown, why the store could not tell).
v1::StatsResponse CollectStats(ContentCache& cache,
                               absl::string_view node_name);

// The audit line of one admin call: operation, target, caller (token name,
// never the token), peer, result and count, logged once when it ends.
class AuditLine {
 public:
  // `caller` is the token name ("" without an auth file) or the refusal.
  AuditLine(absl::string_view op, std::string target, std::string peer,
            absl::StatusOr<std::string> caller);
  AuditLine(const AuditLine&) = delete;
  AuditLine& operator=(const AuditLine&) = delete;
  ~AuditLine();

  bool allowed() const { return refusal_.ok(); }
  const absl::Status& refusal() const { return refusal_; }
  void Count(int64_t n) { count_ = n; }
  // Records the call's result; returns it.
  absl::Status Done(absl::Status status);

 private:
  std::string op_, target_, peer_, who_, result_ = "?";
  absl::Status refusal_;
  int64_t count_ = -1;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_ADMIN_OPS_H_
