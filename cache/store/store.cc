#include "cache/store/store.h"

#include "cache/key.h"

namespace clustercache {

absl::Status ValidateImportedExpiryKeys(
    const std::vector<ExpiryKeyValue>& keys) {
  for (const ExpiryKeyValue& k : keys) {
    if (k.name != kTagFloorKey) {
      if (absl::Status s = ValidateExpiryKey(k.name); !s.ok()) return s;
    }
    if (k.value < 0) {
      return absl::InvalidArgumentError("import: expiry key " + k.name +
                                        " has a negative value");
    }
  }
  return absl::OkStatus();
}

}  // namespace clustercache
