// The /metrics page: a Prometheus scrape of the node (server/metrics.h).
// MetricsPage serves it alone, on --metrics-listen (no token: keep that
// listener on loopback or a monitoring network); the HTTP face serves it
// too, to any known token.
#ifndef CLUSTERCACHE_SERVER_HTTP_METRICS_PAGE_H_
#define CLUSTERCACHE_SERVER_HTTP_METRICS_PAGE_H_

#include <memory>
#include <string>

#include "server/http/http_server.h"
#include "server/metrics.h"

namespace clustercache {

// 200 with the scrape (HEAD: the same headers).
HttpResponse MetricsAnswer(const Metrics& metrics);

class MetricsPage : public HttpHandler {
 public:
  // REQUIRES: `metrics` outlives this object.
  explicit MetricsPage(const Metrics* metrics) : metrics_(metrics) {}
  void Handle(HttpRequest request, const std::string& peer,
              std::shared_ptr<Cancellation> gone, Respond respond) override;
  absl::string_view RouteOf(const HttpRequest& request) const override;

 private:
  const Metrics* const metrics_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_METRICS_PAGE_H_
