#include "server/http/http_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/duration.h"
#include "cache/limits.h"
#include "cache/util/percent.h"
#include "cache/util/version.h"
#include "server/http/conditional.h"
#include "server/http/http_answers.h"
#include "server/http/metrics_page.h"

namespace clustercache {

namespace http = boost::beast::http;

namespace {

constexpr absl::string_view kEntries = "/v1/entries/";

// The probes say what answers: "clustercached/0.3.0 (git abc1234)".
std::string ServerHeader() {
  return absl::StrCat("clustercached/", Version(), " (git ", Revision(), ")");
}
constexpr absl::string_view kLeases = "/v1/leases/";

}  // namespace

HttpRoutes::HttpRoutes(ContentCache* cache, const Authorizer* auth,
                       HttpRouteOptions options)
    : cache_(cache),
      auth_(auth),
      options_(std::move(options)),
      admin_(cache, auth, options_.node_name) {}

absl::string_view HttpRoutes::RouteOf(const HttpRequest& request) const {
  absl::string_view path(request.target().data(), request.target().size());
  path = path.substr(0, path.find('?'));
  if (request.method() == http::verb::purge) return "purge";
  if (absl::StartsWith(path, kEntries)) return "entries";
  if (absl::StartsWith(path, kLeases)) return "leases";
  for (absl::string_view route :
       {"healthz", "readyz", "metrics", "v1/invalidate", "v1/expire",
        "v1/delete", "v1/purge", "v1/list", "v1/stats", "v1/expiry-keys"}) {
    if (path.size() == route.size() + 1 && path[0] == '/' &&
        path.substr(1) == route) {
      return absl::StartsWith(route, "v1/") ? route.substr(3) : route;
    }
  }
  return "other";
}

void HttpRoutes::Handle(HttpRequest request, const std::string& peer,
                        std::shared_ptr<Cancellation> gone, Respond respond) {
  const std::string target(request.target());
  const size_t q = target.find('?');
  absl::string_view path = absl::string_view(target).substr(0, q);
  absl::string_view query =
      q == std::string::npos ? "" : absl::string_view(target).substr(q + 1);
  const http::verb method = request.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (path == "/healthz" && get) {
    HttpResponse res = Text(http::status::ok, "ok\n", "text/plain");
    res.set(http::field::server, ServerHeader());
    return respond(std::move(res));
  }
  if (path == "/readyz" && get) return Ready(std::move(respond));
  if (path == "/metrics" && options_.metrics != nullptr) {
    if (!get) return respond(MethodNotAllowed("GET, HEAD"));
    if (std::optional<HttpResponse> denied = Deny(request, Role::kRead)) {
      return respond(*std::move(denied));
    }
    return respond(MetricsAnswer(*options_.metrics));
  }
  if (HttpAdminRoutes::Serves(method, path, request)) {
    return admin_.Handle(std::move(request), peer, std::move(gone),
                         std::move(respond));
  }
  const bool entries = absl::StartsWith(path, kEntries);
  const bool leases = absl::StartsWith(path, kLeases);
  if (!entries && !leases) {
    return respond(Error(http::status::not_found, "no such route"));
  }
  if (entries && !get && method != http::verb::put) {
    return respond(MethodNotAllowed("GET, HEAD, PUT"));
  }
  if (leases && method != http::verb::delete_) {
    return respond(MethodNotAllowed("DELETE"));
  }
  std::string field;
  absl::StatusOr<Key> key =
      KeyFromPath(path.substr((entries ? kEntries : kLeases).size()), &field);
  if (!key.ok()) return respond(ErrorFor(key.status(), field));
  if (leases) return ReleaseLease(request, *key, std::move(respond));
  if (get)
    return Fetch(request, *key, query, std::move(gone), std::move(respond));
  Put(std::move(request), *std::move(key), query, std::move(respond));
}

std::optional<HttpResponse> HttpRoutes::Deny(const HttpRequest& request,
                                             Role role) const {
  if (auth_ == nullptr) return std::nullopt;
  absl::StatusOr<std::string> who =
      auth_->CheckHeader(Header(request, http::field::authorization), role);
  if (who.ok()) return std::nullopt;
  return ErrorFor(who.status());
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
    HttpResponse res = Text(http::status::ok, "ready\n", "text/plain");
    res.set(http::field::server, ServerHeader());
    respond(std::move(res));
  });
}

