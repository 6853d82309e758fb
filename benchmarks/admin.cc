// The invalidate scenario: how long global expiry takes, whatever the number
// of entries stored (fill them first with --scenario=load --fetch-ratio=0).
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>

#include <iostream>

#include "absl/strings/str_format.h"
#include "benchmarks/bench.h"
#include "clustercache/v1/cache.grpc.pb.h"

namespace clustercache {

int RunInvalidate(const BenchOptions& o) {
  auto admin = v1::Admin::NewStub(
      grpc::CreateChannel(o.server, grpc::InsecureChannelCredentials()));
  std::vector<int64_t> us;
  int errors = 0;
  for (int64_t i = 0; i < o.rounds; ++i) {
    v1::InvalidateRequest request;
    request.set_scope("content-view");
    v1::InvalidateResponse response;
    grpc::ClientContext context;
    absl::Time start = absl::Now();
    if (!admin->Invalidate(&context, request, &response).ok()) ++errors;
    us.push_back(absl::ToInt64Microseconds(absl::Now() - start));
  }
  v1::StatsResponse stats;
  grpc::ClientContext context;
  (void)admin->Stats(&context, v1::StatsRequest(), &stats);
  std::cout << absl::StrFormat(
      "clustercache-bench invalidate: %d calls, %d entries stored, errors %d\n",
      o.rounds, stats.entries(), errors);
  std::cout << "invalidate latency " << Percentiles(us) << "\n";
  return errors == 0 ? 0 : 1;
}

}  // namespace clustercache
