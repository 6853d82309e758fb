// The gRPC services: proto ↔ core translation only. Every answer names the
// node that served it. Thread-safe (ContentCache is).
#ifndef CLUSTERCACHE_SERVER_CACHE_SERVICE_H_
#define CLUSTERCACHE_SERVER_CACHE_SERVICE_H_

#include <string>

#include "cache/content_cache.h"
#include "clustercache/v1/cache.grpc.pb.h"

namespace clustercache {

// clustercache.v1.Cache: for application nodes. On gRPC's callback API:
// every call answers on the callback thread, except a Fetch that waits for
// another holder's result: that one answers from the engine's callback when
// the entry lands (or the wait ends), and no thread blocks meanwhile.
class CacheService final : public v1::Cache::CallbackService {
 public:
  // REQUIRES: `cache` outlives this object.
  CacheService(ContentCache* cache, std::string node_name)
      : cache_(cache), node_name_(std::move(node_name)) {}

  grpc::ServerUnaryReactor* Fetch(grpc::CallbackServerContext* context,
                                  const v1::FetchRequest* request,
                                  v1::FetchResponse* response) override;
  grpc::ServerUnaryReactor* Store(grpc::CallbackServerContext* context,
                                  const v1::StoreRequest* request,
                                  v1::StoreResponse* response) override;
  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* context,
                                    const v1::ReleaseRequest* request,
                                    v1::ReleaseResponse* response) override;

 private:
  ContentCache* const cache_;
  const std::string node_name_;
};

// clustercache.v1.Admin: for administrators.
class AdminService final : public v1::Admin::Service {
 public:
  AdminService(ContentCache* cache, std::string node_name)
      : cache_(cache), node_name_(std::move(node_name)) {}

  grpc::Status Expire(grpc::ServerContext* context,
                      const v1::ExpireRequest* request,
                      v1::CountResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context,
                      const v1::DeleteRequest* request,
                      v1::CountResponse* response) override;
  grpc::Status Invalidate(grpc::ServerContext* context,
                          const v1::InvalidateRequest* request,
                          v1::InvalidateResponse* response) override;
  grpc::Status ListExpiryKeys(grpc::ServerContext* context,
                              const v1::ListExpiryKeysRequest* request,
                              v1::ListExpiryKeysResponse* response) override;
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
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_CACHE_SERVICE_H_
