#include "cache/store/migrating_store.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cache/util/log.h"
#include "cache/util/thread_name.h"

namespace clustercache {
namespace {

// Leases held in both stores at once on one node; past it a lease is
// refused (the store answers Unavailable) until some end.
constexpr size_t kMaxDualLeases = 100000;
// How often a lease in the store that is not the authority is tried
// again after the entry there changed under it.
constexpr int kLeaseAttempts = 3;

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class BothWatches : public WatchHandle {
 public:
  BothWatches(std::unique_ptr<WatchHandle> a, std::unique_ptr<WatchHandle> b)
      : a_(std::move(a)), b_(std::move(b)) {}

 private:
  std::unique_ptr<WatchHandle> a_;
  std::unique_ptr<WatchHandle> b_;
};

}  // namespace

Key MigrationMarker() { return Key("clustercache-migration", "finished"); }

MigratingStore::MigratingStore(std::unique_ptr<Store> to,
                               std::unique_ptr<Store> from, absl::Duration poll,
                               absl::Duration sure_for)
    : to_(std::move(to)),
      from_(std::move(from)),
      poll_(poll),
      sure_for_(sure_for) {
  LookForMarker();
  poller_ = std::thread([this] { Poll(); });
}

MigratingStore::~MigratingStore() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stopping_ = true;
  }
  poll_cv_.notify_all();
  poller_.join();
}

std::string MigratingStore::Describe() const {
  return absl::StrCat(to_->Describe(), ", moving from ", from_->Describe(),
                      switched() ? " (finished: reads this store)"
                                 : " (reads the store it moves from)");
}

void MigratingStore::Poll() {
  NameThisThread("cc-migrate");
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    poll_cv_.wait_for(lock, absl::ToChronoNanoseconds(poll_));
    if (stopping_ || switched()) break;
    lock.unlock();
    LookForMarker();
    lock.lock();
  }
}

void MigratingStore::LookForMarker() {
  const int64_t sent = SteadyNanos();
  absl::StatusOr<Lookup> marker = to_->Read(MigrationMarker());
  if (!marker.ok()) {
    LogWarning("migration: cannot look for the finished-move marker (",
               marker.status().message(), ")");
    return;
  }
  if (marker->entry == nullptr) {
    sure_since_ns_.store(sent);
    return;
  }
  switched_at_ns_.store(SteadyNanos());
  switched_.store(true);
  LogInfo("migration: the move is finished; ", to_->Describe(),
          " answers from now on (", from_->Describe(), " is still written for ",
          absl::FormatDuration(kOldGrace), ")");
}

absl::StatusOr<MigratingStore::Roles> MigratingStore::Current() {
  if (switched()) {
    const bool grace = SteadyNanos() - switched_at_ns_.load() <
                       absl::ToInt64Nanoseconds(kOldGrace);
    return Roles{to_.get(), grace};
  }
  if (SteadyNanos() - sure_since_ns_.load() >=
      absl::ToInt64Nanoseconds(sure_for_)) {
    return absl::UnavailableError(
        "migration: cannot tell whether the move finished (the target did "
        "not answer); not reading the store it moves from");
  }
  return Roles{from_.get(), true};
}

template <class Op>
auto MigratingStore::OnBoth(Op op) -> decltype(op(std::declval<Store&>())) {
  absl::StatusOr<Roles> roles = Current();
  // Unsure whether the move finished: write both, as before it.
  const bool both = !roles.ok() || roles->both;
  const bool old_answers = roles.ok() && roles->authority == from_.get();
  if (!both) return op(*to_);
  auto old = op(*from_);
  if (!old.ok()) return old;
  auto neu = op(*to_);
  if (!neu.ok() || !old_answers) return neu;
  return old;
}

absl::StatusOr<int64_t> MigratingStore::Now() {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->Now();
}

absl::StatusOr<Lookup> MigratingStore::Read(const Key& key) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  absl::StatusOr<Lookup> lookup = roles->authority->Read(key);
  // What OLD said counts only if this node was still sure, when the
  // answer came, that the move had not finished.
  if (lookup.ok() && roles->authority == from_.get() && !Current().ok()) {
    return Current().status();
  }
  return lookup;
}

