// AdminService: clustercache.v1.Admin, for administrators: proto <-> core
// translation only. Every answer names the node that served it. On gRPC's
// synchronous API. Thread-safe (ContentCache is).
#ifndef CLUSTERCACHE_SERVER_ADMIN_SERVICE_H_
#define CLUSTERCACHE_SERVER_ADMIN_SERVICE_H_

#include <string>

#include "cache/content_cache.h"
#include "clustercache/v1/cache.grpc.pb.h"
#include "server/admin_ops.h"
#include "server/auth.h"

namespace clustercache {

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
