#include "cache/duration.h"

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

struct Unit {
  absl::string_view suffix;
  int64_t scale;
};

// Reads "<digits><unit>" pairs; units are matched longest first.
absl::StatusOr<int64_t> ParseSum(absl::string_view text, const Unit* units,
                                 int n_units, bool unit_required,
                                 absl::string_view what) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", text, "\""));
  };
  if (s.empty()) return bad();
  if (s == "0") return 0;
  int64_t total = 0;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() && absl::ascii_isdigit(s[digits])) ++digits;
    int64_t value;
    if (digits == 0 || digits > 18 ||
        !absl::SimpleAtoi(s.substr(0, digits), &value)) {
      return bad();
    }
    s.remove_prefix(digits);
    int64_t scale = 0;
    for (int i = 0; i < n_units; ++i) {
      if (absl::StartsWith(s, units[i].suffix)) {
        scale = units[i].scale;
        s.remove_prefix(units[i].suffix.size());
        break;
      }
    }
    if (scale == 0) {
      if (unit_required || !s.empty()) return bad();
      scale = 1;
    }
    if (value > std::numeric_limits<int64_t>::max() / scale - total) {
      return bad();
    }
    total += value * scale;
  }
  return total;
}

constexpr int64_t kMs = 1000;  // in microseconds
constexpr Unit kDurationUnits[] = {
    {"ms", kMs},
    {"us", 1},
    {"s", 1000 * kMs},
    {"m", 60 * 1000 * kMs},
    {"h", 3600 * 1000 * kMs},
    {"d", 86400 * 1000 * kMs},
};
// Matched on the lower-cased text; every unit is binary, as operators of
// memcached and Redis expect of 1G (1G = 1GB = 1GiB = 2^30 bytes).
constexpr Unit kSizeUnits[] = {
    {"kib", 1LL << 10}, {"mib", 1LL << 20}, {"gib", 1LL << 30},
    {"tib", 1LL << 40}, {"kb", 1LL << 10},  {"mb", 1LL << 20},
    {"gb", 1LL << 30},  {"tb", 1LL << 40},  {"k", 1LL << 10},
    {"m", 1LL << 20},   {"g", 1LL << 30},   {"t", 1LL << 40},
    {"b", 1},
};

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  absl::StatusOr<int64_t> us = ParseSum(
      text, kDurationUnits, std::size(kDurationUnits),
      /*unit_required=*/true, "duration (use e.g. 500ms, 90s, 15m, 2h, 2d)");
  if (!us.ok()) return us.status();
  return absl::Microseconds(*us);
}

std::string ShowDuration(absl::Duration d) {
  int64_t us = absl::ToInt64Microseconds(d);
  if (us == 0) return "0";
  // Largest unit that divides it exactly: d, h, m, s, ms, us.
  for (absl::string_view suffix : {"d", "h", "m", "s", "ms", "us"}) {
    for (const Unit& u : kDurationUnits) {
      if (u.suffix == suffix && us % u.scale == 0) {
        return absl::StrCat(us / u.scale, u.suffix);
      }
    }
  }
  return absl::StrCat(us, "us");
}

absl::StatusOr<int64_t> ParseByteSize(absl::string_view text) {
  absl::StatusOr<int64_t> bytes =
      ParseSum(absl::AsciiStrToLower(text), kSizeUnits, std::size(kSizeUnits),
               /*unit_required=*/false, "");
  if (bytes.ok()) return bytes;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid byte size \"", text,
      "\" (use e.g. 4096, 64KiB, 512MB, 1G or 1gb; units are binary: 1G = "
      "1GB = 1GiB = 1073741824)"));
}

std::string ShowByteSize(int64_t bytes) {
  if (bytes != 0) {
    for (const char* suffix : {"GiB", "MiB", "KiB"}) {
      int64_t scale = suffix[0] == 'G'   ? 1LL << 30
                      : suffix[0] == 'M' ? 1LL << 20
                                         : 1LL << 10;
      if (bytes % scale == 0) return absl::StrCat(bytes / scale, suffix);
    }
  }
  return absl::StrCat(bytes);
}

}  // namespace clustercache