void MigratingStore::ReadMany(const std::vector<Key>& keys,
                              const ReadDone& done) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) {
    for (size_t i = 0; i < keys.size(); ++i) done(i, roles.status());
    return;
  }
  if (roles->authority != from_.get()) return to_->ReadMany(keys, done);
  from_->ReadMany(keys, [this, done](size_t i, absl::StatusOr<Lookup> l) {
    absl::StatusOr<Roles> after = Current();
    done(i, l.ok() && !after.ok() ? after.status() : std::move(l));
  });
}

absl::StatusOr<Grant> MigratingStore::LeaseAnyVersion(
    Store& store, const Key& key, absl::Duration lease_time) {
  absl::StatusOr<Grant> grant;
  for (int attempt = 0; attempt < kLeaseAttempts; ++attempt) {
    absl::StatusOr<Lookup> now = store.Read(key);
    if (!now.ok()) return now.status();
    grant = store.AcquireLease(
        key, now->entry == nullptr ? 0 : now->entry->meta.mtime, lease_time);
    if (!grant.ok() || grant->outcome != GrantOutcome::kChanged) break;
  }
  return grant;
}

absl::StatusOr<Grant> MigratingStore::AcquireLease(const Key& key,
                                                   int64_t seen_mtime,
                                                   absl::Duration lease_time) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  if (!roles->both) return to_->AcquireLease(key, seen_mtime, lease_time);
  Store& first = *roles->authority;
  Store& second = roles->authority == from_.get() ? *to_ : *from_;
  // The store that answers reads first (what a refusal shows is its
  // holder), then the other: a node on either store alone is blocked.
  absl::StatusOr<Grant> grant = first.AcquireLease(key, seen_mtime, lease_time);
  if (!grant.ok() || grant->outcome != GrantOutcome::kGranted) return grant;
  absl::StatusOr<Grant> other = LeaseAnyVersion(second, key, lease_time);
  if (other.ok() && other->outcome == GrantOutcome::kGranted) {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    if (partners_.size() >= kMaxDualLeases) {
      const int64_t now = SteadyNanos();
      absl::erase_if(partners_,
                     [now](const auto& e) { return e.second.lapses_ns < now; });
    }
    if (partners_.size() < kMaxDualLeases) {
      partners_[grant->lease.token] = {
          other->lease.token, &first == from_.get(),
          SteadyNanos() + absl::ToInt64Nanoseconds(lease_time)};
      grant->takeover = grant->takeover || other->takeover;
      return grant;
    }
    other = absl::UnavailableError(
        absl::StrCat("migration: ", kMaxDualLeases,
                     " leases held in both stores on this node already"));
  }
  if (other.ok() && other->outcome == GrantOutcome::kGranted) {
    second.Release(key, other->lease.token).IgnoreError();
  }
  first.Release(key, grant->lease.token).IgnoreError();
  return other;
}

std::optional<MigratingStore::Partner> MigratingStore::TakePartner(
    absl::string_view token) {
  std::lock_guard<std::mutex> lock(tokens_mu_);
  auto it = partners_.find(token);
  if (it == partners_.end()) return std::nullopt;
  Partner p = std::move(it->second);
  partners_.erase(it);
  return p;
}

absl::StatusOr<Commit> MigratingStore::CommitLeased(const EntryWrite& write,
                                                    absl::string_view token) {
  absl::StatusOr<Roles> roles = Current();
  const bool old_answers = !roles.ok() || roles->authority == from_.get();
  const bool both = !roles.ok() || roles->both;
  Store& authority = old_answers ? *from_ : *to_;
  Store& other = old_answers ? *to_ : *from_;
  std::optional<Partner> partner = TakePartner(token);
  if (!partner.has_value()) {
    // Granted by another node, or before this node saw the marker: the
    // token is one store's alone.
    absl::StatusOr<Commit> c = authority.CommitLeased(write, token);
    if (both && c.ok() && c->outcome == CommitOutcome::kLeaseLost) {
      return other.CommitLeased(write, token);
    }
    return c;
  }
  const std::string old_token =
      partner->handed_out_is_old ? std::string(token) : partner->token;
  const std::string new_token =
      partner->handed_out_is_old ? partner->token : std::string(token);
  const std::string& authority_token = old_answers ? old_token : new_token;
  const std::string& other_token = old_answers ? new_token : old_token;
  // The store that does not answer reads is written first: if that fails,
  // the one that does is left as it was.
  absl::StatusOr<Commit> first = other.CommitLeased(write, other_token);
  if (!first.ok() && both) {
    authority.Release(write.key, authority_token).IgnoreError();
    return first;
  }
  return authority.CommitLeased(write, authority_token);
}

