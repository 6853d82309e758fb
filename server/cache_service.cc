#include "server/cache_service.h"

#include "absl/time/time.h"
#include "server/proto_convert.h"

namespace clustercache {

grpc::Status CacheService::Fetch(grpc::ServerContext* context,
                                 const v1::FetchRequest* request,
                                 v1::FetchResponse* response) {
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  if (!key.ok()) return ToGrpcStatus(key.status());
  FetchRequest fetch{*std::move(key), request->newer_than_us(),
                     absl::Milliseconds(request->max_age_ms()),
                     absl::Milliseconds(request->wait_ms()), request->peek()};
  absl::StatusOr<FetchResult> result = cache_->Fetch(fetch);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_outcome(FetchOutcomeToProto(result->outcome));
  if (result->entry) {
    MetaToProto(result->entry->meta, result->outcome == FetchOutcome::kHit,
                response->mutable_meta());
    response->set_payload(*result->entry->payload);
  }
  if (!result->lease.token.empty()) {
    LeaseToProto(result->lease, response->mutable_lease());
  }
  return grpc::Status::OK;
}

grpc::Status CacheService::Store(grpc::ServerContext* context,
                                 const v1::StoreRequest* request,
                                 v1::StoreResponse* response) {
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  if (!key.ok()) return ToGrpcStatus(key.status());
  if (request->ttl_ms() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "ttl_ms: must not be negative");
  }
  absl::StatusOr<Commit> commit =
      cache_->Store(WriteFromProto(*key, *request), request->lease_token());
  if (!commit.ok()) return ToGrpcStatus(commit.status());
  response->set_outcome(CommitOutcomeToProto(commit->outcome));
  response->set_mtime_us(commit->mtime);
  return grpc::Status::OK;
}

grpc::Status CacheService::Release(grpc::ServerContext* context,
                                   const v1::ReleaseRequest* request,
                                   v1::ReleaseResponse* response) {
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  if (!key.ok()) return ToGrpcStatus(key.status());
  absl::StatusOr<bool> released = cache_->Release(*key, request->lease_token());
  if (!released.ok()) return ToGrpcStatus(released.status());
  response->set_released(*released);
  return grpc::Status::OK;
}

}  // namespace clustercache
