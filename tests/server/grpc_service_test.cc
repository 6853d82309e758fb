// End to end through real gRPC on port 0: the Cache and Admin services, the
// health service, validation at the edge, and many requesters of one key.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "cache/store/memory/memory_store.h"
#include "client/cache_client.h"
#include "client/get_or_generate.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/cache_server.h"
#include "tests/support/loopback_listener.h"

namespace clustercache {
namespace {

constexpr int64_t kMaxPayload = 64 << 10;

class GrpcServiceTest : public testing::Test {
 protected:
  GrpcServiceTest() {
    store_ = NewMemoryStore({});
    ContentCacheOptions options;
    options.max_payload_bytes = kMaxPayload;
    cache_ = std::make_unique<ContentCache>(store_.get(), options);
    server_ =
        std::make_unique<CacheServer>(cache_.get(), "node-a", kMaxPayload);
    absl::Status s = server_->Start("127.0.0.1:0");
    EXPECT_TRUE(s.ok()) << s;
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    ClientOptions client_options;
    client_options.servers = {address_};
    client_ = NewGrpcClient(client_options);
  }

  static v1::Key K(const std::string& scope, const std::string& name) {
    v1::Key k;
    k.set_scope(scope);
    k.set_name(name);
    return k;
  }

  std::unique_ptr<Store> store_;
  std::unique_ptr<ContentCache> cache_;
  std::unique_ptr<CacheServer> server_;
  std::string address_;
  std::unique_ptr<GrpcClient> client_;
};

TEST_F(GrpcServiceTest, FetchStoreFetch) {
  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("content-view", "site/1");
  absl::StatusOr<v1::FetchResponse> miss = client_->Fetch(fetch);
  ASSERT_TRUE(miss.ok()) << miss.status();
  EXPECT_EQ(miss->outcome(), v1::MISS_LEASE);
  EXPECT_EQ(miss->served_by(), "node-a");
  v1::StoreRequest store;
  *store.mutable_key() = fetch.key();
  store.set_payload("rendered");
  store.set_content_type("text/html");
  store.add_tags("subtree:2");
  store.set_lease_token(miss->lease().token());
  absl::StatusOr<v1::StoreResponse> stored = client_->Store(store);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->outcome(), v1::STORED);
  EXPECT_EQ(stored->mtime_us(), miss->lease().granted_at_us());
  EXPECT_EQ(stored->served_by(), "node-a");
  absl::StatusOr<v1::FetchResponse> hit = client_->Fetch(fetch);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->outcome(), v1::HIT);
  EXPECT_EQ(hit->payload(), "rendered");
  EXPECT_TRUE(hit->meta().fresh());
  EXPECT_EQ(hit->meta().content_type(), "text/html");
  EXPECT_EQ(hit->meta().tags(0), "subtree:2");
  EXPECT_EQ(hit->meta().size(), 8);
}

// Issue 14, item 10: a waiting fetch whose client gave up (its deadline
// passed) is dropped at once; when the holder lets go, the lease goes to a
// live caller, not to the orphan.
TEST_F(GrpcServiceTest, AnOrphanedWaiterIsDroppedAndGetsNoLease) {
  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("content-view", "orphaned");
  absl::StatusOr<v1::FetchResponse> holder = client_->Fetch(fetch);
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_EQ(holder->outcome(), v1::MISS_LEASE);
  // A raw stub: our client stretches its deadline by the wait.
  std::unique_ptr<v1::Cache::Stub> stub = v1::Cache::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext impatient;
  impatient.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(300));
  v1::FetchRequest waits = fetch;
  waits.set_wait_ms(60'000);
  v1::FetchResponse ignored;
  grpc::Status orphan = stub->Fetch(&impatient, waits, &ignored);
  EXPECT_EQ(orphan.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server drops the waiter when gRPC tells it the call is over.
  for (int i = 0; i < 500 && cache_->waiting() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(cache_->waiting(), 0) << "dropped, not left for its 60 s";
  v1::ReleaseRequest release;
  *release.mutable_key() = fetch.key();
  release.set_lease_token(holder->lease().token());
  ASSERT_TRUE(client_->Release(release).ok());
  absl::StatusOr<v1::FetchResponse> live = client_->Fetch(fetch);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->outcome(), v1::MISS_LEASE) << "the lease went to the orphan";
}

// Issue 14, item 14: the expiry keys come in pages (3 here), so a store
// with hundreds of thousands of tags still lists them.
TEST_F(GrpcServiceTest, ExpiryKeysAreListedInPages) {
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(cache_->Invalidate(absl::StrCat("tag-", i)).ok());
  }
  std::unique_ptr<v1::Admin::Stub> stub = v1::Admin::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto reader = stub->ListExpiryKeys(&context, v1::ListExpiryKeysRequest());
  v1::ListExpiryKeysResponse page;
  int pages = 0, keys = 0;
  while (reader->Read(&page)) {
    ++pages;
    keys += page.keys_size();
    EXPECT_LE(page.keys_size(), 1000);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(keys, 2500);
  EXPECT_EQ(pages, 3);
  absl::StatusOr<v1::ListExpiryKeysResponse> all = client_->ListExpiryKeys();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->keys_size(), 2500) << "the client joins the pages";
}

