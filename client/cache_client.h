// CacheClient: what an application node (and clustercachectl) calls. An
// interface, so code built on it (GetOrGenerate) can be tested with a fake.
//
// NewCacheClient() talks gRPC to one or more clustercached nodes: calls go to
// the current node; when it cannot be reached (UNAVAILABLE), the call moves
// on to the next node, each node tried at most once per call. Every call has
// a deadline (Fetch: the deadline plus its wait). Thread-safe.
#ifndef CLUSTERCACHE_CLIENT_CACHE_CLIENT_H_
#define CLUSTERCACHE_CLIENT_CACHE_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clustercache/v1/cache.pb.h"

namespace clustercache {

struct ClientOptions {
  std::vector<std::string> servers = {"127.0.0.1:7411"};  // HOST:PORT each
  absl::Duration deadline = absl::Seconds(10);            // per call
  // Sent as "authorization: Bearer TOKEN" with every call ("" = none).
  std::string token;
  // TLS (PEM file paths): the CA that signed the servers' certificates,
  // and for mTLS this client's certificate and key. No CA: plaintext.
  std::string tls_ca, tls_cert, tls_key;
};

// The token in a token file: its first line that is not blank or a
// comment (#), or, for a line NAME ROLE TOKEN of an auth file, its TOKEN.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// "HOST:PORT[,HOST:PORT...]" → servers. Refuses empty items and missing ports.
absl::StatusOr<std::vector<std::string>> ParseServerList(
    absl::string_view text);

class CacheClient {
 public:
  virtual ~CacheClient() = default;

  virtual absl::StatusOr<v1::FetchResponse> Fetch(
      const v1::FetchRequest& request) = 0;
  virtual absl::StatusOr<v1::StoreResponse> Store(
      const v1::StoreRequest& request) = 0;
  virtual absl::StatusOr<v1::ReleaseResponse> Release(
      const v1::ReleaseRequest& request) = 0;
};

// The admin calls, for clustercachectl and tests.
class AdminClient {
 public:
  virtual ~AdminClient() = default;

  virtual absl::StatusOr<v1::CountResponse> Expire(
      const v1::ExpireRequest& request) = 0;
  virtual absl::StatusOr<v1::CountResponse> Delete(
      const v1::DeleteRequest& request) = 0;
  virtual absl::StatusOr<v1::InvalidateResponse> Invalidate(
      const v1::InvalidateRequest& request) = 0;
  virtual absl::StatusOr<v1::ListExpiryKeysResponse> ListExpiryKeys() = 0;
  virtual absl::StatusOr<v1::ResetExpiryKeyResponse> ResetExpiryKey(
      const v1::ResetExpiryKeyRequest& request) = 0;
  virtual absl::StatusOr<v1::ForgetTagsResponse> ForgetTags(
      const v1::ForgetTagsRequest& request) = 0;
  virtual absl::StatusOr<v1::StatsResponse> Stats() = 0;
  // Streams: `on_message` is called per message; returning false stops.
  virtual absl::Status Purge(
      const v1::PurgeRequest& request,
      const std::function<bool(const v1::PurgeProgress&)>& on_message) = 0;
  virtual absl::Status List(
      const v1::ListRequest& request,
      const std::function<bool(const v1::ListResponse&)>& on_message) = 0;
};

class GrpcClient : public CacheClient, public AdminClient {};

std::unique_ptr<GrpcClient> NewGrpcClient(const ClientOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_CACHE_CLIENT_H_
