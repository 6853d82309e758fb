#include "client/ctl/node_source.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cache/entry.h"
#include "cache/key.h"

namespace clustercache {
namespace {

// The node's judgement as expiry times: fresh reads as newer than every
// expiry key it depends on; not fresh as "cannot tell" (never fresh).
ExpiryTimes JudgedBy(const EntryMeta& meta, bool fresh) {
  ExpiryTimes t;
  if (!fresh) return t;
  t.all = meta.mtime - 1;
  t.scope = meta.mtime - 1;
  t.tags.assign(meta.tags.size(), meta.mtime - 1);
  return t;
}

// The metadata a node sent; nullopt if its key is not one (never trusted).
std::optional<EntryMeta> FromProto(const v1::EntryMeta& m) {
  absl::StatusOr<Key> key = Key::Make(m.key().scope(), m.key().name());
  if (!key.ok() || m.mtime_us() <= 0 || m.size() < 0) return std::nullopt;
  EntryMeta meta;
  meta.key = *std::move(key);
  meta.mtime = m.mtime_us();
  meta.expires_at = m.expires_at_us();
  // A node says only that it was soft-expired, not when: any time after
  // its mtime will do (it stays expired).
  if (m.expired()) meta.expired_at = m.mtime_us() + 1;
  meta.content_type = m.content_type();
  meta.tags.assign(m.tags().begin(), m.tags().end());
  meta.size = m.size();
  meta.crc32 = m.crc32();
  return meta;
}

class NodeSource : public Store {
 public:
  NodeSource(GrpcClient* client, std::string describe)
      : client_(client), describe_(std::move(describe)) {}

  std::string Describe() const override {
    return absl::StrCat("clustercached node ", describe_);
  }
  absl::StatusOr<int64_t> Now() override { return ReadOnly("Now"); }

  // A peek: the entry as the node holds it (fresh or a stale copy), never
  // a lease; a miss or an entry past its keep time reads as none.
  absl::StatusOr<Lookup> Read(const Key& key) override {
    v1::FetchRequest request;
    request.mutable_key()->set_scope(std::string(key.scope()));
    request.mutable_key()->set_name(std::string(key.name()));
    request.set_peek(true);
    absl::StatusOr<v1::FetchResponse> got = client_->Fetch(request);
    if (!got.ok()) return got.status();
    Lookup l;
    if (got->outcome() != v1::HIT && got->outcome() != v1::STALE) return l;
    std::optional<EntryMeta> meta = FromProto(got->meta());
    if (!meta || !(meta->key == key) ||
        meta->size != static_cast<int64_t>(got->payload().size())) {
      return absl::DataLossError(absl::StrCat(
          "the node answered ", key.ToString(), " with another entry"));
    }
    l.expiry = JudgedBy(*meta, got->outcome() == v1::HIT);
    l.entry = std::make_shared<Entry>(Entry{
        *std::move(meta), std::make_shared<const std::string>(got->payload())});
    return l;
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override {
    v1::ListRequest list;
    list.set_scope(request.scope);
    list.set_prefix(request.prefix);
    list.set_limit(request.limit);
    if (!request.after.empty()) {
      const Key after = Key::FromEncoded(request.after);
      list.mutable_after()->set_scope(std::string(after.scope()));
      list.mutable_after()->set_name(std::string(after.name()));
    }
    ScanPage page;
    absl::Status bad;
    absl::Status s = client_->List(list, [&](const v1::ListResponse& r) {
      std::optional<EntryMeta> meta = FromProto(r.meta());
      if (!meta) {
        bad = absl::DataLossError("the node listed an entry with no key");
        return false;
      }
      ExpiryTimes expiry = JudgedBy(*meta, r.meta().fresh());
      page.entries.push_back({*std::move(meta), std::move(expiry)});
      return true;
    });
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    page.done = static_cast<int>(page.entries.size()) < request.limit;
    if (!page.entries.empty()) {
      page.next_after = page.entries.back().meta.key.encoded();
    }
    return page;
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ListExpiryKeys() override {
    absl::StatusOr<v1::ListExpiryKeysResponse> got = client_->ListExpiryKeys();
    if (!got.ok()) return got.status();
    std::vector<ExpiryKeyValue> keys;
    for (const v1::ExpiryKeyValue& k : got->keys()) {
      keys.push_back({k.name(), k.value_us()});
    }
    return keys;
  }

  absl::StatusOr<StoreUsage> Usage() override {
    absl::StatusOr<v1::StatsResponse> stats = client_->Stats();
    if (!stats.ok()) return stats.status();
    if (!stats->usage_unknown().empty()) {
      return absl::FailedPreconditionError(stats->usage_unknown());
    }
    StoreUsage usage;
    usage.entries = stats->entries();
    usage.bytes = stats->bytes();
    return usage;
  }

  bool CallsMayBlock() const override { return true; }

  absl::StatusOr<Grant> AcquireLease(const Key&, int64_t,
                                     absl::Duration) override {
    return ReadOnly("AcquireLease");
  }
  absl::StatusOr<Commit> CommitLeased(const EntryWrite&,
                                      absl::string_view) override {
    return ReadOnly("CommitLeased");
  }
  absl::StatusOr<int64_t> Put(const EntryWrite&) override {
    return ReadOnly("Put");
  }
  absl::StatusOr<bool> Release(const Key&, absl::string_view) override {
    return ReadOnly("Release");
  }
  std::unique_ptr<WatchHandle> Watch(const Key&,
                                     std::function<void()>) override {
    return nullptr;
  }
  void CancelWaits() override {}
  absl::StatusOr<int64_t> Expire(const Selector&) override {
    return ReadOnly("Expire");
  }
  absl::StatusOr<int64_t> Delete(const Selector&) override {
    return ReadOnly("Delete");
  }
  absl::StatusOr<Removed> RemoveIfUnchanged(
      const std::vector<KeyVersion>&) override {
    return ReadOnly("RemoveIfUnchanged");
  }
  absl::StatusOr<int64_t> Invalidate(absl::string_view, int64_t) override {
    return ReadOnly("Invalidate");
  }
  absl::StatusOr<ForgottenTags> ForgetTags(int64_t) override {
    return ReadOnly("ForgetTags");
  }
  absl::StatusOr<ExpiryReset> ResetExpiryKey(absl::string_view,
                                             int64_t) override {
    return ReadOnly("ResetExpiryKey");
  }
  absl::Status ImportExpiryKeys(const std::vector<ExpiryKeyValue>&) override {
    return ReadOnly("ImportExpiryKeys");
  }
  absl::StatusOr<std::vector<ImportOutcome>> Import(
      const std::vector<EntryRef>&) override {
    return ReadOnly("Import");
  }

 private:
  absl::Status ReadOnly(absl::string_view what) const {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     ": a node is a source only (migrate --from=node), never a "
                     "target"));
  }

  GrpcClient* const client_;
  const std::string describe_;
};

}  // namespace

std::unique_ptr<Store> NewNodeSource(GrpcClient* client, std::string describe) {
  return std::make_unique<NodeSource>(client, std::move(describe));
}

}  // namespace clustercache
