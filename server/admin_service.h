// AdminService: clustercache.v1.Admin, for administrators: proto <-> core
// translation only. Every answer names the node that served it. On gRPC's
// synchronous API. Thread-safe (ContentCache is).
#ifndef CLUSTERCACHE_SERVER_ADMIN_SERVICE_H_
#define CLUSTERCACHE_SERVER_ADMIN_SERVICE_H_

#include <string>

#include "cache/content_cache.h"
#include "clustercache/v1/cache.grpc.pb.h"
#include "server/auth.h"

namespace clustercache {

// The audit line of one Admin call: operation, request, token name (never
// the token), peer, result and count, logged once when the call ends. Also
// checks the caller's token (admin role).
class AuditLine {
 public:
  AuditLine(const grpc::ServerContext& context, const Authorizer* auth,
            absl::string_view op, const google::protobuf::Message& request);
  ~AuditLine();
  bool allowed() const { return refusal_.ok(); }
  const grpc::Status& refusal() const { return refusal_; }
  void Count(int64_t n) { count_ = n; }
  // Records the call's result; returns it.
  grpc::Status Done(grpc::Status status);

 private:
  std::string op_, target_, peer_, who_, result_ = "?";
  grpc::Status refusal_;
  int64_t count_ = -1;
};

class AdminService final : public v1::Admin::Service {
 public:
  // `auth` may be null (every call allowed).
  AdminService(ContentCache* cache, std::string node_name,
               const Authorizer* auth = nullptr)
      : cache_(cache), node_name_(std::move(node_name)), auth_(auth) {}

  grpc::Status Expire(grpc::ServerContext* context,
                      const v1::ExpireRequest* request,
                      v1::CountResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context,
                      const v1::DeleteRequest* request,
                      v1::CountResponse* response) override;
  grpc::Status Invalidate(grpc::ServerContext* context,
                          const v1::InvalidateRequest* request,
                          v1::InvalidateResponse* response) override;
  grpc::Status ListExpiryKeys(
      grpc::ServerContext* context, const v1::ListExpiryKeysRequest* request,
      grpc::ServerWriter<v1::ListExpiryKeysResponse>* writer) override;
  grpc::Status ForgetTags(grpc::ServerContext* context,
                          const v1::ForgetTagsRequest* request,
                          v1::ForgetTagsResponse* response) override;
  grpc::Status ResetExpiryKey(grpc::ServerContext* context,
                              const v1::ResetExpiryKeyRequest* request,
                              v1::ResetExpiryKeyResponse* response) override;
  grpc::Status Purge(grpc::ServerContext* context,
                     const v1::PurgeRequest* request,
                     grpc::ServerWriter<v1::PurgeProgress>* writer) override;
  grpc::Status List(grpc::ServerContext* context,
                    const v1::ListRequest* request,
                    grpc::ServerWriter<v1::ListResponse>* writer) override;
  grpc::Status Stats(grpc::ServerContext* context,
                     const v1::StatsRequest* request,
                     v1::StatsResponse* response) override;

 private:
  ContentCache* const cache_;
  const std::string node_name_;
  const Authorizer* const auth_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_ADMIN_SERVICE_H_