// gRPC binds with SO_REUSEPORT unless told not to: a second node on a taken
// port would start and silently take half of the first one's connections.
TEST_F(GrpcServiceTest, ASecondNodeOnATakenPortFailsToStart) {
  CacheServer second(cache_.get(), "node-b", kMaxPayload);
  absl::Status s = second.Start(address_);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find(address_), std::string::npos) << s;
  // The first node still answers every call.
  for (int i = 0; i < 20; ++i) {
    v1::FetchRequest fetch;
    *fetch.mutable_key() = K("content-view", "port/" + std::to_string(i));
    absl::StatusOr<v1::FetchResponse> r = client_->Fetch(fetch);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->served_by(), "node-a");
  }
}

TEST_F(GrpcServiceTest, BadRequestsAreInvalidArgumentNamingTheField) {
  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("BAD", "x");
  absl::StatusOr<v1::FetchResponse> r = client_->Fetch(fetch);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("key.scope"), std::string::npos);
  *fetch.mutable_key() = K("rss", "");
  r = client_->Fetch(fetch);
  EXPECT_NE(r.status().message().find("key.name"), std::string::npos);

  v1::StoreRequest store;
  *store.mutable_key() = K("rss", "big");
  store.set_payload(std::string(kMaxPayload + 1, 'x'));
  absl::StatusOr<v1::StoreResponse> s = client_->Store(store);
  EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("payload"), std::string::npos);
  store.set_payload(std::string(4 << 20, 'x'));  // beyond the message limit
  EXPECT_FALSE(client_->Store(store).ok());

  store.set_payload("x");
  store.set_lease_token("not-a-token");
  s = client_->Store(store);
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_NE(s.status().message().find("lease_token"), std::string::npos);

  store.set_lease_token("0123456789abcdef0123456789abcdef");  // unknown
  s = client_->Store(store);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->outcome(), v1::LEASE_LOST);

  v1::InvalidateRequest invalidate;  // no target
  EXPECT_TRUE(
      absl::IsInvalidArgument(client_->Invalidate(invalidate).status()));

  // Nothing was written, and the server keeps serving.
  EXPECT_EQ(cache_->Usage()->entries, 0);
  *fetch.mutable_key() = K("rss", "ok");
  EXPECT_TRUE(client_->Fetch(fetch).ok());
}

