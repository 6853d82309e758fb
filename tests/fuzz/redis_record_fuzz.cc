// libFuzzer: an entry record and a lease as Redis returns them (anyone who
// can write to the Redis can write these). What decodes is plausible and
// never larger than its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cache/store/redis/redis_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const clustercache::Key key("content-view", "k");
  constexpr int64_t kMax = 1 << 16;
  for (bool meta_only : {false, true}) {
    clustercache::EntryRef e =
        clustercache::EntryFromRedis(key, in, kMax, meta_only);
    if (e && !clustercache::PlausibleMeta(e->meta, kMax)) abort();
    if (e && !meta_only &&
        static_cast<int64_t>(e->payload->size()) != e->meta.size) {
      abort();
    }
  }
  (void)clustercache::LeaseFromRedis(in);
  return 0;
}
