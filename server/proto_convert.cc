#include "server/proto_convert.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "cache/limits.h"
#include "server/admin_ops.h"

namespace clustercache {

absl::StatusOr<Key> KeyFromProto(const v1::Key& key) {
  if (absl::Status s = ValidateScope(key.scope(), "key.scope"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateName(key.name(), "key.name"); !s.ok()) {
    return s;
  }
  return Key(key.scope(), key.name());
}

Selector SelectorFromProto(const v1::Selector& selector) {
  Selector out;
  out.scope = selector.scope();
  if (selector.target_case() == v1::Selector::kName) {
    out.name = selector.name();
  } else {
    out.prefix = selector.prefix();
  }
  return out;
}

absl::StatusOr<absl::Duration> MillisField(int64_t ms, absl::Duration max,
                                           absl::string_view field) {
  if (ms < 0 || ms > absl::ToInt64Milliseconds(max)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", ms, " is not 0 .. ", absl::ToInt64Milliseconds(max), " (",
        absl::FormatDuration(max), ")"));
  }
  return absl::Milliseconds(ms);
}

absl::StatusOr<FetchRequest> FetchFromProto(const v1::FetchRequest& request) {
  absl::StatusOr<Key> key = KeyFromProto(request.key());
  if (!key.ok()) return key.status();
  absl::StatusOr<absl::Duration> max_age =
      MillisField(request.max_age_ms(), kMaxAge, "max_age_ms");
  if (!max_age.ok()) return max_age.status();
  absl::StatusOr<absl::Duration> wait =
      MillisField(request.wait_ms(), kMaxWait, "wait_ms");
  if (!wait.ok()) return wait.status();
  if (request.newer_than_us() < 0) {
    return absl::InvalidArgumentError("newer_than_us: must not be negative");
  }
  return FetchRequest{*std::move(key), request.newer_than_us(), *max_age, *wait,
                      request.peek()};
}

absl::StatusOr<PurgeRequest> PurgeFromProto(const v1::PurgeRequest& request) {
  PurgeRequest purge;
  purge.scope = request.scope();
  purge.prefix = request.prefix();
  absl::StatusOr<absl::Duration> older =
      MillisField(request.older_than_ms(), kMaxAge, "older_than_ms");
  if (!older.ok()) return older.status();
  absl::StatusOr<absl::Duration> pause =
      MillisField(request.pause_ms(), kMaxPurgePause, "pause_ms");
  if (!pause.ok()) return pause.status();
  purge.older_than = *older;
  purge.pause = *pause;
  purge.only_not_fresh = request.only_not_fresh();
  purge.dry_run = request.dry_run();
  if (request.batch() != 0) purge.batch = request.batch();
  if (absl::Status s = CheckPurge(purge, request.everything()); !s.ok()) {
    return s;
  }
  return purge;
}

absl::StatusOr<EntryWrite> WriteFromProto(const Key& key,
                                          const v1::StoreRequest& request) {
  absl::StatusOr<absl::Duration> ttl =
      MillisField(request.ttl_ms(), kMaxTtl, "ttl_ms");
  if (!ttl.ok()) return ttl.status();
  EntryWrite write;
  write.key = key;
  write.payload = std::make_shared<const std::string>(request.payload());
  write.ttl_us = absl::ToInt64Microseconds(*ttl);
  write.tags.assign(request.tags().begin(), request.tags().end());
  write.content_type = request.content_type();
  return write;
}

void MetaToProto(const EntryMeta& meta, bool fresh, v1::EntryMeta* out) {
  out->mutable_key()->set_scope(std::string(meta.key.scope()));
  out->mutable_key()->set_name(std::string(meta.key.name()));
  out->set_mtime_us(meta.mtime);
  out->set_expires_at_us(meta.expires_at);
  out->set_content_type(meta.content_type);
  for (const std::string& tag : meta.tags) out->add_tags(tag);
  out->set_expired(meta.expired());
  out->set_size(meta.size);
  out->set_crc32(meta.crc32);
  out->set_fresh(fresh);
}

void LeaseToProto(const Lease& lease, v1::Lease* out) {
  out->set_token(lease.token);
  out->set_granted_at_us(lease.granted_at);
  out->set_expires_at_us(lease.expires_at);
}

v1::FetchOutcome FetchOutcomeToProto(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kHit:
      return v1::HIT;
    case FetchOutcome::kStale:
      return v1::STALE;
    case FetchOutcome::kMissLease:
      return v1::MISS_LEASE;
    case FetchOutcome::kStaleLease:
      return v1::STALE_LEASE;
    case FetchOutcome::kTimeout:
      return v1::TIMEOUT;
    case FetchOutcome::kUnavailable:
      return v1::UNAVAILABLE;
    case FetchOutcome::kMiss:
      return v1::MISS;
    case FetchOutcome::kWouldBlock:  // internal; never answered
      break;
  }
  return v1::FETCH_OUTCOME_UNSPECIFIED;
}

v1::StoreOutcome CommitOutcomeToProto(CommitOutcome outcome) {
  switch (outcome) {
    case CommitOutcome::kStored:
      return v1::STORED;
    case CommitOutcome::kSuperseded:
      return v1::SUPERSEDED;
    case CommitOutcome::kLeaseLost:
      return v1::LEASE_LOST;
  }
  return v1::STORE_OUTCOME_UNSPECIFIED;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace clustercache
