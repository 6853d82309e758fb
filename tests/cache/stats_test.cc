// The one stats structure stays bounded whatever names arrive: scopes past
// the cap, label sets past theirs and codes past theirs all count as
// "other"; histograms put each duration in its bucket.
#include "cache/stats.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace clustercache {
namespace {

TEST(StatsTest, ScopesPastTheCapCountAsOther) {
  Stats stats;
  for (size_t i = 0; i < Stats::kMaxScopes + 50; ++i) {
    Bump(stats.For(absl::StrCat("scope-", i))->hits);
  }
  size_t scopes = 0;
  int64_t other = 0;
  stats.VisitScopes([&](const std::string& scope, const ScopeCounters& c) {
    ++scopes;
    if (scope == "other") other = c.hits.load();
  });
  EXPECT_EQ(scopes, Stats::kMaxScopes + 1);
  EXPECT_EQ(other, 50);
  // A scope seen before the cap keeps its own counters.
  EXPECT_NE(stats.For("scope-1"), stats.For("scope-9999"));
  EXPECT_EQ(stats.For("scope-9999"), stats.For("scope-8888"));
}

TEST(StatsTest, RequestStatsCapLabelSetsAndCodes) {
  RequestStats calls({"route"}, 4);
  for (int i = 0; i < 10; ++i) {
    calls.For({absl::StrCat("r", i)})->Record("200", absl::Milliseconds(1));
  }
  RequestStats::Series* one = calls.For({"r0"});
  for (size_t i = 0; i < RequestStats::kMaxCodes + 5; ++i) {
    one->Record(absl::StrCat(100 + i), absl::Milliseconds(1));
  }
  std::vector<std::string> seen;
  int64_t other_calls = 0;
  calls.Visit([&](const RequestStats::Series& s) {
    seen.push_back(s.labels()[0]);
    if (s.labels()[0] == "other") {
      for (const auto& [code, n] : s.Codes()) other_calls += n;
    }
  });
  // Four label sets of their own, then "other" for the six after.
  EXPECT_EQ(seen, (std::vector<std::string>{"other", "r0", "r1", "r2", "r3"}));
  EXPECT_EQ(other_calls, 6);
  auto codes = one->Codes();
  EXPECT_EQ(codes.size(), RequestStats::kMaxCodes);
  int64_t total = 0;
  for (const auto& [code, n] : codes) total += n;
  EXPECT_EQ(total, 1 + static_cast<int64_t>(RequestStats::kMaxCodes) + 5);
}

TEST(StatsTest, HistogramBucketsSumAndCount) {
  LatencyHistogram h;
  h.Observe(absl::Microseconds(10));  // first bucket (<= 50us)
  h.Observe(absl::Microseconds(50));  // first bucket: bounds are inclusive
  h.Observe(absl::Milliseconds(3));   // <= 5ms
  h.Observe(absl::Seconds(120));      // past the last bound
  h.Observe(-absl::Seconds(1));       // counts as zero
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.counts[0], 3u);
  EXPECT_EQ(s.counts[6], 1u);  // kBounds[6] = 5ms
  EXPECT_EQ(s.counts.back(), 1u);
  EXPECT_NEAR(s.sum_seconds, 120.00306, 1e-9);
}

}  // namespace
}  // namespace clustercache
