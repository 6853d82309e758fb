#include "server/cache_service.h"

#include "absl/time/time.h"
#include "server/proto_convert.h"

namespace clustercache {
namespace {

grpc::Status Answer(const absl::StatusOr<FetchResult>& result,
                    v1::FetchResponse* response) {
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

}  // namespace

grpc::ServerUnaryReactor* CacheService::Fetch(
    grpc::CallbackServerContext* context, const v1::FetchRequest* request,
    v1::FetchResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  if (!key.ok()) {
    reactor->Finish(ToGrpcStatus(key.status()));
    return reactor;
  }
  FetchRequest fetch{*std::move(key), request->newer_than_us(),
                     absl::Milliseconds(request->max_age_ms()),
                     absl::Milliseconds(request->wait_ms()), request->peek()};
  cache_->FetchAsync(fetch,
                     [reactor, response](absl::StatusOr<FetchResult> result) {
                       reactor->Finish(Answer(result, response));
                     });
  return reactor;
}

grpc::ServerUnaryReactor* CacheService::Store(
    grpc::CallbackServerContext* context, const v1::StoreRequest* request,
    v1::StoreResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  absl::StatusOr<Commit> commit =
      key.ok() ? cache_->Store(WriteFromProto(*key, *request),
                               request->lease_token())
               : absl::StatusOr<Commit>(key.status());
  if (commit.ok()) {
    response->set_outcome(CommitOutcomeToProto(commit->outcome));
    response->set_mtime_us(commit->mtime);
  }
  reactor->Finish(ToGrpcStatus(commit.status()));
  return reactor;
}

grpc::ServerUnaryReactor* CacheService::Release(
    grpc::CallbackServerContext* context, const v1::ReleaseRequest* request,
    v1::ReleaseResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  response->set_served_by(node_name_);
  absl::StatusOr<Key> key = KeyFromProto(request->key());
  absl::StatusOr<bool> released =
      key.ok() ? cache_->Release(*key, request->lease_token())
               : absl::StatusOr<bool>(key.status());
  if (released.ok()) response->set_released(*released);
  reactor->Finish(ToGrpcStatus(released.status()));
  return reactor;
}

}  // namespace clustercache
