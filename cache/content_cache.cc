#include "cache/content_cache.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cache/freshness.h"
#include "cache/limits.h"

namespace clustercache {

const char* FetchOutcomeName(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kHit:
      return "HIT";
    case FetchOutcome::kStale:
      return "STALE";
    case FetchOutcome::kMissLease:
      return "MISS_LEASE";
    case FetchOutcome::kStaleLease:
      return "STALE_LEASE";
    case FetchOutcome::kTimeout:
      return "TIMEOUT";
    case FetchOutcome::kUnavailable:
      return "UNAVAILABLE";
    case FetchOutcome::kMiss:
      return "MISS";
    case FetchOutcome::kWouldBlock:
      return "WOULD_BLOCK";
  }
  return "?";
}

ContentCache::ContentCache(clustercache::Store* store,
                           ContentCacheOptions options)
    : options_(std::move(options)), timed_store_(store, &stats_.store_ops) {
  // A store whose calls may block gets threads to block on. The memory
  // store never blocks, but waking many waiters of one key (answering each)
  // is spread over two threads, so that the thread that stored is free.
  executor_ = std::make_unique<Executor>(store_->CallsMayBlock() ? 16 : 2);
}

ContentCache::~ContentCache() { CancelWaits(); }

absl::Status ContentCache::ValidateFetch(const FetchRequest& request) const {
  if (request.newer_than < 0 || request.max_age < absl::ZeroDuration() ||
      request.wait < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "newer_than, max_age and wait must not be negative");
  }
  if (request.max_age > kMaxAge || request.wait > kMaxWait) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_age (at most ", absl::FormatDuration(kMaxAge),
        ") or wait (at most ", absl::FormatDuration(kMaxWait), ") too long"));
  }
  return absl::OkStatus();
}

