// Key: scope + name, validated once at the edge. Also the rules for tags and
// expiry-key names.
//
// A Key keeps "scope\0name" in one string, so it can be used as a hash-map key
// without building anything per lookup, and so that ordering Keys orders them
// by scope, then name. Immutable; safe to share between threads.
#ifndef CLUSTERCACHE_CACHE_KEY_H_
#define CLUSTERCACHE_CACHE_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace clustercache {

inline constexpr size_t kMaxScopeBytes = 32;
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxTagBytes = 128;
inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxContentTypeBytes = 255;

// [a-z][a-z0-9-]{0,31}. The error names `field`.
absl::Status ValidateScope(absl::string_view scope,
                           absl::string_view field = "scope");
// 1..1024 bytes of valid UTF-8 without control characters (C0 and NUL,
// DEL, C1: U+0080..U+009F).
absl::Status ValidateName(absl::string_view name,
                          absl::string_view field = "name");
// A prefix is a name that may be empty.
absl::Status ValidatePrefix(absl::string_view prefix);
// 1..128 bytes of [A-Za-z0-9_.:/-]; not "all" and not "scope:..." (those are
// the built-in expiry keys).
absl::Status ValidateTag(absl::string_view tag);

class Key {
 public:
  // REQUIRES: scope and name are valid (use Key::Make for untrusted input).
  Key(absl::string_view scope, absl::string_view name);
  static absl::StatusOr<Key> Make(absl::string_view scope,
                                  absl::string_view name);
  // Rebuilds a Key from its encoded() form.
  static Key FromEncoded(std::string encoded);

  absl::string_view scope() const {
    return absl::string_view(encoded_).substr(0, scope_len_);
  }
  absl::string_view name() const {
    return absl::string_view(encoded_).substr(scope_len_ + 1);
  }
  // "scope\0name": unique, and ordered by scope then name.
  const std::string& encoded() const { return encoded_; }
  // "scope/name", for logs and messages.
  std::string ToString() const;

  friend bool operator==(const Key& a, const Key& b) {
    return a.encoded_ == b.encoded_;
  }
  friend bool operator<(const Key& a, const Key& b) {
    return a.encoded_ < b.encoded_;
  }

 private:
  Key() = default;
  std::string encoded_;
  size_t scope_len_ = 0;
};

// The encoded form of every key of `scope` whose name starts with `prefix`
// starts with this string.
std::string EncodedPrefix(absl::string_view scope, absl::string_view prefix);

// A store namespace (--namespace): 1 to 32 of [A-Za-z0-9_-] (it goes into
// Redis hash tags, memcached keys and a ledger column).
absl::Status ValidateNamespace(absl::string_view name);

// Expiry-key names: "all", "scope:<scope>", or a tag.
inline constexpr absl::string_view kExpiryAll = "all";
std::string ScopeExpiryKey(absl::string_view scope);
// Accepts any of the three forms.
absl::Status ValidateExpiryKey(absl::string_view expiry_key);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_KEY_H_