void HttpRoutes::Fetch(const HttpRequest& request, const Key& key,
                       absl::string_view query,
                       std::shared_ptr<Cancellation> gone, Respond respond) {
  const bool lease = Truthy(QueryValue(query, "lease"));
  if (std::optional<HttpResponse> denied =
          Deny(request, lease ? Role::kWrite : Role::kRead)) {
    return respond(*std::move(denied));
  }
  FetchRequest fetch{key};
  fetch.peek = !lease;
  for (const auto& [name, max, out] :
       {std::tuple<const char*, absl::Duration, absl::Duration*>{
            "wait", kMaxWait, &fetch.wait},
        {"max_age", kMaxAge, &fetch.max_age}}) {
    absl::StatusOr<absl::Duration> d = QueryDuration(query, name, max);
    if (!d.ok()) return respond(ErrorFor(d.status(), name));
    *out = *d;
  }
  if (std::optional<std::string> n = QueryValue(query, "newer_than")) {
    if (!absl::SimpleAtoi(*n, &fetch.newer_than) || fetch.newer_than < 0) {
      return respond(Error(http::status::bad_request,
                           "newer_than: cluster time in microseconds, >= 0",
                           "newer_than"));
    }
  }
  if (!lease && fetch.wait > absl::ZeroDuration()) {
    return respond(Error(http::status::bad_request,
                         "wait: only with lease=1 (a read never waits)",
                         "wait"));
  }
  if (fetch.wait > absl::ZeroDuration()) fetch.cancellation = std::move(gone);
  const bool stale_ok =
      lease || Truthy(QueryValue(query, "stale")) ||
      absl::StrContains(
          absl::AsciiStrToLower(Header(request, http::field::cache_control)),
          "max-stale");
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
    const bool leased = outcome == FetchOutcome::kMissLease ||
                        outcome == FetchOutcome::kStaleLease;
    auto lease_headers = [&](HttpResponse& res) {
      if (!leased) return;
      res.set("Lease-Token", result->lease.token);
      res.set("Lease-Expires",
              HttpDate(absl::FromUnixMicros(result->lease.expires_at)));
      // Cluster time, microseconds: for a client that keeps its own clock
      // out of it.
      res.set("Lease-Granted-Us", absl::StrCat(result->lease.granted_at));
      res.set("Lease-Expires-Us", absl::StrCat(result->lease.expires_at));
    };
    if (outcome == FetchOutcome::kUnavailable) {
      HttpResponse res = Error(http::status::service_unavailable,
                               "the store cannot be reached");
      res.set(http::field::retry_after, "1");
      res.set("Cache-Status", "clustercache; fwd=miss; detail=unavailable");
      return respond(std::move(res));
    }
    const bool stale =
        outcome == FetchOutcome::kStale || outcome == FetchOutcome::kStaleLease;
    const bool serve = result->entry != nullptr &&
                       (outcome == FetchOutcome::kHit || (stale && stale_ok));
    if (!serve) {
      HttpResponse res(http::status::not_found, 11);
      res.set("Cache-Status",
              outcome == FetchOutcome::kTimeout
                  ? "clustercache; fwd=miss; detail=timeout"
              : stale ? "clustercache; fwd=stale; detail=\"stale copy: "
                        "?stale=1\""
                      : "clustercache; fwd=miss");
      res.set("Served-By", options_.node_name);
      res.set(http::field::cache_control, "no-cache");
      lease_headers(res);
      res.content_length(0);
      return respond(std::move(res));
    }
    HttpResponse res = EntryResponse(*result, c.if_none_match,
                                     c.if_modified_since, c.range, c.if_range);
    lease_headers(res);
    respond(std::move(res));
  });
}

HttpResponse HttpRoutes::EntryResponse(const FetchResult& result,
                                       absl::string_view if_none_match,
                                       absl::string_view if_modified_since,
                                       absl::string_view range_header,
                                       absl::string_view if_range) const {
  const Entry& entry = *result.entry;
  const EntryMeta& meta = entry.meta;
  const bool hit = result.outcome == FetchOutcome::kHit;
  const int64_t now = result.now;
  const std::string etag = EntityTag(meta);
  const std::optional<absl::Time> modified = LastModified(meta, now);
  std::string cache_control = "no-cache";
  auto max_age = options_.max_age_by_scope.find(meta.key.scope());
  if (max_age != options_.max_age_by_scope.end() && hit) {
    cache_control =
        absl::StrCat("max-age=", absl::ToInt64Seconds(max_age->second));
  }
  HttpResponse res(http::status::ok, 11);
  res.set(http::field::etag, etag);
  // The entry's generation time (cluster microseconds): what a client
  // passes as newer_than to wait for a newer one.
  res.set("Mtime", absl::StrCat(meta.mtime));
  if (modified) res.set(http::field::last_modified, HttpDate(*modified));
  res.set(http::field::cache_control, cache_control);
  res.set("Served-By", options_.node_name);
  res.set("Cache-Status",
          hit ? "clustercache; hit" : "clustercache; fwd=stale");
  if (hit &&
      NotModified(if_none_match, if_modified_since, etag, modified, now)) {
    res.result(http::status::not_modified);
    return res;
  }
  const int64_t size = static_cast<int64_t>(entry.payload->size());
  ByteRange range;
  if (!range_header.empty() && RangeStillValid(if_range, etag, modified)) {
    range = ParseRange(range_header, size);
  }
  res.set(http::field::content_type, meta.content_type.empty()
                                         ? "application/octet-stream"
                                         : meta.content_type);
  res.set(http::field::age,
          absl::StrCat(std::max<int64_t>(0, now - meta.mtime) / 1'000'000));
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
  return res;
}

