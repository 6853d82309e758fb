// ContentCache: the admin operations (Expire, Delete, Invalidate, Purge,
// List).
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cache/content_cache.h"
#include "cache/freshness.h"
#include "cache/limits.h"
#include "cache/util/log.h"

namespace clustercache {
namespace {

absl::Status ValidateScan(absl::string_view scope, absl::string_view prefix) {
  if (!scope.empty()) {
    if (absl::Status s = ValidateScope(scope); !s.ok()) return s;
  } else if (!prefix.empty()) {
    return absl::InvalidArgumentError("prefix: requires a scope");
  }
  return ValidatePrefix(prefix);
}

}  // namespace

absl::Status ContentCache::ValidateSelector(const Selector& selector) const {
  if (absl::Status s = ValidateScope(selector.scope); !s.ok()) return s;
  if (selector.name.has_value()) return ValidateName(*selector.name);
  return ValidatePrefix(selector.prefix);
}

void ContentCache::CountInvalidation(const Selector& selector) {
  Bump(selector.name.has_value() ? stats_.node().invalidations_key
                                 : stats_.node().invalidations_prefix);
}

absl::StatusOr<int64_t> ContentCache::Expire(const Selector& selector) {
  if (absl::Status s = ValidateSelector(selector); !s.ok()) return s;
  absl::StatusOr<int64_t> expired = store_->Expire(selector);
  if (expired.ok()) CountInvalidation(selector);
  return expired;
}

absl::StatusOr<int64_t> ContentCache::Delete(const Selector& selector) {
  if (absl::Status s = ValidateSelector(selector); !s.ok()) return s;
  absl::StatusOr<int64_t> deleted = store_->Delete(selector);
  if (deleted.ok()) CountInvalidation(selector);
  return deleted;
}

absl::StatusOr<int64_t> ContentCache::Invalidate(absl::string_view expiry_key,
                                                 int64_t at) {
  if (absl::Status s = ValidateExpiryKey(expiry_key); !s.ok()) return s;
  if (at < 0) return absl::InvalidArgumentError("at_us: must not be negative");
  if (at > 0) {
    absl::StatusOr<int64_t> now = store_->Now();
    if (!now.ok()) return now.status();
    if (at > *now + absl::ToInt64Microseconds(kMaxInvalidateAhead)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "at_us: ", at, " is more than ",
          absl::FormatDuration(kMaxInvalidateAhead), " past cluster time ",
          *now,
          "; an expiry key never moves back, so every entry would be "
          "stale at birth until then"));
    }
  }
  absl::StatusOr<int64_t> moved = store_->Invalidate(expiry_key, at);
  if (moved.ok()) {
    NodeCounters& n = stats_.node();
    Bump(expiry_key == kExpiryAll                 ? n.invalidations_all
         : absl::StartsWith(expiry_key, "scope:") ? n.invalidations_scope
                                                  : n.invalidations_tag);
  }
  return moved;
}

absl::StatusOr<ExpiryReset> ContentCache::ResetExpiryKey(
    absl::string_view expiry_key) {
  if (absl::Status s = ValidateExpiryKey(expiry_key); !s.ok()) return s;
  absl::StatusOr<ExpiryReset> reset = store_->ResetExpiryKey(
      expiry_key, absl::ToInt64Microseconds(kMaxInvalidateAhead));
  if (!reset.ok()) return reset;
  if (reset->after < reset->before) {
    LogWarning("expiry key ", expiry_key, " reset by an admin from ",
               reset->before, " (",
               absl::FormatTime(absl::FromUnixMicros(reset->before)), ") to ",
               reset->after,
               " (now): entries generated from now on can be "
               "fresh again");
  } else {
    LogInfo("expiry key ", expiry_key, " not reset: ", reset->before,
            " is not past cluster time + ",
            absl::FormatDuration(kMaxInvalidateAhead));
  }
  return reset;
}

absl::StatusOr<ForgottenTags> ContentCache::ForgetTags(
    absl::Duration older_than) {
  if (older_than < absl::ZeroDuration() || older_than > kMaxAge) {
    return absl::InvalidArgumentError(absl::StrCat(
        "older_than: must be 0 to ", absl::FormatDuration(kMaxAge)));
  }
  absl::StatusOr<int64_t> now = store_->Now();
  if (!now.ok()) return now.status();
  absl::StatusOr<ForgottenTags> forgotten =
      store_->ForgetTags(*now - absl::ToInt64Microseconds(older_than));
  if (!forgotten.ok()) return forgotten;
  LogInfo("forgot ", forgotten->names.size(),
          " tag expiry keys last invalidated more than ",
          absl::FormatDuration(older_than),
          " ago; tags not listed count as invalidated at ", forgotten->floor);
  return forgotten;
}

