// The items of the memcached store: their names and their values.
//
// Names (prefix p, bucket b = crc32(key) % buckets, group "p.b": every item
// of a bucket lives on the server the group hashes to):
//   p:e:<id>             entry head: metadata, and the payload when it fits
//   p:e:<id>@<mtime>.<i> chunk i of a payload larger than one item
//   p:l:<id>             lease: token, grant time, lapse time
//   p:c:<b>              bucket clock (a counter, microseconds)
//   p:x:<b>:<expiry key> the bucket's copy of an expiry key (decimal)
//   p:v:<b>:<scope>      the bucket's prefix voids of a scope (McVoid)
//   p:xm                 every expiry key's latest value (group "p.xm")
// <id> is "scope/name" when that is short printable ASCII, else
// "scope#<128-bit hash>"; the head holds the whole key and a read checks it,
// so a hash collision reads as a miss, never as another key's entry.
#ifndef CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_ITEMS_H_
#define CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_ITEMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cache/entry.h"
#include "cache/key.h"

namespace clustercache {

class McLayout {
 public:
  McLayout(std::string prefix, int buckets)
      : prefix_(std::move(prefix)), buckets_(buckets) {}

  int buckets() const { return buckets_; }
  int BucketOf(const Key& key) const;
  std::string Group(int bucket) const;
  std::string EntryItem(const Key& key) const;
  std::string ChunkItem(const Key& key, int64_t mtime, int index) const;
  std::string LeaseItem(const Key& key) const;
  std::string ClockItem(int bucket) const;
  std::string CopyItem(int bucket, absl::string_view expiry_key) const;
  std::string VoidItem(int bucket, absl::string_view scope) const;
  std::string MasterGroup() const;
  std::string MasterItem() const;

 private:
  std::string Id(const Key& key) const;
  const std::string prefix_;
  const int buckets_;
};

// An entry head: the metadata, how many chunks hold the payload (0: the
// payload follows inline), or a tombstone (a removed entry, briefly).
struct McHead {
  EntryMeta meta;
  int chunks = 0;
  std::string inline_payload;
  bool tombstone = false;
  // A tombstone left by Delete or Expire: the cluster time of that call. A
  // lease granted before it cannot commit (0: left by a purge).
  int64_t voided_at = 0;
  // The bucket's time when the head was written, where that is not its
  // mtime (0): an imported entry keeps its source's mtime, from another
  // clock. Voids, grants and writes in this store are ordered against
  // Written(); expiry keys against the mtime.
  int64_t written_at = 0;
  int64_t Written() const { return written_at > 0 ? written_at : meta.mtime; }
};

std::string EncodeHead(const EntryMeta& meta, int chunks,
                       absl::string_view inline_payload,
                       int64_t written_at = 0);
std::string TombstoneHead(int64_t voided_at = 0);
// What a head may say: a payload of at most max_size bytes, inline when it
// fits chunk_size, else in ceil(size / chunk_size) chunks.
struct McHeadLimits {
  int64_t max_size = int64_t{8} << 20;
  int64_t chunk_size = (int64_t{1} << 20) - 8192;
};
// nullopt: not a head this program wrote, or one that breaks `limits`
// (corrupt or foreign): a miss, never fresh.
std::optional<McHead> DecodeHead(absl::string_view value,
                                 const McHeadLimits& limits);

std::string EncodeLease(const Lease& lease);
std::optional<Lease> DecodeLease(absl::string_view value);

// The expiry-key map held in p:xm.
std::string EncodeExpiryMap(const std::map<std::string, int64_t>& values);
std::optional<std::map<std::string, int64_t>> DecodeExpiryMap(
    absl::string_view value);

std::optional<int64_t> DecodeCounter(absl::string_view value);

// An Expire or Delete by prefix (or of a whole scope: prefix "") that
// memcached could not apply key by key (it cannot enumerate): every entry
// of the prefix older than `at` is not fresh (expire) or gone (delete), and
// every lease of it granted before `at` is void.
struct McVoid {
  bool remove = false;
  int64_t at = 0;
  std::string prefix;
};
// What the voids of one bucket and scope say of one name: the latest void
// time of any kind, and of deletes.
struct McVoided {
  int64_t any = 0;
  int64_t removed = 0;
};
// At most kMaxVoids are kept: older ones are folded into one void of the
// whole scope at the latest time folded (never less than was voided).
inline constexpr size_t kMaxVoids = 64;
std::string EncodeVoids(const std::vector<McVoid>& voids);
// nullopt: not a list this program wrote (corrupt): cannot tell.
std::optional<std::vector<McVoid>> DecodeVoids(absl::string_view value);
// `voids` plus `add`, folded to at most kMaxVoids.
std::vector<McVoid> AddVoid(std::vector<McVoid> voids, McVoid add);
McVoided VoidedFor(const std::vector<McVoid>& voids, absl::string_view name);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MEMCACHED_MEMCACHED_ITEMS_H_
