#include "cache/store/open_store.h"

#include "absl/strings/str_cat.h"
#include "cache/store/memory_store.h"

namespace clustercache {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(
    absl::string_view url, const StoreSettings& settings) {
  if (url == "memory" || url == "memory://") {
    if (settings.memory_limit < (int64_t{1} << 20)) {
      return absl::InvalidArgumentError("memory-limit: must be at least 1MiB");
    }
    MemoryStoreOptions options;
    options.memory_limit = settings.memory_limit;
    options.clock = settings.clock;
    return NewMemoryStore(options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "store: unknown store \"", url, "\" (this build supports: memory)"));
}

}  // namespace clustercache