absl::StatusOr<std::vector<ExpiryKeyValue>> ContentCache::ListExpiryKeys() {
  return store_->ListExpiryKeys();
}

absl::Status ContentCache::Purge(
    const PurgeRequest& request,
    const std::function<bool(const PurgeProgress&)>& progress) {
  if (absl::Status s = ValidateScan(request.scope, request.prefix); !s.ok()) {
    return s;
  }
  if (request.batch < 1 || request.batch > kMaxPurgeBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch: must be 1 to ", kMaxPurgeBatch));
  }
  if (request.older_than < absl::ZeroDuration() ||
      request.older_than > kMaxAge || request.pause < absl::ZeroDuration() ||
      request.pause > kMaxPurgePause) {
    return absl::InvalidArgumentError(
        absl::StrCat("older_than must be 0 .. ", absl::FormatDuration(kMaxAge),
                     " and pause 0 .. ", absl::FormatDuration(kMaxPurgePause)));
  }
  const int64_t older_than_us = absl::ToInt64Microseconds(request.older_than);
  ScanRequest scan{request.scope, request.prefix, "", request.batch};
  scan.any_order = true;
  // Freshness and the byte count of a dry run need the whole metadata; a
  // plain purge by age needs only key and mtime (removal reports the bytes).
  scan.metadata = request.only_not_fresh || request.dry_run;
  if (older_than_us > 0) {
    absl::StatusOr<int64_t> now = store_->Now();
    if (!now.ok()) return now.status();
    scan.mtime_before = *now - older_than_us + 1;  // age >= older_than
  }
  PurgeProgress total;
  for (;;) {
    if (request.cancelled && request.cancelled()) {
      return absl::CancelledError("purge cancelled");
    }
    absl::StatusOr<ScanPage> page = store_->Scan(scan);
    if (!page.ok()) return page.status();
    std::vector<KeyVersion> victims;
    int64_t victim_bytes = 0;
    for (const ScannedEntry& e : page->entries) {
      ++total.examined;
      // Age is the entry's real age: a future mtime is age < 0, never old.
      int64_t age = page->now - e.meta.mtime;
      if (older_than_us > 0 && age < older_than_us) continue;
      if (request.only_not_fresh && IsFresh(e.meta, e.expiry, {}, page->now)) {
        continue;
      }
      victims.push_back({e.meta.key, e.meta.mtime});
      victim_bytes += e.meta.size;
    }
    if (request.dry_run) {
      total.purged += victims.size();
      total.bytes += victim_bytes;
    } else if (!victims.empty()) {
      absl::StatusOr<Removed> removed = store_->RemoveIfUnchanged(victims);
      if (!removed.ok()) return removed.status();
      total.purged += removed->count;
      total.bytes += removed->bytes;
      Bump(stats_.node().purged_entries, removed->count);
    }
    if (!page->next_after.empty()) scan.after = page->next_after;
    total.done = page->done;
    if (!progress(total)) return absl::CancelledError("purge cancelled");
    if (total.done) return absl::OkStatus();
    if (request.pause > absl::ZeroDuration() &&
        !PauseUnlessStopped(request.pause, request.cancelled)) {
      return absl::CancelledError("purge cancelled (or the server stops)");
    }
  }
}

absl::Status ContentCache::List(
    const ListRequest& request,
    const std::function<bool(const EntryMeta&, bool fresh)>& emit) {
  if (absl::Status s = ValidateScan(request.scope, request.prefix); !s.ok()) {
    return s;
  }
  if (request.limit < 0) {
    return absl::InvalidArgumentError("limit: must not be negative");
  }
  constexpr int kPage = 1000;
  int64_t left = request.limit == 0 ? INT64_MAX : request.limit;
  ScanRequest scan{request.scope, request.prefix, request.after, kPage};
  while (left > 0) {
    scan.limit = static_cast<int>(std::min<int64_t>(kPage, left));
    absl::StatusOr<ScanPage> page = store_->Scan(scan);
    if (!page.ok()) return page.status();
    for (const ScannedEntry& e : page->entries) {
      if (!emit(e.meta, IsFresh(e.meta, e.expiry, {}, page->now))) {
        return absl::OkStatus();
      }
      --left;
    }
    if (page->done) break;
    scan.after = page->next_after;
  }
  return absl::OkStatus();
}

}  // namespace clustercache
