// Issue 18, the live move (cache/store/migrating_store.h): nodes that share
// real stores, each with its own connections as separate clustercached
// processes would have: one still on the old store (memcached) alone, one
// migrating (--store=redis --migrate-from=memcached), one on the new store
// (Redis) alone. What one does, the others must see: invalidations, leases
// and commits across the three, and --finish's check (CheckAgainstSource,
// MarkMoveFinished) leaving nothing in the new store fresher than the old.
#include "cache/store/migrating_store.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/freshness.h"
#include "cache/store/migrate.h"
#include "cache/store/open_store.h"
#include "gtest/gtest.h"
#include "tests/support/entries.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

class MigratingStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_SERVER(memcached, "CLUSTERCACHE_TEST_MEMCACHED");
    CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
    static std::atomic<int> counter{0};
    settings_.namespace_name =
        absl::StrCat("mv", getpid(), "-", counter++, "-",
                     absl::ToUnixMicros(absl::Now()) % 100000000);
    old_url_ = absl::StrCat("memcached://", memcached);
    new_url_ = absl::StrCat("redis://", redis);
    old_only_ = Open(old_url_, "");
    new_only_ = Open(new_url_, "");
    migrating_ = Open(new_url_, old_url_);
  }

  std::unique_ptr<Store> Open(const std::string& url,
                              const std::string& migrate_from) {
    StoreSettings s = settings_;
    s.migrate_from = migrate_from;
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(url, s);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // The payload `store` holds fresh for `key`, or "" if none.
  static std::string FreshPayload(Store& store, const Key& key) {
    absl::StatusOr<Lookup> l = store.Read(key);
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok() || l->entry == nullptr ||
        !IsFresh(l->entry->meta, l->expiry, {}, l->now)) {
      return "";
    }
    return *l->entry->payload;
  }

  // --finish's check and marker, as clustercachectl runs them (stores of
  // its own); then waits until the migrating node has seen the marker.
  CheckProgress Finish() {
    std::unique_ptr<Store> from = Open(old_url_, "");
    std::unique_ptr<Store> to = Open(new_url_, "");
    absl::StatusOr<CheckProgress> checked = CheckAgainstSource(
        *from, *to, 100, [](const CheckProgress&) { return true; });
    EXPECT_TRUE(checked.ok()) << checked.status();
    EXPECT_TRUE(MarkMoveFinished(*to).ok());
    auto* m = static_cast<MigratingStore*>(migrating_.get());
    EXPECT_TRUE(m->switched()) << "--finish waits until every node saw it";
    return checked.ok() ? *checked : CheckProgress();
  }

  StoreSettings settings_;
  std::string old_url_, new_url_;
  std::unique_ptr<Store> old_only_, new_only_, migrating_;
};

TEST_F(MigratingStoreTest, AnInvalidationOnANodeStillOnTheOldStoreHoldsAfter) {
  const Key kept("blocks", "kept"), invalidated("views", "article/1");
  ASSERT_TRUE(migrating_->Put(WriteOf(kept, "k1")).ok());
  ASSERT_TRUE(migrating_->Put(WriteOf(invalidated, "v1")).ok());
  EXPECT_EQ(FreshPayload(*migrating_, invalidated), "v1");
  EXPECT_EQ(FreshPayload(*new_only_, invalidated), "v1") << "written to both";

  // A node not moved yet invalidates the scope: the old store alone.
  ASSERT_TRUE(old_only_->Invalidate("scope:views", 0).ok());
  EXPECT_EQ(FreshPayload(*migrating_, invalidated), "")
      << "a migrating node reads the old store until the move finishes";
  EXPECT_EQ(FreshPayload(*new_only_, invalidated), "v1")
      << "the new store has not heard of it: --finish must remove it";

  CheckProgress checked = Finish();
  EXPECT_EQ(checked.removed, 1);
  EXPECT_EQ(FreshPayload(*migrating_, invalidated), "");
  EXPECT_EQ(FreshPayload(*new_only_, invalidated), "");
  EXPECT_EQ(FreshPayload(*migrating_, kept), "k1");
  EXPECT_EQ(FreshPayload(*new_only_, kept), "k1");
}

