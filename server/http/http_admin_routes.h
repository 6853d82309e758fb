// HttpAdminRoutes: the admin operations over HTTP (role admin), beside the
// gRPC Admin service and with the same rules (server/admin_ops.h) and the
// same audit line. Translation only.
//
//   POST /v1/invalidate   {"scope": S} | {"all": true} | {"tag": T} |
//                         {"tags": [T, ...]}, optional "at_us"
//   PURGE (any path) with xkey-purge, xkey-softpurge or Surrogate-Key: the
//       proxies' convention; soft: the tags are invalidated (entries go
//       stale, a stale copy may still be served while regenerated)
//   PURGE /v1/entries/{scope}/{name}   soft: expires that entry
//   POST /v1/expire, POST /v1/delete   {"scope": S, "name": N} or
//                         {"scope": S, "prefix": P} ("" = the whole scope)
//   POST /v1/purge        {"scope", "prefix", "older_than": "1h",
//       "only_not_fresh", "dry_run", "batch", "pause": "10ms",
//       "everything"}: progress as NDJSON, one line per batch
//   GET /v1/list?scope=&prefix=&limit=   entries as NDJSON
//   GET /v1/stats         counters and store usage, JSON
//   GET /v1/expiry-keys   every expiry key and its value, JSON
//
// Each call runs on a small pool of its own (store round trips and long
// purges never hold the listener's threads); beyond `max_in_flight` calls
// a new one is answered 503 at once.
#ifndef CLUSTERCACHE_SERVER_HTTP_HTTP_ADMIN_ROUTES_H_
#define CLUSTERCACHE_SERVER_HTTP_HTTP_ADMIN_ROUTES_H_

#include <atomic>
#include <memory>
#include <string>

#include "cache/content_cache.h"
#include "cache/util/executor.h"
#include "server/auth.h"
#include "server/http/http_server.h"

namespace clustercache {

class HttpAdminRoutes {
 public:
  // REQUIRES: `cache` and `auth` (may be null) outlive this object.
  HttpAdminRoutes(ContentCache* cache, const Authorizer* auth,
                  std::string node_name, int threads = 2,
                  int max_in_flight = 16);

  // Whether `method` and `path` name an admin route.
  static bool Serves(boost::beast::http::verb method, absl::string_view path,
                     const HttpRequest& request);
  void Handle(HttpRequest request, const std::string& peer,
              std::shared_ptr<Cancellation> gone, Respond respond);

 private:
  struct Call;
  void Run(const Call& call);
  void Invalidate(const Call& call);
  void SoftPurge(const Call& call);
  void ExpireOrDelete(const Call& call, bool expire);
  void Purge(const Call& call);
  void List(const Call& call);
  void Stats(const Call& call);
  void ExpiryKeys(const Call& call);

  ContentCache* const cache_;
  const Authorizer* const auth_;
  const std::string node_name_;
  const int max_in_flight_;
  std::atomic<int> in_flight_{0};
  Executor executor_;  // last: joined first
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_HTTP_ADMIN_ROUTES_H_
