// Bounds on every duration and count a caller passes in (issue 14): the
// server checks them at the edge, naming the wire field
// (server/proto_convert.cc), and the engine again, so no arithmetic on
// them can overflow.
#ifndef CLUSTERCACHE_CACHE_LIMITS_H_
#define CLUSTERCACHE_CACHE_LIMITS_H_

#include "absl/time/time.h"

namespace clustercache {

inline constexpr absl::Duration kMaxTtl = absl::Hours(24 * 365 * 10);
inline constexpr absl::Duration kMaxAge = absl::Hours(24 * 365 * 10);
inline constexpr absl::Duration kMaxWait = absl::Minutes(10);
inline constexpr absl::Duration kMaxPurgePause = absl::Minutes(1);
inline constexpr int kMaxPurgeBatch = 100000;
// Tags invalidated by one call (a CMS invalidates dozens per save).
inline constexpr int kMaxInvalidateTags = 1000;
// Invalidate(at): how far past cluster now `at` may be. Expiry keys only
// move forward, so a later one would make every entry stale at birth
// until then.
inline constexpr absl::Duration kMaxInvalidateAhead = absl::Minutes(1);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_LIMITS_H_