TEST_F(GrpcServiceTest, AdminOperations) {
  for (const char* name : {"a/1", "a/2", "b/1"}) {
    v1::StoreRequest store;
    *store.mutable_key() = K("rss", name);
    store.set_payload(name);
    ASSERT_TRUE(client_->Store(store).ok());
  }
  v1::InvalidateRequest invalidate;
  invalidate.set_scope("rss");
  absl::StatusOr<v1::InvalidateResponse> inv = client_->Invalidate(invalidate);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->expiry_key(), "scope:rss");
  EXPECT_GT(inv->value_us(), 0);
  absl::StatusOr<v1::ListExpiryKeysResponse> keys = client_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->keys_size(), 1);
  EXPECT_EQ(keys->keys(0).value_us(), inv->value_us());

  std::vector<std::string> listed;
  v1::ListRequest list;
  list.set_scope("rss");
  ASSERT_TRUE(client_
                  ->List(list,
                         [&](const v1::ListResponse& r) {
                           listed.push_back(r.meta().key().name());
                           EXPECT_FALSE(r.meta().fresh());
                           return true;
                         })
                  .ok());
  EXPECT_EQ(listed, (std::vector<std::string>{"a/1", "a/2", "b/1"}));

  v1::ExpireRequest expire;
  expire.mutable_selector()->set_scope("rss");
  expire.mutable_selector()->set_prefix("a/");
  EXPECT_EQ(client_->Expire(expire)->count(), 2);
  v1::DeleteRequest del;
  del.mutable_selector()->set_scope("rss");
  del.mutable_selector()->set_name("b/1");
  EXPECT_EQ(client_->Delete(del)->count(), 1);

  v1::PurgeRequest purge;
  purge.set_batch(1);
  // Issue 14, item 4: a purge without a filter must say "everything".
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->Purge(purge, [](const v1::PurgeProgress&) { return true; })));
  EXPECT_EQ(cache_->Usage()->entries, 2) << "the refused purge removed nothing";
  purge.set_everything(true);
  std::vector<v1::PurgeProgress> progress;
  ASSERT_TRUE(client_
                  ->Purge(purge,
                          [&](const v1::PurgeProgress& p) {
                            progress.push_back(p);
                            return true;
                          })
                  .ok());
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(progress.back().done());
  EXPECT_EQ(progress.back().purged(), 2);
  EXPECT_GE(progress.size(), 2u) << "one message per batch";

  absl::StatusOr<v1::StatsResponse> stats = client_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries(), 0);
  EXPECT_EQ(stats->served_by(), "node-a");
  ASSERT_EQ(stats->scopes_size(), 1);
  EXPECT_EQ(stats->scopes(0).counters().at("stores"), 3);
}

TEST_F(GrpcServiceTest, HealthServiceAnswersServing) {
  auto channel =
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice empty("");  // an empty HealthCheckRequest
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2)) << "status: SERVING";
}

TEST_F(GrpcServiceTest, HealthServiceDoesNotKnowOtherServices) {
  auto channel =
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice named(std::string("\x0a\x04nope", 6));  // service: "nope"
  grpc::ByteBuffer request(&named, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcServiceTest, HealthWatchSaysNotServingWhenShutdownBegins) {
  using grpc::health::v1::HealthCheckResponse;
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto reader = stub->Watch(&context, grpc::health::v1::HealthCheckRequest());
  HealthCheckResponse status;
  ASSERT_TRUE(reader->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::SERVING);
  std::thread stop([&] { server_->Shutdown(absl::Seconds(5)); });
  ASSERT_TRUE(reader->Read(&status));
  EXPECT_EQ(status.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&status));  // the stream ends
  EXPECT_TRUE(reader->Finish().ok());
  stop.join();
}

TEST_F(GrpcServiceTest, ClientFailsOverToTheNextServer) {
  ClientOptions options;
  options.servers = {"127.0.0.1:1", address_};  // nothing listens on port 1
  std::unique_ptr<GrpcClient> client = NewGrpcClient(options);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::StatsResponse> stats = client->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->served_by(), "node-a");
  }
  options.servers = {"127.0.0.1:1"};
  EXPECT_TRUE(absl::IsUnavailable(NewGrpcClient(options)->Stats().status()));
}

// Issue 14, item 11: a node that accepts TCP but never answers (its listen
// queue takes the connection; nobody speaks HTTP/2) costs one attempt, a
// third of the deadline, not the whole call; then it is tried last.
TEST_F(GrpcServiceTest, ClientFailsOverFromAHungServer) {
  int port = 0;
  const int hung = ListenOnLoopback(&port);  // never accepted
  ASSERT_GE(hung, 0);
  ClientOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(port), address_};
  options.deadline = absl::Seconds(6);
  std::unique_ptr<GrpcClient> client = NewGrpcClient(options);
  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("rss", "failover");
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::FetchResponse> r = client->Fetch(fetch);
    ASSERT_TRUE(r.ok()) << r.status();  // was: DEADLINE_EXCEEDED, no failover
    EXPECT_EQ(r->served_by(), "node-a");
  }
  options.servers = {options.servers[0]};
  options.deadline = absl::Milliseconds(300);
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(NewGrpcClient(options)->Fetch(fetch).status()));
  close(hung);
}

