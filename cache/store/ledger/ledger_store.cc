#include "cache/store/ledger/ledger_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cache/store/ledger/ledger_recorder.h"

namespace clustercache {
namespace {

absl::Status LedgerError(absl::string_view what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

class LedgerStore : public Store {
 public:
  LedgerStore(std::unique_ptr<Store> store, std::shared_ptr<Ledger> ledger)
      : store_(std::move(store)),
        ledger_(std::move(ledger)),
        recorder_(ledger_.get()) {}

  std::string Describe() const override {
    return absl::StrCat(store_->Describe(), " with ledger ",
                        ledger_->Describe());
  }
  absl::StatusOr<int64_t> Now() override { return store_->Now(); }
  absl::StatusOr<Lookup> Read(const Key& key) override {
    return store_->Read(key);
  }
  void ReadMany(const std::vector<Key>& keys, const ReadDone& done) override {
    store_->ReadMany(keys, done);
  }
  bool CallsMayBlock() const override { return true; }

  absl::StatusOr<Grant> AcquireLease(const Key& key, int64_t seen_mtime,
                                     absl::Duration lease_time) override {
    return store_->AcquireLease(key, seen_mtime, lease_time);
  }

  absl::StatusOr<Commit> CommitLeased(const EntryWrite& write,
                                      absl::string_view token) override {
    absl::StatusOr<Commit> c = store_->CommitLeased(write, token);
    if (c.ok() && c->outcome == CommitOutcome::kStored) {
      recorder_.Record(MetaForWrite(write, c->mtime, c->mtime));
    }
    return c;
  }

  // The expiry keys go to the ledger first (it remakes a store's expiry
  // keys that were lost: one lost between the two is then remade with the
  // imported value), then to the store.
  absl::Status ImportExpiryKeys(
      const std::vector<ExpiryKeyValue>& keys) override {
    if (absl::Status s = ValidateImportedExpiryKeys(keys); !s.ok()) return s;
    for (const ExpiryKeyValue& k : keys) {
      if (absl::Status s = ledger_->RaiseExpiryKey(k.name, k.value).status();
          !s.ok()) {
        return LedgerError("import of expiry keys", s);
      }
    }
    return store_->ImportExpiryKeys(keys);
  }

  // Imported entries are recorded before the call returns (not through
  // the recorder, whose bounded queue drops under a burst): a copy is a
  // burst, and an entry left out of the index could not be listed, purged
  // or copied on. Kept ones too (recorded unless a newer version is), so
  // that a copy resumed after a failure here records what it finds there.
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>& entries) override {
    absl::StatusOr<std::vector<ImportOutcome>> out = store_->Import(entries);
    if (!out.ok() || entries.empty()) return out;
    std::vector<EntryMeta> metas;
    metas.reserve(entries.size());
    for (const EntryRef& e : entries) metas.push_back(e->meta);
    if (absl::Status s = ledger_->Record(metas); !s.ok()) {
      return LedgerError("import: written to the store, not to the ledger", s);
    }
    return out;
  }

  absl::StatusOr<int64_t> Put(const EntryWrite& write) override {
    absl::StatusOr<int64_t> mtime = store_->Put(write);
    if (mtime.ok()) recorder_.Record(MetaForWrite(write, *mtime, *mtime));
    return mtime;
  }

  absl::StatusOr<bool> Release(const Key& key,
                               absl::string_view token) override {
    return store_->Release(key, token);
  }
  std::unique_ptr<WatchHandle> Watch(const Key& key,
                                     std::function<void()> on_change) override {
    return store_->Watch(key, std::move(on_change));
  }
  void CancelWaits() override { store_->CancelWaits(); }

  absl::StatusOr<int64_t> Expire(const Selector& selector) override {
    absl::StatusOr<Applied> applied = ApplyInStore(selector, false);
    if (!applied.ok()) return applied.status();
    absl::StatusOr<int64_t> now = store_->Now();
    if (!now.ok()) return now.status();
    Flush();
    if (absl::Status s = ledger_->MarkExpired(applied->keys, *now); !s.ok()) {
      return LedgerError("expire: recorded in the store, not in the ledger", s);
    }
    return applied->count;
  }

  absl::StatusOr<int64_t> Delete(const Selector& selector) override {
    absl::StatusOr<Applied> applied = ApplyInStore(selector, true);
    if (!applied.ok()) return applied.status();
    std::vector<KeyVersion> versions;
    for (const Key& k : applied->keys) versions.push_back({k, 0});
    Flush();
    if (absl::Status s = ledger_->Forget(versions); !s.ok()) {
      return LedgerError("delete: removed from the store, not from the ledger",
                         s);
    }
    return applied->count;
  }

  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>& keys) override {
    // Also the versions the store had lost (evicted): the ledger forgets
    // each only if it still records that version.
    absl::StatusOr<Removed> removed = store_->RemoveIfUnchanged(keys);
    if (!removed.ok()) return removed;
    Flush();
    if (absl::Status s = ledger_->Forget(keys); !s.ok()) {
      return LedgerError("purge: removed from the store, not from the ledger",
                         s);
    }
    return removed;
  }

