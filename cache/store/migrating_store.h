// MigratingStore: a node on the move between stores (clustercached
// --store=NEW --migrate-from=OLD; README "Moving to another store", live).
//
// The move, and why each step is what it is:
//   1. Nodes restart one by one with --migrate-from=OLD. Until every node
//      has, some still use OLD alone: their invalidations, deletes and
//      commits reach OLD only. So a migrating node keeps OLD the authority:
//      it reads OLD, and writes everything to both (leases in OLD then
//      NEW, so a lease in either store blocks it; commits, puts,
//      invalidations, expires and deletes in both). Freshness is never
//      compared across the two stores' clocks.
//   2. With every node migrating, `clustercachectl migrate --finish`
//      copies OLD into NEW, then checks every entry NEW judges fresh
//      against OLD: one OLD does not hold fresh with the same payload
//      (written before an invalidation that reached OLD only, or kept by an
//      import) is removed from NEW. Nothing in NEW is then fresher than
//      OLD, and every write since goes to both. Last it writes the marker
//      (MigrationMarker) into both stores and waits kMoveSettle.
//   3. A migrating node polls for the marker. Once it has seen it, NEW is
//      the authority (reads NEW; writes go to OLD too for kOldGrace, while
//      a node that has not seen it yet may still read OLD). A node that
//      could not look for the marker for kSureFor answers Unavailable
//      rather than read OLD: so once `--finish` returns, no node reads OLD.
//   4. Nodes restart one by one with --store=NEW alone.
// A fetch that misses in NEW never looks in OLD after step 3: a node on
// NEW alone may have deleted it there since, and nothing would say so.
#ifndef CLUSTERCACHE_CACHE_STORE_MIGRATING_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_MIGRATING_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "cache/store/store.h"

namespace clustercache {

// The key of the marker: an entry that says the move is finished.
// "clustercache-migration" is a reserved scope.
Key MigrationMarker();
// How long a node trusts that the marker was absent (step 3), how long
// `--finish` waits after writing it, and how long a node that saw it still
// writes to OLD.
inline constexpr absl::Duration kSureFor = absl::Seconds(1);
inline constexpr absl::Duration kMoveSettle = absl::Seconds(3);
inline constexpr absl::Duration kOldGrace = absl::Seconds(4);

class MigratingStore : public Store {
 public:
  // Owns both. Looks for the marker once before it returns and then every
  // `poll` on a thread of its own; trusts a look that found none for
  // `sure_for` (at most kSureFor where --finish runs: tests of the store
  // alone may trust longer).
  MigratingStore(std::unique_ptr<Store> to, std::unique_ptr<Store> from,
                 absl::Duration poll = absl::Milliseconds(250),
                 absl::Duration sure_for = kSureFor);
  ~MigratingStore() override;

  // Whether this node has seen the marker.
  bool switched() const { return switched_.load(); }

  std::string Describe() const override;
  absl::StatusOr<int64_t> Now() override;
  absl::StatusOr<Lookup> Read(const Key& key) override;
  // The answering store's batch read (one round trip per server), each
  // answer judged as Read's.
  void ReadMany(const std::vector<Key>& keys, const ReadDone& done) override;
  bool CallsMayBlock() const override {
    return to_->CallsMayBlock() || from_->CallsMayBlock();
  }
  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override;
  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override;
  absl::StatusOr<int64_t> Put(const EntryWrite& write) override;
  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override;
  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override;
  void CancelWaits() override;
  absl::StatusOr<int64_t> Expire(const Selector& selector) override;
  absl::StatusOr<int64_t> Delete(const Selector& selector) override;
  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override;
  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override;
  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override;
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override;
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override;
  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override;
  absl::StatusOr<StoreUsage> Usage() override;
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override;
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override;

 private:
  // Which store answers reads, and whether OLD must still be written.
  struct Roles {
    Store* authority;
    bool both;  // write OLD as well as NEW
  };
  absl::StatusOr<Roles> Current();
  void Poll();
  void LookForMarker();
  // A lease in `store` on `key`, whatever its entry's mtime now.
  absl::StatusOr<Grant> LeaseAnyVersion(Store& store, const Key& key,
                                        absl::Duration lease_time);
  // Runs `op` on OLD then NEW (both required) or on NEW alone; returns
  // what the authority answered.
  template <class Op>
  auto OnBoth(Op op) -> decltype(op(std::declval<Store&>()));

  const std::unique_ptr<Store> to_;
  const std::unique_ptr<Store> from_;
  const absl::Duration poll_;
  const absl::Duration sure_for_;

  std::atomic<bool> switched_{false};
  std::atomic<int64_t> switched_at_ns_{0};  // steady clock
  // When the last look that found no marker was sent (steady clock).
  std::atomic<int64_t> sure_since_ns_{0};

  // For a lease held in both stores: the token handed out (the
  // authority's when granted) -> the other store's. Bounded: an entry is
  // dropped when its lease ends here or lapses.
  struct Partner {
    std::string token;
    bool handed_out_is_old;
    int64_t lapses_ns;
  };
  // The partner of `token`, removed from the table; nullopt if unknown.
  std::optional<Partner> TakePartner(absl::string_view token);
  std::mutex tokens_mu_;
  absl::flat_hash_map<std::string, Partner> partners_;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MIGRATING_STORE_H_
