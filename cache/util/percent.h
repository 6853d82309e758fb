// Percent-encoding and decoding (RFC 3986 §2.1), for store URLs and HTTP paths
// and queries alike: "%40" -> "@"; '+' stays '+'.
#ifndef CLUSTERCACHE_CACHE_UTIL_PERCENT_H_
#define CLUSTERCACHE_CACHE_UTIL_PERCENT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace clustercache {

// `in` decoded into `*out`; false on a bad escape ('%' not followed by two
// hex digits).
bool PercentDecode(absl::string_view in, std::string* out);

// `in` with every byte but the unreserved ones (letters, digits, "-._~")
// and those in `keep` ('%' never) as %XX: PercentDecode's inverse.
std::string PercentEncode(absl::string_view in, absl::string_view keep = "");

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_PERCENT_H_
