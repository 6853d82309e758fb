#include "tests/support/http_cache_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cache/util/percent.h"

namespace clustercache {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::string Path(absl::string_view route, const v1::Key& key) {
  return absl::StrCat(route, PercentEncode(key.scope()), "/",
                      PercentEncode(key.name(), "/"));
}

std::string HeaderOf(const Response& r, absl::string_view name) {
  auto it = r.find(beast::string_view(name.data(), name.size()));
  return it == r.end() ? "" : std::string(it->value());
}

int64_t IntHeader(const Response& r, absl::string_view name) {
  int64_t v = 0;
  return absl::SimpleAtoi(HeaderOf(r, name), &v) ? v : 0;
}

absl::Status Unexpected(const Response& r) {
  return absl::UnknownError(
      absl::StrCat("HTTP ", r.result_int(), ": ", r.body().substr(0, 200)));
}

class HttpCacheClient : public GrpcClient {
 public:
  HttpCacheClient(const std::string& address, absl::Duration deadline)
      : deadline_(deadline) {
    const size_t colon = address.rfind(':');
    host_ = address.substr(0, colon);
    port_ = address.substr(colon + 1);
  }

  absl::StatusOr<v1::FetchResponse> Fetch(
      const v1::FetchRequest& request) override {
    std::string target =
        absl::StrCat(Path("/v1/entries/", request.key()),
                     "?lease=1&wait=", request.wait_ms(), "ms");
    if (request.newer_than_us() > 0) {
      absl::StrAppend(&target, "&newer_than=", request.newer_than_us());
    }
    absl::StatusOr<Response> r = Exchange(Make(http::verb::get, target));
    if (!r.ok()) return r.status();
    v1::FetchResponse out;
    const std::string status = HeaderOf(*r, "Cache-Status");
    const std::string token = HeaderOf(*r, "Lease-Token");
    if (!token.empty()) {
      out.mutable_lease()->set_token(token);
      out.mutable_lease()->set_granted_at_us(IntHeader(*r, "Lease-Granted-Us"));
      out.mutable_lease()->set_expires_at_us(IntHeader(*r, "Lease-Expires-Us"));
    }
    switch (r->result()) {
      case http::status::ok:
        out.set_outcome(!token.empty() ? v1::STALE_LEASE
                        : absl::StrContains(status, "fwd=stale") ? v1::STALE
                                                                 : v1::HIT);
        out.set_payload(r->body());
        out.mutable_meta()->set_mtime_us(IntHeader(*r, "Mtime"));
        return out;
      case http::status::not_found:
        if (!token.empty()) {
          out.set_outcome(v1::MISS_LEASE);
        } else if (absl::StrContains(status, "detail=timeout")) {
          out.set_outcome(v1::TIMEOUT);
        } else {
          return Unexpected(*r);
        }
        return out;
      case http::status::service_unavailable:
        if (!absl::StrContains(status, "detail=unavailable")) {
          return Unexpected(*r);
        }
        out.set_outcome(v1::UNAVAILABLE);
        return out;
      default:
        return Unexpected(*r);
    }
  }

  absl::StatusOr<v1::StoreResponse> Store(
      const v1::StoreRequest& request) override {
    std::string target = Path("/v1/entries/", request.key());
    if (request.ttl_ms() > 0) {
      absl::StrAppend(&target, "?ttl=", request.ttl_ms(), "ms");
    }
    Request req = Make(http::verb::put, target);
    if (!request.lease_token().empty()) {
      req.set("Lease-Token", request.lease_token());
    }
    if (!request.content_type().empty()) {
      req.set(http::field::content_type, request.content_type());
    }
    if (!request.tags().empty())
      req.set("xkey", absl::StrJoin(request.tags(), " "));
    req.body() = request.payload();
    absl::StatusOr<Response> r = Exchange(std::move(req));
    if (!r.ok()) return r.status();
    v1::StoreResponse out;
    switch (r->result()) {
      case http::status::created:
        out.set_outcome(v1::STORED);
        out.set_mtime_us(IntHeader(*r, "Mtime"));
        return out;
      case http::status::conflict:
        out.set_outcome(v1::SUPERSEDED);
        return out;
      case http::status::precondition_failed:
        out.set_outcome(v1::LEASE_LOST);
        return out;
      default:
        return Unexpected(*r);
    }
  }

  absl::StatusOr<v1::ReleaseResponse> Release(
      const v1::ReleaseRequest& request) override {
    Request req = Make(http::verb::delete_, Path("/v1/leases/", request.key()));
    req.set("Lease-Token", request.lease_token());
    absl::StatusOr<Response> r = Exchange(std::move(req));
    if (!r.ok()) return r.status();
    if (r->result() != http::status::no_content &&
        r->result() != http::status::conflict) {
      return Unexpected(*r);
    }
    v1::ReleaseResponse out;
    out.set_released(r->result() == http::status::no_content);
    return out;
  }

  absl::StatusOr<v1::CountResponse> Expire(
      const v1::ExpireRequest& request) override {
    return Count("/v1/expire", request.selector());
  }
  absl::StatusOr<v1::CountResponse> Delete(
      const v1::DeleteRequest& request) override {
    return Count("/v1/delete", request.selector());
  }