absl::StatusOr<bool> MigratingStore::Release(const Key& key,
                                             absl::string_view token) {
  absl::StatusOr<Roles> roles = Current();
  const bool old_answers = !roles.ok() || roles->authority == from_.get();
  std::optional<Partner> partner = TakePartner(token);
  if (!partner.has_value()) {
    absl::StatusOr<bool> a = (old_answers ? *from_ : *to_).Release(key, token);
    if (a.ok() && !*a) return (old_answers ? *to_ : *from_).Release(key, token);
    return a;
  }
  Store& handed = partner->handed_out_is_old ? *from_ : *to_;
  Store& other = partner->handed_out_is_old ? *to_ : *from_;
  other.Release(key, partner->token).IgnoreError();
  return handed.Release(key, token);
}

absl::StatusOr<int64_t> MigratingStore::Put(const EntryWrite& write) {
  return OnBoth([&](Store& s) { return s.Put(write); });
}

std::unique_ptr<WatchHandle> MigratingStore::Watch(
    const Key& key, std::function<void()> on_change) {
  absl::StatusOr<Roles> roles = Current();
  if (roles.ok() && !roles->both) return to_->Watch(key, std::move(on_change));
  return std::make_unique<BothWatches>(from_->Watch(key, on_change),
                                       to_->Watch(key, on_change));
}

void MigratingStore::CancelWaits() {
  from_->CancelWaits();
  to_->CancelWaits();
}

absl::StatusOr<int64_t> MigratingStore::Expire(const Selector& selector) {
  return OnBoth([&](Store& s) { return s.Expire(selector); });
}

absl::StatusOr<int64_t> MigratingStore::Delete(const Selector& selector) {
  return OnBoth([&](Store& s) { return s.Delete(selector); });
}

absl::StatusOr<int64_t> MigratingStore::Invalidate(absl::string_view expiry_key,
                                                   int64_t at) {
  return OnBoth([&](Store& s) { return s.Invalidate(expiry_key, at); });
}

absl::StatusOr<ExpiryReset> MigratingStore::ResetExpiryKey(
    absl::string_view expiry_key, int64_t ahead_us) {
  return OnBoth(
      [&](Store& s) { return s.ResetExpiryKey(expiry_key, ahead_us); });
}

// The rest concern the store that answers reads alone: the mtimes and
// cluster times they carry are its own.
absl::StatusOr<Removed> MigratingStore::RemoveIfUnchanged(
    const std::vector<KeyVersion>& keys) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->RemoveIfUnchanged(keys);
}

absl::StatusOr<std::vector<ExpiryKeyValue>> MigratingStore::ListExpiryKeys() {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->ListExpiryKeys();
}

absl::StatusOr<ForgottenTags> MigratingStore::ForgetTags(int64_t before) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->ForgetTags(before);
}

absl::StatusOr<ScanPage> MigratingStore::Scan(const ScanRequest& request) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->Scan(request);
}

absl::StatusOr<StoreUsage> MigratingStore::Usage() {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->Usage();
}

absl::Status MigratingStore::ImportExpiryKeys(
    const std::vector<ExpiryKeyValue>& keys) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->ImportExpiryKeys(keys);
}

absl::StatusOr<std::vector<ImportOutcome>> MigratingStore::Import(
    const std::vector<EntryRef>& entries) {
  absl::StatusOr<Roles> roles = Current();
  if (!roles.ok()) return roles.status();
  return roles->authority->Import(entries);
}

}  // namespace clustercache