absl::StatusOr<FetchResult> ContentCache::Fetch(const FetchRequest& request) {
  if (absl::Status s = ValidateFetch(request); !s.ok()) return s;
  ScopeCounters* c = stats_.For(request.key.scope());
  absl::StatusOr<FetchResult> result = Look(request, c);
  if (!result.ok() || result->outcome != FetchOutcome::kWouldBlock) {
    return result;
  }
  absl::Notification done;
  Wait(request, c, [&](absl::StatusOr<FetchResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

void ContentCache::RunBlocking(std::function<void()> task) {
  if (!store_->CallsMayBlock()) return task();
  executor_->Run(std::move(task));
}

void ContentCache::FetchAsync(const FetchRequest& request, FetchDone done) {
  std::vector<PendingFetch> one;
  one.push_back({request, std::move(done)});
  FetchMany(std::move(one));
}

void ContentCache::FetchMany(std::vector<PendingFetch> fetches) {
  struct Read {
    PendingFetch fetch;
    ScopeCounters* counters;
  };
  const bool network = store_->CallsMayBlock();
  std::shared_ptr<std::vector<Read>> reads;
  std::vector<Key> keys;
  for (PendingFetch& f : fetches) {
    if (absl::Status s = ValidateFetch(f.request); !s.ok()) {
      f.done(s);
      continue;
    }
    ScopeCounters* c = stats_.For(f.request.key.scope());
    if (!network) {  // looks inline, one at a time
      LookThenWait(f.request, c, std::move(f.done));
      continue;
    }
    if (!reads) reads = std::make_shared<std::vector<Read>>();
    keys.push_back(f.request.key);
    reads->push_back({std::move(f), c});
  }
  if (keys.empty()) return;
  // A network store reads the batch together. A fresh hit is answered from
  // its read; anything else continues on the executor, where blocking is
  // allowed.
  store_->ReadMany(keys, [this, reads](size_t i, absl::StatusOr<Lookup> read) {
    Read& r = (*reads)[i];
    if (read.ok()) {
      if (std::optional<FetchResult> hit =
              FreshHit(r.fetch.request, *read, r.counters)) {
        return r.fetch.done(*std::move(hit));
      }
    } else if (absl::IsUnavailable(read.status())) {
      // The store is away: reading again would wait a second timeout.
      return r.fetch.done(StoreFailed(read.status(), r.counters));
    }
    executor_->Run([this, request = r.fetch.request, c = r.counters,
                    done = std::move(r.fetch.done)]() mutable {
      LookThenWait(request, c, std::move(done));
    });
  });
}

// A store call failed: Unavailable is an answer (render, do not store);
// anything else is an error.
absl::StatusOr<FetchResult> ContentCache::StoreFailed(
    const absl::Status& status, ScopeCounters* c) {
  Bump(c->store_errors);
  if (!absl::IsUnavailable(status)) return status;
  Bump(c->unavailable);
  FetchResult result;
  result.outcome = FetchOutcome::kUnavailable;
  return result;
}

void ContentCache::LookThenWait(const FetchRequest& request, ScopeCounters* c,
                                FetchDone done) {
  absl::StatusOr<FetchResult> result = Look(request, c);
  if (!result.ok() || result->outcome != FetchOutcome::kWouldBlock) {
    return done(std::move(result));
  }
  Wait(request, c, std::move(done));
}

std::optional<FetchResult> ContentCache::FreshHit(const FetchRequest& request,
                                                  Lookup& lookup,
                                                  ScopeCounters* c) {
  const FreshnessBounds bounds{request.newer_than,
                               absl::ToInt64Microseconds(request.max_age)};
  if (!lookup.entry ||
      !IsFresh(lookup.entry->meta, lookup.expiry, bounds, lookup.now)) {
    return std::nullopt;
  }
  Bump(c->hits);
  FetchResult hit;
  hit.outcome = FetchOutcome::kHit;
  hit.now = lookup.now;
  hit.entry = std::move(lookup.entry);
  return hit;
}

absl::StatusOr<FetchResult> ContentCache::Look(const FetchRequest& request,
                                               ScopeCounters* c) {
  const Key& key = request.key;
  FetchResult result;
  for (;;) {
    absl::StatusOr<Lookup> read = store_->Read(key);
    if (!read.ok()) return StoreFailed(read.status(), c);
    Lookup& lookup = *read;
    result.now = lookup.now;
    if (std::optional<FetchResult> hit = FreshHit(request, lookup, c)) {
      return *std::move(hit);
    }
    int64_t seen_mtime = lookup.entry ? lookup.entry->meta.mtime : 0;
    EntryRef stale = UsableStaleCopy(lookup, &seen_mtime);
    if (request.peek) {
      Bump(stale ? c->stale_serves : c->misses);
      result.outcome = stale ? FetchOutcome::kStale : FetchOutcome::kMiss;
      result.entry = std::move(stale);
      return result;
    }
    if (!lookup.lease || lookup.lease->expires_at <= lookup.now) {
      absl::StatusOr<Grant> grant = store_->AcquireLease(
          key, seen_mtime, options_.policy.LeaseTime(key.scope()));
      if (!grant.ok()) return StoreFailed(grant.status(), c);
      if (grant->outcome == GrantOutcome::kChanged) continue;
      if (grant->outcome == GrantOutcome::kGranted) {
        Bump(c->leases_granted);
        if (grant->takeover) Bump(c->takeovers);
        Bump(stale ? c->stale_serves : c->misses);
        result.outcome =
            stale ? FetchOutcome::kStaleLease : FetchOutcome::kMissLease;
        result.entry = std::move(stale);
        result.lease = grant->lease;
        return result;
      }
      lookup.lease = grant->lease;  // kHeld
    }
    if (stale) {
      Bump(c->stale_serves);
      result.outcome = FetchOutcome::kStale;
      result.entry = std::move(stale);
      return result;
    }
    result.outcome = FetchOutcome::kWouldBlock;
    result.retry_at =
        absl::Now() + absl::Microseconds(lookup.lease->expires_at - lookup.now);
    return result;
  }
}

EntryRef ContentCache::UsableStaleCopy(const Lookup& lookup,
                                       int64_t* seen_mtime) {
  if (!lookup.entry) return nullptr;
  const EntryMeta& meta = lookup.entry->meta;
  absl::Duration keep = options_.policy.Keep(meta.key.scope());
  int64_t stale_for = lookup.now - StaleSince(meta, lookup.expiry, lookup.now);
  if (stale_for < absl::ToInt64Microseconds(keep)) return lookup.entry;
  absl::StatusOr<Removed> removed =
      store_->RemoveIfUnchanged({KeyVersion{meta.key, meta.mtime}});
  if (removed.ok() && removed->count == 1) *seen_mtime = 0;
  return nullptr;
}

absl::Status ContentCache::ValidateWrite(const EntryWrite& write) const {
  int64_t size =
      write.payload ? static_cast<int64_t>(write.payload->size()) : 0;
  if (size > options_.max_payload_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload: ", size, " bytes exceeds the limit of ",
                     options_.max_payload_bytes, " bytes"));
  }
  if (write.ttl_us < 0 || write.ttl_us > absl::ToInt64Microseconds(kMaxTtl)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl: must be 0 .. ", absl::FormatDuration(kMaxTtl)));
  }
  if (write.tags.size() > kMaxTags) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tags: ", write.tags.size(), " tags, at most ", kMaxTags, " allowed"));
  }
  for (const std::string& tag : write.tags) {
    if (absl::Status s = ValidateTag(tag); !s.ok()) return s;
  }
  if (write.content_type.size() > kMaxContentTypeBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "content_type: longer than ", kMaxContentTypeBytes, " bytes"));
  }
  for (char ch : write.content_type) {
    if (ch < 0x20 || ch > 0x7E) {
      return absl::InvalidArgumentError(
          "content_type: printable ASCII only (a media type, RFC 9110)");
    }
  }
  return absl::OkStatus();
}

