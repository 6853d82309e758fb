#include "server/http/conditional.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace clustercache {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// The opaque part of one entity tag ("W/" and quotes removed); nullopt when
// it is not one.
std::optional<absl::string_view> Opaque(absl::string_view tag) {
  tag = absl::StripAsciiWhitespace(tag);
  absl::ConsumePrefix(&tag, "W/");
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') {
    return std::nullopt;
  }
  return tag.substr(1, tag.size() - 2);
}

bool IsWeak(absl::string_view tag) {
  return absl::StartsWith(absl::StripAsciiWhitespace(tag), "W/");
}

// Seconds since the epoch from decimal digits, at most `max`.
bool Digits(absl::string_view text, int64_t max, int64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, out) && *out <= max;
}

}  // namespace

std::string EntityTag(const EntryMeta& meta) {
  return absl::StrFormat("\"%x-%08x\"", static_cast<uint64_t>(meta.mtime),
                         meta.crc32);
}

std::optional<absl::Time> LastModified(const EntryMeta& meta, int64_t now) {
  if (meta.mtime <= 0) return std::nullopt;
  const int64_t second = meta.mtime / kMicrosPerSecond;
  if (now / kMicrosPerSecond <= second) return std::nullopt;
  return absl::FromUnixSeconds(second);
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseHttpDate(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text.size() > 64) return std::nullopt;
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y"}) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(format, std::string(text), absl::UTCTimeZone(), &t,
                        &err)) {
      return t;
    }
  }
  return std::nullopt;
}

bool NoneMatchNames(absl::string_view header, absl::string_view etag) {
  std::optional<absl::string_view> ours = Opaque(etag);
  if (!ours.has_value()) return false;
  if (absl::StripAsciiWhitespace(header) == "*") return true;
  int seen = 0;
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    if (++seen > 64) return false;  // a list that long names nothing of ours
    std::optional<absl::string_view> theirs = Opaque(tag);
    if (theirs.has_value() && *theirs == *ours) return true;
  }
  return false;
}

bool NotModified(absl::string_view if_none_match,
                 absl::string_view if_modified_since, absl::string_view etag,
                 std::optional<absl::Time> last_modified, int64_t now) {
  if (!if_none_match.empty()) return NoneMatchNames(if_none_match, etag);
  if (if_modified_since.empty() || !last_modified.has_value()) return false;
  std::optional<absl::Time> since = ParseHttpDate(if_modified_since);
  if (!since.has_value()) return false;
  if (*since > absl::FromUnixMicros(now)) return false;  // a date to come
  return *last_modified <= *since;
}

bool RangeStillValid(absl::string_view if_range, absl::string_view etag,
                     std::optional<absl::Time> last_modified) {
  if (if_range.empty()) return true;
  absl::string_view trimmed = absl::StripAsciiWhitespace(if_range);
  if (!trimmed.empty() && (trimmed.front() == '"' || IsWeak(trimmed))) {
    if (IsWeak(trimmed)) return false;  // strong comparison only
    std::optional<absl::string_view> theirs = Opaque(trimmed);
    std::optional<absl::string_view> ours = Opaque(etag);
    return theirs.has_value() && ours.has_value() && *theirs == *ours;
  }
  std::optional<absl::Time> date = ParseHttpDate(trimmed);
  return date.has_value() && last_modified.has_value() &&
         *date == *last_modified;
}

ByteRange ParseRange(absl::string_view header, int64_t size) {
  ByteRange whole;
  absl::string_view spec = absl::StripAsciiWhitespace(header);
  if (!absl::ConsumePrefix(&spec, "bytes=")) return whole;
  if (spec.find(',') != absl::string_view::npos) return whole;  // several
  spec = absl::StripAsciiWhitespace(spec);
  const size_t dash = spec.find('-');
  if (dash == absl::string_view::npos) return whole;
  absl::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  constexpr int64_t kMax = int64_t{1} << 62;
  ByteRange r;
  r.kind = ByteRange::kPart;
  if (a.empty()) {  // the last n bytes
    int64_t n = 0;
    if (!Digits(b, kMax, &n)) return whole;
    if (n == 0 || size == 0) return {ByteRange::kUnsatisfiable, 0, 0};
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }
  if (!Digits(a, kMax, &r.first)) return whole;
  if (b.empty()) {
    r.last = size - 1;
  } else {
    if (!Digits(b, kMax, &r.last) || r.last < r.first) return whole;
    if (r.last >= size) r.last = size - 1;
  }
  if (r.first >= size) return {ByteRange::kUnsatisfiable, 0, 0};
  return r;
}

}  // namespace clustercache
