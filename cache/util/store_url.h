// StoreUrl: every store and ledger URL, parsed one way:
//   SCHEME://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...][/PATH][?K=V&...]
// The user information ends at the last '@' before the query, so a password
// may hold '@', '/' or ':' as typed; it may also be percent-encoded (%40),
// as may the user, the path and query values ('?', '&', '%' and ',' must
// be). A host may be an IPv6 address in brackets ("[::1]:6379").
// Redacted() and every error message leave the password out, whatever it
// holds.
#ifndef CLUSTERCACHE_CACHE_UTIL_STORE_URL_H_
#define CLUSTERCACHE_CACHE_UTIL_STORE_URL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace clustercache {

struct UrlHost {
  std::string host;
  int port = 0;  // 0: none given
};

struct StoreUrl {
  std::string scheme;  // "redis", "redis-cluster", "memcached", "mysql"
  std::string user;
  std::string password;
  bool has_password = false;
  std::vector<UrlHost> hosts;
  std::string path;  // after the '/', decoded ("" when none)
  std::map<std::string, std::string> query;

  // The URL as given, with "***" for the password.
  std::string Redacted() const;
};

// Parses `url`; `default_port` is given to hosts without one (0: a port is
// required). Errors name what is wrong and quote the URL redacted.
absl::StatusOr<StoreUrl> ParseStoreUrl(absl::string_view url,
                                       int default_port = 0);

// `text` with the password of every SCHEME://USER:PASSWORD@ in it replaced
// by "***" (for logging a configuration); a URL that does not parse has
// everything between "://" and its last '@' replaced.
std::string RedactUrls(absl::string_view text);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_STORE_URL_H_