// 200 threads call GetOrGenerate on one key at once; returns how many got
// `want`.
int RaceForKey(CacheClient& client, const Generator& generator,
               const std::string& want) {
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&] {
      v1::Key key;
      key.set_scope("content-view");
      key.set_name("hot");
      GenerateOptions options;
      options.wait = absl::Seconds(30);
      absl::StatusOr<Generated> r =
          GetOrGenerate(client, key, options, generator);
      if (r.ok() && r->payload == want) got++;
    });
  }
  for (std::thread& t : threads) t.join();
  return got;
}

TEST_F(GrpcServiceTest, TwoHundredRequestersOneGeneration) {
  // Warm the key, then remove it so that no stale copy exists: everyone but
  // the lease holder must wait for the new entry.
  RaceForKey(
      *client_, [] { return absl::StatusOr<std::string>("v1"); }, "v1");
  v1::DeleteRequest del;
  del.mutable_selector()->set_scope("content-view");
  del.mutable_selector()->set_name("hot");
  ASSERT_EQ(client_->Delete(del)->count(), 1);
  std::atomic<int> generations{0};
  int served = RaceForKey(
      *client_,
      [&]() -> absl::StatusOr<std::string> {
        generations++;
        absl::SleepFor(absl::Milliseconds(200));
        return std::string("v2");
      },
      "v2");
  EXPECT_EQ(generations, 1);
  EXPECT_EQ(served, 200);
}

}  // namespace
}  // namespace clustercache

namespace clustercache {
namespace {

// The message of a call's status, for an INVALID_ARGUMENT naming `field`.
template <typename T>
std::string RefusalOf(const absl::StatusOr<T>& r) {
  return absl::IsInvalidArgument(r.status())
             ? std::string(r.status().message())
             : "not refused: " + r.status().ToString();
}

// Issue 14, items 2, 3 and 7: wire input is bounded before any arithmetic,
// and the error names the proto field.
TEST_F(GrpcServiceTest, OutOfRangeFieldsAreRefusedByName) {
  v1::StoreRequest store;
  *store.mutable_key() = K("rss", "ttl");
  store.set_payload("x");
  for (int64_t ttl : {int64_t{-9223372036854776}, int64_t{-1},
                      int64_t{11} * 365 * 24 * 3600 * 1000}) {
    store.set_ttl_ms(ttl);
    EXPECT_NE(RefusalOf(client_->Store(store)).find("ttl_ms"),
              std::string::npos)
        << ttl;
  }
  store.set_ttl_ms(int64_t{9} * 365 * 24 * 3600 * 1000);  // 9 years: fine
  ASSERT_TRUE(client_->Store(store).ok());

  v1::FetchRequest fetch;
  *fetch.mutable_key() = K("rss", "ttl");
  fetch.set_wait_ms(11 * 60 * 1000);
  EXPECT_NE(RefusalOf(client_->Fetch(fetch)).find("wait_ms"),
            std::string::npos);
  fetch.set_wait_ms(0);
  fetch.set_max_age_ms(INT64_MAX);
  EXPECT_NE(RefusalOf(client_->Fetch(fetch)).find("max_age_ms"),
            std::string::npos);
  fetch.set_max_age_ms(0);
  fetch.set_newer_than_us(-1);
  EXPECT_NE(RefusalOf(client_->Fetch(fetch)).find("newer_than_us"),
            std::string::npos);

  // Item 15: invalid UTF-8 and C1 controls are INVALID_ARGUMENT naming the
  // field (invalid UTF-8 in a proto string failed the call as INTERNAL).
  fetch.set_newer_than_us(0);
  for (const char* name : {"\xff\xfe", "nel\xc2\x85", "\xc0\xaf"}) {
    *fetch.mutable_key() = K("rss", name);
    EXPECT_NE(RefusalOf(client_->Fetch(fetch)).find("key.name"),
              std::string::npos);
  }
  store.set_content_type("text/\xff");
  EXPECT_NE(RefusalOf(client_->Store(store)).find("content_type"),
            std::string::npos);
  store.set_content_type("text/html");
  store.add_tags("bad\xfftag");
  EXPECT_NE(RefusalOf(client_->Store(store)).find("tag"), std::string::npos);

  v1::InvalidateRequest all_false;
  all_false.set_all(false);  // was: invalidates everything
  EXPECT_NE(RefusalOf(client_->Invalidate(all_false)).find("all"),
            std::string::npos);
  v1::InvalidateRequest future;
  future.set_scope("rss");
  future.set_at_us(absl::ToUnixMicros(absl::Now() + absl::Minutes(5)));
  EXPECT_NE(RefusalOf(client_->Invalidate(future)).find("at_us"),
            std::string::npos);
  future.set_at_us(absl::ToUnixMicros(absl::Now() + absl::Seconds(30)));
  EXPECT_TRUE(client_->Invalidate(future).ok()) << "within a minute: fine";
  absl::StatusOr<v1::ListExpiryKeysResponse> keys = client_->ListExpiryKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->keys_size(), 1) << "the refused calls set nothing";
  EXPECT_EQ(keys->keys(0).name(), "scope:rss");

