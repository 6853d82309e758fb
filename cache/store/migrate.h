// Migrate: copies a store's entries and expiry keys into another store
// (clustercachectl migrate; the background copy of a live move). Expiry
// keys first (Store::ImportExpiryKeys), then the entries page by page in
// key order (Scan, then a batch read of their payloads, then
// Store::Import): memory stays flat however many entries there are, and a
// run stopped half-way resumes after the last key it reported. Nothing
// becomes fresh in the target that was not fresh in the source (an entry
// the source does not judge fresh is copied soft-expired), and a
// newer entry in the target is never replaced (Import's contract). Nothing
// is imported from more than kMaxInvalidateAhead past the target's cluster
// time (an entry is skipped; an expiry key stops the copy before it
// starts), so the target's clock stays near real time.
#ifndef CLUSTERCACHE_CACHE_STORE_MIGRATE_H_
#define CLUSTERCACHE_CACHE_STORE_MIGRATE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/store/store.h"

namespace clustercache {

struct MigrateOptions {
  std::string scope;        // "" = every scope
  std::string prefix;       // names starting with this (requires scope)
  bool fresh_only = false;  // only entries fresh in the source
  bool dry_run = false;     // count, write nothing
  // false: entries only. A live move's --finish: the target has had every
  // invalidation since all nodes moved, and what one before that made
  // stale the check removes; the source's values, from another clock,
  // would only make entries stale at birth on the target.
  bool expiry_keys = true;
  int batch = 500;           // entries per page, 1..10000
  absl::Duration pause;      // between pages, at most 1 minute
  std::string resume_after;  // an encoded key reported by an earlier run
  // Called after each page; false stops the copy (it can be resumed).
  std::function<bool()> cancelled;
};

struct MigrateProgress {
  int64_t expiry_keys = 0;  // imported (or, dry run, found)
  int64_t examined = 0;     // entries looked at in the source
  int64_t copied = 0;       // imported (dry run: would be)
  int64_t kept = 0;         // the target held them at least as new
  // not fresh (fresh_only), gone meanwhile, or from too far ahead
  int64_t skipped = 0;
  int64_t bytes = 0;     // payload bytes copied
  std::string last_key;  // the encoded key to resume after
  bool done = false;
};

// Runs the copy; `progress` after every page (false: stop). Errors name
// the side: "source: ..." or "target: ...".
absl::StatusOr<MigrateProgress> Migrate(
    Store& from, Store& to, const MigrateOptions& options,
    const std::function<bool(const MigrateProgress&)>& progress);

// The check of a live move's --finish (migrating_store.h, step 2): every
// entry `to` judges fresh is compared with `from`; one that `from` does not
// hold fresh with the same payload, content type and tags is removed from
// `to` (if still that version). Run while every node writes both stores,
// it leaves nothing in `to` fresher than in `from`.
struct CheckProgress {
  int64_t examined = 0;  // entries of `to` looked at
  int64_t removed = 0;
  std::string last_key;
  bool done = false;
};
absl::StatusOr<CheckProgress> CheckAgainstSource(
    Store& from, Store& to, int batch,
    const std::function<bool(const CheckProgress&)>& progress);

// The end of --finish: writes MigrationMarker() into `to`, then waits
// kMoveSettle, after which no migrating node reads the store it moves from.
absl::Status MarkMoveFinished(Store& to);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_MIGRATE_H_
