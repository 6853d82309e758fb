// What only the Redis store promises beyond the conformance suite: one Redis
// command per fresh hit, waking a waiter on another node, and eviction
// safety of the expiry keys. Against the real Redis of scripts/test.
#include "cache/store/redis/redis_store.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "cache/content_cache.h"
#include "cache/freshness.h"
#include "cache/store/redis/redis_records.h"
#include "cache/store/redis/redis_router.h"
#include "cache/store/redis/redis_topology.h"
#include "gtest/gtest.h"
#include "tests/support/entries.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/pki.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

class RedisStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_SERVER(address, "CLUSTERCACHE_TEST_REDIS");
    endpoint_ = *ParseRedisUrl(absl::StrCat("redis://", address));
    static std::atomic<int> counter{0};
    prefix_ = absl::StrCat("rt", getpid(), "-", counter++, "-",
                           absl::ToUnixMicros(absl::Now()));
  }

  // A store as one clustercached node would open it.
  std::unique_ptr<Store> OpenNode() {
    RedisStoreOptions options;
    options.endpoint = endpoint_;
    options.prefix = prefix_;
    options.buckets = 8;
    absl::StatusOr<std::unique_ptr<Store>> store = OpenRedisStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  RedisEndpoint endpoint_;
  std::string prefix_;
  const Key key_{"content-view", "site/1"};
};

// The commands this test's stores send while `run` runs, as MONITOR shows
// them (commands a script runs are marked "lua" and left out).
std::vector<std::string> CommandsSentDuring(const RedisEndpoint& endpoint,
                                            const std::string& prefix,
                                            const std::function<void()>& run) {
  auto monitor = RedisConnection::Connect(endpoint);
  EXPECT_TRUE(monitor.ok());
  EXPECT_TRUE((*monitor)->Command({"MONITOR"}).ok());
  const std::string sentinel = prefix + "-done";
  std::vector<std::string> ours;
  std::thread reader([&] {
    for (;;) {
      absl::StatusOr<RedisReply> line = (*monitor)->Next();
      if (!line.ok()) return;
      std::string text = line->str();
      if (absl::StrContains(text, sentinel)) return;
      if (absl::StrContains(text, prefix) && !absl::StrContains(text, "lua]")) {
        ours.push_back(text);
      }
    }
  });
  absl::SleepFor(absl::Milliseconds(100));  // MONITOR is in effect
  run();
  auto other = RedisConnection::Connect(endpoint);
  EXPECT_TRUE((*other)->Command({"ECHO", sentinel}).ok());
  reader.join();
  return ours;
}

// Blocking and async fetches of `key`, each a hit.
void FetchHits(ContentCache& cache, const Key& key, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(cache.Fetch(FetchRequest{key})->outcome, FetchOutcome::kHit);
    absl::Notification done;
    cache.FetchAsync(FetchRequest{key}, [&](absl::StatusOr<FetchResult> r) {
      EXPECT_EQ(r->outcome, FetchOutcome::kHit);
      done.Notify();
    });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  }
}

TEST_F(RedisStoreTest, AFreshHitIsOneRedisCommand) {
  std::unique_ptr<Store> store = OpenNode();
  ContentCache cache(store.get(), {});
  const Key plain("content-view", "site/plain");
  ASSERT_TRUE(cache.Store(WriteOf(plain, "v"), "").ok());
  ASSERT_TRUE(cache.Store(WriteOf(key_, "v", {"subtree:2"}), "").ok());
  constexpr int kHits = 10;
  // Without tags: one MGET of entry, lease and expiry copies.
  std::vector<std::string> sent = CommandsSentDuring(
      endpoint_, prefix_, [&] { FetchHits(cache, plain, kHits); });
  EXPECT_EQ(sent.size(), 2u * kHits) << "one command per hit (blocking and "
                                        "async paths)";
  for (const std::string& line : sent) {
    EXPECT_TRUE(absl::StrContains(line, "\"MGET\"")) << line;
  }
  // With tags: one script that also reads the tag values.
  sent = CommandsSentDuring(endpoint_, prefix_,
                            [&] { FetchHits(cache, key_, kHits); });
  EXPECT_EQ(sent.size(), 2u * kHits);
  for (const std::string& line : sent) {
    EXPECT_TRUE(absl::StrContains(line, "\"EVALSHA\"")) << line;
  }
}

