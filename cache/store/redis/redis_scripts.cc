#include "cache/store/redis/redis_scripts.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

// Shared by every script. Times are microseconds from Redis TIME; each
// bucket keeps its last event time so that event times in a bucket strictly
// increase (an entry written before an invalidation is older than it).
//
// Entries are strings (redis_records.h): a fixed-width header the scripts
// read with GETRANGE and patch with SETRANGE, then content type, tags and
// payload. Leases are strings "token granted lapses". The expiry keys "all"
// and "scope:S" are one string per bucket each; tags are fields of one hash
// per bucket with a "~floor".
constexpr char kPrelude[] = R"lua(
local H = 102
local function s(x) return string.format('%.0f', x) end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function next_event(clock)
  local now = now_us()
  local last = tonumber(redis.call('GET', clock) or '0')
  if now <= last then now = last + 1 end
  redis.call('SET', clock, s(now))
  return now
end
-- The entry's header, or nil when there is no entry.
local function header(e)
  local h = redis.call('GETRANGE', e, 0, H - 1)
  if #h < H then return nil end
  return h
end
local function h_mtime(h) return tonumber(string.sub(h, 3, 22)) end
local function h_expired(h) return tonumber(string.sub(h, 43, 62)) end
local function h_size(h) return tonumber(string.sub(h, 63, 72)) end
local function blob(m, x, e, ct, tags, crc, payload)
  return 'C1' .. string.format('%020.0f%020.0f%020.0f%010.0f%010.0f%010.0f%010.0f',
    m, x, e, #payload, tonumber(crc), #ct, #tags) .. ct .. tags .. payload
end
-- The lease record: token, granted, lapses; nil when there is none.
local function lease(l)
  local v = redis.call('GET', l)
  if not v then return nil end
  local t, a, x = string.match(v, '^(%S+) (%d+) (%d+)$')
  return t, tonumber(a), tonumber(x)
end
-- A copy of "all" or "scope:S" that is missing (never made, or evicted) is
-- made with the current event time: nothing older is trusted against it.
local function ensure_copy(xk, clock)
  if redis.call('EXISTS', xk) == 0 then
    redis.call('SET', xk, s(next_event(clock)))
  end
end
-- The same for the bucket's tag hash, through its ~floor.
local function ensure_tags(tk, clock)
  if redis.call('HEXISTS', tk, '~floor') == 0 then
    redis.call('HSET', tk, '~floor', s(next_event(clock)))
  end
end
-- KEYS of the write scripts: 1 entry, 2 lease, 3 tag hash, 4 clock, 5 name
-- index, 6 mtime index, 7 scopes, 8 usage, 9 copy of "all", 10 copy of
-- "scope:S", 11 lease index (names with a lease, so that Expire and Delete
-- by prefix find generations in flight). Made sure of before the event time
-- of a grant or write.
local function ensure_expiry(k)
  ensure_tags(k[3], k[4])
  ensure_copy(k[9], k[4])
  ensure_copy(k[10], k[4])
end
-- Removes the entry and its index members; returns its size (or false).
-- The caller updates the usage counts.
local function unlink_entry(e, n, t, name, z)
  redis.call('ZREM', n, name)
  redis.call('ZREM', t, name)
  if not z then return false end
  redis.call('DEL', e)
  return z
end
local function remove_entry(e, n, t, u, name)
  local h = header(e)
  local z = false
  if h then z = h_size(h) end
  z = unlink_entry(e, n, t, name, z)
  if z then
    redis.call('HINCRBY', u, 'entries', -1)
    redis.call('HINCRBY', u, 'bytes', -z)
  end
  return z
end
-- Ends the lease of a key that is expired or deleted: a generation in flight
-- can no longer commit (LEASE_LOST), and its waiters are woken.
local function void_lease(l, li, name, channel, key)
  redis.call('ZREM', li, name)
  if redis.call('DEL', l) == 1 then redis.call('PUBLISH', channel, key) end
end
-- Replaces the key's entry with `b` (a blob) and indexes it.
local function put_blob(k, scope, name, mtime, b, size)
  remove_entry(k[1], k[5], k[6], k[8], name)
  redis.call('SET', k[1], b)
  redis.call('ZADD', k[5], 0, name)
  redis.call('ZADD', k[6], mtime, name)
  redis.call('SADD', k[7], scope)
  redis.call('HINCRBY', k[8], 'entries', 1)
  redis.call('HINCRBY', k[8], 'bytes', size)
end
local function write_entry(k, scope, name, mtime, now, ttl, payload, ct, tags, crc)
  local x = 0
  if tonumber(ttl) > 0 then x = now + tonumber(ttl) end
  put_blob(k, scope, name, mtime, blob(mtime, x, 0, ct, tags, crc, payload),
           #payload)
end
-- Imports (kImportExpiry, kImport): what the bucket knew before the first
-- import reached it, kept in its marker `ik`: its clock (nothing stamped
-- there is later), now for a bucket with entries but no clock (it lost
-- it), 0 for a new bucket. A copy of an expiry key the bucket never made
-- is made with that value, not with now: entries imported later are then
-- judged by the source's values alone.
local function before_import(ik, clock, usage)
  local v = redis.call('GET', ik)
  if v then return tonumber(v) end
  local c = redis.call('GET', clock)
  if c then
    v = tonumber(c)
  elseif tonumber(redis.call('HGET', usage, 'entries') or '0') > 0 then
    v = now_us()
  else
    v = 0
  end
  redis.call('SET', ik, s(v))
  return v
end
local function raise_clock(clock, t)
  if t > tonumber(redis.call('GET', clock) or '0') then
    redis.call('SET', clock, s(t))
  end
end
)lua";

const char* const kBodies[] = {
    // kReadTagged: what one MGET reads, plus the entry's tag values (a
    // fetch of an entry without tags is a plain MGET instead). KEYS: entry,
    // lease, copy of "all", copy of "scope:S", tag hash. ARGV: "meta" to
    // leave out the payload (scans), or nothing.
    R"lua(
local e
if ARGV[1] == 'meta' then
  local h = header(KEYS[1])
  if h then
    local n = tonumber(string.sub(h, 83, 92)) + tonumber(string.sub(h, 93, 102))
    e = h
    if n > 0 then e = h .. redis.call('GETRANGE', KEYS[1], H, H + n - 1) end
  end
else
  e = redis.call('GET', KEYS[1])
end
local xs = {}
if e and #e >= H then
  local clen = tonumber(string.sub(e, 83, 92))
  local glen = tonumber(string.sub(e, 93, 102))
  if glen > 0 then
    local f = {'~floor'}
    local tags = string.sub(e, H + clen + 1, H + clen + glen)
    for tag in string.gmatch(tags, '[^\n]+') do f[#f + 1] = tag end
    xs = redis.call('HMGET', KEYS[5], unpack(f))
  end
end
return {e or false, redis.call('GET', KEYS[2]) or false,
        redis.call('GET', KEYS[3]) or false,
        redis.call('GET', KEYS[4]) or false, xs}
)lua",
    // kAcquire. KEYS: as the write scripts. ARGV: seen mtime, lease us,
    // token, name. The expiry copies are made sure of before the grant, so that
    // a copy made now is older than the entry this lease will write.
    R"lua(
local h = header(KEYS[1])
local m = 0
if h then m = h_mtime(h) end
if m ~= tonumber(ARGV[1]) then return {'changed'} end
ensure_expiry(KEYS)
local now = next_event(KEYS[4])
local t, a, x = lease(KEYS[2])
if t and x > now then return {'held', t, s(a), s(x)} end
local lapses = now + tonumber(ARGV[2])
-- A lapsed lease record is kept a while, so its old holder gets LEASE_LOST.
redis.call('SET', KEYS[2], ARGV[3] .. ' ' .. s(now) .. ' ' .. s(lapses), 'PX',
           math.floor(tonumber(ARGV[2]) / 1000) * 2 + 60000)
redis.call('ZADD', KEYS[11], 0, ARGV[4])
local takeover = '0'
if t then takeover = '1' end
return {'granted', ARGV[3], s(now), s(lapses), takeover}
)lua",
    // kCommit. ARGV: token, payload, ttl, content type, tags, crc, scope,
    // name, channel, encoded key.
    R"lua(
local t, granted = lease(KEYS[2])
if t ~= ARGV[1] then return {'lost'} end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[11], ARGV[8])
local h = header(KEYS[1])
local out
if h and h_mtime(h) > granted then
  out = {'superseded'}
