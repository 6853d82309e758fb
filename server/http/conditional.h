// The HTTP caching validators and byte ranges of an entry (RFC 9110 §8.8,
// §13, §14): its entity tag and Last-Modified, the answer to If-None-Match,
// If-Modified-Since and If-Range, and the one range of a Range header.
// Pure functions over header values from the network: anything malformed
// is "no condition" (or "no range"), never a crash.
#ifndef CLUSTERCACHE_SERVER_HTTP_CONDITIONAL_H_
#define CLUSTERCACHE_SERVER_HTTP_CONDITIONAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache/entry.h"

namespace clustercache {

// A strong, quoted tag of one generation: its mtime and payload checksum,
// e.g. "\"5f1c2a3b4c5d6-1a2b3c4d\"".
std::string EntityTag(const EntryMeta& meta);

// Last-Modified of an entry: its mtime to the second below. Given only once
// that second has passed in cluster time (`now`); before, another
// generation could still get the same second, and a client holding the
// older one would be told 304 by If-Modified-Since. nullopt then.
std::optional<absl::Time> LastModified(const EntryMeta& meta, int64_t now);

// "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(absl::Time t);
// IMF-fixdate, RFC 850 or asctime; nullopt when none of them.
std::optional<absl::Time> ParseHttpDate(absl::string_view text);

// If-None-Match: whether `header` (a list of tags, or "*") names `etag`
// (weak comparison: W/ is ignored on both sides).
bool NoneMatchNames(absl::string_view header, absl::string_view etag);

// Whether a GET/HEAD with these headers ("" = absent) is answered 304 for
// an entry with this tag and Last-Modified. If-None-Match, when present,
// decides alone; else If-Modified-Since counts, and only when the entry has
// a Last-Modified and the date is not after `now` (cluster time).
bool NotModified(absl::string_view if_none_match,
                 absl::string_view if_modified_since, absl::string_view etag,
                 std::optional<absl::Time> last_modified, int64_t now);

// If-Range ("" = absent): whether the range may be served. A tag must match
// strongly; a date must equal the Last-Modified exactly.
bool RangeStillValid(absl::string_view if_range, absl::string_view etag,
                     std::optional<absl::Time> last_modified);

struct ByteRange {
  enum Kind {
    kWhole,          // no Range, or one not understood, or several ranges
    kPart,           // bytes first..last (inclusive) of the payload
    kUnsatisfiable,  // 416, Content-Range: bytes */size
  };
  Kind kind = kWhole;
  int64_t first = 0;
  int64_t last = 0;
};
// The Range header ("" = absent) for a payload of `size` bytes: one
// "bytes=a-b", "bytes=a-" or "bytes=-n" range; several ranges are served
// whole (200).
ByteRange ParseRange(absl::string_view header, int64_t size);

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_CONDITIONAL_H_
