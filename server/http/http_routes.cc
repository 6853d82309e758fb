#include "server/http/http_routes.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/util/percent.h"
#include "server/http/conditional.h"

namespace clustercache {

namespace http = boost::beast::http;

namespace {

constexpr absl::string_view kEntries = "/v1/entries/";

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
                   absl::string_view field = "") {
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

HttpResponse ErrorFor(const absl::Status& s, absl::string_view field = "") {
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

}  // namespace

HttpRoutes::HttpRoutes(ContentCache* cache, const Authorizer* auth,
                       HttpRouteOptions options)
    : cache_(cache), auth_(auth), options_(std::move(options)) {}

void HttpRoutes::Handle(HttpRequest request, const std::string& peer,
                        Respond respond) {
  (void)peer;  // for the access log (issue 17)
  absl::string_view target(request.target().data(), request.target().size());
  const size_t q = target.find('?');
  absl::string_view path = target.substr(0, q);
  absl::string_view query =
      q == absl::string_view::npos ? "" : target.substr(q + 1);
  const http::verb method = request.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (path == "/healthz" && get) {
    return respond(Text(http::status::ok, "ok\n", "text/plain"));
  }
  if (path == "/readyz" && get) return Ready(std::move(respond));
  if (absl::StartsWith(path, kEntries)) {
    if (!get) {
      HttpResponse res = Error(http::status::method_not_allowed,
                               "this route takes GET and HEAD");
      res.set(http::field::allow, "GET, HEAD");
      return respond(std::move(res));
    }
    return Read(request, path, query, std::move(respond));
  }
  respond(Error(http::status::not_found, "no such route"));
}

void HttpRoutes::Ready(Respond respond) {
  if (stopping_) {
    return respond(
        Text(http::status::service_unavailable, "stopping\n", "text/plain"));
  }
  cache_->RunBlocking([this, respond = std::move(respond)] {
    absl::StatusOr<int64_t> now = cache_->StoreNow();
    if (!now.ok()) {
      HttpResponse res = Text(
          http::status::service_unavailable,
          absl::StrCat("store: ", now.status().message(), "\n"), "text/plain");
      res.set(http::field::retry_after, "1");
      return respond(std::move(res));
    }
    respond(Text(http::status::ok, "ready\n", "text/plain"));
  });
}

void HttpRoutes::Read(const HttpRequest& request, absl::string_view path,
                      absl::string_view query, Respond respond) {
  if (auth_ != nullptr) {
    absl::StatusOr<std::string> who = auth_->CheckHeader(
        Header(request, http::field::authorization), Role::kRead);
    if (!who.ok()) return respond(ErrorFor(who.status()));
  }
  absl::string_view rest = path.substr(kEntries.size());
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash + 1 == rest.size()) {
    return respond(Error(http::status::bad_request,
                         "want /v1/entries/{scope}/{name}", "name"));
  }
  std::string scope, name;
  if (!PercentDecode(rest.substr(0, slash), &scope)) {
    return respond(
        Error(http::status::bad_request, "bad %-escape in the scope", "scope"));
  }
  if (!PercentDecode(rest.substr(slash + 1), &name)) {
    return respond(
        Error(http::status::bad_request, "bad %-escape in the name", "name"));
  }
  absl::StatusOr<Key> key = Key::Make(scope, name);
  if (!key.ok()) {
    return respond(ErrorFor(
        key.status(),
        absl::StrContains(key.status().message(), "scope") ? "scope" : "name"));
  }
  const bool stale_ok =
      Truthy(QueryValue(query, "stale")) ||
      absl::StrContains(
          absl::AsciiStrToLower(Header(request, http::field::cache_control)),
          "max-stale");
  FetchRequest fetch{*std::move(key)};
  fetch.peek = true;
  // The conditions travel with the callback: the request is gone by then.
  struct Conditions {
    std::string if_none_match, if_modified_since, range, if_range;
  };
  Conditions c{std::string(Header(request, http::field::if_none_match)),
               std::string(Header(request, http::field::if_modified_since)),
               std::string(Header(request, http::field::range)),
               std::string(Header(request, http::field::if_range))};
  cache_->FetchAsync(fetch, [this, c = std::move(c), stale_ok,
                             respond = std::move(respond)](
                                absl::StatusOr<FetchResult> result) {
    if (!result.ok()) return respond(ErrorFor(result.status()));
    const FetchOutcome outcome = result->outcome;
    const bool serve = outcome == FetchOutcome::kHit ||
                       (outcome == FetchOutcome::kStale && stale_ok);
    if (outcome == FetchOutcome::kUnavailable) {
      HttpResponse res = Error(http::status::service_unavailable,
                               "the store cannot be reached");
      res.set(http::field::retry_after, "1");
      res.set("Cache-Status", "clustercache; fwd=miss; detail=unavailable");
      return respond(std::move(res));
    }
    if (!serve || result->entry == nullptr) {
      HttpResponse res(http::status::not_found, 11);
      res.set("Cache-Status",
              outcome == FetchOutcome::kStale
                  ? "clustercache; fwd=stale; detail=\"stale copy: ?stale=1\""
                  : "clustercache; fwd=miss");
      res.set("Served-By", options_.node_name);
      res.set(http::field::cache_control, "no-cache");
      res.content_length(0);
      return respond(std::move(res));
    }
    const Entry& entry = *result->entry;
    const EntryMeta& meta = entry.meta;
    const int64_t now = result->now;
    const std::string etag = EntityTag(meta);
    const std::optional<absl::Time> modified = LastModified(meta, now);
    std::string cache_control = "no-cache";
    auto max_age = options_.max_age_by_scope.find(meta.key.scope());
    if (max_age != options_.max_age_by_scope.end() &&
        outcome == FetchOutcome::kHit) {
      cache_control =
          absl::StrCat("max-age=", absl::ToInt64Seconds(max_age->second));
    }
    auto validators = [&](HttpResponse& res) {
      res.set(http::field::etag, etag);
      if (modified) res.set(http::field::last_modified, HttpDate(*modified));
      res.set(http::field::cache_control, cache_control);
      res.set("Served-By", options_.node_name);
    };
    if (outcome == FetchOutcome::kHit &&
        NotModified(c.if_none_match, c.if_modified_since, etag, modified,
                    now)) {
      HttpResponse res(http::status::not_modified, 11);
      validators(res);
      res.set("Cache-Status", "clustercache; hit");
      return respond(std::move(res));
    }
    const int64_t size = static_cast<int64_t>(entry.payload->size());
    ByteRange range;
    if (!c.range.empty() && RangeStillValid(c.if_range, etag, modified)) {
      range = ParseRange(c.range, size);
    }
    HttpResponse res(http::status::ok, 11);
    validators(res);
    res.set(http::field::content_type, meta.content_type.empty()
                                           ? "application/octet-stream"
                                           : meta.content_type);
    res.set(http::field::age,
            absl::StrCat(std::max<int64_t>(0, now - meta.mtime) / 1'000'000));
    res.set("Cache-Status", outcome == FetchOutcome::kHit
                                ? "clustercache; hit"
                                : "clustercache; fwd=stale");
    if (!meta.tags.empty()) {
      res.set(options_.tags_header, absl::StrJoin(meta.tags, " "));
    }
    res.set(http::field::accept_ranges, "bytes");
    res.body().payload = entry.payload;
    res.body().length = static_cast<size_t>(size);
    if (range.kind == ByteRange::kUnsatisfiable) {
      res.result(http::status::range_not_satisfiable);
      res.set(http::field::content_range, absl::StrCat("bytes */", size));
      res.body().length = 0;
    } else if (range.kind == ByteRange::kPart) {
      res.result(http::status::partial_content);
      res.set(http::field::content_range,
              absl::StrCat("bytes ", range.first, "-", range.last, "/", size));
      res.body().offset = static_cast<size_t>(range.first);
      res.body().length = static_cast<size_t>(range.last - range.first + 1);
    }
    res.content_length(res.body().length);
    respond(std::move(res));
  });
}

}  // namespace clustercache
