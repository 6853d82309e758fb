#include "server/http/metrics_page.h"

#include "server/http/http_answers.h"

namespace clustercache {

namespace http = boost::beast::http;

HttpResponse MetricsAnswer(const Metrics& metrics) {
  // Prometheus's text exposition format, version 0.0.4.
  return Text(http::status::ok, metrics.Text(),
              "text/plain; version=0.0.4; charset=utf-8");
}

void MetricsPage::Handle(HttpRequest request, const std::string& peer,
                         std::shared_ptr<Cancellation> gone, Respond respond) {
  (void)peer;
  (void)gone;
  const bool get = request.method() == http::verb::get ||
                   request.method() == http::verb::head;
  if (RouteOf(request) != "metrics") {
    return respond(
        Error(http::status::not_found, "this listener serves /metrics only"));
  }
  if (!get) return respond(MethodNotAllowed("GET, HEAD"));
  respond(MetricsAnswer(*metrics_));
}

absl::string_view MetricsPage::RouteOf(const HttpRequest& request) const {
  absl::string_view target(request.target().data(), request.target().size());
  target = target.substr(0, target.find('?'));
  return target == "/metrics" ? "metrics" : "other";
}

}  // namespace clustercache
