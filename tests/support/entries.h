// Small builders shared by the core's tests.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_ENTRIES_H_
#define CLUSTERCACHE_TESTS_SUPPORT_ENTRIES_H_

#include <memory>
#include <string>
#include <vector>

#include "cache/entry.h"

namespace clustercache {

// A write of `payload` to `key` with `tags` and content type text/html.
inline EntryWrite WriteOf(const Key& key, std::string payload,
                          std::vector<std::string> tags = {}) {
  EntryWrite w;
  w.key = key;
  w.payload = std::make_shared<const std::string>(std::move(payload));
  w.tags = std::move(tags);
  w.content_type = "text/html";
  return w;
}

// An entry as another store held it (what Store::Import takes): `key`
// written at `mtime` by that store's clock, an hour's TTL from then.
inline EntryRef EntryFrom(const Key& key, std::string payload, int64_t mtime,
                          std::vector<std::string> tags = {}) {
  EntryWrite w = WriteOf(key, std::move(payload), std::move(tags));
  w.ttl_us = 3'600'000'000;
  return std::make_shared<Entry>(
      Entry{MetaForWrite(w, mtime, mtime), w.payload});
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_ENTRIES_H_