else
  ensure_expiry(KEYS)
  local now = next_event(KEYS[4])
  write_entry(KEYS, ARGV[7], ARGV[8], granted, now, ARGV[3], ARGV[2], ARGV[4],
              ARGV[5], ARGV[6])
  out = {'stored', s(granted)}
end
redis.call('PUBLISH', ARGV[9], ARGV[10])
return out
)lua",
    // kPut. ARGV: payload, ttl, content type, tags, crc, scope, name,
    // channel, encoded key.
    R"lua(
ensure_expiry(KEYS)
local now = next_event(KEYS[4])
write_entry(KEYS, ARGV[6], ARGV[7], now, now, ARGV[2], ARGV[1], ARGV[3],
            ARGV[4], ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[8], ARGV[9])
end
return s(now)
)lua",
    // kRelease. KEYS: lease, lease index. ARGV: token, channel, encoded key,
    // name.
    R"lua(
if lease(KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
)lua",
    // kExpire. KEYS: entry, clock, lease, lease index. ARGV: name, channel,
    // encoded key. Voids the key's lease (its commit is LEASE_LOST) and
    // wakes its waiters.
    R"lua(
void_lease(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3])
local h = header(KEYS[1])
if not h or h_expired(h) ~= 0 then return 0 end
redis.call('SETRANGE', KEYS[1], 42,
           string.format('%020.0f', next_event(KEYS[2])))
