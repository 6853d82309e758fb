#include "cache/store/memcached/memcached_items.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace clustercache {
namespace {

constexpr size_t kMaxRawId = 160;

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Fnv1a(absl::string_view bytes, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h);
}

bool IsRawId(absl::string_view name) {
  if (name.size() > kMaxRawId) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// A little-endian writer and reader for item values.
class Writer {
 public:
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, 8);
  }
  void Str(absl::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Raw(absl::string_view s) { out_.append(s.data(), s.size()); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) {
      *v |= uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    }
    in_.remove_prefix(8);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  absl::string_view Rest() const { return in_; }

 private:
  absl::string_view in_;
};

constexpr absl::string_view kHeadMagic = "CCE1";
// A head written at another time than its mtime (an imported entry): the
// magic, then that time, then what follows kHeadMagic.
constexpr absl::string_view kWrittenHeadMagic = "CCE2";
constexpr absl::string_view kTombstone = "CCT1";

}  // namespace

int McLayout::BucketOf(const Key& key) const {
  return static_cast<int>(Crc32(key.encoded()) % buckets_);
}

std::string McLayout::Group(int bucket) const {
  return absl::StrCat(prefix_, ".", bucket);
}

std::string McLayout::Id(const Key& key) const {
  if (IsRawId(key.name())) return absl::StrCat(key.scope(), "/", key.name());
  return absl::StrFormat("%s#%016x%016x", key.scope(),
                         Fnv1a(key.encoded(), 0xcbf29ce484222325ULL),
                         Fnv1a(key.encoded(), 0x84222325cbf29ce4ULL));
}

std::string McLayout::EntryItem(const Key& key) const {
  return absl::StrCat(prefix_, ":e:", Id(key));
}

std::string McLayout::ChunkItem(const Key& key, int64_t mtime,
                                int index) const {
  return absl::StrCat(prefix_, ":e:", Id(key), "@", mtime, ".", index);
}

std::string McLayout::LeaseItem(const Key& key) const {
  return absl::StrCat(prefix_, ":l:", Id(key));
}

std::string McLayout::ClockItem(int bucket) const {
  return absl::StrCat(prefix_, ":c:", bucket);
}

std::string McLayout::CopyItem(int bucket, absl::string_view expiry_key) const {
  return absl::StrCat(prefix_, ":x:", bucket, ":", expiry_key);
}

std::string McLayout::VoidItem(int bucket, absl::string_view scope) const {
  return absl::StrCat(prefix_, ":v:", bucket, ":", scope);
}

std::string McLayout::MasterGroup() const {
  return absl::StrCat(prefix_, ".xm");
}

std::string McLayout::MasterItem() const {
  return absl::StrCat(prefix_, ":xm");
}

std::string EncodeHead(const EntryMeta& meta, int chunks,
                       absl::string_view inline_payload, int64_t written_at) {
  Writer w;
  if (written_at > 0 && written_at != meta.mtime) {
    w.Raw(kWrittenHeadMagic);
    w.U64(written_at);
  } else {
    w.Raw(kHeadMagic);
  }
  w.Str(meta.key.encoded());
  w.U64(meta.mtime);
  w.U64(meta.expires_at);
  w.U64(meta.expired_at);
  w.U64(meta.size);
  w.U64(meta.crc32);
  w.Str(meta.content_type);
  w.U64(meta.tags.size());
  for (const std::string& t : meta.tags) w.Str(t);
  w.U64(chunks);
  w.Raw(inline_payload);
  return w.Take();
}

std::string TombstoneHead(int64_t voided_at) {
  if (voided_at <= 0) return std::string(kTombstone);
  return absl::StrCat(kTombstone, voided_at);
}

std::optional<McHead> DecodeHead(absl::string_view value,
                                 const McHeadLimits& limits) {
  McHead head;
  if (absl::StartsWith(value, kTombstone)) {
    absl::string_view at = value.substr(kTombstone.size());
    if (!at.empty() &&
        (!absl::SimpleAtoi(at, &head.voided_at) || head.voided_at < 0)) {
      return std::nullopt;
    }
    head.tombstone = true;
    return head;
  }
  const bool written = absl::StartsWith(value, kWrittenHeadMagic);
  if (!written && !absl::StartsWith(value, kHeadMagic)) return std::nullopt;
  static_assert(kHeadMagic.size() == kWrittenHeadMagic.size());
  Reader r(value.substr(kHeadMagic.size()));
  if (written && (!r.I64(&head.written_at) || head.written_at <= 0)) {
    return std::nullopt;
  }
  std::string encoded;
  uint64_t crc = 0, ntags = 0, chunks = 0;
  EntryMeta& m = head.meta;
  if (!r.Str(&encoded) || encoded.find('\0') == std::string::npos ||
      !r.I64(&m.mtime) || !r.I64(&m.expires_at) || !r.I64(&m.expired_at) ||
      !r.I64(&m.size) || !r.U64(&crc) || !r.Str(&m.content_type) ||
      !r.U64(&ntags) || ntags > kMaxTags) {
    return std::nullopt;
  }
  m.key = Key::FromEncoded(std::move(encoded));
  m.crc32 = static_cast<uint32_t>(crc);
  m.tags.resize(ntags);
  for (std::string& t : m.tags) {
    if (!r.Str(&t)) return std::nullopt;
  }
  if (!r.U64(&chunks) || !PlausibleMeta(m, limits.max_size) ||
      limits.chunk_size <= 0) {
    return std::nullopt;
  }
  const absl::string_view rest = r.Rest();
  const uint64_t needed =
      m.size <= limits.chunk_size
          ? 0
          : static_cast<uint64_t>((m.size + limits.chunk_size - 1) /
                                  limits.chunk_size);
  if (chunks != needed ||
      (chunks == 0 && rest.size() != static_cast<uint64_t>(m.size)) ||
      (chunks > 0 && !rest.empty())) {
    return std::nullopt;
  }
  head.chunks = static_cast<int>(chunks);
  head.inline_payload = std::string(rest);
  return head;
}

