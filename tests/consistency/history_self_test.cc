// The checker cannot pass silently: a clean history passes, and each kind
// of anomaly injected into it is found, by the check that names it.
#include <set>

#include "gtest/gtest.h"
#include "tests/consistency/history.h"

namespace clustercache {
namespace {

constexpr int64_t kMs = 1'000'000;                // ns
constexpr int64_t kWall = 1'800'000'000'000'000;  // us, real time at 0 ns

Op At(OpKind kind, int64_t start_ms, int64_t end_ms) {
  Op op;
  op.kind = kind;
  op.ok = true;
  op.scope = "s";
  op.name = "k";
  op.start_ns = start_ms * kMs;
  op.end_ns = end_ms * kMs;
  op.wall_start_us = kWall + start_ms * 1000;
  op.wall_end_us = kWall + end_ms * 1000;
  return op;
}

Op Grant(int64_t start_ms, int64_t end_ms, const std::string& token) {
  Op op = At(OpKind::kFetch, start_ms, end_ms);
  op.fetch = SeenFetch::kMissLease;
  op.lease_token = token;
  op.granted_at = kWall + start_ms * 1000 + 1;
  return op;
}

Op Stored(int64_t start_ms, int64_t end_ms, const std::string& payload,
          const std::string& token, int64_t mtime) {
  Op op = At(OpKind::kStore, start_ms, end_ms);
  op.payload = payload;
  op.token = token;
  op.store = SeenStore::kStored;
  op.mtime = mtime;
  return op;
}

Op Hit(int64_t start_ms, int64_t end_ms, const std::string& payload,
       int64_t mtime) {
  Op op = At(OpKind::kFetch, start_ms, end_ms);
  op.fetch = SeenFetch::kHit;
  op.got_payload = payload;
  op.mtime = mtime;
  return op;
}

Op Invalidated(int64_t start_ms, int64_t end_ms, const std::string& target,
               int64_t value) {
  Op op = At(OpKind::kInvalidate, start_ms, end_ms);
  op.name.clear();
  op.target = target;
  op.value = value;
  return op;
}

Op Listed(int64_t start_ms, int64_t end_ms, const std::string& name,
          int64_t value) {
  Op op = At(OpKind::kListExpiry, start_ms, end_ms);
  op.name.clear();
  op.expiry = {{name, value}};
  return op;
}

// A lease granted at 0-1 ms, stored at 10-11 ms (mtime = grant), a hit at
// 20 ms; an invalidation of the scope at 30 ms; then a regeneration
// granted at 40 ms, stored, and hit at 60 ms.
History Clean() {
  History h;
  h.ops.push_back(Grant(0, 1, "t1"));
  h.ops.push_back(Stored(10, 11, "p1", "t1", kWall + 1));
  h.ops.push_back(Hit(20, 21, "p1", kWall + 1));
  h.ops.push_back(Invalidated(30, 31, "scope:s", kWall + 30'500));
  h.ops.push_back(Grant(40, 41, "t2"));
  h.ops.push_back(Stored(50, 51, "p2", "t2", kWall + 40'001));
  h.ops.push_back(Hit(60, 61, "p2", kWall + 40'001));
  h.ops.push_back(Listed(70, 71, "scope:s", kWall + 30'500));
  return h;
}

CheckOptions Options() {
  CheckOptions o;
  o.expiry_keys = {"scope:s", "all"};
  return o;
}

std::set<char> Found(const History& h, const CheckOptions& o = Options()) {
  std::set<char> found;
  for (const Anomaly& a : CheckHistory(h, o).anomalies) found.insert(a.check);
  return found;
}

TEST(HistorySelfTest, ACleanHistoryPasses) {
  CheckReport r = CheckHistory(Clean(), Options());
  EXPECT_TRUE(r.anomalies.empty()) << Summarize(r);
  EXPECT_EQ(r.hits, 2);
  EXPECT_EQ(r.checked_births, 2);
}

TEST(HistorySelfTest, AHitOfContentRenderedBeforeAnInvalidationIsFound) {
  History h = Clean();
  h.ops.push_back(Hit(80, 81, "p1", kWall + 1));  // p1 was invalidated at 30
  EXPECT_TRUE(Found(h).count('a'));
}

TEST(HistorySelfTest, AHitAfterAnExpireOrDeleteOfALeaseInFlightIsFound) {
  for (OpKind kind : {OpKind::kExpire, OpKind::kDelete}) {
    History h;
    h.ops.push_back(Grant(0, 1, "t1"));
    h.ops.push_back(At(kind, 2, 3));  // voids t1
    h.ops.push_back(Stored(10, 11, "p1", "t1", kWall + 1));
    h.ops.push_back(Hit(20, 21, "p1", kWall + 1));
    EXPECT_TRUE(Found(h).count('a'));
  }
}

TEST(HistorySelfTest, AHitOlderThanAReturnedStoreIsFound) {
  History h = Clean();
  h.ops.push_back(Stored(80, 81, "p3", "", kWall + 80'000));
  h.ops.push_back(Hit(90, 91, "p2", kWall + 40'001));
  EXPECT_TRUE(Found(h).count('b'));
}

// A store restarted empty lost p3; an older entry landing after it may be
// served. Only when entries do not survive faults, and only for the writes
// the fault may have lost: one after the fault still bounds hits.
TEST(HistorySelfTest, AWriteLostInAStoreRestartDoesNotBoundLaterHits) {
  History h = Clean();
  h.ops.push_back(Stored(80, 81, "p3", "", kWall + 80'000));
  h.faults.push_back({"store restarted", 85 * kMs, 88 * kMs});
  h.ops.push_back(Hit(90, 91, "p2", kWall + 40'001));
  CheckOptions lossy = Options();
  lossy.entries_survive_faults = false;
  EXPECT_TRUE(Found(h).count('b')) << "a fault that loses nothing";
  EXPECT_FALSE(Found(h, lossy).count('b'));
  h.ops.push_back(Stored(92, 93, "p4", "", kWall + 92'000));
  h.ops.push_back(Hit(95, 96, "p2", kWall + 40'001));
  EXPECT_TRUE(Found(h, lossy).count('b')) << "p4 was written after the fault";
}

// A node that found the store away lost nothing: its outage never excuses
// an older hit, even where a restart would.
TEST(HistorySelfTest, AStoreOutageThatLostNothingDoesNotExcuseAnOlderHit) {
  History h = Clean();
  h.ops.push_back(Stored(80, 81, "p3", "", kWall + 80'000));
  h.faults.push_back({"node 1: store away", 85 * kMs, 88 * kMs, true});
  h.ops.push_back(Hit(90, 91, "p2", kWall + 40'001));
  CheckOptions lossy = Options();
  lossy.entries_survive_faults = false;
  EXPECT_TRUE(Found(h, lossy).count('b'));
}

// A live move's switch: mtimes and expiry values before it are the old
// store's clock, after it the new one's. Across it they are not compared;
// on one side they are, as ever.
TEST(HistorySelfTest, AMoveBetweenStoresComparesStampsOnlyOnOneSide) {
  History h = Clean();
  h.ops.push_back(Stored(80, 81, "p3", "", kWall + 80'000));
  // p3 as the new store stamped its copy.
  h.ops.push_back(Hit(90, 91, "p3", kWall + 50'000));
  h.ops.push_back(Listed(92, 93, "scope:s", kWall + 20'000));
  EXPECT_EQ(Found(h), (std::set<char>{'b', 'd', 'e'})) << "no move: all found";
  h.faults.push_back({"the switch", 85 * kMs, 88 * kMs, true, true});
  EXPECT_EQ(Found(h), std::set<char>{});
  // After the switch, one clock: an older hit and a key moving back count.
  h.ops.push_back(Stored(94, 95, "p4", "", kWall + 94'000));
  h.ops.push_back(Hit(96, 97, "p3", kWall + 50'000));
  h.ops.push_back(Listed(98, 99, "scope:s", kWall + 10'000));
  EXPECT_EQ(Found(h), (std::set<char>{'b', 'd'}));
}

TEST(HistorySelfTest, TwoHoldersOfOneLeaseAreFound) {
  History h = Clean();
  h.ops.push_back(Grant(5, 6, "t9"));  // while t1 is held (until 10 ms)
  EXPECT_TRUE(Found(h).count('c'));
  History twice = Clean();
  twice.ops.push_back(Grant(100, 101, "t1"));
  EXPECT_TRUE(Found(twice).count('c'));
}

TEST(HistorySelfTest, AnExpiryKeyThatMovesBackIsFound) {
  History h = Clean();
  h.ops.push_back(Listed(80, 81, "scope:s", kWall + 20'000));
  EXPECT_TRUE(Found(h).count('d'));
}

TEST(HistorySelfTest, APayloadNoClientStoredIsFound) {
  History h = Clean();
  h.ops.push_back(Hit(80, 81, "p2 with a changed byte", kWall + 40'001));
  EXPECT_TRUE(Found(h).count('e'));
}

TEST(HistorySelfTest, ClusterTimeFarFromRealTimeIsFound) {
  History h = Clean();
  h.ops[4].granted_at += int64_t{57} * 365 * 24 * 3600 * 1'000'000;
  EXPECT_TRUE(Found(h).count('f'));
}

TEST(HistorySelfTest, AnEntryStaleAtBirthIsFound) {
  History h = Clean();
  h.ops[6].fetch = SeenFetch::kStale;  // the regenerated entry, not fresh
  h.ops[6].got_payload = "p2";
  EXPECT_TRUE(Found(h).count('g'));
}

// An invalidation whose caller got an error may still take effect after
// it returned (the node finishes it, or raises what it missed when the
// store is back): an entry it covers may be stale then. One that covers
// nothing of the entry, or that started after the fetch, excuses nothing.
TEST(HistorySelfTest, AFailedInvalidationMayApplyAfterItReturned) {
  History h = Clean();
  h.ops[6].fetch = SeenFetch::kStale;  // the entry stored at 50-51 ms
  h.ops[6].got_payload = "p2";
  Op failed = Invalidated(35, 38, "scope:s", 0);  // returned before 40 ms
  failed.ok = false;
  h.ops.push_back(failed);
  EXPECT_FALSE(Found(h).count('g'));
  h.ops.back().target = "scope:other";
  EXPECT_TRUE(Found(h).count('g'));
  h.ops.back().target = "scope:s";
  h.ops.back().start_ns = 65 * kMs;  // after the fetch
  h.ops.back().end_ns = 66 * kMs;
  EXPECT_TRUE(Found(h).count('g'));
  // Not for ever: one that failed 4 s before the generation began is over.
  h.ops.back().start_ns = -4000 * kMs;
  h.ops.back().end_ns = -3990 * kMs;
  EXPECT_TRUE(Found(h).count('g'));
  // Unless it met an outage that ended since: it may land when the store
  // is back.
  h.faults.push_back({"node 1: store away", -3995 * kMs, 39 * kMs, true});
  EXPECT_FALSE(Found(h).count('g'));
}

// A store outage a node saw excuses an answer it could not vouch for.
TEST(HistorySelfTest, AStoreOutageExcusesAnEntryStaleAtBirth) {
  History h = Clean();
  h.ops[6].fetch = SeenFetch::kStale;
  h.ops[6].got_payload = "p2";
  h.faults.push_back({"node 1: store away", 55 * kMs, 58 * kMs, true});
  EXPECT_FALSE(Found(h).count('g'));
}

TEST(HistorySelfTest, ALeaseNotTakenOverInTimeIsFound) {
  History h;
  h.ops.push_back(Grant(0, 1, "t1"));
  h.ops.back().abandoned = true;
  Op late = At(OpKind::kFetch, 4000, 4001);  // lease 2 s + 1 s slack later
  late.fetch = SeenFetch::kStale;
  h.ops.push_back(late);
  CheckOptions o = Options();
  o.lease_time_us = 2'000'000;
  EXPECT_TRUE(Found(h, o).count('h'));
  h.ops.back().fetch = SeenFetch::kMissLease;
  h.ops.back().lease_token = "t2";
  EXPECT_FALSE(Found(h, o).count('h'));
}

}  // namespace
}  // namespace clustercache
