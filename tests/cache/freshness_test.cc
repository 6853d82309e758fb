// The freshness rule of DESIGN §2, one row per clause.
#include "cache/freshness.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/param_name.h"

namespace clustercache {
namespace {

constexpr int64_t kNow = 1'000'000;

struct Row {
  const char* name;
  int64_t mtime;
  int64_t expires_at;
  int64_t expired_at;
  std::optional<int64_t> t_all;
  std::optional<int64_t> t_scope;
  std::vector<std::optional<int64_t>> t_tags;  // entry has one tag per value
  int64_t newer_than;
  int64_t max_age;
  bool fresh;
};
void PrintTo(const Row& p, std::ostream* os) { *os << p.name; }

const Row kRows[] = {
    {"plain entry", 500, 0, 0, 0, 0, {}, 0, 0, true},
    {"ttl in the future", 500, kNow + 1, 0, 0, 0, {}, 0, 0, true},
    {"ttl reached exactly", 500, kNow, 0, 0, 0, {}, 0, 0, false},
    {"ttl passed", 500, kNow - 1, 0, 0, 0, {}, 0, 0, false},
    {"soft-expired", 500, 0, 600, 0, 0, {}, 0, 0, false},
    {"older than all", 500, 0, 0, 600, 0, {}, 0, 0, false},
    {"same time as all", 500, 0, 0, 500, 0, {}, 0, 0, false},
    {"newer than all", 500, 0, 0, 499, 0, {}, 0, 0, true},
    {"older than scope", 500, 0, 0, 0, 700, {}, 0, 0, false},
    {"newer than scope", 500, 0, 0, 0, 400, {}, 0, 0, true},
    {"older than one tag", 500, 0, 0, 0, 0, {100, 800}, 0, 0, false},
    {"newer than every tag", 500, 0, 0, 0, 0, {100, 200}, 0, 0, true},
    {"all unknown", 500, 0, 0, std::nullopt, 0, {}, 0, 0, false},
    {"scope unknown", 500, 0, 0, 0, std::nullopt, {}, 0, 0, false},
    {"tag unknown", 500, 0, 0, 0, 0, {100, std::nullopt}, 0, 0, false},
    {"newer_than met exactly", 500, 0, 0, 0, 0, {}, 500, 0, true},
    {"newer_than not met", 500, 0, 0, 0, 0, {}, 501, 0, false},
    {"younger than max_age", kNow - 99, 0, 0, 0, 0, {}, 0, 100, true},
    {"exactly max_age old", kNow - 100, 0, 0, 0, 0, {}, 0, 100, false},
};

class FreshnessTest : public testing::TestWithParam<Row> {};

TEST_P(FreshnessTest, FollowsTheRule) {
  const Row& row = GetParam();
  EntryMeta e;
  e.mtime = row.mtime;
  e.expires_at = row.expires_at;
  e.expired_at = row.expired_at;
  for (size_t i = 0; i < row.t_tags.size(); ++i) {
    e.tags.push_back("tag" + std::to_string(i));
  }
  ExpiryTimes times{row.t_all, row.t_scope, row.t_tags};
  EXPECT_EQ(IsFresh(e, times, {row.newer_than, row.max_age}, kNow), row.fresh)
      << row.name;
}

INSTANTIATE_TEST_SUITE_P(Table, FreshnessTest, testing::ValuesIn(kRows),
                         ByName());

TEST(FreshnessTest, MissingTagTimesAreNotFresh) {
  EntryMeta e;
  e.mtime = 500;
  e.tags = {"a"};
  EXPECT_FALSE(IsFresh(e, ExpiryTimes{0, 0, {}}, {}, kNow));
}

TEST(StaleSinceTest, DatesStalenessByTheEarliestCause) {
  EntryMeta e;
  e.mtime = 500;
  e.expires_at = 900;
  EXPECT_EQ(StaleSince(e, {0, 0, {}}, kNow), 900);
  EXPECT_EQ(StaleSince(e, {0, 700, {}}, kNow), 700);
  e.expired_at = 600;
  EXPECT_EQ(StaleSince(e, {0, 700, {}}, kNow), 600);
  // An unknown expiry key dates it to now: kept, never fresh.
  EntryMeta plain;
  plain.mtime = 500;
  EXPECT_EQ(StaleSince(plain, {std::nullopt, 0, {}}, kNow), kNow);
}

}  // namespace
}  // namespace clustercache
