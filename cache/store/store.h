// Store: where entries, leases and expiry keys live, shared by every
// clustercached process that uses it.
//
// A store offers the atomic steps of the protocol, not get/set: each method
// below is one atomic step in the store itself (a mutex in memory, a script in
// Redis, CAS in Memcached, a transaction in MySQL), because several server
// processes may share one store. Policy (freshness, stale handling, waiting,
// stats) lives in ContentCache, above every store.
//
// Time: every timestamp a store writes (mtime, lease grants, expiry keys) is
// cluster time, taken from the store's own clock, never from the caller.
//
// Errors: absl::UnavailableError when the store cannot be reached; the engine
// turns that into "render, do not store". Implementations are thread-safe.
// The contract is executable: tests/cache/store/store_conformance_test.cc.
#ifndef CLUSTERCACHE_CACHE_STORE_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache/entry.h"

namespace clustercache {

// Everything the engine needs to answer a Fetch, read in one round trip.
struct Lookup {
  EntryRef entry;              // the stored entry, fresh or not; or null
  ExpiryTimes expiry;          // the expiry keys `entry` depends on
  std::optional<Lease> lease;  // the lease record, lapsed or not
  int64_t now = 0;             // cluster time of the read
};

enum class GrantOutcome {
  kGranted,  // the caller holds the lease now
  kHeld,     // someone else holds an unexpired lease
  kChanged,  // the entry changed since the caller's Lookup: look again
};

struct Grant {
  GrantOutcome outcome = GrantOutcome::kChanged;
  Lease lease;            // kGranted: the new lease; kHeld: the holder's
  bool takeover = false;  // kGranted over a lapsed lease
};

enum class CommitOutcome { kStored, kSuperseded, kLeaseLost };

struct Commit {
  CommitOutcome outcome = CommitOutcome::kLeaseLost;
  int64_t mtime = 0;  // kStored: the stored entry's mtime (the grant time)
};

// One key, or every key of a scope whose name starts with a prefix.
struct Selector {
  std::string scope;
  std::optional<std::string> name;  // set: exactly this key
  std::string prefix;               // otherwise: names starting with this
};

// A page of entry metadata, in key order unless `any_order`.
struct ScanRequest {
  std::string scope;   // "" = every scope
  std::string prefix;  // names starting with this (requires scope)
  std::string after;   // ScanPage::next_after of the previous page; "" = start
  int limit = 1000;
  // Hints for a full pass (purge): any order will do, and only entries with
  // mtime < mtime_before are wanted (0 = all). A store may use an index for
  // them, or ignore them (the caller filters anyway).
  bool any_order = false;
  int64_t mtime_before = 0;
  // false: the caller needs only each entry's key and mtime (a store may
  // leave the rest of the metadata and the expiry values empty).
  bool metadata = true;
};

struct ScannedEntry {
  EntryMeta meta;
  ExpiryTimes expiry;
};

struct ScanPage {
  std::vector<ScannedEntry> entries;
  std::string next_after;  // ScanRequest::after for the next page
  bool done = false;       // no entries after these
  int64_t now = 0;
};

// A key and the mtime it was seen with: removal only if still that version.
struct KeyVersion {
  Key key;
  int64_t mtime;
};

struct Removed {
  int64_t count = 0;
  int64_t bytes = 0;
};

struct ExpiryReset {
  int64_t before = 0;  // the largest value seen
  int64_t after = 0;
};

// What ForgetTags dropped.
struct ForgottenTags {
  std::vector<std::string> names;
  int64_t floor = 0;  // the tag floor after (0: none forgotten, or unknown)
};

// The name under which a store that keeps its tag floor among its expiry
// keys (the ledger, memcached's expiry map) keeps it: not a valid tag.
inline constexpr absl::string_view kTagFloorKey = "~tags";

struct ExpiryKeyValue {
  std::string name;
  int64_t value = 0;
};

// Whether `keys`, from another store, can be imported
// (Store::ImportExpiryKeys): each a valid expiry-key name or kTagFloorKey,
// with a value not below 0. Every store checks with it before it writes.
absl::Status ValidateImportedExpiryKeys(
    const std::vector<ExpiryKeyValue>& keys);

// What Import did with one entry.
enum class ImportOutcome {
  kImported,  // written, with the source's mtime
  kKept,      // this store holds that key at an mtime at least as new
};

struct StoreUsage {
  int64_t entries = 0;
  int64_t bytes = 0;
  // Entries pushed out by the memory limit since the store opened; -1:
  // the store cannot tell (Redis and memcached evict on their own).
  int64_t evictions = -1;
};

// A registration of interest in one key; destroying it ends the watch.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // What this store is, for logs ("memory (16 shards, limit 1GiB)").
  virtual std::string Describe() const = 0;
  // Cluster time now.
  virtual absl::StatusOr<int64_t> Now() = 0;

  // The entry, its expiry-key values and the lease record: one round trip.
  virtual absl::StatusOr<Lookup> Read(const Key& key) = 0;

  // Reads a batch of keys together (Redis: pipelined, one round trip per
  // server). `done(i, lookup)` runs once per key: on the caller's thread
  // before ReadMany returns, or later on a store thread that it must not
  // block. May block the caller for one round trip. The default reads each
  // inline.
  using ReadDone = std::function<void(size_t, absl::StatusOr<Lookup>)>;
  virtual void ReadMany(const std::vector<Key>& keys, const ReadDone& done) {
    for (size_t i = 0; i < keys.size(); ++i) done(i, Read(keys[i]));
  }
  // Whether calls wait on a network. The engine then keeps them off threads
  // that must not block (gRPC callbacks, the store's own reply threads).
  virtual bool CallsMayBlock() const { return false; }

