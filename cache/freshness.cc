#include "cache/freshness.h"

#include <algorithm>

namespace clustercache {
namespace {

// mtime > T(k), with an unknown T never satisfied.
bool NewerThanExpiryKey(int64_t mtime, const std::optional<int64_t>& t) {
  return t.has_value() && mtime > *t;
}

}  // namespace

bool IsFresh(const EntryMeta& e, const ExpiryTimes& times,
             const FreshnessBounds& req, int64_t now) {
  if (e.expired()) return false;
  if (e.expires_at != 0 && now >= e.expires_at) return false;
  if (!NewerThanExpiryKey(e.mtime, times.all)) return false;
  if (!NewerThanExpiryKey(e.mtime, times.scope)) return false;
  if (times.tags.size() != e.tags.size()) return false;
  for (const std::optional<int64_t>& t : times.tags) {
    if (!NewerThanExpiryKey(e.mtime, t)) return false;
  }
  if (e.mtime < req.newer_than) return false;
  if (req.max_age_us != 0 && now - e.mtime >= req.max_age_us) return false;
  return true;
}

int64_t StaleSince(const EntryMeta& e, const ExpiryTimes& times, int64_t now) {
  int64_t since = now;
  if (e.expired()) since = std::min(since, e.expired_at);
  if (e.expires_at != 0 && e.expires_at <= now) {
    since = std::min(since, e.expires_at);
  }
  auto consider = [&](const std::optional<int64_t>& t) {
    if (t.has_value() && *t >= e.mtime) since = std::min(since, *t);
  };
  consider(times.all);
  consider(times.scope);
  for (const std::optional<int64_t>& t : times.tags) consider(t);
  return since;
}

}  // namespace clustercache
