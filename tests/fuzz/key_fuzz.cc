// libFuzzer: key, name, tag and expiry-key validation (bytes from the wire).
// A name that validates must make a Key whose parts read back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cache/key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find('/');
  const std::string scope = in.substr(0, cut);
  const std::string name = cut == std::string::npos ? "" : in.substr(cut + 1);
  (void)clustercache::ValidateTag(in);
  (void)clustercache::ValidateExpiryKey(in);
  (void)clustercache::ValidatePrefix(in);
  absl::StatusOr<clustercache::Key> key = clustercache::Key::Make(scope, name);
  if (key.ok() && (key->scope() != scope || key->name() != name)) abort();
  return 0;
}
