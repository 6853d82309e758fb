#include "cache/store/migrate.h"

#include <future>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cache/freshness.h"
#include "cache/key.h"
#include "cache/limits.h"
#include "cache/store/migrating_store.h"

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

// One page of the source: the entries to copy (with payloads; for a dry
// run, metadata only), and what was looked at and left.
struct Fetched {
  std::vector<EntryRef> entries;
  int64_t examined = 0;
  int64_t skipped = 0;
  std::string next_after;
  bool done = false;
};

absl::StatusOr<Fetched> FetchPage(Store& from, const ScanRequest& scan,
                                  const MigrateOptions& options,
                                  int64_t limit) {
  absl::StatusOr<ScanPage> page = from.Scan(scan);
  if (!page.ok()) return page.status();
  Fetched out;
  out.next_after = page->next_after;
  out.done = page->done;
  std::vector<Key> names;
  for (ScannedEntry& e : page->entries) {
    ++out.examined;
    if ((options.fresh_only && !IsFresh(e.meta, e.expiry, {}, page->now)) ||
        e.meta.mtime > limit) {
      ++out.skipped;
      continue;
    }
    if (options.dry_run) {
      out.entries.push_back(
          std::make_shared<Entry>(Entry{std::move(e.meta), nullptr}));
    } else {
      names.push_back(e.meta.key);
    }
  }
  if (options.dry_run) return out;
  absl::StatusOr<std::vector<Lookup>> read = ReadAll(from, names);
  if (!read.ok()) return read.status();
  for (Lookup& l : *read) {
    // Removed since the scan, or rewritten from too far ahead.
    if (l.entry == nullptr || l.entry->meta.mtime > limit ||
        l.entry->meta.expired_at > limit) {
      ++out.skipped;
      continue;
    }
    // An entry the source does not judge fresh is copied soft-expired: the
    // target may keep its expiry keys or floors differently (Redis per
    // bucket, a copy remade after an eviction), and must not judge it
    // fresh either way. It stays a stale copy to serve.
    if (!l.entry->meta.expired() &&
        !IsFresh(l.entry->meta, l.expiry, {}, l.now)) {
      auto stale = std::make_shared<Entry>(*l.entry);
      stale->meta.expired_at = stale->meta.mtime + 1;
      l.entry = std::move(stale);
    }
    out.entries.push_back(std::move(l.entry));
  }
  return out;
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
  p.expiry_keys = options.expiry_keys ? static_cast<int64_t>(keys->size()) : 0;
  if (!options.dry_run && options.expiry_keys) {
    if (absl::Status s = to.ImportExpiryKeys(*keys); !s.ok()) {
      return Side("target", s);
    }
  }
  // One page is read from the source while the one before it is written
  // to the target (at most one ahead: memory stays flat).
  ScanRequest first{options.scope, options.prefix, options.resume_after,
                    options.batch};
  auto fetch = [&from, &options, limit](ScanRequest scan) {
    return FetchPage(from, scan, options, limit);
  };
  std::future<absl::StatusOr<Fetched>> next =
      std::async(std::launch::async, fetch, first);
  for (;;) {
    absl::StatusOr<Fetched> page = next.get();
    if (!page.ok()) return Side("source", page.status());
    const bool more = !page->done && !page->next_after.empty();
    if (more) {
      ScanRequest following = first;
      following.after = page->next_after;
      next = std::async(std::launch::async, fetch, following);
    }
    p.examined += page->examined;
    p.skipped += page->skipped;
    if (options.dry_run) {
      p.copied += static_cast<int64_t>(page->entries.size());
      for (const EntryRef& e : page->entries) p.bytes += e->meta.size;
    } else {
      absl::StatusOr<std::vector<ImportOutcome>> imported =
          to.Import(page->entries);
      if (!imported.ok()) return Side("target", imported.status());
      for (size_t i = 0; i < imported->size(); ++i) {
        if ((*imported)[i] == ImportOutcome::kImported) {
          ++p.copied;
          p.bytes += page->entries[i]->meta.size;
        } else {
          ++p.kept;
        }
      }
    }
    if (!page->next_after.empty()) p.last_key = page->next_after;
    p.done = !more;
    // A page read ahead is dropped when the copy stops here (the future's
    // destructor waits for it: bounded by the store's timeouts).
    if (!progress(p) || p.done) return p;
    if (options.cancelled && options.cancelled()) return p;
    if (options.pause > absl::ZeroDuration()) absl::SleepFor(options.pause);
  }
}

namespace {

// Whether `from` vouches for `to`'s entry: holds it fresh, with the same
// bytes, content type and tags.
bool SameAndFresh(const Entry& mine, const Lookup& theirs) {
  if (theirs.entry == nullptr || theirs.entry->payload == nullptr ||
      mine.payload == nullptr) {
    return false;
  }
  const EntryMeta& a = mine.meta;
  const EntryMeta& b = theirs.entry->meta;
  return IsFresh(b, theirs.expiry, {}, theirs.now) &&
         a.content_type == b.content_type && a.tags == b.tags &&
         *mine.payload == *theirs.entry->payload;
}

}  // namespace

absl::StatusOr<CheckProgress> CheckAgainstSource(
    Store& from, Store& to, int batch,
    const std::function<bool(const CheckProgress&)>& progress) {
  if (batch < 1 || batch > 10000) {
    return absl::InvalidArgumentError("batch: must be 1 to 10000");
  }
  CheckProgress p;
  ScanRequest scan;
  scan.limit = batch;
  for (;;) {
    absl::StatusOr<ScanPage> page = to.Scan(scan);
    if (!page.ok()) return Side("target", page.status());
    std::vector<Key> fresh;
    for (const ScannedEntry& e : page->entries) {
      ++p.examined;
      if (IsFresh(e.meta, e.expiry, {}, page->now)) fresh.push_back(e.meta.key);
    }
    absl::StatusOr<std::vector<Lookup>> mine = ReadAll(to, fresh);
    if (!mine.ok()) return Side("target", mine.status());
    absl::StatusOr<std::vector<Lookup>> theirs = ReadAll(from, fresh);
    if (!theirs.ok()) return Side("source", theirs.status());
    std::vector<KeyVersion> remove;
    for (size_t i = 0; i < fresh.size(); ++i) {
      const Lookup& m = (*mine)[i];
      // Gone or stale since the scan: nothing to vouch for.
      if (m.entry == nullptr || !IsFresh(m.entry->meta, m.expiry, {}, m.now)) {
        continue;
      }
      if (!SameAndFresh(*m.entry, (*theirs)[i])) {
        remove.push_back({fresh[i], m.entry->meta.mtime});
      }
    }
    if (!remove.empty()) {
      absl::StatusOr<Removed> removed = to.RemoveIfUnchanged(remove);
      if (!removed.ok()) return Side("target", removed.status());
      p.removed += removed->count;
    }
    if (!page->next_after.empty()) p.last_key = page->next_after;
    p.done = page->done || page->next_after.empty();
    if (!progress(p) || p.done) return p;
    scan.after = page->next_after;
  }
}

absl::Status MarkMoveFinished(Store& to) {
  EntryWrite marker;
  marker.key = MigrationMarker();
  marker.payload = std::make_shared<const std::string>(absl::StrCat(
      "the move into this store finished at ", absl::FormatTime(absl::Now()),
      "; nodes with --migrate-from read this store from now on"));
  marker.content_type = "text/plain";
  absl::StatusOr<int64_t> put = to.Put(marker);
  if (!put.ok()) return Side("target", put.status());
  absl::SleepFor(kMoveSettle);
  return absl::OkStatus();
}

}  // namespace clustercache
