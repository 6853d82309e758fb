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

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_ENTRIES_H_