TEST_F(RedisStoreTest, ABatchOfFetchesReadsOncePerKeyAndAnswersEach) {
  std::unique_ptr<Store> store = OpenNode();
  ContentCache cache(store.get(), {});
  const Key plain("content-view", "site/plain"), absent("content-view", "none");
  ASSERT_TRUE(cache.Store(WriteOf(plain, "p"), "").ok());
  ASSERT_TRUE(cache.Store(WriteOf(key_, "t", {"subtree:2"}), "").ok());
  FetchRequest bad{plain};
  bad.wait = absl::Seconds(-1);
  std::vector<absl::StatusOr<FetchResult>> got(4, absl::UnknownError("none"));
  absl::BlockingCounter answered(4);
  std::vector<std::string> sent = CommandsSentDuring(endpoint_, prefix_, [&] {
    std::vector<ContentCache::PendingFetch> batch;
    int i = 0;
    for (const FetchRequest& r :
         {FetchRequest{plain}, FetchRequest{key_}, FetchRequest{absent}, bad}) {
      batch.push_back({r, [&, i](absl::StatusOr<FetchResult> result) {
                         got[i] = std::move(result);
                         answered.DecrementCount();
                       }});
      ++i;
    }
    cache.FetchMany(std::move(batch));
    answered.Wait();
  });
  ASSERT_TRUE(got[0].ok() && got[1].ok() && got[2].ok());
  EXPECT_EQ(got[0]->outcome, FetchOutcome::kHit);
  EXPECT_EQ(*got[0]->entry->payload, "p");
  EXPECT_EQ(got[1]->outcome, FetchOutcome::kHit);
  EXPECT_EQ(*got[1]->entry->payload, "t");
  EXPECT_EQ(got[2]->outcome, FetchOutcome::kMissLease);
  EXPECT_TRUE(absl::IsInvalidArgument(got[3].status())) << got[3].status();
  // The batch read: one command per valid key (MGET, the tag-reading
  // script, MGET); the miss then looks again and takes the lease.
  ASSERT_GE(sent.size(), 3u);
  EXPECT_TRUE(absl::StrContains(sent[0], "\"MGET\"")) << sent[0];
  EXPECT_TRUE(absl::StrContains(sent[1], "\"EVALSHA\"")) << sent[1];
  EXPECT_TRUE(absl::StrContains(sent[2], "\"MGET\"")) << sent[2];
}

TEST_F(RedisStoreTest, ATaggedEntryFromAnotherNodeCostsOneExtraReadOnce) {
  std::unique_ptr<Store> writer = OpenNode(), reader = OpenNode();
  ContentCache a(writer.get(), {}), b(reader.get(), {});
  ASSERT_TRUE(a.Store(WriteOf(key_, "v", {"subtree:2"}), "").ok());
  std::vector<std::string> sent =
      CommandsSentDuring(endpoint_, prefix_, [&] { FetchHits(b, key_, 5); });
  // The first read guesses "no tags" (MGET), finds tags, reads again.
  ASSERT_EQ(sent.size(), 11u);
  EXPECT_TRUE(absl::StrContains(sent[0], "\"MGET\"")) << sent[0];
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_TRUE(absl::StrContains(sent[i], "\"EVALSHA\"")) << sent[i];
  }
}

