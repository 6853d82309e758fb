#include "cache/store/redis/redis_scripts.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

// Shared by every script. Times are microseconds from Redis TIME; each
// bucket keeps its last event time so that event times in a bucket strictly
// increase (an entry written before an invalidation is older than it).
constexpr char kPrelude[] = R"lua(
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
-- The bucket's copy of the expiry keys. When it is missing (never written,
-- or evicted) it is created with _floor = now: nothing older is trusted.
local function ensure_expiry(xkey, clock)
  if redis.call('HEXISTS', xkey, '_floor') == 0 then
    redis.call('HSET', xkey, '_floor', s(next_event(clock)))
  end
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
  local z = unlink_entry(e, n, t, name, redis.call('HGET', e, 'z'))
  if z then
    redis.call('HINCRBY', u, 'entries', -1)
    redis.call('HINCRBY', u, 'bytes', -tonumber(z))
  end
  return z
end
local function write_entry(k, scope, name, mtime, now, ttl, payload, ct, tags, crc)
  remove_entry(k[1], k[5], k[6], k[8], name)
  local x = 0
  if tonumber(ttl) > 0 then x = now + tonumber(ttl) end
  redis.call('HSET', k[1], 'p', payload, 'm', s(mtime), 'x', s(x), 'e', '0',
             'c', ct, 'g', tags, 'z', tostring(#payload), 'k', crc)
  redis.call('ZADD', k[5], 0, name)
  redis.call('ZADD', k[6], mtime, name)
  redis.call('SADD', k[7], scope)
  redis.call('HINCRBY', k[8], 'entries', 1)
  redis.call('HINCRBY', k[8], 'bytes', #payload)
end
)lua";

// KEYS: 1 entry, 2 lease, 3 expiry copy, 4 clock, 5 name index, 6 mtime
// index, 7 scopes, 8 usage (the write scripts use all; others a prefix).
const char* const kBodies[] = {
    // kRead. ARGV: scope.
    R"lua(
local e = redis.call('HMGET', KEYS[1], 'p', 'm', 'x', 'e', 'c', 'g', 'z', 'k')
local l = redis.call('HMGET', KEYS[2], 't', 'a', 'x')
local xs = {}
if e[2] then
  local f = {'_floor', 'all', 'scope:' .. ARGV[1]}
  if e[6] and e[6] ~= '' then
    for tag in string.gmatch(e[6], '[^\n]+') do f[#f + 1] = tag end
  end
  xs = redis.call('HMGET', KEYS[3], unpack(f))
end
return {e, l, xs, s(now_us())}
)lua",
    // kAcquire. KEYS: entry, lease, clock, expiry copy. ARGV: seen mtime,
    // lease us, token. The expiry copy is made sure of before the grant, so
    // that its floor is older than the entry this lease will write.
    R"lua(
local m = redis.call('HGET', KEYS[1], 'm') or '0'
if m ~= ARGV[1] then return {'changed'} end
ensure_expiry(KEYS[4], KEYS[3])
local now = next_event(KEYS[3])
local l = redis.call('HMGET', KEYS[2], 't', 'a', 'x')
if l[1] and tonumber(l[3]) > now then return {'held', l[1], l[2], l[3]} end
local x = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[2], 't', ARGV[3], 'a', s(now), 'x', s(x))
-- A lapsed lease record is kept a while, so its old holder gets LEASE_LOST.
redis.call('PEXPIRE', KEYS[2], math.floor(tonumber(ARGV[2]) / 1000) * 2 + 60000)
local takeover = '0'
if l[1] then takeover = '1' end
return {'granted', ARGV[3], s(now), s(x), takeover}
)lua",
    // kCommit. ARGV: token, payload, ttl, content type, tags, crc, scope,
    // name, channel, encoded key.
    R"lua(
local l = redis.call('HMGET', KEYS[2], 't', 'a')
if l[1] ~= ARGV[1] then return {'lost'} end
redis.call('DEL', KEYS[2])
local granted = tonumber(l[2])
local m = redis.call('HGET', KEYS[1], 'm')
local out
if m and tonumber(m) > granted then
  out = {'superseded'}
else
  ensure_expiry(KEYS[3], KEYS[4])
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
ensure_expiry(KEYS[3], KEYS[4])
local now = next_event(KEYS[4])
write_entry(KEYS, ARGV[6], ARGV[7], now, now, ARGV[2], ARGV[1], ARGV[3],
            ARGV[4], ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[8], ARGV[9])
end
return s(now)
)lua",
    // kRelease. KEYS: lease. ARGV: token, channel, encoded key.
    R"lua(
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
)lua",
    // kExpire. KEYS: entry, clock.
    R"lua(
local e = redis.call('HGET', KEYS[1], 'e')
if not e or e ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'e', s(next_event(KEYS[2])))
return 1
)lua",
    // kDelete. KEYS: entry, name index, mtime index, usage. ARGV: name.
    R"lua(
if remove_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]) then return 1 end
return 0
)lua",
    // kRemoveIf. KEYS as kDelete. ARGV: name, mtime. Returns bytes or -1.
    R"lua(
if redis.call('HGET', KEYS[1], 'm') ~= ARGV[2] then return -1 end
return tonumber(remove_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1]))
)lua",
    // kInvalidate. KEYS: expiry copy, clock. ARGV: expiry key, at (0 = now).
    R"lua(
ensure_expiry(KEYS[1], KEYS[2])
local v = tonumber(ARGV[2])
if v == 0 then v = next_event(KEYS[2]) end
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if v > cur then redis.call('HSET', KEYS[1], ARGV[1], s(v)) else v = cur end
return s(v)
)lua",
    // kRemoveMany. KEYS: name index, mtime index, usage, then one entry key
    // per ARGV pair (name, mtime). Returns {count, bytes}. The checks are
    // per entry; the removals are one command per index and one DEL.
    R"lua(
local names, entries, bytes = {}, {}, 0
for i = 4, #KEYS do
  local name, mtime = ARGV[2 * (i - 3) - 1], ARGV[2 * (i - 3)]
  local mz = redis.call('HMGET', KEYS[i], 'm', 'z')
  if mz[1] == mtime then
    names[#names + 1] = name
    entries[#entries + 1] = KEYS[i]
    bytes = bytes + tonumber(mz[2])
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