return 1
)lua",
    // kDelete. KEYS: entry, name index, mtime index, usage, lease, lease
    // index. ARGV: name, channel, encoded key. Voids the lease as kExpire.
    R"lua(
void_lease(KEYS[5], KEYS[6], ARGV[1], ARGV[2], ARGV[3])
if remove_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]) then return 1 end
return 0
)lua",
    // kRemoveIf. KEYS as kDelete. ARGV: name, mtime. Returns bytes or -1.
    R"lua(
local h = header(KEYS[1])
if not h or h_mtime(h) ~= tonumber(ARGV[2]) then return -1 end
return tonumber(remove_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]))
)lua",
    // kInvalidate. KEYS: the bucket's copy (a string for "all" and
    // "scope:S", the tag hash for a tag), clock. ARGV: expiry key, at (0 =
    // now), "h" for a tag. A copy that is missing is first made with the
    // current event time (nothing older is trusted), as at a grant.
    R"lua(
local v = tonumber(ARGV[2])
local cur
if ARGV[3] == 'h' then
  ensure_tags(KEYS[1], KEYS[2])
  -- A tag the hash does not hold counts as its ~floor.
  cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or
                 redis.call('HGET', KEYS[1], '~floor'))
else
  ensure_copy(KEYS[1], KEYS[2])
  cur = tonumber(redis.call('GET', KEYS[1]))
end
if v == 0 then v = next_event(KEYS[2]) end
if v <= cur then return s(cur) end
if ARGV[3] == 'h' then
  redis.call('HSET', KEYS[1], ARGV[1], s(v))
else
  redis.call('SET', KEYS[1], s(v))
end
return s(v)
)lua",
    // kRemoveMany. KEYS: name index, mtime index, usage, then one entry key
    // per ARGV pair (name, mtime as the header's 20 digits). Returns {count,
    // bytes}. One GETRANGE per entry reads its mtime (compared as text: no
    // number parsing) through its size; the removals are one command per
    // index and one DEL.
    R"lua(
