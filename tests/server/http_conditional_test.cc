// HTTP validators and ranges (server/http/conditional.h), value by value;
// http_test drives the same through curl against a node.
#include "gtest/gtest.h"
#include "server/http/conditional.h"

namespace clustercache {
namespace {

constexpr int64_t kSecond = 1'000'000;

EntryMeta Meta(int64_t mtime, uint32_t crc = 0xabc) {
  EntryMeta m;
  m.mtime = mtime;
  m.crc32 = crc;
  return m;
}

TEST(EntityTagTest, QuotedAndDifferentPerGeneration) {
  const std::string a = EntityTag(Meta(1'700'000'000'123'456));
  EXPECT_EQ(a.front(), '"');
  EXPECT_EQ(a.back(), '"');
  EXPECT_NE(a, EntityTag(Meta(1'700'000'000'123'457)));
  EXPECT_NE(a, EntityTag(Meta(1'700'000'000'123'456, 0xabd)));
}

TEST(LastModifiedTest, GivenOnlyOnceItsSecondHasPassed) {
  const int64_t mtime = 1'700'000'000 * kSecond + 400'000;
  EXPECT_FALSE(LastModified(Meta(mtime), mtime).has_value());
  EXPECT_FALSE(LastModified(Meta(mtime), mtime + 599'999).has_value());
  std::optional<absl::Time> lm = LastModified(Meta(mtime), mtime + 600'000);
  ASSERT_TRUE(lm.has_value());
  EXPECT_EQ(*lm, absl::FromUnixSeconds(1'700'000'000));
}

TEST(HttpDateTest, ThreeFormatsInOneOut) {
  const absl::Time t = absl::FromUnixSeconds(784111777);
  EXPECT_EQ(HttpDate(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), t);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), t);
  for (const char* bad : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37",
                          "Sun, 32 Nov 1994 08:49:37 GMT"}) {
    EXPECT_FALSE(ParseHttpDate(bad).has_value()) << bad;
  }
}

TEST(NotModifiedTest, ETagListsStarAndWeakComparison) {
  const std::string etag = "\"5f-abc\"";
  EXPECT_TRUE(NoneMatchNames("\"5f-abc\"", etag));
  EXPECT_TRUE(NoneMatchNames("\"x\", W/\"5f-abc\"", etag));
  EXPECT_TRUE(NoneMatchNames(" * ", etag));
  EXPECT_FALSE(NoneMatchNames("\"5f-abd\"", etag));
  EXPECT_FALSE(NoneMatchNames("5f-abc", etag)) << "unquoted is not a tag";
  EXPECT_FALSE(NoneMatchNames("", etag));
}

TEST(NotModifiedTest, AnOlderCopyNeverGets304) {
  const int64_t now = 1'700'000'100 * kSecond;
  const int64_t mtime = 1'700'000'050 * kSecond + 1;
  const std::string etag = EntityTag(Meta(mtime));
  const std::optional<absl::Time> lm = LastModified(Meta(mtime), now);
  const std::string current = HttpDate(*lm);
  const std::string older = HttpDate(*lm - absl::Seconds(1));
  EXPECT_TRUE(NotModified("", current, etag, lm, now));
  EXPECT_FALSE(NotModified("", older, etag, lm, now));
  EXPECT_FALSE(NotModified("\"old-tag\"", current, etag, lm, now))
      << "If-None-Match decides alone";
  EXPECT_FALSE(NotModified("", current, etag, std::nullopt, now))
      << "no Last-Modified: no date can match";
  EXPECT_FALSE(NotModified(
      "", HttpDate(absl::FromUnixMicros(now) + absl::Hours(1)), etag, lm, now))
      << "a date to come is ignored";
  EXPECT_FALSE(NotModified("", "garbage", etag, lm, now));
}

TEST(RangeTest, OneRangeOfEachForm) {
  auto part = [](absl::string_view h, int64_t size) {
    ByteRange r = ParseRange(h, size);
    return r.kind == ByteRange::kPart
               ? std::make_pair(r.first, r.last)
               : std::make_pair(int64_t{-1}, int64_t{-1});
  };
  EXPECT_EQ(part("bytes=5-5", 10), std::make_pair(int64_t{5}, int64_t{5}));
  EXPECT_EQ(part("bytes=0-", 1), std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_EQ(part("bytes=2-100", 10), std::make_pair(int64_t{2}, int64_t{9}));
  EXPECT_EQ(part("bytes=-3", 10), std::make_pair(int64_t{7}, int64_t{9}));
  EXPECT_EQ(part("bytes=-30", 10), std::make_pair(int64_t{0}, int64_t{9}));
  EXPECT_EQ(ParseRange("bytes=10-", 10).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 10).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).kind, ByteRange::kUnsatisfiable);
  for (const char* whole :
       {"", "bytes=0-1,3-4", "bytes=5-2", "items=0-1", "bytes=a-b", "bytes=-",
        "bytes=99999999999999999999-"}) {
    EXPECT_EQ(ParseRange(whole, 10).kind, ByteRange::kWhole) << whole;
  }
}

TEST(RangeTest, IfRangeNeedsTheSameGeneration) {
  const std::string etag = "\"5f-abc\"";
  const absl::Time lm = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_TRUE(RangeStillValid("", etag, lm));
  EXPECT_TRUE(RangeStillValid("\"5f-abc\"", etag, lm));
  EXPECT_FALSE(RangeStillValid("W/\"5f-abc\"", etag, lm)) << "strong only";
  EXPECT_FALSE(RangeStillValid("\"other\"", etag, lm));
  EXPECT_TRUE(RangeStillValid(HttpDate(lm), etag, lm));
  EXPECT_FALSE(RangeStillValid(HttpDate(lm - absl::Seconds(1)), etag, lm));
  EXPECT_FALSE(RangeStillValid(HttpDate(lm), etag, std::nullopt));
}

}  // namespace
}  // namespace clustercache
