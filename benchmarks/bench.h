// clustercache-bench: load against a running clustercached.
#ifndef CLUSTERCACHE_BENCHMARKS_BENCH_H_
#define CLUSTERCACHE_BENCHMARKS_BENCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace clustercache {

struct BenchOptions {
  std::string server = "127.0.0.1:7411";
  std::string tls_ca;      // load: TLS to the server (its CA, PEM)
  std::string token_file;  // load: a token sent with every call
  std::string scenario = "load";  // load | stampede | invalidate
  // load
  int64_t connections = 4;
  int64_t concurrency = 50;  // requests in flight
  int64_t threads = 1;       // client completion-queue threads
  std::string scope = "content-view";
  int64_t keys = 10000;
  std::string zipf = "0.99";  // skew; 0 = uniform
  int64_t payload = 4096;
  std::string fetch_ratio = "1.0";  // the rest are stores
  bool fill = true;                 // store every key once first
  absl::Duration duration = absl::Seconds(10);
  // stampede
  int64_t requesters = 200;
  absl::Duration generate_time = absl::Milliseconds(200);
  int64_t rounds = 3;
  std::string holder_server;        // stampede: take the lease and store there
  std::string requester = "async";  // async calls, or thread (GetOrGenerate)
};

// Sorted latencies in microseconds → "p50 ... p99 ... p99.9 ..." text.
std::string Percentiles(std::vector<int64_t>& us);

int RunLoad(const BenchOptions& options);
int RunStampede(const BenchOptions& options);
int RunInvalidate(const BenchOptions& options);
// --server is a memcached pool (HOST:PORT,...), not clustercached.
int RunMemcachedDirect(const BenchOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_BENCHMARKS_BENCH_H_