  absl::Status VoidByPrefix(const Selector& selector, bool remove) override {
    return store_->VoidByPrefix(selector, remove);
  }

  absl::StatusOr<int64_t> Invalidate(absl::string_view expiry_key,
                                     int64_t at) override {
    if (absl::Status s = ledger_->Ping(); !s.ok()) {
      return LedgerError("invalidate: nothing changed; the ledger", s);
    }
    absl::StatusOr<int64_t> value = store_->Invalidate(expiry_key, at);
    if (!value.ok()) return value;
    absl::StatusOr<int64_t> recorded =
        ledger_->RaiseExpiryKey(expiry_key, *value);
    if (!recorded.ok()) {
      return LedgerError(
          "invalidate: applied in the store, but not recorded in the ledger",
          recorded.status());
    }
    return *value;
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    absl::StatusOr<std::vector<ExpiryKeyValue>> keys = ledger_->ExpiryKeys();
    if (!keys.ok()) return keys;
    keys->erase(std::remove_if(keys->begin(), keys->end(),
                               [](const ExpiryKeyValue& kv) {
                                 return kv.name == kTagFloorKey;
                               }),
                keys->end());
    return keys;
  }

  // The ledger knows the oldest entry (a store like memcached does not):
  // tag keys it may depend on are kept. Then the store, then the ledger
  // (its tag floor is what a memcached pool's expiry map is rebuilt with).
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t before) override {
    Flush();
    absl::StatusOr<int64_t> oldest = ledger_->OldestMtime();
    if (!oldest.ok()) {
      return LedgerError("forget tags: nothing changed; the ledger",
                         oldest.status());
    }
    if (*oldest > 0) before = std::min(before, *oldest);
    absl::StatusOr<ForgottenTags> forgotten = store_->ForgetTags(before);
    if (!forgotten.ok()) return forgotten;
    if (absl::Status s =
            ledger_->ForgetTags(forgotten->names, forgotten->floor);
        !s.ok()) {
      return LedgerError(
          "forget tags: forgotten in the store, not yet in the ledger (run it "
          "again)",
          s);
    }
    return forgotten;
  }

