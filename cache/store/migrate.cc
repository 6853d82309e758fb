#include "cache/store/migrate.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cache/freshness.h"
#include "cache/key.h"
#include "cache/limits.h"

namespace clustercache {
namespace {

constexpr absl::Duration kReadDeadline = absl::Seconds(30);

absl::Status Side(absl::string_view side, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(side, ": ", s.message()));
}

// The lookups of `keys`, read together; an error if any read fails or the
// batch does not finish within the deadline.
absl::StatusOr<std::vector<Lookup>> ReadAll(Store& store,
                                            const std::vector<Key>& keys) {
  struct Batch {
    absl::Mutex mu;
    std::vector<Lookup> lookups;
    absl::Status error;
    size_t left;
    absl::Notification done;
  };
  auto batch = std::make_shared<Batch>();
  batch->lookups.resize(keys.size());
  batch->left = keys.size();
  if (keys.empty()) return std::vector<Lookup>();
  store.ReadMany(keys, [batch](size_t i, absl::StatusOr<Lookup> read) {
    absl::MutexLock lock(&batch->mu);
    if (read.ok()) {
      batch->lookups[i] = *std::move(read);
    } else if (batch->error.ok()) {
      batch->error = read.status();
    }
    if (--batch->left == 0) batch->done.Notify();
  });
  if (!batch->done.WaitForNotificationWithTimeout(kReadDeadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("a batch of ", keys.size(), " reads did not finish in ",
                     absl::FormatDuration(kReadDeadline)));
  }
  absl::MutexLock lock(&batch->mu);
  if (!batch->error.ok()) return batch->error;
  return std::move(batch->lookups);
}

}  // namespace

absl::StatusOr<MigrateProgress> Migrate(
    Store& from, Store& to, const MigrateOptions& options,
    const std::function<bool(const MigrateProgress&)>& progress) {
  if (options.batch < 1 || options.batch > 10000) {
    return absl::InvalidArgumentError("batch: must be 1 to 10000");
  }
  if (options.pause < absl::ZeroDuration() ||
      options.pause > absl::Minutes(1)) {
    return absl::InvalidArgumentError("pause: must be 0 to 1m");
  }
  if (!options.scope.empty()) {
    if (absl::Status s = ValidateScope(options.scope); !s.ok()) return s;
  } else if (!options.prefix.empty()) {
    return absl::InvalidArgumentError("prefix: requires a scope");
  }
  MigrateProgress p;
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = from.ListExpiryKeys();
  if (!keys.ok()) return Side("source", keys.status());
  // Cluster time stays near real time: nothing is imported from more than
  // kMaxInvalidateAhead past the target's now (a source clock that ran
  // ahead, or a poisoned key), since the target's clock would follow it.
  absl::StatusOr<int64_t> target_now = to.Now();
  if (!target_now.ok()) return Side("target", target_now.status());
  const int64_t limit =
      *target_now + absl::ToInt64Microseconds(kMaxInvalidateAhead);
  for (const ExpiryKeyValue& k : *keys) {
    if (k.value > limit) {
      return absl::FailedPreconditionError(absl::StrCat(
          "source: expiry key ", k.name, " is ",
          absl::FormatDuration(absl::Microseconds(k.value - *target_now)),
          " past the target's cluster time; bring it back with "
          "`clustercachectl expiry-keys --reset ",
          k.name, "` on the source first"));
    }
  }
  p.expiry_keys = static_cast<int64_t>(keys->size());
  if (!options.dry_run) {
    if (absl::Status s = to.ImportExpiryKeys(*keys); !s.ok()) {
      return Side("target", s);
    }
  }
  ScanRequest scan{options.scope, options.prefix, options.resume_after,
                   options.batch};
  for (;;) {
    absl::StatusOr<ScanPage> page = from.Scan(scan);
    if (!page.ok()) return Side("source", page.status());
    std::vector<Key> names;
    for (const ScannedEntry& e : page->entries) {
      ++p.examined;
      if ((options.fresh_only && !IsFresh(e.meta, e.expiry, {}, page->now)) ||
          e.meta.mtime > limit) {
        ++p.skipped;
        continue;
      }
      names.push_back(e.meta.key);
    }
    std::vector<EntryRef> entries;
    if (options.dry_run) {
      for (const ScannedEntry& e : page->entries) {
        if ((!options.fresh_only || IsFresh(e.meta, e.expiry, {}, page->now)) &&
            e.meta.mtime <= limit) {
          ++p.copied;
          p.bytes += e.meta.size;
        }
      }
    } else {
      absl::StatusOr<std::vector<Lookup>> read = ReadAll(from, names);
      if (!read.ok()) return Side("source", read.status());
      for (Lookup& l : *read) {
        // Removed since the scan, or rewritten from too far ahead.
        if (l.entry == nullptr || l.entry->meta.mtime > limit ||
            l.entry->meta.expired_at > limit) {
          ++p.skipped;
          continue;
        }
        entries.push_back(std::move(l.entry));
      }
      absl::StatusOr<std::vector<ImportOutcome>> imported = to.Import(entries);
      if (!imported.ok()) return Side("target", imported.status());
      for (size_t i = 0; i < imported->size(); ++i) {
        if ((*imported)[i] == ImportOutcome::kImported) {
          ++p.copied;
          p.bytes += entries[i]->meta.size;
        } else {
          ++p.kept;
        }
      }
    }
    if (!page->next_after.empty()) {
      scan.after = page->next_after;
      p.last_key = page->next_after;
    }
    p.done = page->done;
    if (!progress(p) || p.done) return p;
    if (options.cancelled && options.cancelled()) return p;
    if (options.pause > absl::ZeroDuration()) absl::SleepFor(options.pause);
  }
}

}  // namespace clustercache
