// GrpcClient: CacheClient and AdminClient over gRPC, with failover across
// servers.
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cache_client.h"
#include "client/server_channel.h"
#include "clustercache/v1/cache.grpc.pb.h"

namespace clustercache {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> words =
        absl::StrSplit(absl::string_view(line).substr(0, line.find('#')),
                       absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.size() == 1) return std::string(words[0]);
    if (words.size() == 3) return std::string(words[2]);  // NAME ROLE TOKEN
    if (!words.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": want a token, or NAME ROLE TOKEN"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": no token in it"));
}

absl::StatusOr<std::vector<std::string>> ParseServerList(
    absl::string_view text) {
  std::vector<std::string> servers;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    size_t colon = item.rfind(':');
    if (item.empty() || colon == absl::string_view::npos || colon == 0 ||
        colon + 1 == item.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server list \"", text, "\": want HOST:PORT[,HOST:PORT...]"));
    }
    servers.emplace_back(item);
  }
  return servers;
}

namespace {

class GrpcClientImpl : public GrpcClient {
 public:
  explicit GrpcClientImpl(const ClientOptions& options)
      : deadline_(options.deadline),
        bearer_(options.token.empty() ? "" : "Bearer " + options.token),
        bad_until_(new std::atomic<int64_t>[options.servers.size()]()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ChannelCredentialsFor(
            {options.tls_ca, options.tls_cert, options.tls_key});
    if (!credentials.ok()) setup_ = credentials.status();  // every call's
    for (const std::string& address : options.servers) {
      std::shared_ptr<grpc::Channel> channel = NewServerChannel(
          address, false, credentials.ok() ? *credentials : nullptr);
      endpoints_.push_back(
          {address, v1::Cache::NewStub(channel), v1::Admin::NewStub(channel)});
    }
  }

  absl::StatusOr<v1::FetchResponse> Fetch(
      const v1::FetchRequest& request) override {
    return Unary(&v1::Cache::Stub::Fetch, &Endpoint::cache, request,
                 absl::Milliseconds(request.wait_ms()));
  }
  absl::StatusOr<v1::StoreResponse> Store(
      const v1::StoreRequest& request) override {
    return Unary(&v1::Cache::Stub::Store, &Endpoint::cache, request);
  }
  absl::StatusOr<v1::ReleaseResponse> Release(
      const v1::ReleaseRequest& request) override {
    return Unary(&v1::Cache::Stub::Release, &Endpoint::cache, request);
  }
  absl::StatusOr<v1::CountResponse> Expire(
      const v1::ExpireRequest& request) override {
    return Unary(&v1::Admin::Stub::Expire, &Endpoint::admin, request);
  }
  absl::StatusOr<v1::CountResponse> Delete(
      const v1::DeleteRequest& request) override {
    return Unary(&v1::Admin::Stub::Delete, &Endpoint::admin, request);
  }
  absl::StatusOr<v1::InvalidateResponse> Invalidate(
      const v1::InvalidateRequest& request) override {
    return Unary(&v1::Admin::Stub::Invalidate, &Endpoint::admin, request);
  }
  // The pages of the stream, as one response.
  absl::StatusOr<v1::ListExpiryKeysResponse> ListExpiryKeys() override {
    v1::ListExpiryKeysResponse all;
    std::function<bool(const v1::ListExpiryKeysResponse&)> add =
        [&](const v1::ListExpiryKeysResponse& page) {
          all.set_served_by(page.served_by());
          for (const v1::ExpiryKeyValue& k : page.keys()) *all.add_keys() = k;
          return true;
        };
    absl::Status s = Stream(&v1::Admin::Stub::ListExpiryKeys,
                            v1::ListExpiryKeysRequest(), add, deadline_);
    if (!s.ok()) return s;
    return all;
  }
  absl::StatusOr<v1::ResetExpiryKeyResponse> ResetExpiryKey(
      const v1::ResetExpiryKeyRequest& request) override {
    return Unary(&v1::Admin::Stub::ResetExpiryKey, &Endpoint::admin, request);
  }
  absl::StatusOr<v1::ForgetTagsResponse> ForgetTags(
      const v1::ForgetTagsRequest& request) override {
    return Unary(&v1::Admin::Stub::ForgetTags, &Endpoint::admin, request);
  }
  absl::StatusOr<v1::StatsResponse> Stats() override {
    return Unary(&v1::Admin::Stub::Stats, &Endpoint::admin, v1::StatsRequest());
  }
  absl::Status Purge(const v1::PurgeRequest& request,
                     const std::function<bool(const v1::PurgeProgress&)>&
                         on_message) override {
    // A purge runs as long as it needs; no deadline.
    return Stream(&v1::Admin::Stub::Purge, request, on_message,
                  absl::InfiniteDuration());
  }
  absl::Status List(
      const v1::ListRequest& request,
      const std::function<bool(const v1::ListResponse&)>& on_message) override {
    return Stream(&v1::Admin::Stub::List, request, on_message, deadline_);
  }