  // The ledger first: a memcached store that lost its expiry keys reloads
  // them from there.
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view expiry_key,
                                             int64_t ahead_us) override {
    absl::StatusOr<int64_t> now = store_->Now();
    if (!now.ok()) return now.status();
    absl::StatusOr<int64_t> before =
        ledger_->LowerExpiryKey(expiry_key, *now, ahead_us);
    if (!before.ok()) {
      return LedgerError("reset: nothing changed; the ledger", before.status());
    }
    absl::StatusOr<ExpiryReset> reset =
        store_->ResetExpiryKey(expiry_key, ahead_us);
    if (!reset.ok()) return reset;
    reset->before = std::max(reset->before, *before);
    return reset;
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override {
    Flush();
    absl::StatusOr<ScanPage> page = ledger_->Scan(request);
    if (!page.ok()) return page;
    absl::StatusOr<int64_t> now = store_->Now();
    if (!now.ok()) return now.status();
    page->now = *now;
    return page;
  }

  absl::StatusOr<StoreUsage> Usage() override {
    Flush();
    return ledger_->Usage();
  }

 private:
  // The Stores that returned before are in the ledger (or given up), so
  // what follows sees them; bounded, so a hung ledger cannot stall it.
  void Flush() { recorder_.Flush(kFlushTimeout); }
  static constexpr absl::Duration kFlushTimeout = absl::Seconds(5);

  // Expire or Delete by prefix in the store itself; FAILED_PRECONDITION
  // when it cannot enumerate (or for one key: the ledger path does it).
  // Then the store is first told to void the prefix as a whole, so that
  // what the ledger cannot list (keys with only a lease, entries not
  // recorded yet) is covered too; the key-by-key pass follows.
  struct Applied {
    int64_t count = 0;
    std::vector<Key> keys;  // what the ledger listed
  };
  // Expire (or Delete: remove) in the store. The ledger is read first, so a
  // ledger that cannot be read changes nothing. By prefix, a store that
  // enumerates (Redis) selects itself: it finds keys the ledger has not
  // recorded yet and keys with only a lease. Others (memcached) are given
  // the keys the ledger lists, one by one, after a void of the prefix.
  absl::StatusOr<Applied> ApplyInStore(const Selector& selector, bool remove) {
    Applied out;
    absl::StatusOr<std::vector<Key>> keys = Select(selector);
    if (!keys.ok()) return keys.status();
    out.keys = *std::move(keys);
    absl::StatusOr<int64_t> whole = ByPrefixInStore(selector, remove);
    if (whole.ok()) {
      out.count = *whole;
      return out;
    }
    if (!absl::IsFailedPrecondition(whole.status())) return whole.status();
    for (const Key& k : out.keys) {
      const Selector one{std::string(k.scope()), std::string(k.name()), ""};
      absl::StatusOr<int64_t> n =
          remove ? store_->Delete(one) : store_->Expire(one);
      if (!n.ok()) return n.status();
      out.count += *n;
    }
    return out;
  }

  absl::StatusOr<int64_t> ByPrefixInStore(const Selector& selector,
                                          bool remove) {
    if (selector.name) return absl::FailedPreconditionError("one key");
    absl::StatusOr<int64_t> n =
        remove ? store_->Delete(selector) : store_->Expire(selector);
    if (!absl::IsFailedPrecondition(n.status())) return n;
    if (absl::Status s = store_->VoidByPrefix(selector, remove);
        !s.ok() && !absl::IsUnimplemented(s)) {
      return s;
    }
    return n;
  }

  // The keys a selector names: one, or those the ledger lists.
  absl::StatusOr<std::vector<Key>> Select(const Selector& selector) {
    if (selector.name)
      return std::vector<Key>{Key(selector.scope, *selector.name)};
    std::vector<Key> keys;
    ScanRequest scan{selector.scope, selector.prefix, "", 1000};
    scan.metadata = false;
    for (;;) {
      absl::StatusOr<ScanPage> page = ledger_->Scan(scan);
      if (!page.ok()) return LedgerError("listing the ledger", page.status());
      for (const ScannedEntry& e : page->entries) keys.push_back(e.meta.key);
      if (page->done || page->entries.empty()) break;
      scan.after = page->next_after;
    }
    return keys;
  }

  std::unique_ptr<Store> store_;
  std::shared_ptr<Ledger> ledger_;
  LedgerRecorder recorder_;  // after ledger_: stops before it goes
};

}  // namespace

std::unique_ptr<Store> NewLedgerStore(std::unique_ptr<Store> store,
                                      std::shared_ptr<Ledger> ledger) {
  return std::make_unique<LedgerStore>(std::move(store), std::move(ledger));
}

}  // namespace clustercache
