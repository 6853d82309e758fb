#include "cache/store/redis/redis_records.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace clustercache {
namespace {

bool Field(absl::string_view header, size_t at, size_t width, int64_t* out) {
  return absl::SimpleAtoi(header.substr(at, width), out);
}

absl::string_view View(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return {};
  return absl::string_view(r->str, r->len);
}

std::optional<int64_t> Value(const redisReply* r) {
  int64_t v = 0;
  if (r == nullptr || r->type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(View(r), &v)) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

EntryRef EntryFromRedis(const Key& key, absl::string_view value,
                        int64_t max_size, bool meta_only) {
  if (value.size() < kRedisEntryHeader || value.substr(0, 2) != "C1") {
    return nullptr;
  }
  int64_t size, crc, content_type, tags;
  auto entry = std::make_shared<Entry>();
  EntryMeta& meta = entry->meta;
  if (!Field(value, 2, 20, &meta.mtime) ||
      !Field(value, 22, 20, &meta.expires_at) ||
      !Field(value, 42, 20, &meta.expired_at) || !Field(value, 62, 10, &size) ||
      !Field(value, 72, 10, &crc) || !Field(value, 82, 10, &content_type) ||
      !Field(value, 92, 10, &tags) || size < 0 || content_type < 0 ||
      tags < 0 ||
      (meta_only ? value.size() < kRedisEntryHeader +
                                      static_cast<size_t>(content_type + tags)
                 : value.size() !=
                       kRedisEntryHeader +
                           static_cast<size_t>(content_type + tags + size))) {
    return nullptr;
  }
  meta.key = key;
  meta.size = size;
  meta.crc32 = static_cast<uint32_t>(crc);
  absl::string_view rest = value.substr(kRedisEntryHeader);
  meta.content_type = std::string(rest.substr(0, content_type));
  if (tags > 0) {
    meta.tags = absl::StrSplit(rest.substr(content_type, tags), '\n');
  }
  if (!PlausibleMeta(meta, max_size)) return nullptr;
  if (!meta_only) {
    entry->payload =
        std::make_shared<const std::string>(rest.substr(content_type + tags));
  }
  return entry;
}

std::optional<Lease> LeaseFromRedis(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ' ');
  Lease lease;
  if (parts.size() != 3 || parts[0].empty() ||
      !absl::SimpleAtoi(parts[1], &lease.granted_at) ||
      !absl::SimpleAtoi(parts[2], &lease.expires_at)) {
    return std::nullopt;
  }
  lease.token = std::string(parts[0]);
  return lease;
}

std::vector<std::optional<int64_t>> TagTimesFromRedis(const redisReply* xs,
                                                      size_t tags) {
  std::vector<std::optional<int64_t>> times(tags);
  if (xs == nullptr || xs->type != REDIS_REPLY_ARRAY ||
      xs->elements != 1 + tags) {
    return times;
  }
  std::optional<int64_t> floor = Value(xs->element[0]);
  if (!floor.has_value()) return times;
  for (size_t i = 0; i < tags; ++i) {
    times[i] = std::max(*floor, Value(xs->element[1 + i]).value_or(0));
  }
  return times;
}

absl::StatusOr<Lookup> LookupFromRedis(const Key& key, const RedisReply& r,
                                       int64_t now, int64_t max_size,
                                       bool* needs_tags, bool meta_only) {
  *needs_tags = false;
  if (r.size() != 4 && r.size() != 5) {
    return absl::InternalError("redis read: bad reply: " + r.str());
  }
  Lookup out;
  out.now = now;
  const absl::string_view record = View(r.at(0));
  EntryRef entry = EntryFromRedis(key, record, max_size, meta_only);
  if (!entry && !record.empty()) {
    LogBadItem("redis", key.ToString(), "entry record");
  }
  if (entry) {
    out.expiry.all = Value(r.at(2));
    out.expiry.scope = Value(r.at(3));
    if (!entry->meta.tags.empty()) {
      if (r.size() == 5) {
        out.expiry.tags = TagTimesFromRedis(r.at(4), entry->meta.tags.size());
      } else {
        *needs_tags = true;
      }
    }
    out.entry = std::move(entry);
  }
  if (!ReplyIsNil(r.at(1))) out.lease = LeaseFromRedis(View(r.at(1)));
  return out;
}

}  // namespace clustercache