void HttpRoutes::Put(HttpRequest request, Key key, absl::string_view query,
                     Respond respond) {
  if (std::optional<HttpResponse> denied = Deny(request, Role::kWrite)) {
    return respond(*std::move(denied));
  }
  EntryWrite write;
  write.key = std::move(key);
  write.content_type = std::string(Header(request, http::field::content_type));
  // TTL: ?ttl=1h, else Cache-Control: max-age=N.
  absl::StatusOr<absl::Duration> ttl = QueryDuration(query, "ttl", kMaxTtl);
  if (!ttl.ok()) return respond(ErrorFor(ttl.status(), "ttl"));
  if (*ttl == absl::ZeroDuration()) {
    for (absl::string_view directive :
         absl::StrSplit(Header(request, http::field::cache_control), ',')) {
      directive = absl::StripAsciiWhitespace(directive);
      if (!absl::ConsumePrefix(&directive, "max-age=")) continue;
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(directive, &seconds) || seconds < 0 ||
          absl::Seconds(seconds) > kMaxTtl) {
        return respond(Error(http::status::bad_request,
                             "Cache-Control: max-age: seconds, at most 10 "
                             "years",
                             "ttl"));
      }
      *ttl = absl::Seconds(seconds);
    }
  }
  write.ttl_us = absl::ToInt64Microseconds(*ttl);
  // Tags: ?tag=, the tags header (xkey) and Surrogate-Key, space-separated,
  // each header possibly repeated; a tag named twice counts once.
  write.tags = QueryValues(query, "tag");
  std::vector<std::string> names = {options_.tags_header};
  if (!absl::EqualsIgnoreCase(options_.tags_header, "Surrogate-Key")) {
    names.push_back("Surrogate-Key");
  }
  for (const std::string& name : names) {
    auto [from, to] = request.equal_range(name);
    for (auto it = from; it != to; ++it) {
      for (absl::string_view t : absl::StrSplit(
               absl::string_view(it->value().data(), it->value().size()), ' ',
               absl::SkipEmpty())) {
        write.tags.emplace_back(t);
      }
    }
  }
  std::sort(write.tags.begin(), write.tags.end());
  write.tags.erase(std::unique(write.tags.begin(), write.tags.end()),
                   write.tags.end());
  std::string token(Header(request, "Lease-Token"));
  write.payload =
      std::make_shared<const std::string>(std::move(request.body()));
  cache_->RunBlocking([this, write = std::move(write), token = std::move(token),
                       respond = std::move(respond)] {
    absl::StatusOr<Commit> commit = cache_->Store(write, token);
    if (!commit.ok()) {
      HttpResponse res = ErrorFor(commit.status());
      if (commit.status().code() == absl::StatusCode::kResourceExhausted) {
        res.result(http::status::payload_too_large);
      }
      return respond(std::move(res));
    }
    switch (commit->outcome) {
      case CommitOutcome::kStored: {
        HttpResponse res = Text(http::status::created, "", "text/plain");
        EntryMeta meta;
        meta.mtime = commit->mtime;
        meta.crc32 = Crc32(*write.payload);
        res.set(http::field::etag, EntityTag(meta));
        res.set("Mtime", absl::StrCat(commit->mtime));
        res.set("Served-By", options_.node_name);
        return respond(std::move(res));
      }
      case CommitOutcome::kSuperseded:
        return respond(Error(http::status::conflict,
                             "superseded: a newer generation is stored"));
      case CommitOutcome::kLeaseLost:
        return respond(Error(http::status::precondition_failed,
                             "lease lost: the token no longer holds the "
                             "key's lease; nothing stored",
                             "Lease-Token"));
    }
  });
}

void HttpRoutes::ReleaseLease(const HttpRequest& request, const Key& key,
                              Respond respond) {
  if (std::optional<HttpResponse> denied = Deny(request, Role::kWrite)) {
    return respond(*std::move(denied));
  }
  std::string token(Header(request, "Lease-Token"));
  if (token.empty()) {
    return respond(Error(http::status::bad_request,
                         "a Lease-Token header is required", "Lease-Token"));
  }
  cache_->RunBlocking(
      [this, key, token = std::move(token), respond = std::move(respond)] {
        absl::StatusOr<bool> released = cache_->Release(key, token);
        if (!released.ok()) return respond(ErrorFor(released.status()));
        if (!*released) {
          return respond(Error(http::status::conflict,
                               "the token no longer holds the lease",
                               "Lease-Token"));
        }
        HttpResponse res(http::status::no_content, 11);
        res.set("Served-By", options_.node_name);
        respond(std::move(res));
      });
}

}  // namespace clustercache
