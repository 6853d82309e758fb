#include "server/admin_service.h"

#include "absl/time/time.h"
#include "cache/limits.h"
#include "server/proto_convert.h"

namespace clustercache {

// Every Admin call needs the admin role (when there is an auth file).
grpc::Status AdminService::Deny(const grpc::ServerContext& context) const {
  if (auth_ == nullptr) return grpc::Status::OK;
  return ToGrpcStatus(auth_->Check(context, Role::kAdmin).status());
}

namespace {

grpc::Status AnswerCount(const absl::StatusOr<int64_t>& n,
                         v1::CountResponse* response) {
  if (!n.ok()) return ToGrpcStatus(n.status());
  response->set_count(*n);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AdminService::Expire(grpc::ServerContext* context,
                                  const v1::ExpireRequest* request,
                                  v1::CountResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  return AnswerCount(cache_->Expire(SelectorFromProto(request->selector())),
                     response);
}

grpc::Status AdminService::Delete(grpc::ServerContext* context,
                                  const v1::DeleteRequest* request,
                                  v1::CountResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  return AnswerCount(cache_->Delete(SelectorFromProto(request->selector())),
                     response);
}

grpc::Status AdminService::Invalidate(grpc::ServerContext* context,
                                      const v1::InvalidateRequest* request,
                                      v1::InvalidateResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  std::string expiry_key;
  switch (request->target_case()) {
    case v1::InvalidateRequest::kScope:
      if (absl::Status s = ValidateScope(request->scope()); !s.ok()) {
        return ToGrpcStatus(s);
      }
      expiry_key = ScopeExpiryKey(request->scope());
      break;
    case v1::InvalidateRequest::kAll:
      if (!request->all()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "all: must be true to invalidate everything");
      }
      expiry_key = std::string(kExpiryAll);
      break;
    case v1::InvalidateRequest::kTag:
      expiry_key = request->tag();
      if (absl::Status s = ValidateTag(expiry_key); !s.ok()) {
        return ToGrpcStatus(s);
      }
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "target: set one of scope, all, tag");
  }
  absl::StatusOr<int64_t> value =
      cache_->Invalidate(expiry_key, request->at_us());
  if (!value.ok()) return ToGrpcStatus(value.status());
  response->set_expiry_key(expiry_key);
  response->set_value_us(*value);
  return grpc::Status::OK;
}

// In pages: a store with hundreds of thousands of tags would not fit one
// message.
grpc::Status AdminService::ListExpiryKeys(
    grpc::ServerContext* context, const v1::ListExpiryKeysRequest* request,
    grpc::ServerWriter<v1::ListExpiryKeysResponse>* writer) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  constexpr int kPage = 1000;
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = cache_->ListExpiryKeys();
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  size_t i = 0;
  do {
    v1::ListExpiryKeysResponse page;
    page.set_served_by(node_name_);
    for (int n = 0; n < kPage && i < keys->size(); ++n, ++i) {
      v1::ExpiryKeyValue* out = page.add_keys();
      out->set_name((*keys)[i].name);
      out->set_value_us((*keys)[i].value);
    }
    if (context->IsCancelled() || !writer->Write(page)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went");
    }
  } while (i < keys->size());
  return grpc::Status::OK;
}

grpc::Status AdminService::ForgetTags(grpc::ServerContext* context,
                                      const v1::ForgetTagsRequest* request,
                                      v1::ForgetTagsResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  absl::StatusOr<absl::Duration> older_than =
      MillisField(request->older_than_ms(), kMaxAge, "older_than_ms");
  if (!older_than.ok()) return ToGrpcStatus(older_than.status());
  absl::StatusOr<ForgottenTags> forgotten = cache_->ForgetTags(*older_than);
  if (!forgotten.ok()) return ToGrpcStatus(forgotten.status());
  response->set_forgotten(static_cast<int64_t>(forgotten->names.size()));
  response->set_floor_us(forgotten->floor);
  return grpc::Status::OK;
}

grpc::Status AdminService::ResetExpiryKey(
    grpc::ServerContext* context, const v1::ResetExpiryKeyRequest* request,
    v1::ResetExpiryKeyResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  absl::StatusOr<ExpiryReset> reset = cache_->ResetExpiryKey(request->name());
  if (!reset.ok()) return ToGrpcStatus(reset.status());
  response->set_name(request->name());
  response->set_before_us(reset->before);
  response->set_value_us(reset->after);
  response->set_reset(reset->after < reset->before);
  return grpc::Status::OK;
}

grpc::Status AdminService::Purge(
    grpc::ServerContext* context, const v1::PurgeRequest* request,
    grpc::ServerWriter<v1::PurgeProgress>* writer) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  absl::StatusOr<PurgeRequest> purge = PurgeFromProto(*request);
  if (!purge.ok()) return ToGrpcStatus(purge.status());
  purge->cancelled = [context] { return context->IsCancelled(); };
  absl::Status s = cache_->Purge(*purge, [&](const PurgeProgress& p) {
    v1::PurgeProgress out;
    out.set_examined(p.examined);
    out.set_purged(p.purged);
    out.set_bytes(p.bytes);
    out.set_done(p.done);
    out.set_served_by(node_name_);
    return !context->IsCancelled() && writer->Write(out);
  });
  return ToGrpcStatus(s);
}

grpc::Status AdminService::List(grpc::ServerContext* context,
                                const v1::ListRequest* request,
                                grpc::ServerWriter<v1::ListResponse>* writer) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  ListRequest list{request->scope(), request->prefix(), request->limit()};
  absl::Status s = cache_->List(list, [&](const EntryMeta& meta, bool fresh) {
    v1::ListResponse out;
    MetaToProto(meta, fresh, out.mutable_meta());
    out.set_served_by(node_name_);
    return !context->IsCancelled() && writer->Write(out);
  });
  return ToGrpcStatus(s);
}

grpc::Status AdminService::Stats(grpc::ServerContext* context,
                                 const v1::StatsRequest* request,
                                 v1::StatsResponse* response) {
  if (grpc::Status denied = Deny(*context); !denied.ok()) return denied;

  response->set_served_by(node_name_);
  cache_->stats().node().Visit(
      [&](absl::string_view name, absl::string_view help, int64_t value) {
        (*response->mutable_node_counters())[std::string(name)] = value;
      });
  cache_->stats().VisitScopes(
      [&](const std::string& scope, const ScopeCounters& counters) {
        v1::ScopeStats* out = response->add_scopes();
        out->set_scope(scope);
        counters.Visit(
            [&](absl::string_view name, absl::string_view help, int64_t value) {
              (*out->mutable_counters())[std::string(name)] = value;
            });
      });
  absl::StatusOr<StoreUsage> usage = cache_->Usage();
  if (absl::IsFailedPrecondition(usage.status())) {
    // The counters are still worth having.
    response->set_usage_unknown(std::string(usage.status().message()));
    return grpc::Status::OK;
  }
  if (!usage.ok()) return ToGrpcStatus(usage.status());
  response->set_entries(usage->entries);
  response->set_bytes(usage->bytes);
  return grpc::Status::OK;
}

}  // namespace clustercache
