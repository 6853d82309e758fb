#include "server/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cache/limits.h"
#include "cache/util/log.h"
#include "server/proto_convert.h"

namespace clustercache {

AuditLine::AuditLine(const grpc::ServerContext& context, const Authorizer* auth,
                     absl::string_view op,
                     const google::protobuf::Message& request)
    : op_(op), peer_(context.peer()) {
  target_ = request.ShortDebugString();
  if (target_.size() > 200) target_ = target_.substr(0, 200) + "...";
  // Every Admin call needs the admin role (when there is an auth file).
  absl::StatusOr<std::string> who =
      auth == nullptr ? std::string() : auth->Check(context, Role::kAdmin);
  if (who.ok()) {
    who_ = who->empty() ? "-" : *who;
  } else {
    who_ = "(refused)";
    refusal_ = ToGrpcStatus(who.status());
  }
}

AuditLine::~AuditLine() {
  LogInfo("audit: ", op_, " {", target_, "} by ", who_, " from ", peer_, ": ",
          result_, count_ >= 0 ? absl::StrCat(", count ", count_) : "");
}

grpc::Status AuditLine::Done(grpc::Status status) {
  result_ = status.ok()
                ? "OK"
                : absl::StrCat(
                      absl::StatusCodeToString(
                          static_cast<absl::StatusCode>(status.error_code())),
                      ": ", status.error_message());
  return status;
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
  AuditLine audit(*context, auth_, "Expire", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  response->set_served_by(node_name_);
  grpc::Status done = AnswerCount(
      cache_->Expire(SelectorFromProto(request->selector())), response);
  audit.Count(response->count());
  return audit.Done(done);
}

grpc::Status AdminService::Delete(grpc::ServerContext* context,
                                  const v1::DeleteRequest* request,
                                  v1::CountResponse* response) {
  AuditLine audit(*context, auth_, "Delete", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  response->set_served_by(node_name_);
  grpc::Status done = AnswerCount(
      cache_->Delete(SelectorFromProto(request->selector())), response);
  audit.Count(response->count());
  return audit.Done(done);
}

grpc::Status AdminService::Invalidate(grpc::ServerContext* context,
                                      const v1::InvalidateRequest* request,
                                      v1::InvalidateResponse* response) {
  AuditLine audit(*context, auth_, "Invalidate", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  response->set_served_by(node_name_);
  std::string expiry_key;
  switch (request->target_case()) {
    case v1::InvalidateRequest::kScope:
      if (absl::Status s = ValidateScope(request->scope()); !s.ok()) {
        return audit.Done(ToGrpcStatus(s));
      }
      expiry_key = ScopeExpiryKey(request->scope());
      break;
    case v1::InvalidateRequest::kAll:
      if (!request->all()) {
        return audit.Done(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         "all: must be true to invalidate everything"));
      }
      expiry_key = std::string(kExpiryAll);
      break;
    case v1::InvalidateRequest::kTag:
      expiry_key = request->tag();
      if (absl::Status s = ValidateTag(expiry_key); !s.ok()) {
        return audit.Done(ToGrpcStatus(s));
      }
      break;
    default:
      return audit.Done(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "target: set one of scope, all, tag"));
  }
  absl::StatusOr<int64_t> value =
      cache_->Invalidate(expiry_key, request->at_us());
  if (!value.ok()) return audit.Done(ToGrpcStatus(value.status()));
  response->set_expiry_key(expiry_key);
  response->set_value_us(*value);
  return audit.Done(grpc::Status::OK);
}

// In pages: a store with hundreds of thousands of tags would not fit one
// message.
grpc::Status AdminService::ListExpiryKeys(
    grpc::ServerContext* context, const v1::ListExpiryKeysRequest* request,
    grpc::ServerWriter<v1::ListExpiryKeysResponse>* writer) {
  AuditLine audit(*context, auth_, "ListExpiryKeys", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  constexpr int kPage = 1000;
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = cache_->ListExpiryKeys();
  if (!keys.ok()) return audit.Done(ToGrpcStatus(keys.status()));
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
      return audit.Done(
          grpc::Status(grpc::StatusCode::CANCELLED, "the caller went"));
    }
  } while (i < keys->size());
  return audit.Done(grpc::Status::OK);
}

grpc::Status AdminService::ForgetTags(grpc::ServerContext* context,
                                      const v1::ForgetTagsRequest* request,
                                      v1::ForgetTagsResponse* response) {
  AuditLine audit(*context, auth_, "ForgetTags", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  response->set_served_by(node_name_);
  absl::StatusOr<absl::Duration> older_than =
      MillisField(request->older_than_ms(), kMaxAge, "older_than_ms");
  if (!older_than.ok()) return audit.Done(ToGrpcStatus(older_than.status()));
  absl::StatusOr<ForgottenTags> forgotten = cache_->ForgetTags(*older_than);
  if (!forgotten.ok()) return audit.Done(ToGrpcStatus(forgotten.status()));
  response->set_forgotten(static_cast<int64_t>(forgotten->names.size()));
  audit.Count(response->forgotten());
  response->set_floor_us(forgotten->floor);
  return audit.Done(grpc::Status::OK);
}

grpc::Status AdminService::ResetExpiryKey(
    grpc::ServerContext* context, const v1::ResetExpiryKeyRequest* request,
    v1::ResetExpiryKeyResponse* response) {
  AuditLine audit(*context, auth_, "ResetExpiryKey", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  response->set_served_by(node_name_);
  absl::StatusOr<ExpiryReset> reset = cache_->ResetExpiryKey(request->name());
  if (!reset.ok()) return audit.Done(ToGrpcStatus(reset.status()));
  response->set_name(request->name());
  response->set_before_us(reset->before);
  response->set_value_us(reset->after);
  response->set_reset(reset->after < reset->before);
  return audit.Done(grpc::Status::OK);
}

grpc::Status AdminService::Purge(
    grpc::ServerContext* context, const v1::PurgeRequest* request,
    grpc::ServerWriter<v1::PurgeProgress>* writer) {
  AuditLine audit(*context, auth_, "Purge", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  absl::StatusOr<PurgeRequest> purge = PurgeFromProto(*request);
  if (!purge.ok()) return audit.Done(ToGrpcStatus(purge.status()));
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
  return audit.Done(ToGrpcStatus(s));
}

grpc::Status AdminService::List(grpc::ServerContext* context,
                                const v1::ListRequest* request,
                                grpc::ServerWriter<v1::ListResponse>* writer) {
  AuditLine audit(*context, auth_, "List", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

  ListRequest list{request->scope(), request->prefix(), request->limit()};
  absl::Status s = cache_->List(list, [&](const EntryMeta& meta, bool fresh) {
    v1::ListResponse out;
    MetaToProto(meta, fresh, out.mutable_meta());
    out.set_served_by(node_name_);
    return !context->IsCancelled() && writer->Write(out);
  });
  return audit.Done(ToGrpcStatus(s));
}

grpc::Status AdminService::Stats(grpc::ServerContext* context,
                                 const v1::StatsRequest* request,
                                 v1::StatsResponse* response) {
  AuditLine audit(*context, auth_, "Stats", *request);
  if (!audit.allowed()) return audit.Done(audit.refusal());

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
    return audit.Done(grpc::Status::OK);
  }
  if (!usage.ok()) return audit.Done(ToGrpcStatus(usage.status()));
  response->set_entries(usage->entries);
  response->set_bytes(usage->bytes);
  return audit.Done(grpc::Status::OK);
}

}  // namespace clustercache