 private:
  struct Endpoint {
    std::string address;
    std::unique_ptr<v1::Cache::Stub> cache;
    std::unique_ptr<v1::Admin::Stub> admin;
  };

  static absl::Status FromGrpc(const grpc::Status& s,
                               const std::string& address) {
    const absl::StatusCode code = static_cast<absl::StatusCode>(s.error_code());
    if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
        s.error_message().empty()) {
      return absl::Status(
          code, absl::StrCat(address,
                             " does not serve this service (Admin is served "
                             "only on --admin-listen when that is set)"));
    }
    return absl::Status(
        code, s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                  ? absl::StrCat(address, ": ", s.error_message())
                  : s.error_message());
  }

  // The deadline, and the token: every call's context is made here.
  void SetDeadline(grpc::ClientContext* context, absl::Duration d) {
    if (!bearer_.empty()) context->AddMetadata("authorization", bearer_);
    if (d == absl::InfiniteDuration()) return;
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoMicroseconds(d));
  }

  // The order to try servers in: the current one first, then the others;
  // those that failed in the last kBadFor after every one that did not.
  std::vector<size_t> Order() {
    const size_t start = current_.load(std::memory_order_relaxed);
    const int64_t now = absl::ToUnixMicros(absl::Now());
    std::vector<size_t> good, bad;
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      const size_t index = (start + i) % endpoints_.size();
      (bad_until_[index].load(std::memory_order_relaxed) > now ? bad : good)
          .push_back(index);
    }
    good.insert(good.end(), bad.begin(), bad.end());
    return good;
  }
  void MarkBad(size_t index) {
    bad_until_[index].store(absl::ToUnixMicros(absl::Now() + kBadFor),
                            std::memory_order_relaxed);
  }

  // Calls `method` on the current server, moving to the next one while the
  // current cannot be reached (UNAVAILABLE) or does not answer within its
  // share of the deadline (DEADLINE_EXCEEDED): each attempt gets a third of
  // the call's deadline (plus `extra`, a fetch's wait), and the call ends by
  // the whole deadline. Trying again elsewhere is safe for every unary call:
  // a leased Store that landed on the hung node ended its lease, so the
  // retry's recheck answers LEASE_LOST and overwrites nothing; an
  // unconditional Store is a write at "now" wherever it lands; Fetch, Release,
  // Expire, Delete and Invalidate may be asked twice.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      std::unique_ptr<Stub> Endpoint::*stub, const Request& request,
      absl::Duration extra = absl::ZeroDuration()) {
    if (!setup_.ok()) return setup_;
    absl::Status last;
    const absl::Time call_ends = absl::Now() + deadline_ + extra;
    for (size_t index : Order()) {
      const absl::Time now = absl::Now();
      if (now >= call_ends && !last.ok()) break;
      Endpoint& endpoint = endpoints_[index];
      grpc::ClientContext context;
      SetDeadline(&context,
                  std::min(call_ends, now + deadline_ / 3 + extra) - now);
      Response response;
      grpc::Status s =
          ((*(endpoint.*stub)).*method)(&context, request, &response);
      if (s.ok()) {
        current_.store(index, std::memory_order_relaxed);
        return response;
      }
      last = FromGrpc(s, endpoint.address);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
          s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        return last;
      }
      MarkBad(index);
    }
    return last;
  }

  template <typename Request, typename Message>
  absl::Status Stream(std::unique_ptr<grpc::ClientReader<Message>> (
                          v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                    const Request&),
                      const Request& request,
                      const std::function<bool(const Message&)>& on_message,
                      absl::Duration deadline) {
    if (!setup_.ok()) return setup_;
    absl::Status last;
    size_t start = current_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      size_t index = (start + i) % endpoints_.size();
      Endpoint& endpoint = endpoints_[index];
      grpc::ClientContext context;
      SetDeadline(&context, deadline);
      auto reader = ((*endpoint.admin).*method)(&context, request);
      Message message;
      bool any = false;
      while (reader->Read(&message)) {
        any = true;
        if (!on_message(message)) {
          context.TryCancel();
          break;
        }
      }
      grpc::Status s = reader->Finish();
      if (s.ok() || s.error_code() == grpc::StatusCode::CANCELLED) {
        current_.store(index, std::memory_order_relaxed);
        return absl::OkStatus();
      }
      last = FromGrpc(s, endpoint.address);
      if (any || s.error_code() != grpc::StatusCode::UNAVAILABLE) return last;
    }
    return last;
  }

  // How long a server that failed a call is tried only after the others.
  static constexpr absl::Duration kBadFor = absl::Seconds(5);

  const absl::Duration deadline_;
  const std::string bearer_;  // "Bearer TOKEN", or "" for none
  absl::Status setup_;        // the TLS files could not be read
  std::vector<Endpoint> endpoints_;
  std::atomic<size_t> current_{0};
  std::unique_ptr<std::atomic<int64_t>[]> bad_until_;
};

}  // namespace

std::unique_ptr<GrpcClient> NewGrpcClient(const ClientOptions& options) {
  return std::make_unique<GrpcClientImpl>(options);
}

}  // namespace clustercache
