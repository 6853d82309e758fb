// The load scenario: a fixed number of requests in flight (async gRPC,
// completion queues), keys drawn from a Zipf distribution, a fetch/store mix;
// reports throughput and latency percentiles.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "benchmarks/bench.h"
#include "client/cache_client.h"
#include "client/server_channel.h"
#include "clustercache/v1/cache.grpc.pb.h"

namespace clustercache {
namespace {

volatile std::sig_atomic_t stop_early = 0;
void StopEarly(int) { stop_early = 1; }

// Draws key indexes 0..n-1 with P(k) proportional to 1/(k+1)^s.
class Zipf {
 public:
  Zipf(int64_t n, double s) : cdf_(n) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k)
      cdf_[k] = (sum += 1.0 / std::pow(k + 1.0, s));
    for (double& c : cdf_) c /= sum;
  }
  int64_t Next(std::mt19937_64& rng) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
  }

 private:
  std::vector<double> cdf_;
};

std::string KeyName(int64_t i) { return absl::StrFormat("bench/%08d", i); }

struct Slot {
  std::unique_ptr<grpc::ClientContext> context;
  v1::FetchRequest fetch;
  v1::FetchResponse fetched;
  v1::StoreRequest store;
  v1::StoreResponse stored;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::FetchResponse>>
      fetch_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::StoreResponse>>
      store_reader;
  bool is_fetch = true;
  absl::Time started;
  v1::Cache::Stub* stub = nullptr;
};

struct ThreadResult {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0, hits = 0, other = 0;
};

}  // namespace

int RunLoad(const BenchOptions& o) {
  double zipf_s, fetch_ratio;
  if (!absl::SimpleAtod(o.zipf, &zipf_s) || zipf_s < 0 ||
      !absl::SimpleAtod(o.fetch_ratio, &fetch_ratio) || fetch_ratio < 0 ||
      fetch_ratio > 1) {
    std::cerr << "clustercache-bench: --zipf >= 0, 0 <= --fetch-ratio <= 1\n";
    return 2;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentialsFor({o.tls_ca, "", ""});
  if (!credentials.ok()) {
    std::cerr << "clustercache-bench: " << credentials.status().message()
              << "\n";
    return 2;
  }
  std::string bearer;
  if (!o.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(o.token_file);
    if (!token.ok()) {
      std::cerr << "clustercache-bench: " << token.status().message() << "\n";
      return 2;
    }
    bearer = "Bearer " + *token;
  }
  auto with_token = [&bearer](grpc::ClientContext* ctx) {
    if (!bearer.empty()) ctx->AddMetadata("authorization", bearer);
  };
  std::vector<std::unique_ptr<v1::Cache::Stub>> stubs;
  for (int64_t c = 0; c < o.connections; ++c) {
    std::shared_ptr<grpc::Channel> channel =
        NewServerChannel(o.server, /*own_connection=*/true, *credentials);
    // Connected before anything is timed: the first calls would otherwise
    // count the connection's set-up (about 70 ms here) as their latency.
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(10))) {
      std::cerr << "clustercache-bench: cannot connect to " << o.server
                << "; is clustercached running there?\n";
      return 1;
    }
    stubs.push_back(v1::Cache::NewStub(channel));
  }
  const std::string payload(o.payload, 'x');

  // Fill every key once so that fetches hit.
  if (o.fill) {
    std::atomic<int64_t> next{0}, failed{0};
    std::vector<std::thread> fillers;
    for (int t = 0; t < 8; ++t) {
      fillers.emplace_back([&, t] {
        for (int64_t i; (i = next++) < o.keys;) {
          v1::StoreRequest r;
          r.mutable_key()->set_scope(o.scope);
          r.mutable_key()->set_name(KeyName(i));
          r.set_payload(payload);
          v1::StoreResponse resp;
          grpc::ClientContext ctx;
          with_token(&ctx);
          if (!stubs[t % stubs.size()]->Store(&ctx, r, &resp).ok()) failed++;
        }
      });
    }
    for (auto& f : fillers) f.join();
    if (failed > 0) {
      std::cerr << "clustercache-bench: " << failed
                << " stores failed while filling; is clustercached running at "
                << o.server << "?\n";
      return 1;
    }
  }

  // SIGINT or SIGTERM ends the run early, and what was measured is printed
  // (for a load that runs beside something of unknown length).
  std::signal(SIGINT, StopEarly);
  std::signal(SIGTERM, StopEarly);
  Zipf zipf(o.keys, zipf_s);
  const absl::Time start = absl::Now();
  const absl::Time end = start + o.duration;
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      grpc::CompletionQueue cq;
      std::mt19937_64 rng(t + 1);
      ThreadResult& res = results[t];
      res.latencies_us.reserve(1 << 20);
      int64_t in_flight =
          o.concurrency / o.threads + (t < o.concurrency % o.threads ? 1 : 0);
      std::vector<Slot> slots(in_flight);
      auto issue = [&](Slot* s) {
        s->context = std::make_unique<grpc::ClientContext>();
        with_token(s->context.get());
        s->is_fetch =
            std::uniform_real_distribution<double>(0, 1)(rng) < fetch_ratio;
        std::string name = KeyName(zipf.Next(rng));
        s->started = absl::Now();
        if (s->is_fetch) {
          s->fetch.mutable_key()->set_scope(o.scope);
          s->fetch.mutable_key()->set_name(name);
          s->fetch_reader =
              s->stub->AsyncFetch(s->context.get(), s->fetch, &cq);
          s->fetch_reader->Finish(&s->fetched, &s->status, s);
        } else {
          s->store.mutable_key()->set_scope(o.scope);
          s->store.mutable_key()->set_name(name);
          s->store.set_payload(payload);
          s->store_reader =
              s->stub->AsyncStore(s->context.get(), s->store, &cq);
          s->store_reader->Finish(&s->stored, &s->status, s);
        }
      };
      for (size_t i = 0; i < slots.size(); ++i) {
        slots[i].stub = stubs[(t + i * o.threads) % stubs.size()].get();
        issue(&slots[i]);
      }
      int64_t active = in_flight;
      void* tag;
      bool ok;
      while (active > 0 && cq.Next(&tag, &ok)) {
        Slot* s = static_cast<Slot*>(tag);
        absl::Time now = absl::Now();
        res.latencies_us.push_back(absl::ToInt64Microseconds(now - s->started));
        if (!ok || !s->status.ok()) {
          res.errors++;
        } else if (!s->is_fetch || s->fetched.outcome() == v1::HIT) {
          res.hits++;
        } else {
          res.other++;
        }
        if (now < end && !stop_early) {
          issue(s);
        } else {
          --active;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  ThreadResult total;
  for (ThreadResult& r : results) {
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(),
                              r.latencies_us.end());
    total.errors += r.errors;
    total.hits += r.hits;
    total.other += r.other;
  }
  int64_t n = total.latencies_us.size();
  std::cout << absl::StrFormat(
      "clustercache-bench load: %s fetch, %d-byte payloads, %d keys (zipf %s), "
      "%d in flight on %d connections, %d client threads, %.1fs\n",
      o.fetch_ratio, o.payload, o.keys, o.zipf, o.concurrency, o.connections,
      o.threads, seconds);
  std::cout << absl::StrFormat(
      "requests %d  errors %d  not-hit %d  throughput %.0f req/s\n", n,
      total.errors, total.other, n / seconds);
  std::cout << "latency " << Percentiles(total.latencies_us) << "\n";
  return total.errors == 0 ? 0 : 1;
}

}  // namespace clustercache
