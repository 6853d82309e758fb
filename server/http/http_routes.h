// HttpRoutes: the HTTP face of the cache, translation only (HTTP <->
// ContentCache), beside the gRPC services; the same tokens and roles
// (authorization: Bearer, Authorizer) and the same stats.
//
//   GET|HEAD /v1/entries/{scope}/{name}   read: never takes a lease, never
//       waits. 200 fresh (validators, Age, Served-By, Cache-Status, xkey,
//       Cache-Control); 304 on a matching If-None-Match/If-Modified-Since;
//       206/416 for one Range; 404 no fresh entry (?stale=1 or
//       Cache-Control: max-stale serves a stale copy); 503 store down.
//   GET /v1/entries/{scope}/{name}?lease=1[&wait=2s][&newer_than=US]
//       [&max_age=D]    the lease protocol (role write): every Fetch
//       outcome by status and one header (README has the table).
//   PUT /v1/entries/{scope}/{name}   store the body (role write); with a
//       Lease-Token header, the rechecked commit. 201, 409 superseded, 412
//       lease lost, 413 too large.
//   DELETE /v1/leases/{scope}/{name}  give a lease back (Lease-Token): 204,
//       or 409 when the token no longer holds it.
//   admin routes (role admin): server/http/http_admin_routes.h
//   GET /healthz    alive (no token)
//   GET /readyz     the store answers and the node is not stopping (no
//                   token); 503 otherwise
//   GET /metrics    the Prometheus scrape (any known token), when the node
//                   was given one (HttpRouteOptions::metrics)
// The name is the rest of the path (it may hold '/'), percent-decoded and
// validated like a gRPC name. Errors are JSON {"error": ..., "field": ...}.
#ifndef CLUSTERCACHE_SERVER_HTTP_HTTP_ROUTES_H_
#define CLUSTERCACHE_SERVER_HTTP_HTTP_ROUTES_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "cache/content_cache.h"
#include "cache/scope_policy.h"
#include "server/auth.h"
#include "server/http/http_admin_routes.h"
#include "server/http/http_server.h"
#include "server/metrics.h"

namespace clustercache {

struct HttpRouteOptions {
  std::string node_name;
  // The header that lists an entry's tags (Varnish xkey's by default).
  std::string tags_header = "xkey";
  // Cache-Control: max-age for these scopes; every other answer says
  // no-cache (a proxy revalidates, so a global expiry is never hidden).
  ScopeDurations max_age_by_scope;
  // Set: GET /metrics serves it (to any known token).
  const Metrics* metrics = nullptr;
};

class HttpRoutes : public HttpHandler {
 public:
  // REQUIRES: `cache` and `auth` (may be null: every call allowed) outlive
  // this object.
  HttpRoutes(ContentCache* cache, const Authorizer* auth,
             HttpRouteOptions options);

  void Handle(HttpRequest request, const std::string& peer,
              std::shared_ptr<Cancellation> gone, Respond respond) override;
  absl::string_view RouteOf(const HttpRequest& request) const override;
  // /readyz answers 503 from now on.
  void Stopping() { stopping_ = true; }

 private:
  void Fetch(const HttpRequest& request, const Key& key,
             absl::string_view query, std::shared_ptr<Cancellation> gone,
             Respond respond);
  void Put(HttpRequest request, Key key, absl::string_view query,
           Respond respond);
  void ReleaseLease(const HttpRequest& request, const Key& key,
                    Respond respond);
  void Ready(Respond respond);
  // The refusal when the request's token does not allow `role`.
  std::optional<HttpResponse> Deny(const HttpRequest& request, Role role) const;
  // 200 (or 304, 206, 416) with a fetched entry and its headers.
  HttpResponse EntryResponse(const FetchResult& result,
                             absl::string_view if_none_match,
                             absl::string_view if_modified_since,
                             absl::string_view range,
                             absl::string_view if_range) const;

  ContentCache* const cache_;
  const Authorizer* const auth_;
  const HttpRouteOptions options_;
  std::atomic<bool> stopping_{false};
  HttpAdminRoutes admin_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_HTTP_ROUTES_H_
