// libFuzzer: the --store and --ledger URLs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cache/store/ledger/mysql_ledger.h"
#include "cache/store/memcached/memcached_pool.h"
#include "cache/store/redis/redis_store.h"
#include "cache/util/store_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  (void)clustercache::ParseRedisUrl(in);
  (void)clustercache::ParseMemcachedUrl(in);
  (void)clustercache::ParseMysqlUrl(in);
  absl::StatusOr<clustercache::StoreUrl> url =
      clustercache::ParseStoreUrl(in, 1);
  if (url.ok()) (void)url->Redacted();
  (void)clustercache::RedactUrls(in);
  return 0;
}
