// GetOrGenerate against a fake CacheClient: the generator runs at most once
// per lease, and a failing or throwing generator gives the lease back.
#include "client/get_or_generate.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace clustercache {
namespace {

class FakeClient : public CacheClient {
 public:
  absl::StatusOr<v1::FetchResponse> Fetch(const v1::FetchRequest& r) override {
    fetches.push_back(r);
    return fetch_response;
  }
  absl::StatusOr<v1::StoreResponse> Store(const v1::StoreRequest& r) override {
    stores.push_back(r);
    v1::StoreResponse response;
    response.set_outcome(store_outcome);
    return response;
  }
  absl::StatusOr<v1::ReleaseResponse> Release(
      const v1::ReleaseRequest& r) override {
    releases.push_back(r);
    return v1::ReleaseResponse();
  }

  void Answer(v1::FetchOutcome outcome, std::string payload = "") {
    fetch_response.set_outcome(outcome);
    fetch_response.set_payload(payload);
    if (outcome == v1::MISS_LEASE || outcome == v1::STALE_LEASE) {
      fetch_response.mutable_lease()->set_token(
          "feedfeedfeedfeedfeedfeedfeedfeed");
    }
  }

  v1::FetchResponse fetch_response;
  v1::StoreOutcome store_outcome = v1::STORED;
  std::vector<v1::FetchRequest> fetches;
  std::vector<v1::StoreRequest> stores;
  std::vector<v1::ReleaseRequest> releases;
};

class GetOrGenerateTest : public testing::Test {
 protected:
  GetOrGenerateTest() {
    key_.set_scope("content-view");
    key_.set_name("n");
  }
  absl::StatusOr<Generated> Run(const Generator& g) {
    GenerateOptions options;
    options.ttl = absl::Minutes(5);
    options.tags = {"subtree:1"};
    options.wait = absl::Seconds(2);
    return GetOrGenerate(client_, key_, options, g);
  }
  Generator Counting(std::string payload) {
    return [this, payload]() -> absl::StatusOr<std::string> {
      ++runs_;
      return payload;
    };
  }

  FakeClient client_;
  v1::Key key_;
  int runs_ = 0;
};

TEST_F(GetOrGenerateTest, HitDoesNotGenerate) {
  client_.Answer(v1::HIT, "cached");
  absl::StatusOr<Generated> r = Run(Counting("new"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload, "cached");
  EXPECT_EQ(r->source, Source::kHit);
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(client_.fetches[0].wait_ms(), 2000);
}

TEST_F(GetOrGenerateTest, StaleIsServedWithoutGenerating) {
  client_.Answer(v1::STALE, "old");
  absl::StatusOr<Generated> r = Run(Counting("new"));
  EXPECT_EQ(r->payload, "old");
  EXPECT_EQ(r->source, Source::kStale);
  EXPECT_EQ(runs_, 0);
}

TEST_F(GetOrGenerateTest, LeaseRunsTheGeneratorOnceAndStoresWithTheToken) {
  client_.Answer(v1::MISS_LEASE);
  absl::StatusOr<Generated> r = Run(Counting("new"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(r->payload, "new");
  EXPECT_EQ(r->source, Source::kStored);
  ASSERT_EQ(client_.stores.size(), 1u);
  EXPECT_EQ(client_.stores[0].lease_token(),
            "feedfeedfeedfeedfeedfeedfeedfeed");
  EXPECT_EQ(client_.stores[0].ttl_ms(), 300000);
  EXPECT_EQ(client_.stores[0].tags(0), "subtree:1");
  EXPECT_TRUE(client_.releases.empty());
}

TEST_F(GetOrGenerateTest, FailingGeneratorReleasesTheLease) {
  client_.Answer(v1::STALE_LEASE, "old");
  absl::StatusOr<Generated> r = Run([]() -> absl::StatusOr<std::string> {
    return absl::InternalError("render failed");
  });
  EXPECT_EQ(r.status().message(), "render failed");
  EXPECT_TRUE(client_.stores.empty());
  ASSERT_EQ(client_.releases.size(), 1u);
  EXPECT_EQ(client_.releases[0].lease_token(),
            "feedfeedfeedfeedfeedfeedfeedfeed");
}

TEST_F(GetOrGenerateTest, ThrowingGeneratorReleasesTheLeaseAndRethrows) {
  client_.Answer(v1::MISS_LEASE);
  EXPECT_THROW(Run([]() -> absl::StatusOr<std::string> {
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  EXPECT_TRUE(client_.stores.empty());
  EXPECT_EQ(client_.releases.size(), 1u);
}

TEST_F(GetOrGenerateTest, TimeoutAndUnavailableGenerateWithoutStoring) {
  for (v1::FetchOutcome outcome : {v1::TIMEOUT, v1::UNAVAILABLE}) {
    client_.Answer(outcome);
    absl::StatusOr<Generated> r = Run(Counting("rendered"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->payload, "rendered");
    EXPECT_EQ(r->source, Source::kNotStored);
  }
  EXPECT_EQ(runs_, 2);
  EXPECT_TRUE(client_.stores.empty());
}

TEST_F(GetOrGenerateTest, SupersededResultIsReturnedButNotStored) {
  client_.Answer(v1::MISS_LEASE);
  client_.store_outcome = v1::SUPERSEDED;
  absl::StatusOr<Generated> r = Run(Counting("mine"));
  EXPECT_EQ(r->payload, "mine");
  EXPECT_EQ(r->source, Source::kNotStored);
  EXPECT_EQ(r->store_outcome, v1::SUPERSEDED);
}

}  // namespace
}  // namespace clustercache
