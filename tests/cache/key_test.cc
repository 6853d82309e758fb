#include "cache/key.h"

#include <string>

#include "gtest/gtest.h"

namespace clustercache {
namespace {

TEST(KeyTest, AcceptsValidScopesAndNames) {
  EXPECT_TRUE(Key::Make("content-view", "site/full/2/123.cache").ok());
  EXPECT_TRUE(Key::Make("a", "x").ok());
  EXPECT_TRUE(Key::Make(std::string(32, 'a'), "ü/名前").ok());
}

TEST(KeyTest, RefusesBadScopes) {
  for (const char* bad : {"", "Content", "1abc", "a_b", "a b", "a/b"}) {
    absl::StatusOr<Key> k = Key::Make(bad, "x");
    EXPECT_TRUE(absl::IsInvalidArgument(k.status())) << bad;
  }
  EXPECT_FALSE(Key::Make(std::string(33, 'a'), "x").ok());
}

TEST(KeyTest, RefusesBadNames) {
  EXPECT_FALSE(Key::Make("s", "").ok());
  EXPECT_FALSE(Key::Make("s", std::string(1025, 'n')).ok());
  EXPECT_TRUE(Key::Make("s", std::string(1024, 'n')).ok());
  EXPECT_FALSE(Key::Make("s", std::string("a\0b", 3)).ok());
  EXPECT_FALSE(Key::Make("s", "tab\there").ok());
  EXPECT_FALSE(Key::Make("s", "\xff\xfe").ok());
  EXPECT_FALSE(Key::Make("s", "cut\xe2\x82").ok());
}

// Issue 14, item 15: names are valid UTF-8 without control characters, C1
// (U+0080..U+009F) included.
TEST(KeyTest, RefusesC1ControlsAndIllFormedUtf8) {
  EXPECT_TRUE(Key::Make("s", "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80").ok());
  EXPECT_TRUE(Key::Make("s", "\xc2\xa0nbsp").ok());       // U+00A0: fine
  EXPECT_FALSE(Key::Make("s", "nel\xc2\x85").ok());       // U+0085
  EXPECT_FALSE(Key::Make("s", "csi\xc2\x9b").ok());       // U+009B
  EXPECT_FALSE(Key::Make("s", "\xc0\xaf").ok());          // overlong '/'
  EXPECT_FALSE(Key::Make("s", "\xe0\x80\xaf").ok());      // overlong
  EXPECT_FALSE(Key::Make("s", "\xed\xa0\x80").ok());      // a surrogate
  EXPECT_FALSE(Key::Make("s", "\xf4\x90\x80\x80").ok());  // > U+10FFFF
  EXPECT_FALSE(Key::Make("s", "\xf5\x80\x80\x80").ok());
}

TEST(KeyTest, ErrorsNameTheField) {
  EXPECT_NE(ValidateScope("BAD", "key.scope").message().find("key.scope"),
            absl::string_view::npos);
  EXPECT_NE(ValidateName("", "key.name").message().find("key.name"),
            absl::string_view::npos);
}

TEST(KeyTest, OrdersByScopeThenName) {
  EXPECT_LT(Key("a", "z"), Key("ab", "a"));
  EXPECT_LT(Key("a", "a"), Key("a", "b"));
  Key k("scope", "some/name");
  EXPECT_EQ(k.scope(), "scope");
  EXPECT_EQ(k.name(), "some/name");
  EXPECT_EQ(Key::FromEncoded(k.encoded()), k);
  EXPECT_EQ(k.encoded().rfind(EncodedPrefix("scope", "some/"), 0), 0u);
}

TEST(KeyTest, TagsAndExpiryKeys) {
  EXPECT_TRUE(ValidateTag("subtree:42").ok());
  EXPECT_TRUE(ValidateTag("class:article").ok());
  EXPECT_FALSE(ValidateTag("all").ok());
  EXPECT_FALSE(ValidateTag("scope:content-view").ok());
  EXPECT_FALSE(ValidateTag("has space").ok());
  EXPECT_TRUE(ValidateExpiryKey("all").ok());
  EXPECT_TRUE(ValidateExpiryKey("scope:rss").ok());
  EXPECT_FALSE(ValidateExpiryKey("scope:BAD").ok());
  EXPECT_TRUE(ValidateExpiryKey("subtree:1").ok());
}

}  // namespace
}  // namespace clustercache