TEST_F(MigratingStoreTest, ALeaseOnAnySideBlocksTheOthers) {
  const Key key("views", "article/2");
  absl::StatusOr<Grant> old = old_only_->AcquireLease(key, 0, absl::Minutes(1));
  ASSERT_TRUE(old.ok() && old->outcome == GrantOutcome::kGranted);
  absl::StatusOr<Grant> refused =
      migrating_->AcquireLease(key, 0, absl::Minutes(1));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->outcome, GrantOutcome::kHeld);
  ASSERT_TRUE(old_only_->Release(key, old->lease.token).ok());

  absl::StatusOr<Grant> both =
      migrating_->AcquireLease(key, 0, absl::Minutes(1));
  ASSERT_TRUE(both.ok() && both->outcome == GrantOutcome::kGranted);
  for (Store* other : {old_only_.get(), new_only_.get()}) {
    absl::StatusOr<Grant> g = other->AcquireLease(key, 0, absl::Minutes(1));
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->outcome, GrantOutcome::kHeld) << other->Describe();
  }
  absl::StatusOr<Commit> c =
      migrating_->CommitLeased(WriteOf(key, "g1"), both->lease.token);
  ASSERT_TRUE(c.ok() && c->outcome == CommitOutcome::kStored);
  EXPECT_EQ(FreshPayload(*old_only_, key), "g1");
  EXPECT_EQ(FreshPayload(*new_only_, key), "g1");
  // Both leases ended with the commit.
  absl::StatusOr<Grant> next = new_only_->AcquireLease(
      key, (*new_only_->Read(key)).entry->meta.mtime, absl::Minutes(1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->outcome, GrantOutcome::kGranted);
}

TEST_F(MigratingStoreTest, FinishKeepsOnlyWhatTheOldStoreVouchesFor) {
  const Key same("blocks", "same"), only_new("blocks", "only-new"),
      differs("blocks", "differs");
  ASSERT_TRUE(migrating_->Put(WriteOf(same, "s")).ok());
  ASSERT_TRUE(new_only_->Put(WriteOf(only_new, "n")).ok());
  ASSERT_TRUE(old_only_->Put(WriteOf(differs, "old bytes")).ok());
  ASSERT_TRUE(new_only_->Put(WriteOf(differs, "new bytes")).ok());
  CheckProgress checked = Finish();
  EXPECT_EQ(checked.examined, 3);
  EXPECT_EQ(checked.removed, 2);
  EXPECT_EQ(FreshPayload(*migrating_, same), "s");
  EXPECT_EQ(FreshPayload(*migrating_, only_new), "");
  EXPECT_EQ(FreshPayload(*migrating_, differs), "");
  // From now on the migrating node answers from the new store alone.
  ASSERT_TRUE(new_only_->Put(WriteOf(only_new, "n2")).ok());
  EXPECT_EQ(FreshPayload(*migrating_, only_new), "n2");
}

TEST_F(MigratingStoreTest, WhatCannotMoveLiveIsRefusedAtStart) {
  StoreSettings s = settings_;
  s.migrate_from = new_url_;
  absl::StatusOr<std::unique_ptr<Store>> into_memcached =
      OpenStore(old_url_, s);
  EXPECT_TRUE(absl::IsInvalidArgument(into_memcached.status()))
      << into_memcached.status();
  s.migrate_from = "memory";
  absl::StatusOr<std::unique_ptr<Store>> from_memory = OpenStore(new_url_, s);
  EXPECT_TRUE(absl::IsInvalidArgument(from_memory.status()))
      << from_memory.status();
  s.migrate_from = new_url_;
  absl::StatusOr<std::unique_ptr<Store>> itself = OpenStore(new_url_, s);
  EXPECT_TRUE(absl::IsInvalidArgument(itself.status())) << itself.status();
}

}  // namespace
}  // namespace clustercache