  absl::StatusOr<v1::InvalidateResponse> Invalidate(
      const v1::InvalidateRequest& request) override {
    Json body = Json::object();
    switch (request.target_case()) {
      case v1::InvalidateRequest::kScope:
        body["scope"] = request.scope();
        break;
      case v1::InvalidateRequest::kAll:
        body["all"] = request.all();
        break;
      case v1::InvalidateRequest::kTag:
        body["tag"] = request.tag();
        break;
      case v1::InvalidateRequest::kTags:
        body["tags"] = std::vector<std::string>(request.tags().names().begin(),
                                                request.tags().names().end());
        break;
      default:
        break;
    }
    if (request.at_us() != 0) body["at_us"] = request.at_us();
    absl::StatusOr<Json> j = PostJson("/v1/invalidate", body);
    if (!j.ok()) return j.status();
    v1::InvalidateResponse out;
    for (const Json& kv : (*j)["keys"]) {
      v1::ExpiryKeyValue* k = out.add_keys();
      k->set_name(kv.value("name", ""));
      k->set_value_us(kv.value("value_us", int64_t{0}));
    }
    if (out.keys().empty()) return absl::UnknownError("no keys in the answer");
    out.set_expiry_key(out.keys(0).name());
    out.set_value_us(out.keys(0).value_us());
    return out;
  }

  absl::StatusOr<v1::ListExpiryKeysResponse> ListExpiryKeys() override {
    absl::StatusOr<Response> r =
        Exchange(Make(http::verb::get, "/v1/expiry-keys"));
    if (!r.ok()) return r.status();
    if (r->result() != http::status::ok) return Unexpected(*r);
    Json j = Json::parse(r->body(), nullptr, false);
    if (j.is_discarded() || !j.contains("keys")) return Unexpected(*r);
    v1::ListExpiryKeysResponse out;
    for (const Json& kv : j["keys"]) {
      v1::ExpiryKeyValue* k = out.add_keys();
      k->set_name(kv.value("name", ""));
      k->set_value_us(kv.value("value_us", int64_t{0}));
    }
    return out;
  }

  // Not used by the checker over HTTP.
  absl::StatusOr<v1::ResetExpiryKeyResponse> ResetExpiryKey(
      const v1::ResetExpiryKeyRequest&) override {
    return absl::UnimplementedError("not over HTTP");
  }
  absl::StatusOr<v1::ForgetTagsResponse> ForgetTags(
      const v1::ForgetTagsRequest&) override {
    return absl::UnimplementedError("not over HTTP");
  }
  absl::StatusOr<v1::StatsResponse> Stats() override {
    return absl::UnimplementedError("not over HTTP");
  }
  absl::Status Purge(
      const v1::PurgeRequest&,
      const std::function<bool(const v1::PurgeProgress&)>&) override {
    return absl::UnimplementedError("not over HTTP");
  }
  absl::Status List(
      const v1::ListRequest&,
      const std::function<bool(const v1::ListResponse&)>&) override {
    return absl::UnimplementedError("not over HTTP");
  }

 private:
  Request Make(http::verb method, const std::string& target) const {
    Request req(method, target, 11);
    req.set(http::field::host, host_);
    req.keep_alive(true);
    return req;
  }

  absl::StatusOr<v1::CountResponse> Count(absl::string_view route,
                                          const v1::Selector& selector) {
    Json body = {{"scope", selector.scope()}};
    if (selector.target_case() == v1::Selector::kName) {
      body["name"] = selector.name();
    } else {
      body["prefix"] = selector.prefix();
    }
    absl::StatusOr<Json> j = PostJson(route, body);
    if (!j.ok()) return j.status();
    v1::CountResponse out;
    out.set_count(j->value("count", int64_t{0}));
    return out;
  }

  absl::StatusOr<Json> PostJson(absl::string_view route, const Json& body) {
    Request req = Make(http::verb::post, std::string(route));
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    absl::StatusOr<Response> r = Exchange(std::move(req));
    if (!r.ok()) return r.status();
    if (r->result() != http::status::ok) return Unexpected(*r);
    Json j = Json::parse(r->body(), nullptr, false);
    if (j.is_discarded()) return Unexpected(*r);
    return j;
  }

  // One request and its answer, connecting first when needed, within the
  // deadline. Any failure drops the connection.
  absl::StatusOr<Response> Exchange(Request req) {
    req.prepare_payload();
    beast::error_code error;
    Response res;
    const auto deadline = absl::ToChronoNanoseconds(deadline_);
    auto exchange = [&] {
      stream_->expires_after(deadline);
      http::async_write(*stream_, req, [&](beast::error_code ec, size_t) {
        if (ec) {
          error = ec;
          return;
        }
        http::async_read(*stream_, buffer_, res,
                         [&](beast::error_code ec2, size_t) { error = ec2; });
      });
    };
    if (!stream_.has_value()) {
      stream_.emplace(ioc_);
      buffer_.clear();
      tcp::resolver resolver(ioc_);
      auto endpoints = resolver.resolve(host_, port_, error);
      if (!error) {
        stream_->expires_after(deadline);
        stream_->async_connect(endpoints,
                               [&](beast::error_code ec, tcp::endpoint) {
                                 error = ec;
                                 if (!ec) exchange();
                               });
      }
    } else {
      exchange();
    }
    ioc_.restart();
    ioc_.run();
    if (error) {
      stream_.reset();
      return absl::UnavailableError(
          absl::StrCat("http ", host_, ":", port_, ": ", error.message()));
    }
    if (!res.keep_alive()) stream_.reset();
    return res;
  }

  const absl::Duration deadline_;
  std::string host_, port_;
  net::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

std::unique_ptr<GrpcClient> NewHttpCacheClient(const std::string& address,
                                               absl::Duration deadline) {
  return std::make_unique<HttpCacheClient>(address, deadline);
}

}  // namespace clustercache
