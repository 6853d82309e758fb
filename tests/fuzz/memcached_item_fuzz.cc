// libFuzzer: the memcached items (entry head, lease, expiry map, clock,
// void list): memcached has no auth, so any of them may be garbage. What
// decodes keeps its limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cache/store/memcached/memcached_items.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const clustercache::McHeadLimits limits{1 << 16, 1000};
  std::optional<clustercache::McHead> head =
      clustercache::DecodeHead(in, limits);
  if (head && !head->tombstone) {
    if (!clustercache::PlausibleMeta(head->meta, limits.max_size)) abort();
    if (head->chunks == 0 &&
        static_cast<int64_t>(head->inline_payload.size()) != head->meta.size) {
      abort();
    }
  }
  (void)clustercache::DecodeLease(in);
  (void)clustercache::DecodeExpiryMap(in);
  (void)clustercache::DecodeCounter(in);
  (void)clustercache::DecodeVoids(in);
  return 0;
}
