// GetOrGenerate: the pattern application nodes use (eZ Publish calls it
// processCache). Fetch; on HIT or STALE return the payload; on a lease run the
// generator once, Store with the token, return the result (releasing the lease
// when the generator fails or throws); on TIMEOUT or UNAVAILABLE run the
// generator and return without storing.
#ifndef CLUSTERCACHE_CLIENT_GET_OR_GENERATE_H_
#define CLUSTERCACHE_CLIENT_GET_OR_GENERATE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cache_client.h"

namespace clustercache {

struct GenerateOptions {
  absl::Duration wait = absl::Seconds(5);  // for another holder's result
  absl::Duration ttl;                      // zero = no per-entry TTL
  std::vector<std::string> tags;
  std::string content_type;
  int64_t newer_than_us = 0;
  absl::Duration max_age;
};

enum class Source {
  kHit,        // fresh entry from the cache
  kStale,      // stale copy, someone else regenerates
  kStored,     // generated here and stored
  kNotStored,  // generated here, not stored (timeout, store down,
               // superseded or lease lost: see the outcomes)
};
const char* SourceName(Source source);

struct Generated {
  std::string payload;
  Source source = Source::kHit;
  v1::FetchOutcome fetch_outcome = v1::FETCH_OUTCOME_UNSPECIFIED;
  v1::StoreOutcome store_outcome = v1::STORE_OUTCOME_UNSPECIFIED;
  std::string served_by;
};

using Generator = std::function<absl::StatusOr<std::string>()>;

// Runs `generator` at most once. Its error is returned as is (after the lease
// is released); an exception it throws is rethrown after the release.
absl::StatusOr<Generated> GetOrGenerate(CacheClient& client, const v1::Key& key,
                                        const GenerateOptions& options,
                                        const Generator& generator);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_GET_OR_GENERATE_H_