local names, entries, bytes = {}, {}, 0
for i = 4, #KEYS do
  local h = redis.call('GETRANGE', KEYS[i], 2, 71)
  if #h == 70 and string.sub(h, 1, 20) == ARGV[2 * i - 6] then
    names[#names + 1] = ARGV[2 * i - 7]
    entries[#entries + 1] = KEYS[i]
    bytes = bytes + tonumber(string.sub(h, 61, 70))
  end
end
if #names > 0 then
  redis.call('ZREM', KEYS[1], unpack(names))
  redis.call('ZREM', KEYS[2], unpack(names))
  redis.call('DEL', unpack(entries))
  redis.call('HINCRBY', KEYS[3], 'entries', -#names)
  redis.call('HINCRBY', KEYS[3], 'bytes', -bytes)
end
return {#names, bytes}
)lua",
    // kRecordExpiry. KEYS: the list of expiry keys (for ListExpiryKeys
    // only; freshness never reads it). ARGV: expiry key, value.
    R"lua(
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
)lua",
    // kResetExpiry. KEYS: the bucket's copy (string, or hash for a tag and
    // for the list), then its clock (none for the list). ARGV: expiry key,
    // ahead, "s" / "h", and for the list the time to set. A value later than
    // now + ahead becomes now. Returns {before, after}.
    R"lua(
local now
if ARGV[4] then now = tonumber(ARGV[4]) else now = next_event(KEYS[2]) end
local hash = ARGV[3] == 'h'
local cur
if hash then
  cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
else
  cur = tonumber(redis.call('GET', KEYS[1]) or '0')
end
if cur <= now + tonumber(ARGV[2]) then return {s(cur), s(cur)} end
if hash then
  redis.call('HSET', KEYS[1], ARGV[1], s(now))
else
  redis.call('SET', KEYS[1], s(now))
end
return {s(cur), s(now)}
)lua",
    // kForgetTags. KEYS: the bucket's tag hash, its set of scopes. ARGV:
    // before, the bucket's key head. Tags with values before both `before`
    // and the oldest entry of the bucket (by the scopes' mtime indexes) are
    // dropped, after ~floor is raised past them. Returns {floor, names...}.
    R"lua(
local limit = tonumber(ARGV[1])
for _, scope in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local oldest = redis.call('ZRANGE', ARGV[2] .. 't:' .. scope, 0, 0,
                            'WITHSCORES')
  if oldest[2] then limit = math.min(limit, tonumber(oldest[2])) end
end
local floor = tonumber(redis.call('HGET', KEYS[1], '~floor') or '0')
local fields = redis.call('HGETALL', KEYS[1])
local gone = {}
local top = floor
for i = 1, #fields, 2 do
  local v = tonumber(fields[i + 1])
  if fields[i] ~= '~floor' and v < limit then
    gone[#gone + 1] = fields[i]
    if v > top then top = v end
  end
end
if #gone == 0 then return {s(floor)} end
redis.call('HSET', KEYS[1], '~floor', s(top))
for i = 1, #gone, 1000 do
  redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 999, #gone)))
end
local out = {s(top)}
for _, name in ipairs(gone) do out[#out + 1] = name end
return out
)lua",
    // kImportExpiry. KEYS: the bucket's copy (a string for "all" and
    // "scope:S", the tag hash for a tag and for the tag floor), clock,
    // usage, import marker. ARGV: expiry key, value, "s" / "h" / "f" (the
    // tag floor). Raises, never lowers; raises the clock to the value.
    R"lua(
local b = before_import(KEYS[4], KEYS[2], KEYS[3])
local v = tonumber(ARGV[2])
if ARGV[3] == 's' then
  local cur = tonumber(redis.call('GET', KEYS[1]) or s(b))
  if v > cur then cur = v end
  redis.call('SET', KEYS[1], s(cur))
else
  local floor = tonumber(redis.call('HGET', KEYS[1], '~floor') or s(b))
  if ARGV[3] == 'f' then
    if v > floor then floor = v end
    redis.call('HSET', KEYS[1], '~floor', s(floor))
  else
    redis.call('HSET', KEYS[1], '~floor', s(floor))
    local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or s(floor))
    if v > cur then redis.call('HSET', KEYS[1], ARGV[1], s(v)) end
  end
end
raise_clock(KEYS[2], v)
return 1
)lua",
    // kImport. KEYS: as the write scripts, then the import marker. ARGV:
    // mtime, expires at, expired at, payload, content type, tags, crc,
    // scope, name. Writes the entry unless one at least as new is here;
    // raises the clock past it either way. 1 imported, 0 kept.
    R"lua(
local b = before_import(KEYS[12], KEYS[4], KEYS[8])
if redis.call('HEXISTS', KEYS[3], '~floor') == 0 then
  redis.call('HSET', KEYS[3], '~floor', s(b))
end
for _, xk in ipairs({KEYS[9], KEYS[10]}) do
  if redis.call('EXISTS', xk) == 0 then redis.call('SET', xk, s(b)) end
end
local m = tonumber(ARGV[1])
raise_clock(KEYS[4], math.max(m, tonumber(ARGV[3])))
local h = header(KEYS[1])
if h and h_mtime(h) >= m then return 0 end
put_blob(KEYS, ARGV[8], ARGV[9], m,
         blob(m, tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[5], ARGV[6],
              ARGV[7], ARGV[4]),
         #ARGV[4])
return 1
)lua",
};
static_assert(std::size(kBodies) == static_cast<size_t>(RedisScript::kCount));

}  // namespace

RedisScripts::RedisScripts() {
  for (const char* body : kBodies)
    sources_.push_back(absl::StrCat(kPrelude, body));
  shas_.resize(sources_.size());
}

absl::Status RedisScripts::Load(RedisConnection& conn, RedisScript script) {
  int i = static_cast<int>(script);
  absl::StatusOr<RedisReply> r = conn.Command({"SCRIPT", "LOAD", sources_[i]});
  if (!r.ok()) return r.status();
  if (r->is_error()) {
    return absl::InternalError(absl::StrCat("SCRIPT LOAD: ", r->str()));
  }
  absl::MutexLock lock(&mu_);
  shas_[i] = r->str();
  return absl::OkStatus();
}

std::vector<std::string> RedisScripts::EvalShaArgv(
    RedisScript script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  {
    absl::MutexLock lock(&mu_);
    argv = {"EVALSHA", shas_[static_cast<int>(script)],
            absl::StrCat(keys.size())};
  }
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace clustercache
