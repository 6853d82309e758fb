#include "cache/store/expiry_table.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace clustercache {
namespace {

int64_t ValueIn(const absl::flat_hash_map<std::string, int64_t>& map,
                absl::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? 0 : it->second;
}

}  // namespace

ExpiryTimes ExpiryTable::TimesFor(const EntryMeta& meta) const {
  ExpiryTimes times;
  absl::ReaderMutexLock lock(&mu_);
  times.all = all_;
  times.scope = ValueIn(scopes_, meta.key.scope());
  times.tags.reserve(meta.tags.size());
  for (const std::string& tag : meta.tags) {
    times.tags.push_back(std::max(tag_floor_, ValueIn(tags_, tag)));
  }
  return times;
}

int64_t* ExpiryTable::SlotLocked(absl::string_view name) {
  if (name == kExpiryAll) return &all_;
  if (absl::ConsumePrefix(&name, "scope:")) return &scopes_[name];
  return &tags_[name];
}

int64_t ExpiryTable::Advance(absl::string_view name, int64_t at) {
  absl::MutexLock lock(&mu_);
  const bool tag = name != kExpiryAll && !absl::StartsWith(name, "scope:");
  int64_t* slot = SlotLocked(name);
  // A forgotten tag counts as the floor: its value never moves below it.
  if (tag) *slot = std::max(*slot, tag_floor_);
  *slot = std::max(*slot, at);
  return *slot;
}

ExpiryReset ExpiryTable::LowerIfAhead(absl::string_view name, int64_t now,
                                      int64_t ahead) {
  absl::MutexLock lock(&mu_);
  int64_t* slot = SlotLocked(name);
  ExpiryReset reset{*slot, *slot};
  if (*slot > now + ahead) *slot = reset.after = now;
  return reset;
}

ForgottenTags ExpiryTable::ForgetTags(int64_t before) {
  ForgottenTags out;
  absl::MutexLock lock(&mu_);
  for (auto it = tags_.begin(); it != tags_.end();) {
    if (it->second < before) {
      tag_floor_ = std::max(tag_floor_, it->second);
      out.names.push_back(it->first);
      tags_.erase(it++);
    } else {
      ++it;
    }
  }
  out.floor = tag_floor_;
  return out;
}

std::vector<ExpiryKeyValue> ExpiryTable::List() const {
  std::vector<ExpiryKeyValue> out;
  absl::ReaderMutexLock lock(&mu_);
  if (all_ != 0) out.push_back({std::string(kExpiryAll), all_});
  for (const auto& [scope, value] : scopes_) {
    out.push_back({ScopeExpiryKey(scope), value});
  }
  for (const auto& [tag, value] : tags_) out.push_back({tag, value});
  if (tag_floor_ > 0) out.push_back({std::string(kTagFloorKey), tag_floor_});
  std::sort(out.begin(), out.end(),
            [](const ExpiryKeyValue& a, const ExpiryKeyValue& b) {
              return a.name < b.name;
            });
  return out;
}

void ExpiryTable::Import(absl::string_view name, int64_t value) {
  if (name == kTagFloorKey) {
    absl::MutexLock lock(&mu_);
    tag_floor_ = std::max(tag_floor_, value);
    return;
  }
  Advance(name, value);
}

}  // namespace clustercache
