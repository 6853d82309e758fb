#include "server/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cache/key.h"
#include "cache/limits.h"
#include "cache/util/log.h"
#include "cache/util/version.h"
#include "server/proto_convert.h"

namespace clustercache {

namespace {

// The audit line of a gRPC Admin call; checks the caller's token (admin
// role).
AuditLine Audit(const grpc::ServerContext& context, const Authorizer* auth,
                absl::string_view op,
                const google::protobuf::Message& request) {
  return AuditLine(
      op, request.ShortDebugString(), context.peer(),
      auth == nullptr ? std::string() : auth->Check(context, Role::kAdmin));
}

grpc::Status Done(AuditLine& audit, const grpc::Status& status) {
  audit
      .Done(absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message()))
      .IgnoreError();
  return status;
}

grpc::Status Done(AuditLine& audit, const absl::Status& status) {
  return ToGrpcStatus(audit.Done(status));
}

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
  AuditLine audit = Audit(*context, auth_, "Expire", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  response->set_served_by(node_name_);
  grpc::Status done = AnswerCount(
      cache_->Expire(SelectorFromProto(request->selector())), response);
  audit.Count(response->count());
  return Done(audit, done);
}

grpc::Status AdminService::Delete(grpc::ServerContext* context,
                                  const v1::DeleteRequest* request,
                                  v1::CountResponse* response) {
  AuditLine audit = Audit(*context, auth_, "Delete", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  response->set_served_by(node_name_);
  grpc::Status done = AnswerCount(
      cache_->Delete(SelectorFromProto(request->selector())), response);
  audit.Count(response->count());
  return Done(audit, done);
}

grpc::Status AdminService::Invalidate(grpc::ServerContext* context,
                                      const v1::InvalidateRequest* request,
                                      v1::InvalidateResponse* response) {
  AuditLine audit = Audit(*context, auth_, "Invalidate", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  response->set_served_by(node_name_);
  InvalidateTarget target;
  switch (request->target_case()) {
    case v1::InvalidateRequest::kScope:
      target.scope = request->scope();
      break;
    case v1::InvalidateRequest::kAll:
      target.all = request->all();
      break;
    case v1::InvalidateRequest::kTag:
      target.tags = std::vector<std::string>{request->tag()};
      break;
    case v1::InvalidateRequest::kTags:
      target.tags = std::vector<std::string>(request->tags().names().begin(),
                                             request->tags().names().end());
      break;
    default:
      break;
  }
  absl::StatusOr<std::vector<std::string>> keys = ExpiryKeysOf(target);
  if (!keys.ok()) return Done(audit, keys.status());
  absl::StatusOr<std::vector<ExpiryKeyValue>> values =
      InvalidateKeys(*cache_, *keys, request->at_us());
  if (!values.ok()) return Done(audit, values.status());
  for (const ExpiryKeyValue& kv : *values) {
    v1::ExpiryKeyValue* out = response->add_keys();
    out->set_name(kv.name);
    out->set_value_us(kv.value);
  }
  response->set_expiry_key(values->front().name);
  response->set_value_us(values->front().value);
  audit.Count(static_cast<int64_t>(values->size()));
  return Done(audit, grpc::Status::OK);
}

// In pages: a store with hundreds of thousands of tags would not fit one
// message.
grpc::Status AdminService::ListExpiryKeys(
    grpc::ServerContext* context, const v1::ListExpiryKeysRequest* request,
    grpc::ServerWriter<v1::ListExpiryKeysResponse>* writer) {
  AuditLine audit = Audit(*context, auth_, "ListExpiryKeys", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  constexpr int kPage = 1000;
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = cache_->ListExpiryKeys();
  if (!keys.ok()) return Done(audit, ToGrpcStatus(keys.status()));
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
      return Done(audit,
                  grpc::Status(grpc::StatusCode::CANCELLED, "the caller went"));
    }
  } while (i < keys->size());
  return Done(audit, grpc::Status::OK);
}

grpc::Status AdminService::ForgetTags(grpc::ServerContext* context,
                                      const v1::ForgetTagsRequest* request,
                                      v1::ForgetTagsResponse* response) {
  AuditLine audit = Audit(*context, auth_, "ForgetTags", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  response->set_served_by(node_name_);
  absl::StatusOr<absl::Duration> older_than =
      MillisField(request->older_than_ms(), kMaxAge, "older_than_ms");
  if (!older_than.ok()) return Done(audit, ToGrpcStatus(older_than.status()));
  absl::StatusOr<ForgottenTags> forgotten = cache_->ForgetTags(*older_than);
  if (!forgotten.ok()) return Done(audit, ToGrpcStatus(forgotten.status()));
  response->set_forgotten(static_cast<int64_t>(forgotten->names.size()));
  audit.Count(response->forgotten());
  response->set_floor_us(forgotten->floor);
  return Done(audit, grpc::Status::OK);
}

grpc::Status AdminService::ResetExpiryKey(
    grpc::ServerContext* context, const v1::ResetExpiryKeyRequest* request,
    v1::ResetExpiryKeyResponse* response) {
  AuditLine audit = Audit(*context, auth_, "ResetExpiryKey", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  response->set_served_by(node_name_);
  absl::StatusOr<ExpiryReset> reset = cache_->ResetExpiryKey(request->name());
  if (!reset.ok()) return Done(audit, ToGrpcStatus(reset.status()));
  response->set_name(request->name());
  response->set_before_us(reset->before);
  response->set_value_us(reset->after);
  response->set_reset(reset->after < reset->before);
  return Done(audit, grpc::Status::OK);
}

grpc::Status AdminService::Purge(
    grpc::ServerContext* context, const v1::PurgeRequest* request,
    grpc::ServerWriter<v1::PurgeProgress>* writer) {
  AuditLine audit = Audit(*context, auth_, "Purge", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  absl::StatusOr<PurgeRequest> purge = PurgeFromProto(*request);
  if (!purge.ok()) return Done(audit, ToGrpcStatus(purge.status()));
  purge->cancelled = [context] { return context->IsCancelled(); };
  absl::Status s = cache_->Purge(*purge, [&](const PurgeProgress& p) {
    v1::PurgeProgress out;
    out.set_examined(p.examined);
    out.set_purged(p.purged);
    audit.Count(p.purged);
    out.set_bytes(p.bytes);
    out.set_done(p.done);
    out.set_served_by(node_name_);
    return !context->IsCancelled() && writer->Write(out);
  });
  return Done(audit, ToGrpcStatus(s));
}

grpc::Status AdminService::List(grpc::ServerContext* context,
                                const v1::ListRequest* request,
                                grpc::ServerWriter<v1::ListResponse>* writer) {
  AuditLine audit = Audit(*context, auth_, "List", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  ListRequest list{request->scope(), request->prefix(), request->limit(), ""};
  if (request->has_after()) {
    absl::StatusOr<Key> after =
        Key::Make(request->after().scope(), request->after().name());
    if (!after.ok()) {
      return Done(audit, ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
                             "after: ", after.status().message()))));
    }
    list.after = after->encoded();
  }
  absl::Status s = cache_->List(list, [&](const EntryMeta& meta, bool fresh) {
    v1::ListResponse out;
    MetaToProto(meta, fresh, out.mutable_meta());
    out.set_served_by(node_name_);
    return !context->IsCancelled() && writer->Write(out);
  });
  return Done(audit, ToGrpcStatus(s));
}

grpc::Status AdminService::Stats(grpc::ServerContext* context,
                                 const v1::StatsRequest* request,
                                 v1::StatsResponse* response) {
  AuditLine audit = Audit(*context, auth_, "Stats", *request);
  if (!audit.allowed()) return Done(audit, audit.refusal());

  *response = CollectStats(*cache_, node_name_);
  return Done(audit, grpc::Status::OK);
}

}  // namespace clustercache
