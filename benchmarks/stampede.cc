// The stampede scenario: many requesters of one key that has just gone away
// (no stale copy), a slow generator. Reports how many times the generator
// ran and how long after the store each waiting requester got the entry.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "benchmarks/bench.h"
#include "client/cache_client.h"
#include "client/get_or_generate.h"
#include "client/server_channel.h"
#include "clustercache/v1/cache.grpc.pb.h"

namespace clustercache {

namespace {

struct Round {
  int runs = 0, errors = 0;
  absl::Time stored_at = absl::InfiniteFuture();
  std::vector<absl::Time> served_at;
};

// Requesters as concurrent async Fetch calls on one completion queue: the
// one granted the lease "generates" (sleeps) and stores with its token.
// With `holder` (another node), the lease is taken there first and the
// entry stored there: the requesters wait on their own node for a store
// made through another one.
Round AsyncRound(const BenchOptions& o,
                 const std::vector<std::unique_ptr<v1::Cache::Stub>>& stubs,
                 v1::Cache::Stub* holder, const v1::Key& key) {
  struct Call {
    grpc::ClientContext context;
    v1::FetchResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::FetchResponse>> reader;
  };
  Round round;
  grpc::CompletionQueue cq;
  v1::FetchRequest request;
  *request.mutable_key() = key;
  request.set_wait_ms(10000);
  std::vector<std::unique_ptr<Call>> calls;
  std::vector<std::thread> generators;  // more than one: not exactly once
  absl::Mutex mu;
  // Sleeps as long as a render takes, then stores with the lease's token.
  auto generate = [&](std::string token, v1::Cache::Stub* via) {
    generators.emplace_back([&, token, via] {
      absl::SleepFor(o.generate_time);
      v1::StoreRequest store;
      *store.mutable_key() = key;
      store.set_payload(std::string(4096, 'g'));
      store.set_lease_token(token);
      {
        absl::MutexLock lock(&mu);
        round.stored_at = absl::Now();
      }
      grpc::ClientContext context;
      v1::StoreResponse response;
      if (!via->Store(&context, store, &response).ok()) round.errors++;
    });
  };
  if (holder != nullptr) {
    grpc::ClientContext context;
    v1::FetchResponse lease;
    if (!holder->Fetch(&context, request, &lease).ok() ||
        lease.outcome() != v1::MISS_LEASE) {
      round.errors++;
      return round;
    }
    round.runs++;
    generate(lease.lease().token(), holder);
  }
  for (int64_t i = 0; i < o.requesters; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
    call->reader =
        stubs[i % stubs.size()]->AsyncFetch(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (int64_t done = 0; done < o.requesters; ++done) {
    void* tag;
    bool ok;
    if (!cq.Next(&tag, &ok)) break;
    absl::Time now = absl::Now();
    Call* call = static_cast<Call*>(tag);
    if (!ok || !call->status.ok()) {
      round.errors++;
    } else if (call->response.outcome() == v1::MISS_LEASE) {
      round.runs++;
      generate(call->response.lease().token(), stubs[0].get());
    } else if (call->response.outcome() == v1::HIT) {
      round.served_at.push_back(now);
    }
  }
  for (std::thread& g : generators) g.join();
  return round;
}

// Requesters as threads calling GetOrGenerate, as application code does.
Round ThreadRound(const BenchOptions& o, CacheClient* client,
                  const v1::Key& key) {
  Round round;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int64_t i = 0; i < o.requesters; ++i) {
    threads.emplace_back([&] {
      GenerateOptions options;
      options.wait = absl::Seconds(10);
      absl::StatusOr<Generated> r = GetOrGenerate(
          *client, key, options, [&]() -> absl::StatusOr<std::string> {
            absl::SleepFor(o.generate_time);
            absl::MutexLock lock(&mu);
            round.runs++;
            round.stored_at = absl::Now();  // the Store is sent right after
            return std::string(4096, 'g');
          });
      absl::Time now = absl::Now();
      absl::MutexLock lock(&mu);
      if (!r.ok()) {
        round.errors++;
      } else if (r->source == Source::kHit) {
        round.served_at.push_back(now);
      }
    });
  }
  for (auto& t : threads) t.join();
  return round;
}

}  // namespace

int RunStampede(const BenchOptions& o) {
  ClientOptions client_options;
  client_options.servers = {o.server};
  client_options.deadline = absl::Seconds(30);
  std::unique_ptr<GrpcClient> client = NewGrpcClient(client_options);
  // Requesters come from many app nodes: spread them over connections.
  std::vector<std::unique_ptr<v1::Cache::Stub>> stubs;
  for (int64_t c = 0; c < o.connections; ++c) {
    stubs.push_back(v1::Cache::NewStub(
        NewServerChannel(o.server, /*own_connection=*/true)));
  }
  std::unique_ptr<v1::Cache::Stub> holder;
  if (!o.holder_server.empty()) {
    if (o.requester != "async") {
      std::cerr
          << "clustercache-bench: --holder-server needs async requesters\n";
      return 2;
    }
    holder = v1::Cache::NewStub(NewServerChannel(o.holder_server));
  }
  if (o.requester != "async" && o.requester != "thread") {
    std::cerr << "clustercache-bench: --requester is async or thread\n";
    return 2;
  }
  std::vector<int64_t> delays_us;
  int64_t total_runs = 0, total_errors = 0;
  bool exactly_once = true;
  for (int64_t r = 0; r < o.rounds; ++r) {
    v1::Key key;
    key.set_scope("content-view");
    key.set_name(
        absl::StrFormat("stampede/%d/%d", absl::ToUnixMicros(absl::Now()), r));
    Round round = o.requester == "async"
                      ? AsyncRound(o, stubs, holder.get(), key)
                      : ThreadRound(o, client.get(), key);
    for (absl::Time t : round.served_at) {
      delays_us.push_back(absl::ToInt64Microseconds(t - round.stored_at));
    }
    total_runs += round.runs;
    total_errors += round.errors;
    exactly_once = exactly_once && round.runs == 1;
  }
  std::cout << absl::StrFormat(
      "clustercache-bench stampede: %d rounds x %d %s requesters%s, generator "
      "%s, no stale copy\n",
      o.rounds, o.requesters, o.requester,
      o.holder_server.empty() ? ""
                              : ", lease held and stored on " + o.holder_server,
      absl::FormatDuration(o.generate_time));
  std::cout << absl::StrFormat(
      "generator runs %d (%s), errors %d, waiters served %d\n", total_runs,
      exactly_once ? "exactly 1 per round" : "NOT 1 per round", total_errors,
      delays_us.size());
  std::cout << "waiter delay after store: " << Percentiles(delays_us) << "\n";
  return exactly_once && total_errors == 0 ? 0 : 1;
}

}  // namespace clustercache
