#include "client/get_or_generate.h"

namespace clustercache {

const char* SourceName(Source source) {
  switch (source) {
    case Source::kHit:
      return "hit";
    case Source::kStale:
      return "stale";
    case Source::kStored:
      return "stored";
    case Source::kNotStored:
      return "not-stored";
  }
  return "?";
}

absl::StatusOr<Generated> GetOrGenerate(CacheClient& client, const v1::Key& key,
                                        const GenerateOptions& options,
                                        const Generator& generator) {
  v1::FetchRequest fetch;
  *fetch.mutable_key() = key;
  fetch.set_wait_ms(absl::ToInt64Milliseconds(options.wait));
  fetch.set_newer_than_us(options.newer_than_us);
  fetch.set_max_age_ms(absl::ToInt64Milliseconds(options.max_age));
  absl::StatusOr<v1::FetchResponse> fetched = client.Fetch(fetch);
  if (!fetched.ok()) return fetched.status();

  Generated out;
  out.fetch_outcome = fetched->outcome();
  out.served_by = fetched->served_by();
  switch (fetched->outcome()) {
    case v1::HIT:
    case v1::STALE:
      out.source =
          fetched->outcome() == v1::HIT ? Source::kHit : Source::kStale;
      out.payload = std::move(*fetched->mutable_payload());
      return out;
    case v1::MISS_LEASE:
    case v1::STALE_LEASE:
      break;
    default: {  // TIMEOUT, UNAVAILABLE: render without storing
      absl::StatusOr<std::string> payload = generator();
      if (!payload.ok()) return payload.status();
      out.source = Source::kNotStored;
      out.payload = *std::move(payload);
      return out;
    }
  }

  const std::string& token = fetched->lease().token();
  auto release = [&] {
    v1::ReleaseRequest release;
    *release.mutable_key() = key;
    release.set_lease_token(token);
    (void)client.Release(release);
  };
  absl::StatusOr<std::string> payload;
  try {
    payload = generator();
  } catch (...) {
    release();
    throw;
  }
  if (!payload.ok()) {
    release();
    return payload.status();
  }
  v1::StoreRequest store;
  *store.mutable_key() = key;
  store.set_payload(*payload);
  store.set_ttl_ms(absl::ToInt64Milliseconds(options.ttl));
  for (const std::string& tag : options.tags) store.add_tags(tag);
  store.set_content_type(options.content_type);
  store.set_lease_token(token);
  absl::StatusOr<v1::StoreResponse> stored = client.Store(store);
  out.payload = *std::move(payload);
  if (!stored.ok()) {
    // The caller still gets what it generated; give the lease back so that
    // others need not wait for it to lapse.
    release();
    out.source = Source::kNotStored;
    return out;
  }
  out.store_outcome = stored->outcome();
  out.source =
      stored->outcome() == v1::STORED ? Source::kStored : Source::kNotStored;
  return out;
}

}  // namespace clustercache
