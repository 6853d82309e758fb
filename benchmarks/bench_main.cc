// clustercache-bench: flags, then the chosen scenario.
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "benchmarks/bench.h"
#include "cache/util/flag_table.h"
#include "cache/util/version.h"

namespace clustercache {

std::string Percentiles(std::vector<int64_t>& us) {
  if (us.empty()) return "no samples";
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * (us.size() - 1));
    return us[i] / 1000.0;
  };
  return absl::StrFormat("p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms",
                         at(0.5), at(0.99), at(0.999), us.back() / 1000.0);
}

}  // namespace clustercache

int main(int argc, char** argv) {
  using namespace clustercache;
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  BenchOptions o;
  FlagTable t;
  t.AddString("server", &o.server, "clustercached HOST:PORT");
  t.AddString("tls-ca", &o.tls_ca,
              "load: TLS to the server, trusting this CA (PEM)");
  t.AddString("token-file", &o.token_file,
              "load: send the token in this file with every call");
  t.AddString("scenario", &o.scenario,
              "load (throughput and latency), stampede (one expired key, "
              "many requesters), invalidate (latency of global expiry), or "
              "memcached-direct (the reference: gets straight from the "
              "memcached pool named by --server, --concurrency threads)");
  t.AddInt("connections", &o.connections, 1, 256,
           "TCP connections (stampede: async requesters spread over them)");
  t.AddInt("concurrency", &o.concurrency, 1, 10000, "load: requests in flight");
  t.AddInt("threads", &o.threads, 1, 64, "load: client threads");
  t.AddString("scope", &o.scope, "load: the scope of the keys");
  t.AddInt("keys", &o.keys, 1, 100000000, "load: distinct keys");
  t.AddString("zipf", &o.zipf, "load: Zipf skew of key choice (0 = uniform)");
  t.AddByteSize("payload", &o.payload, "load: payload size");
  t.AddString("fetch-ratio", &o.fetch_ratio,
              "load: share of fetches (the rest are stores)");
  t.AddDuration("duration", &o.duration,
                "load: how long to measure (SIGINT/SIGTERM end it early)");
  t.AddBool("fill", &o.fill,
            "load: store every key once before measuring (--fill=false: "
            "the keys are there from an earlier run)");
  t.AddInt("requesters", &o.requesters, 1, 10000,
           "stampede: concurrent requesters of one key");
  t.AddDuration("generate-time", &o.generate_time,
                "stampede: how long the generator takes");
  t.AddInt("rounds", &o.rounds, 1, 100, "stampede, invalidate: rounds");
  t.AddString("holder-server", &o.holder_server,
              "stampede: another node that takes the lease and stores, while "
              "the requesters wait on --server (cross-node waiting)");
  t.AddString("requester", &o.requester,
              "stampede: async (concurrent calls on one thread) or thread "
              "(a thread each, calling GetOrGenerate)");
  std::vector<std::string> args(argv + 1, argv + argc), positional;
  if (PrintVersionIfAsked(args, "clustercache-bench")) return 0;
  bool help = false;
  absl::Status s = t.Parse(args, &positional, nullptr, &help);
  if (help) {
    std::cout << "clustercache-bench: load generator for clustercached.\n\n"
              << t.Help();
    return 0;
  }
  if (!s.ok() || !positional.empty()) {
    std::cerr << "clustercache-bench: "
              << (s.ok() ? "unexpected argument" : std::string(s.message()))
              << "\n";
    return 2;
  }
  if (o.scenario == "load") return RunLoad(o);
  if (o.scenario == "stampede") return RunStampede(o);
  if (o.scenario == "invalidate") return RunInvalidate(o);
  if (o.scenario == "memcached-direct") return RunMemcachedDirect(o);
  std::cerr << "clustercache-bench: unknown scenario " << o.scenario << "\n";
  return 2;
}