std::string EncodeLease(const Lease& lease) {
  return absl::StrCat(lease.token, " ", lease.granted_at, " ",
                      lease.expires_at);
}

std::optional<Lease> DecodeLease(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ' ');
  Lease lease;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &lease.granted_at) ||
      !absl::SimpleAtoi(parts[2], &lease.expires_at)) {
    return std::nullopt;
  }
  lease.token = std::string(parts[0]);
  return lease;
}

std::string EncodeExpiryMap(const std::map<std::string, int64_t>& values) {
  std::string out;
  for (const auto& [name, value] : values) {
    absl::StrAppend(&out, name, " ", value, "\n");
  }
  return out;
}

std::optional<std::map<std::string, int64_t>> DecodeExpiryMap(
    absl::string_view value) {
  std::map<std::string, int64_t> values;
  for (absl::string_view line :
       absl::StrSplit(value, '\n', absl::SkipEmpty())) {
    size_t space = line.rfind(' ');
    int64_t v = 0;
    if (space == absl::string_view::npos ||
        !absl::SimpleAtoi(line.substr(space + 1), &v)) {
      return std::nullopt;
    }
    values[std::string(line.substr(0, space))] = v;
  }
  return values;
}

std::optional<int64_t> DecodeCounter(absl::string_view value) {
  uint64_t v = 0;
  // Counters may carry trailing spaces after an increment (memcached pads).
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &v)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

// One void a line: "d|x TIME PREFIX" (names hold no newline).
std::string EncodeVoids(const std::vector<McVoid>& voids) {
  std::string out = "V1\n";
  for (const McVoid& v : voids) {
    absl::StrAppend(&out, v.remove ? "d " : "x ", v.at, " ", v.prefix, "\n");
  }
  return out;
}

std::optional<std::vector<McVoid>> DecodeVoids(absl::string_view value) {
  if (!absl::ConsumePrefix(&value, "V1\n")) return std::nullopt;
  std::vector<McVoid> voids;
  for (absl::string_view line :
       absl::StrSplit(value, '\n', absl::SkipEmpty())) {
    if (voids.size() >= kMaxVoids || line.size() < 4 || line[1] != ' ' ||
        (line[0] != 'd' && line[0] != 'x')) {
      return std::nullopt;
    }
    size_t space = line.find(' ', 2);
    McVoid v;
    v.remove = line[0] == 'd';
    if (space == absl::string_view::npos ||
        !absl::SimpleAtoi(line.substr(2, space - 2), &v.at) || v.at < 0) {
      return std::nullopt;
    }
    v.prefix = std::string(line.substr(space + 1));
    voids.push_back(std::move(v));
  }
  return voids;
}

std::vector<McVoid> AddVoid(std::vector<McVoid> voids, McVoid add) {
  voids.push_back(std::move(add));
  if (voids.size() <= kMaxVoids) return voids;
  // Fold the oldest into one expire of the whole scope at the latest time
  // folded: what they voided stays not fresh (a folded delete leaves stale
  // copies, never fresh ones), and so does more of the scope.
  std::sort(voids.begin(), voids.end(),
            [](const McVoid& a, const McVoid& b) { return a.at < b.at; });
  const size_t fold = voids.size() - kMaxVoids + 1;
  McVoid floor;
  for (size_t i = 0; i < fold; ++i) floor.at = std::max(floor.at, voids[i].at);
  std::vector<McVoid> out = {floor};
  out.insert(out.end(), voids.begin() + fold, voids.end());
  return out;
}

McVoided VoidedFor(const std::vector<McVoid>& voids, absl::string_view name) {
  McVoided out;
  for (const McVoid& v : voids) {
    if (!absl::StartsWith(name, v.prefix)) continue;
    out.any = std::max(out.any, v.at);
    if (v.remove) out.removed = std::max(out.removed, v.at);
  }
  return out;
}

}  // namespace clustercache
