// What RedisStore keeps in Redis, and how a read's reply becomes a Lookup.
//
// An entry is one string: "C1", then mtime, expires_at and expired_at (20
// digits each), payload size, crc32, content-type length and tags length
// (10 digits each), then the content type, the tags ("\n"-joined) and the
// payload. The scripts read and patch the fixed-width header in place
// (redis_scripts.cc); a fetch reads the whole string with MGET.
// A lease is one string: "token granted_at expires_at".
// The copies of "all" and "scope:S" are strings holding the value; tag
// values are fields of a hash with a "~floor". A missing copy or floor is
// "cannot tell" (nullopt): the entry is then not fresh.
#ifndef CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_RECORDS_H_
#define CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_RECORDS_H_

#include <hiredis/hiredis.h>

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cache/entry.h"
#include "cache/store/redis/redis_connection.h"
#include "cache/store/store.h"

namespace clustercache {

inline constexpr size_t kRedisEntryHeader = 102;

// The entry stored as `value`, or null when `value` is not a well-formed
// entry (or says a payload larger than `max_size`: see PlausibleMeta).
// `meta_only`: `value` may end after the tags, and the entry has no payload.
EntryRef EntryFromRedis(const Key& key, absl::string_view value,
                        int64_t max_size, bool meta_only = false);
std::optional<Lease> LeaseFromRedis(absl::string_view value);

// The reply of MGET entry lease all-copy scope-copy (4 elements), or of
// kReadTagged (the same and the tag values: HMGET ~floor tag...), as the
// Lookup at `now`. Sets *needs_tags when the entry has tags and the reply
// does not carry their values (MGET): read again with kReadTagged.
// `meta_only`: the entry was read without its payload (kReadTagged "meta").
// An entry record that cannot be read is no entry (logged: LogBadItem).
absl::StatusOr<Lookup> LookupFromRedis(const Key& key, const RedisReply& r,
                                       int64_t now, int64_t max_size,
                                       bool* needs_tags,
                                       bool meta_only = false);

// Tag values from HMGET tag-hash ~floor tag...: each is at least the floor;
// all unknown when the floor is missing (the hash was evicted).
std::vector<std::optional<int64_t>> TagTimesFromRedis(const redisReply* xs,
                                                      size_t tags);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_REDIS_REDIS_RECORDS_H_
