#include "cache/duration.h"

#include "gtest/gtest.h"

namespace clustercache {
namespace {

TEST(DurationTest, ParsesUnitsAndSums) {
  EXPECT_EQ(*ParseDuration("90s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("15m"), absl::Minutes(15));
  EXPECT_EQ(*ParseDuration("2h"), absl::Hours(2));
  EXPECT_EQ(*ParseDuration("2d"), absl::Hours(48));
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
}

TEST(DurationTest, RefusesBadText) {
  for (const char* bad : {"", "5", "-5s", "5x", "s", "1.5s", "5s5"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(DurationTest, ShowsWhatItParses) {
  for (const char* text : {"90s", "15m", "2h", "2d", "1500ms", "0"}) {
    EXPECT_EQ(ShowDuration(*ParseDuration(text)), text);
  }
}

TEST(ByteSizeTest, ParsesUnits) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096);
  EXPECT_EQ(*ParseByteSize("64KiB"), 64 << 10);
  EXPECT_EQ(*ParseByteSize("512MiB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("2G"), int64_t{2} << 30);
  EXPECT_FALSE(ParseByteSize("12QB").ok());
  // As operators write them (issue 17): any case, with or without "B" or
  // "iB"; all binary.
  for (const char* one_gib : {"1G", "1GB", "1gb", "1g", "1GiB", "1gib", "1024M",
                              "1024mb", "1048576KB", "1073741824"}) {
    absl::StatusOr<int64_t> bytes = ParseByteSize(one_gib);
    ASSERT_TRUE(bytes.ok()) << one_gib << ": " << bytes.status();
    EXPECT_EQ(*bytes, int64_t{1} << 30) << one_gib;
  }
  EXPECT_EQ(*ParseByteSize("2TB"), int64_t{2} << 40);
  EXPECT_EQ(*ParseByteSize("1G512M"), (int64_t{3} << 29)) << "sums";
  absl::Status bad = ParseByteSize("1XB").status();
  EXPECT_NE(bad.message().find("\"1XB\""), std::string::npos) << bad;
  EXPECT_NE(bad.message().find("512MB, 1G or 1gb"), std::string::npos) << bad;
  EXPECT_FALSE(ParseByteSize("99999999999T").ok()) << "overflow";
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_EQ(ShowByteSize(int64_t{1} << 30), "1GiB");
}

}  // namespace
}  // namespace clustercache