TEST_F(RedisStoreTest, AWaiterOnOneNodeIsWokenByAStoreOnAnother) {
  std::unique_ptr<Store> store_a = OpenNode(), store_b = OpenNode();
  ContentCache node_a(store_a.get(), {}), node_b(store_b.get(), {});
  absl::StatusOr<FetchResult> holder = node_a.Fetch(FetchRequest{key_});
  ASSERT_EQ(holder->outcome, FetchOutcome::kMissLease);

  FetchRequest wait{key_};
  wait.wait = absl::Seconds(20);
  absl::Notification answered;
  absl::StatusOr<FetchResult> result;
  node_b.FetchAsync(wait, [&](absl::StatusOr<FetchResult> r) {
    result = std::move(r);
    answered.Notify();
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(answered.HasBeenNotified()) << "waits while A holds the lease";
  absl::Time stored = absl::Now();
  absl::StatusOr<Commit> commit =
      node_a.Store(WriteOf(key_, "from A"), holder->lease.token);
  ASSERT_TRUE(commit.ok()) << commit.status();
  ASSERT_EQ(commit->outcome, CommitOutcome::kStored);
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_LT(absl::Now() - stored, absl::Seconds(2)) << "woken, not timed out";
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, FetchOutcome::kHit);
  EXPECT_EQ(*result->entry->payload, "from A");
}

TEST_F(RedisStoreTest, ALostExpiryCopyNeverRevivesAnInvalidatedEntry) {
  std::unique_ptr<Store> store = OpenNode();
  int64_t old_mtime = *store->Put(WriteOf(key_, "old"));
  ASSERT_TRUE(store->Invalidate("scope:content-view", 0).ok());
  // Eviction of every bucket's copies of the expiry keys.
  auto conn = RedisConnection::Connect(endpoint_);
  for (int b = 0; b < 8; ++b) {
    std::string head = absl::StrCat("{", prefix_, ".", b, "}:");
    ASSERT_TRUE((*conn)
                    ->Command({"DEL", head + "x:all",
                               head + "x:scope:content-view", head + "xt"})
                    .ok());
  }
  Lookup lost = *store->Read(key_);
  EXPECT_FALSE(lost.expiry.all.has_value()) << "cannot tell";
  EXPECT_FALSE(IsFresh(lost.entry->meta, lost.expiry, {}, lost.now));
  // A new write recreates the copy with a floor: older entries stay stale,
  // the new one is fresh.
  Key other("content-view", "site/2");
  for (int i = 0;
       i < 50 && Crc32(other.encoded()) % 8 != Crc32(key_.encoded()) % 8; ++i) {
    other = Key("content-view", absl::StrCat("site/2-", i));
  }
  ASSERT_TRUE(store->Put(WriteOf(other, "new")).ok());
  Lookup old = *store->Read(key_);
  EXPECT_EQ(old.entry->meta.mtime, old_mtime);
  EXPECT_FALSE(IsFresh(old.entry->meta, old.expiry, {}, old.now));
  Lookup fresh = *store->Read(other);
  EXPECT_TRUE(IsFresh(fresh.entry->meta, fresh.expiry, {}, fresh.now));
}

TEST_F(RedisStoreTest, ALostTagHashNeverRevivesAnInvalidatedEntry) {
  std::unique_ptr<Store> store = OpenNode();
  ASSERT_TRUE(store->Put(WriteOf(key_, "old", {"subtree:2"})).ok());
  ASSERT_TRUE(store->Invalidate("subtree:2", 0).ok());
  Lookup before = *store->Read(key_);
  ASSERT_FALSE(IsFresh(before.entry->meta, before.expiry, {}, before.now));
  auto conn = RedisConnection::Connect(endpoint_);
  const std::string tags =
      absl::StrCat("{", prefix_, ".", Crc32(key_.encoded()) % 8, "}:xt");
  ASSERT_EQ((*conn)->Command({"DEL", tags})->integer(), 1);
  Lookup lost = *store->Read(key_);
  ASSERT_EQ(lost.expiry.tags.size(), 1u);
  EXPECT_FALSE(lost.expiry.tags[0].has_value()) << "cannot tell";
  EXPECT_FALSE(IsFresh(lost.entry->meta, lost.expiry, {}, lost.now));
  // Rewritten: the hash comes back with a floor, and the new entry is fresh.
  ASSERT_TRUE(store->Put(WriteOf(key_, "new", {"subtree:2"})).ok());
  Lookup fresh = *store->Read(key_);
  EXPECT_TRUE(IsFresh(fresh.entry->meta, fresh.expiry, {}, fresh.now));
}

TEST_F(RedisStoreTest, ScriptsAreReloadedAfterRedisForgetsThem) {
  std::unique_ptr<Store> store = OpenNode();
  ContentCache cache(store.get(), {});
  ASSERT_TRUE(cache.Store(WriteOf(key_, "v"), "").ok());
  auto conn = RedisConnection::Connect(endpoint_);
  ASSERT_TRUE((*conn)->Command({"SCRIPT", "FLUSH"}).ok());  // as a restart
  absl::Notification done;
  cache.FetchAsync(FetchRequest{key_}, [&](absl::StatusOr<FetchResult> r) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->outcome, FetchOutcome::kHit);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE((*conn)->Command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_EQ(cache.Fetch(FetchRequest{key_})->outcome, FetchOutcome::kHit);
}

TEST_F(RedisStoreTest, UnreachableRedisIsUnavailable) {
  RedisStoreOptions options;
  options.endpoint.host = "127.0.0.1";
  options.endpoint.port = 1;  // nothing listens there
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRedisStore(options);
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
}

// A real resharding of one slot, under a store that cached the old slot map:
// the store follows MOVED (blocking and pipelined paths alike).
TEST(RedisClusterTest, FollowsASlotThatMoved) {
  CLUSTERCACHE_NEED_SERVER(seeds_text, "CLUSTERCACHE_TEST_REDIS_CLUSTER");
  absl::StatusOr<std::vector<RedisEndpoint>> seeds =
      ParseRedisClusterUrl("redis-cluster://" + seeds_text);
  ASSERT_TRUE(seeds.ok());
  RedisStoreOptions options;
  options.cluster_seeds = *seeds;
  options.buckets = 4;
  options.prefix =
      absl::StrCat("mv", getpid(), "-", absl::ToUnixMicros(absl::Now()));
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRedisStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ContentCache cache(store->get(), {});
  Key key("content-view", "moving");
  ASSERT_TRUE(cache.Store(WriteOf(key, "before the move"), "").ok());
  int bucket = static_cast<int>(Crc32(key.encoded()) % options.buckets);
  int slot = RedisKeySlot(absl::StrCat("{", options.prefix, ".", bucket, "}"));

  // The masters, and which one has the slot (CLUSTER SLOTS: from, to,
  // [host, port, id]).
  auto admin = RedisConnection::Connect((*seeds)[0]);
  ASSERT_TRUE(admin.ok());
  absl::StatusOr<RedisReply> map = (*admin)->Command({"CLUSTER", "SLOTS"});
  ASSERT_TRUE(map.ok());
  struct Master {
    RedisEndpoint endpoint;
    std::string id;
  };
  std::vector<Master> masters;
  int owner = -1;
  for (size_t i = 0; i < map->size(); ++i) {
    const redisReply* range = map->at(i);
    const redisReply* m = range->element[2];
    Master master{(*seeds)[0], ReplyString(m->element[2])};
    master.endpoint.host = ReplyString(m->element[0]);
    master.endpoint.port = static_cast<int>(m->element[1]->integer);
    int index = -1;
    for (size_t k = 0; k < masters.size(); ++k) {
      if (masters[k].id == master.id) index = static_cast<int>(k);
    }
    if (index < 0) {
      masters.push_back(master);
      index = static_cast<int>(masters.size()) - 1;
    }
    if (slot >= range->element[0]->integer &&
        slot <= range->element[1]->integer) {
      owner = index;
    }
  }
  ASSERT_GE(owner, 0);
  ASSERT_GE(masters.size(), 2u);
  const Master& from = masters[owner];
  const Master& to = masters[(owner + 1) % masters.size()];
  auto src = RedisConnection::Connect(from.endpoint);
  auto dst = RedisConnection::Connect(to.endpoint);
  ASSERT_TRUE(src.ok() && dst.ok());
  std::string s = absl::StrCat(slot);
  ASSERT_FALSE((*dst)
                   ->Command({"CLUSTER", "SETSLOT", s, "IMPORTING", from.id})
                   ->is_error());
  ASSERT_FALSE((*src)
                   ->Command({"CLUSTER", "SETSLOT", s, "MIGRATING", to.id})
                   ->is_error());
  absl::StatusOr<RedisReply> keys =
      (*src)->Command({"CLUSTER", "GETKEYSINSLOT", s, "1000"});
  ASSERT_TRUE(keys.ok());
  ASSERT_GT(keys->size(), 0u);
  std::vector<std::string> migrate = {"MIGRATE",
                                      to.endpoint.host,
                                      absl::StrCat(to.endpoint.port),
                                      "",
                                      "0",
                                      "5000",
                                      "KEYS"};
  for (size_t i = 0; i < keys->size(); ++i)
    migrate.push_back(ReplyString(keys->at(i)));
  absl::StatusOr<RedisReply> moved = (*src)->Command(migrate);
  ASSERT_TRUE(moved.ok());
  ASSERT_FALSE(moved->is_error()) << moved->str();
  for (const Master& m : masters) {
    auto conn = RedisConnection::Connect(m.endpoint);
    ASSERT_FALSE(
        (*conn)->Command({"CLUSTER", "SETSLOT", s, "NODE", to.id})->is_error());
  }

  // The store still believes the old owner has the slot.
  absl::StatusOr<FetchResult> hit = cache.Fetch(FetchRequest{key});
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->outcome, FetchOutcome::kHit);
  EXPECT_EQ(*hit->entry->payload, "before the move");
  absl::Notification done;
  cache.FetchAsync(FetchRequest{key}, [&](absl::StatusOr<FetchResult> r) {
    EXPECT_TRUE(r.ok() && r->outcome == FetchOutcome::kHit);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(cache.Store(WriteOf(key, "after the move"), "").ok());
  EXPECT_EQ(*cache.Fetch(FetchRequest{key})->entry->payload, "after the move");
}

TEST(RedisKeySlotTest, MatchesRedisCluster) {
  // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
  EXPECT_EQ(RedisKeySlot("123456789"), 12739);
  EXPECT_EQ(RedisKeySlot("{user1000}.following"),
            RedisKeySlot("{user1000}.followers"));
  EXPECT_EQ(RedisKeySlot("foo{}{bar}"), RedisKeySlot("foo{}{bar}"));
  EXPECT_NE(RedisKeySlot("foo{}{bar}"), RedisKeySlot("bar"));
  EXPECT_EQ(RedisKeySlot("foo{{bar}}zap"), RedisKeySlot("{bar"));
}

TEST(RedisUrlTest, ParsesAndRefuses) {
  absl::StatusOr<RedisEndpoint> e = ParseRedisUrl("redis://:s3cret@db1:6380/2");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "db1");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 2);
  EXPECT_EQ(e->password, "s3cret");
  for (const char* bad : {"redis://host", "http://h:1", "redis://h:0",
                          "redis://h:1/x", "redis://:99999"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace clustercache

namespace clustercache {
namespace {

// Issue 14, item 1: a record as the scripts write it (redis_records.h).
std::string Record(int64_t mtime, int64_t size_field, absl::string_view type,
                   absl::string_view tags, absl::string_view payload) {
  return absl::StrFormat("C1%020d%020d%020d%010d%010d%010d%010d%s%s%s", mtime,
                         0, 0, size_field, 0, type.size(), tags.size(), type,
                         tags, payload);
}

TEST(RedisRecordTest, ARecordBreakingItsLimitsIsNoEntry) {
  const Key key("content-view", "k");
  const int64_t t = 1'700'000'000'000'000;
  EntryRef ok = EntryFromRedis(key, Record(t, 3, "text/html", "a\nb", "abc"),
                               /*max_size=*/100);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(*ok->payload, "abc");
  EXPECT_EQ(ok->meta.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(EntryFromRedis(key, Record(t, 3, "", "", "abc"), 2), nullptr);
  EXPECT_EQ(EntryFromRedis(key, Record(-t, 3, "", "", "abc"), 100), nullptr);
  EXPECT_EQ(EntryFromRedis(key, Record(t, 4, "", "", "abc"), 100), nullptr);
  EXPECT_EQ(EntryFromRedis(key, Record(t, -1, "", "", "abc"), 100), nullptr);
  const std::string good = Record(t, 3, "text/html", "a", "abc");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(EntryFromRedis(key, good.substr(0, cut), 100), nullptr) << cut;
  }
}

}  // namespace
}  // namespace clustercache

namespace clustercache {
namespace {

// Issue 14, item 17: a hostile "Redis" that answers any command with a
// reply announcing half a billion elements. hiredis alone allocated 4 GB
// for it and then waited for elements that never come.
TEST(RedisReplyLimitTest, AReplyAnnouncingTooManyElementsBreaksTheConnection) {
  int port = 0;
  const int listener = ListenOnLoopback(&port, 1);
  ASSERT_GE(listener, 0);
  std::thread hostile([listener] {
    int conn = accept(listener, nullptr, nullptr);
    if (conn < 0) return;
    char buf[256];
    (void)read(conn, buf, sizeof(buf));  // the command
    const char reply[] = "*501591560\r\n";
    (void)write(conn, reply, sizeof(reply) - 1);
    (void)read(conn, buf, sizeof(buf));  // until the client hangs up
    close(conn);
  });
  RedisEndpoint endpoint;
  endpoint.port = port;
  endpoint.timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Connect(endpoint);
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<RedisReply> r = (*conn)->Command({"PING"});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("element limit"), std::string::npos)
      << r.status();
  conn->reset();
  hostile.join();
  close(listener);
}

// Issue 15, item 4: a Redis with requirepass, and one with a Redis 6 ACL
// user: the URL's user and password reach AUTH as two arguments; a wrong
// password is refused, and the refusal does not show it.
TEST(RedisAuthTest, RequirepassAndAclUsers) {
  CLUSTERCACHE_NEED_SERVER(shared, "CLUSTERCACHE_TEST_REDIS");
  const int port = FreeLoopbackPort();
  pid_t redis = SpawnUntilReady(
      {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
       "--save", "", "--appendonly", "no", "--requirepass", "p@ss/w:rd",
       "--user", "app", "on", ">app-secret", "~*", "&*", "+@all"},
      absl::StrCat("redis-cli -p ", port, " --no-auth-warning -a 'p@ss/w:rd'",
                   " ping | grep -q PONG"));
  ASSERT_GT(redis, 0);
  auto open = [&](const std::string& auth) {
    absl::StatusOr<RedisEndpoint> e =
        ParseRedisUrl(absl::StrCat("redis://", auth, "@127.0.0.1:", port));
    EXPECT_TRUE(e.ok()) << e.status();
    RedisStoreOptions options;
    options.endpoint = *e;
    options.buckets = 4;
    options.prefix = absl::StrCat("auth", getpid());
    return OpenRedisStore(options);
  };
  for (const char* good :
       {":p@ss/w:rd", ":p%40ss%2Fw%3Ard", "app:app-secret"}) {
    absl::StatusOr<std::unique_ptr<Store>> store = open(good);
    ASSERT_TRUE(store.ok()) << good << ": " << store.status();
    EXPECT_TRUE((*store)->Put(WriteOf(Key("rss", "a"), "v")).ok()) << good;
  }
  for (const char* bad :
       {":wrong-secret", "app:wrong-secret", "nobody:p@ss/w:rd"}) {
    absl::StatusOr<std::unique_ptr<Store>> store = open(bad);
    ASSERT_FALSE(store.ok()) << bad;
    EXPECT_EQ(store.status().message().find("secret"), std::string::npos)
        << store.status();
    EXPECT_EQ(store.status().message().find("p@ss"), std::string::npos)
        << store.status();
  }
  KillAndReap(redis);
}

// Issue 15, item 4: Debian 12's hiredis has no TLS; the README's way to
// reach a Redis over TLS is a local tunnel. A Redis that serves TLS only
// (no plaintext port), stunnel in client mode on loopback checking its
// certificate, and the store pointed at the tunnel: it works; with a CA that
// did not sign the server, the tunnel refuses and the store cannot open.
TEST(RedisTlsTunnelTest, AStoreReachesATlsOnlyRedisThroughStunnel) {
  CLUSTERCACHE_NEED_SERVER(shared, "CLUSTERCACHE_TEST_REDIS");
  Pki pki("redis-tls");
  ASSERT_TRUE(pki.ok() && pki.Issue("redis"));
  Pki other("redis-other");
  ASSERT_TRUE(other.ok());
  // Children are killed however the test ends.
  struct Children {
    std::vector<pid_t> pids;
    ~Children() {
      for (pid_t pid : pids) {
        if (pid > 0) KillAndReap(pid);
      }
    }
  } children;
  const int tls_port = FreeLoopbackPort();
  pid_t redis = SpawnUntilReady(
      {"redis-server", "--port", "0", "--tls-port", std::to_string(tls_port),
       "--bind", "127.0.0.1", "--tls-cert-file", pki.Path("redis.pem"),
       "--tls-key-file", pki.Path("redis.key"), "--tls-ca-cert-file",
       pki.Path("ca.pem"), "--tls-auth-clients", "no", "--save", "",
       "--appendonly", "no"},
      absl::StrCat("redis-cli --tls --cacert ", pki.Path("ca.pem"), " -p ",
                   tls_port, " ping 2>/dev/null | grep -q PONG"));
  children.pids.push_back(redis);
  ASSERT_GT(redis, 0);
  // One tunnel trusting the right CA, one trusting another.
  auto tunnel = [&](const std::string& ca, int* port) {
    *port = FreeLoopbackPort();
    const std::string conf = pki.Path(absl::StrCat("stunnel-", *port, ".conf"));
    std::ofstream(conf) << "foreground = yes\npid =\n[redis]\nclient = yes\n"
                        << "accept = 127.0.0.1:" << *port << "\n"
                        << "connect = 127.0.0.1:" << tls_port << "\n"
                        << "CAfile = " << ca << "\nverifyChain = yes\n"
                        << "checkIP = 127.0.0.1\n";
    return SpawnUntilReady({"stunnel", conf},
                           absl::StrCat("bash -c 'exec 3<>/dev/tcp/127.0.0.1/",
                                        *port, "' 2>/dev/null"));
  };
  int good_port = 0, bad_port = 0;
  pid_t good = tunnel(pki.Path("ca.pem"), &good_port);
  pid_t bad = tunnel(other.Path("ca.pem"), &bad_port);
  children.pids.push_back(good);
  children.pids.push_back(bad);
  ASSERT_GT(good, 0);
  ASSERT_GT(bad, 0);
  auto open = [&](int port) {
    RedisStoreOptions options;
    options.endpoint.host = "127.0.0.1";
    options.endpoint.port = port;
    options.endpoint.timeout = absl::Seconds(1);
    options.buckets = 4;
    options.prefix = absl::StrCat("tunnel", getpid());
    return OpenRedisStore(options);
  };
  absl::StatusOr<std::unique_ptr<Store>> store = open(good_port);
  ASSERT_TRUE(store.ok()) << store.status();
  Key key("rss", "through-the-tunnel");
  ASSERT_TRUE((*store)->Put(WriteOf(key, "v")).ok());
  absl::StatusOr<Lookup> read = (*store)->Read(key);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_NE(read->entry, nullptr);
  EXPECT_EQ(*read->entry->payload, "v");
  EXPECT_FALSE(open(bad_port).ok()) << "a Redis whose certificate the tunnel "
                                       "could not verify";
}

}  // namespace
}  // namespace clustercache
