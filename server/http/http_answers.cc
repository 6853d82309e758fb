#include "server/http/http_answers.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cache/duration.h"
#include "cache/util/percent.h"

namespace clustercache {

namespace http = boost::beast::http;

HttpResponse Text(http::status status, std::string body,
                  absl::string_view type) {
  HttpResponse res(status, 11);
  res.set(http::field::content_type, std::string(type));
  auto payload = std::make_shared<const std::string>(std::move(body));
  res.body().payload = payload;
  res.body().length = payload->size();
  res.prepare_payload();
  return res;
}

HttpResponse Error(http::status status, absl::string_view message,
                   absl::string_view field) {
  nlohmann::json body = {{"error", std::string(message)}};
  if (!field.empty()) body["field"] = std::string(field);
  return Text(
      status,
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n",
      "application/json");
}

// The HTTP status for an engine error.
http::status StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return http::status::bad_request;
    case absl::StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case absl::StatusCode::kPermissionDenied:
      return http::status::forbidden;
    case absl::StatusCode::kNotFound:
      return http::status::not_found;
    case absl::StatusCode::kResourceExhausted:
      return http::status::too_many_requests;
    case absl::StatusCode::kFailedPrecondition:
      return http::status::conflict;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return http::status::service_unavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    default:
      return http::status::internal_server_error;
  }
}

HttpResponse ErrorFor(const absl::Status& s, absl::string_view field) {
  HttpResponse res = Error(StatusFor(s), s.message(), field);
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    res.set(http::field::www_authenticate, "Bearer");
  }
  if (StatusFor(s) == http::status::service_unavailable) {
    res.set(http::field::retry_after, "1");
  }
  return res;
}

absl::string_view Header(const HttpRequest& r, http::field f) {
  auto it = r.find(f);
  if (it == r.end()) return "";
  return absl::string_view(it->value().data(), it->value().size());
}

absl::string_view Header(const HttpRequest& r, absl::string_view name) {
  auto it = r.find(boost::beast::string_view(name.data(), name.size()));
  if (it == r.end()) return "";
  return absl::string_view(it->value().data(), it->value().size());
}

// The value of `name` in a query string (percent-decoded); nullopt when
// absent or undecodable.
std::optional<std::string> QueryValue(absl::string_view query,
                                      absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    absl::string_view k = pair.substr(0, pair.find('='));
    if (k != name) continue;
    absl::string_view v =
        k.size() < pair.size() ? pair.substr(k.size() + 1) : "";
    std::string out;
    if (!PercentDecode(v, &out)) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

bool Truthy(const std::optional<std::string>& v) {
  return v.has_value() && (*v == "1" || *v == "true" || v->empty());
}

// Every value of `name` in a query string (?tag=a&tag=b).
std::vector<std::string> QueryValues(absl::string_view query,
                                     absl::string_view name) {
  std::vector<std::string> out;
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name || eq == absl::string_view::npos) continue;
    std::string v;
    if (PercentDecode(pair.substr(eq + 1), &v)) out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<absl::Duration> BoundedDuration(absl::string_view name,
                                               absl::string_view text,
                                               absl::Duration max) {
  absl::StatusOr<absl::Duration> d = ParseDuration(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", d.status().message()));
  }
  if (*d > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": at most ", ShowDuration(max)));
  }
  return *d;
}

absl::StatusOr<absl::Duration> QueryDuration(absl::string_view query,
                                             absl::string_view name,
                                             absl::Duration max) {
  std::optional<std::string> v = QueryValue(query, name);
  if (!v.has_value()) return absl::ZeroDuration();
  return BoundedDuration(name, *v, max);
}

HttpResponse MethodNotAllowed(absl::string_view allow) {
  HttpResponse res = Error(http::status::method_not_allowed,
                           absl::StrCat("this route takes ", allow));
  res.set(http::field::allow, std::string(allow));
  return res;
}

// The key of /PREFIX/{scope}/{name}: the name is the rest of the path.
absl::StatusOr<Key> KeyFromPath(absl::string_view rest, std::string* field) {
  const size_t slash = rest.find('/');
  *field = "name";
  if (slash == absl::string_view::npos || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError("want /{scope}/{name} after the route");
  }
  std::string scope, name;
  if (!PercentDecode(rest.substr(0, slash), &scope)) {
    *field = "scope";
    return absl::InvalidArgumentError("bad %-escape in the scope");
  }
  if (!PercentDecode(rest.substr(slash + 1), &name)) {
    return absl::InvalidArgumentError("bad %-escape in the name");
  }
  absl::StatusOr<Key> key = Key::Make(scope, name);
  if (!key.ok() && absl::StrContains(key.status().message(), "scope")) {
    *field = "scope";
  }
  return key;
}

}  // namespace clustercache
