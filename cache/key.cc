#include "cache/key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace clustercache {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  // RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
  const unsigned char c = s[i];
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const unsigned char second = s[i + 1];
  if (second < lo || second > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

}  // namespace

absl::Status ValidateScope(absl::string_view scope, absl::string_view field) {
  bool ok = !scope.empty() && scope.size() <= kMaxScopeBytes &&
            absl::ascii_islower(scope[0]);
  for (char c : scope) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", absl::CHexEscape(scope),
                   "\" is not a scope (want [a-z][a-z0-9-]{0,31})"));
}

absl::Status ValidateName(absl::string_view name, absl::string_view field) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be 1 to ", kMaxNameBytes, " bytes, got ", name.size()));
  }
  for (size_t i = 0; i < name.size();) {
    size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": invalid UTF-8 at byte ", i));
    }
    unsigned char c = name[i];
    const bool c1 =
        len == 2 && c == 0xC2 &&
        static_cast<unsigned char>(name[i + 1]) <= 0x9F;  // U+0080..9F
    if ((len == 1 && (c < 0x20 || c == 0x7F)) || c1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": control character at byte ", i));
    }
    i += len;
  }
  return absl::OkStatus();
}

absl::Status ValidatePrefix(absl::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  return ValidateName(prefix, "prefix");
}

absl::Status ValidateTag(absl::string_view tag) {
  bool ok = !tag.empty() && tag.size() <= kMaxTagBytes;
  for (char c : tag) {
    ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == ':' ||
                c == '/' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("tag: \"", absl::CHexEscape(tag),
                     "\" is not a tag (want 1 to 128 of [A-Za-z0-9_.:/-])"));
  }
  if (tag == kExpiryAll || absl::StartsWith(tag, "scope:")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tag: \"", tag, "\" is reserved (\"all\" and \"scope:*\")"));
  }
  return absl::OkStatus();
}

Key::Key(absl::string_view scope, absl::string_view name)
    : encoded_(absl::StrCat(scope, absl::string_view("\0", 1), name)),
      scope_len_(scope.size()) {}

absl::StatusOr<Key> Key::Make(absl::string_view scope, absl::string_view name) {
  if (absl::Status s = ValidateScope(scope); !s.ok()) return s;
  if (absl::Status s = ValidateName(name); !s.ok()) return s;
  return Key(scope, name);
}

Key Key::FromEncoded(std::string encoded) {
  Key k;
  k.scope_len_ = encoded.find('\0');
  k.encoded_ = std::move(encoded);
  return k;
}

std::string Key::ToString() const { return absl::StrCat(scope(), "/", name()); }

std::string EncodedPrefix(absl::string_view scope, absl::string_view prefix) {
  return absl::StrCat(scope, absl::string_view("\0", 1), prefix);
}

std::string ScopeExpiryKey(absl::string_view scope) {
  return absl::StrCat("scope:", scope);
}

absl::Status ValidateExpiryKey(absl::string_view expiry_key) {
  if (expiry_key == kExpiryAll) return absl::OkStatus();
  if (absl::ConsumePrefix(&expiry_key, "scope:")) {
    return ValidateScope(expiry_key);
  }
  return ValidateTag(expiry_key);
}

absl::Status ValidateNamespace(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 32;
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "namespace \"", name, "\": want 1 to 32 of A-Z a-z 0-9 _ -"));
}

}  // namespace clustercache
