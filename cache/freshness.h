// The freshness rule (DESIGN §2). The only place in the code that decides
// whether an entry is fresh; every store and the engine use it.
#ifndef CLUSTERCACHE_CACHE_FRESHNESS_H_
#define CLUSTERCACHE_CACHE_FRESHNESS_H_

#include <cstdint>

#include "cache/entry.h"

namespace clustercache {

// The caller's own bounds on a Fetch.
struct FreshnessBounds {
  int64_t newer_than = 0;  // mtime must be >= this; 0 = no bound
  int64_t max_age_us = 0;  // now - mtime must be < this; 0 = no bound
};

// fresh(e, req, now) of DESIGN §2. An expiry-key value the store could not
// tell (nullopt in `times`) makes the entry not fresh.
bool IsFresh(const EntryMeta& e, const ExpiryTimes& times,
             const FreshnessBounds& req, int64_t now);

// When an entry that is not fresh (by its own TTL, Expire and the expiry keys;
// the caller's bounds do not count) stopped being fresh, at the latest. Used
// to age stale copies against the scope's "keep". An unknown expiry key dates
// the staleness to `now`: the copy is kept, never made fresh.
int64_t StaleSince(const EntryMeta& e, const ExpiryTimes& times, int64_t now);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_FRESHNESS_H_