void ContentCache::CancelWaits() {
  waits_cancelled_.store(true);
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  store_->CancelWaits();
}

bool ContentCache::PauseUnlessStopped(absl::Duration d,
                                      const std::function<bool()>& cancelled) {
  const absl::Time until = absl::Now() + d;
  absl::MutexLock lock(&stop_mu_);
  while (!stopping_) {
    if (cancelled && cancelled()) return false;
    const absl::Time now = absl::Now();
    if (now >= until) return true;
    stop_mu_.AwaitWithDeadline(absl::Condition(&stopping_),
                               std::min(until, now + absl::Milliseconds(50)));
  }
  return false;
}

absl::StatusOr<Commit> ContentCache::Store(const EntryWrite& write,
                                           absl::string_view lease_token) {
  if (absl::Status s = ValidateWrite(write); !s.ok()) return s;
  ScopeCounters* c = stats_.For(write.key.scope());
  if (lease_token.empty()) {
    absl::StatusOr<int64_t> mtime = store_->Put(write);
    if (!mtime.ok()) {
      Bump(c->store_errors);
      return mtime.status();
    }
    Bump(c->stores);
    Bump(c->unconditional_stores);
    return Commit{CommitOutcome::kStored, *mtime};
  }
  if (!IsWellFormedLeaseToken(lease_token)) {
    return absl::InvalidArgumentError(
        "lease_token: not a lease token (32 hex digits)");
  }
  absl::StatusOr<Commit> commit = store_->CommitLeased(write, lease_token);
  if (!commit.ok()) {
    Bump(c->store_errors);
    return commit.status();
  }
  switch (commit->outcome) {
    case CommitOutcome::kStored:
      Bump(c->stores);
      break;
    case CommitOutcome::kSuperseded:
      Bump(c->superseded);
      break;
    case CommitOutcome::kLeaseLost:
      Bump(c->lease_lost);
      Bump(c->lapsed);
      break;
  }
  return commit;
}

absl::StatusOr<bool> ContentCache::Release(const Key& key,
                                           absl::string_view lease_token) {
  if (!IsWellFormedLeaseToken(lease_token)) {
    return absl::InvalidArgumentError(
        "lease_token: not a lease token (32 hex digits)");
  }
  ScopeCounters* c = stats_.For(key.scope());
  absl::StatusOr<bool> released = store_->Release(key, lease_token);
  if (!released.ok()) {
    Bump(c->store_errors);
  } else if (*released) {
    Bump(c->releases);
  } else {
    Bump(c->lapsed);
  }
  return released;
}

}  // namespace clustercache
