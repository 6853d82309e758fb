// Translation between clustercache.v1 messages and core types. Validation of
// keys happens here, at the edge, so errors name the request field.
#ifndef CLUSTERCACHE_SERVER_PROTO_CONVERT_H_
#define CLUSTERCACHE_SERVER_PROTO_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"
#include "cache/content_cache.h"
#include "cache/entry.h"
#include "clustercache/v1/cache.pb.h"

namespace clustercache {

absl::StatusOr<Key> KeyFromProto(const v1::Key& key);
Selector SelectorFromProto(const v1::Selector& selector);
// Durations and times are bounded (cache/limits.h) before any arithmetic;
// errors name the wire field (`ttl_ms`, `wait_ms`, ...).
absl::StatusOr<absl::Duration> MillisField(int64_t ms, absl::Duration max,
                                           absl::string_view field);
absl::StatusOr<FetchRequest> FetchFromProto(const v1::FetchRequest& request);
absl::StatusOr<EntryWrite> WriteFromProto(const Key& key,
                                          const v1::StoreRequest& request);
absl::StatusOr<PurgeRequest> PurgeFromProto(const v1::PurgeRequest& request);
void MetaToProto(const EntryMeta& meta, bool fresh, v1::EntryMeta* out);
void LeaseToProto(const Lease& lease, v1::Lease* out);
v1::FetchOutcome FetchOutcomeToProto(FetchOutcome outcome);
v1::StoreOutcome CommitOutcomeToProto(CommitOutcome outcome);
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_PROTO_CONVERT_H_
