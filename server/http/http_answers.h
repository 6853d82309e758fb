// The small pieces every HTTP route shares: answers (text, JSON errors with
// the HTTP status of an engine error), request headers and query values.
#ifndef CLUSTERCACHE_SERVER_HTTP_HTTP_ANSWERS_H_
#define CLUSTERCACHE_SERVER_HTTP_HTTP_ANSWERS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache/key.h"
#include "server/http/http_server.h"

namespace clustercache {

HttpResponse Text(boost::beast::http::status status, std::string body,
                  absl::string_view type);
// JSON {"error": message, "field": field} (no field when empty).
HttpResponse Error(boost::beast::http::status status, absl::string_view message,
                   absl::string_view field = "");
// The HTTP status for an engine error.
boost::beast::http::status StatusFor(const absl::Status& s);
// Error() with StatusFor's status, WWW-Authenticate on 401, Retry-After on
// 503.
HttpResponse ErrorFor(const absl::Status& s, absl::string_view field = "");
HttpResponse MethodNotAllowed(absl::string_view allow);

// A request header's value ("" when absent).
absl::string_view Header(const HttpRequest& r, boost::beast::http::field f);
absl::string_view Header(const HttpRequest& r, absl::string_view name);

// The value of `name` in a query string (percent-decoded); nullopt when
// absent or undecodable.
std::optional<std::string> QueryValue(absl::string_view query,
                                      absl::string_view name);
// "1", "true" or present without a value.
bool Truthy(const std::optional<std::string>& v);
// Every value of `name` in a query string (?tag=a&tag=b).
std::vector<std::string> QueryValues(absl::string_view query,
                                     absl::string_view name);
// `text` as a duration ("2s", "1h30m"), at most `max`; errors name `name`.
absl::StatusOr<absl::Duration> BoundedDuration(absl::string_view name,
                                               absl::string_view text,
                                               absl::Duration max);
// A duration from the query ("2s", "1h30m"), at most `max`; zero when
// absent.
absl::StatusOr<absl::Duration> QueryDuration(absl::string_view query,
                                             absl::string_view name,
                                             absl::Duration max);

// The key of /ROUTE/{scope}/{name} from what follows the route: the name is
// the rest of the path (it may hold '/'), each part percent-decoded. An
// error names its field ("scope" or "name") in `*field`.
absl::StatusOr<Key> KeyFromPath(absl::string_view rest, std::string* field);

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_HTTP_ANSWERS_H_