  v1::PurgeRequest purge;
  purge.set_everything(true);
  purge.set_pause_ms(INT64_MAX);  // was: a handler asleep for good
  auto purge_status = [&] {
    return client_->Purge(purge, [](const v1::PurgeProgress&) { return true; });
  };
  EXPECT_NE(RefusalOf(absl::StatusOr<int>(purge_status())).find("pause_ms"),
            std::string::npos);
  purge.set_pause_ms(0);
  purge.set_batch(100001);
  EXPECT_NE(RefusalOf(absl::StatusOr<int>(purge_status())).find("batch"),
            std::string::npos);
  purge.set_batch(0);
  purge.set_scope("rss");  // a filter and everything
  EXPECT_NE(RefusalOf(absl::StatusOr<int>(purge_status())).find("everything"),
            std::string::npos);
  EXPECT_EQ(cache_->Usage()->entries, 1);
}

// Issue 14, item 2: an expiry key already poisoned (set far ahead before
// at_us was bounded) is brought back by ResetExpiryKey, and the server says
// so in its log.
TEST_F(GrpcServiceTest, ResetExpiryKeyBringsAPoisonedKeyBack) {
  const int64_t poison = *store_->Now() + int64_t{3600} * 1'000'000 * 24;
  ASSERT_EQ(*store_->Invalidate("scope:rss", poison), poison);
  v1::StoreRequest store;
  *store.mutable_key() = K("rss", "page");
  store.set_payload("x");
  ASSERT_TRUE(client_->Store(store).ok());
  v1::FetchRequest fetch;
  *fetch.mutable_key() = store.key();
  EXPECT_NE(client_->Fetch(fetch)->outcome(), v1::HIT) << "stale at birth";

  v1::ResetExpiryKeyRequest reset;
  reset.set_name("scope:rss");
  testing::internal::CaptureStderr();
  absl::StatusOr<v1::ResetExpiryKeyResponse> r = client_->ResetExpiryKey(reset);
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->reset());
  EXPECT_EQ(r->before_us(), poison);
  EXPECT_LT(r->value_us(), poison);
  EXPECT_NE(log.find("expiry key scope:rss reset"), std::string::npos) << log;
  ASSERT_TRUE(client_->Store(store).ok());
  EXPECT_EQ(client_->Fetch(fetch)->outcome(), v1::HIT);
  // Again: nothing is ahead now.
  r = client_->ResetExpiryKey(reset);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->reset());
  reset.set_name("scope:BAD");
  EXPECT_NE(RefusalOf(client_->ResetExpiryKey(reset)).find("scope"),
            std::string::npos);
}

// Issue 14, item 5: a purge pausing between batches ends when its caller
// goes away and when the server stops, not after the pause.
TEST_F(GrpcServiceTest, APausedPurgeEndsWithItsCallerAndWithTheServer) {
  for (int i = 0; i < 3; ++i) {
    v1::StoreRequest store;
    *store.mutable_key() = K("rss", "p" + std::to_string(i));
    store.set_payload("x");
    ASSERT_TRUE(client_->Store(store).ok());
  }
  v1::PurgeRequest purge;
  purge.set_scope("rss");
  purge.set_batch(1);
  purge.set_pause_ms(60000);
  // The caller gives up after its first progress message.
  absl::Time start = absl::Now();
  (void)client_->Purge(purge, [](const v1::PurgeProgress&) { return false; });
  // The server stops while a purge pauses: Shutdown returns long before
  // the minute is over.
  std::thread purger([&] {
    (void)client_->Purge(purge, [](const v1::PurgeProgress&) { return true; });
  });
  absl::SleepFor(absl::Milliseconds(300));
  server_->Shutdown(absl::Seconds(30));
  purger.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_GE(cache_->Usage()->entries, 1) << "it did not run to the end";
}

}  // namespace
}  // namespace clustercache
