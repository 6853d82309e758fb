// Issue 15, item 5: one parser for every store and ledger URL; no password
// in what it prints, whatever characters it holds.
#include "cache/util/store_url.h"

#include "cache/util/percent.h"
#include "gtest/gtest.h"

namespace clustercache {
namespace {

TEST(PercentTest, EncodeIsDecodesInverse) {
  EXPECT_EQ(PercentEncode("a b/c%d@é"), "a%20b%2Fc%25d%40%C3%A9");
  EXPECT_EQ(PercentEncode("a b/c%d", "/%"), "a%20b/c%25d") << "'%' never kept";
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string back;
  ASSERT_TRUE(PercentDecode(PercentEncode(all, "/:@"), &back));
  EXPECT_EQ(back, all);
}

TEST(StoreUrlTest, ParsesEveryPart) {
  absl::StatusOr<StoreUrl> u = ParseStoreUrl(
      "redis-cluster://app:s3cret@h1:7000,[::1]:7001,h3/2?a=b", 6379);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "redis-cluster");
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->password, "s3cret");
  ASSERT_EQ(u->hosts.size(), 3u);
  EXPECT_EQ(u->hosts[1].host, "::1");
  EXPECT_EQ(u->hosts[1].port, 7001);
  EXPECT_EQ(u->path, "2");
  EXPECT_EQ(u->query.at("a"), "b");
  EXPECT_EQ(u->hosts[2].port, 6379) << "the default";
  EXPECT_FALSE(ParseStoreUrl("redis://h3").ok()) << "no default: required";
  EXPECT_EQ(ParseStoreUrl("mysql://u@h/db", 3306)->hosts[0].port, 3306);
}

TEST(StoreUrlTest, PasswordsMayHoldAnyCharacter) {
  // As typed (the last '@' ends them), or percent-encoded.
  for (const auto& [url, password] :
       std::vector<std::pair<std::string, std::string>>{
           {"redis://:p@ss/w:rd@h:6379/1", "p@ss/w:rd"},
           {"redis://:p%40ss%2Fw%3Ard%25@h:6379/1", "p@ss/w:rd%"},
           {"mysql://u:a:b@h/db", "a:b"}}) {
    absl::StatusOr<StoreUrl> u = ParseStoreUrl(url, 1);
    ASSERT_TRUE(u.ok()) << url << ": " << u.status();
    EXPECT_EQ(u->password, password) << url;
    EXPECT_EQ(u->Redacted().find(password), std::string::npos) << u->Redacted();
    EXPECT_NE(u->Redacted().find(":***@"), std::string::npos);
  }
}

TEST(StoreUrlTest, ErrorsNeverShowThePassword) {
  for (const char* url :
       {"redis://:topsecret@h:0", "redis://:topsecret@",
        "redis://:top%zzsecret@h:1", "redis://:topsecret@h:1:2:3",
        "mysql:/:topsecret@h/db"}) {
    absl::StatusOr<StoreUrl> u = ParseStoreUrl(url);
    if (u.ok()) continue;
    EXPECT_EQ(u.status().message().find("secret"), std::string::npos)
        << u.status();
  }
}

TEST(StoreUrlTest, RedactsEveryUrlInAText) {
  EXPECT_EQ(
      RedactUrls("--store=redis://u:p@w@h:1/0 --ledger=mysql://r:x/y@db/c "
                 "--node-name=a"),
      "--store=redis://u:***@h:1/0 --ledger=mysql://r:***@db/c "
      "--node-name=a");
  EXPECT_EQ(RedactUrls("--store=memcached://a:1,b:2"),
            "--store=memcached://a:1,b:2");
}

}  // namespace
}  // namespace clustercache