  // Grants the lease for `lease_time` if no unexpired lease exists and the
  // entry's mtime still equals `seen_mtime` (0 = the caller saw no entry).
  virtual absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                             absl::Duration lease_time) = 0;

  // Writes `write` under the lease `token`, atomically rechecked:
  // kLeaseLost if the lease record no longer has this token (taken over, or
  // never granted); kSuperseded if the stored entry's mtime is newer than
  // the grant (nothing is written); otherwise kStored with mtime = the
  // lease's grant time. Ends the lease unless kLeaseLost.
  virtual absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                              absl::string_view token) = 0;

  // Unconditional write with mtime = now. Returns the mtime.
  virtual absl::StatusOr<int64_t> Put(const EntryWrite& write) = 0;

  // Ends the lease if `token` holds it. Returns whether it did.
  virtual absl::StatusOr<bool> Release(const Key& key,
                                       absl::string_view token) = 0;

  // Calls `on_change` (on any thread) after every change that may end a
  // wait on the key — a lease ended (commit, release) or an entry written
  // while a lease is held (put) — until the handle is destroyed; it may run
  // once more while the handle is being destroyed. Never called from inside
  // another call of this interface on the same thread (callers hold locks
  // there).
  virtual std::unique_ptr<WatchHandle> Watch(
      const Key& key, std::function<void()> on_change) = 0;
  // Calls every watch now, and every later watch at once (shutdown). Affects
  // every ContentCache over this store.
  virtual void CancelWaits() = 0;

  // Soft-expires (marks) or physically deletes the selected entries.
  // Returns how many were affected. Both void the leases of the selected
  // keys, with or without an entry (Facebook's leases: a delete voids the
  // token): a lease granted before the call commits as kLeaseLost, the key
  // may be leased again at once, and its watchers are called.
  virtual absl::StatusOr<int64_t> Expire(const Selector& selector) = 0;
  virtual absl::StatusOr<int64_t> Delete(const Selector& selector) = 0;

  // For a store that cannot enumerate (memcached): makes an Expire
  // (remove: false) or Delete of every key of `selector`'s prefix take
  // effect without listing them: leases granted before the call are void
  // and entries written before it are not fresh (remove: gone). A decorator
  // that lists the keys (LedgerStore) calls it before its own pass, so keys
  // it cannot list (a lease and no entry yet, an entry not recorded yet)
  // are covered too. Stores that enumerate answer Unimplemented: their
  // Expire and Delete do this.
  virtual absl::Status VoidByPrefix(const Selector& selector, bool remove) {
    (void)selector;
    (void)remove;
    return absl::UnimplementedError("VoidByPrefix: the store enumerates");
  }

  // Removes each entry only if its mtime is still the one given.
  virtual absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) = 0;

  // T(expiry_key) = max(T, at); at = 0 means now. Returns the value after.
  virtual absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                             int64_t at) = 0;
  virtual absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() = 0;

  // Forgets the tag expiry keys whose value is before `before` (cluster
  // time), so that a tag used once does not cost space for good. Safe at
  // any time: the store's tag floor (the value every tag it does not hold
  // counts as) is first raised to the largest value forgotten, so no entry
  // becomes fresher. A store that can tell the oldest entry it holds also
  // keeps every tag key that entry may depend on (value not before its
  // mtime), so forgetting makes nothing stale that was fresh; one that
  // cannot (memcached) may make tagged entries older than the floor stale.
  virtual absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) = 0;

  // The way out for a poisoned expiry key (one set far in the future, which
  // makes every entry stale at birth until then): every copy of
  // `expiry_key` later than cluster now + `ahead` is set to cluster now.
  // Copies within that bound are left as they are, so a concurrent
  // invalidation is never undone; nothing generated before the call becomes
  // fresh. Returns the largest value seen before and the value after.
  virtual absl::StatusOr<ExpiryReset> ResetExpiryKey(
      absl::string_view expiry_key, int64_t ahead_us) = 0;

  virtual absl::StatusOr<ScanPage> Scan(const ScanRequest& request) = 0;
  virtual absl::StatusOr<StoreUsage> Usage() = 0;

  // Migration from another store (clustercachectl migrate). First the
  // source's expiry keys: each is raised to the value given, never lowered
  // (as Invalidate with `at`), except that a copy this store never made is
  // made with that value rather than with now, so that entries imported
  // after it are judged as the source judged them. Then the entries:
  virtual absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) = 0;
  // Writes each entry as the source held it (mtime, expiry, soft expiry,
  // tags, content type, payload) unless this store holds its key at an
  // mtime at least as new (kKept), and either way raises this store's
  // cluster time past its mtime and soft expiry: every event stamped after
  // the call that concerns the key (an invalidation of an expiry key it
  // depends on, a grant or write of it) is later, so an invalidation
  // issued after an import makes the imported entry stale.
  // Leases are not touched and no watcher is called. Each entry is one
  // atomic step; a store may send a batch together.
  virtual absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) = 0;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_STORE_H_
