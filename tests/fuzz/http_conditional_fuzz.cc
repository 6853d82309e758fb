// libFuzzer: HTTP header values a client sends (If-None-Match,
// If-Modified-Since, If-Range, Range), split from one input at the first
// two NUL bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/http/conditional.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t a = in.find('\0');
  const std::string first = in.substr(0, a);
  const std::string second =
      a == std::string::npos ? "" : in.substr(a + 1, in.find('\0', a + 1));
  clustercache::EntryMeta meta;
  meta.mtime = 1'700'000'000'000'000 + static_cast<int64_t>(size);
  meta.crc32 = 0x1234abcd;
  const std::string etag = clustercache::EntityTag(meta);
  const auto modified =
      clustercache::LastModified(meta, meta.mtime + 5'000'000);
  (void)clustercache::NotModified(first, second, etag, modified,
                                  meta.mtime + 5'000'000);
  (void)clustercache::RangeStillValid(first, etag, modified);
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{4096},
                    static_cast<int64_t>(second.size())}) {
    clustercache::ByteRange r = clustercache::ParseRange(first, n);
    if (r.kind == clustercache::ByteRange::kPart &&
        (r.first < 0 || r.last < r.first || r.last >= n)) {
      std::abort();  // a range outside the payload would be served
    }
  }
  (void)clustercache::ParseHttpDate(first);
  return 0;
}
