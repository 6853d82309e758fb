// A program that links the C++ client library alone (issue 13): it must
// build with no store, no engine and none of their libraries, and answer
// UNAVAILABLE, not crash, when nothing listens.
#include <iostream>

#include "client/cache_client.h"
#include "client/get_or_generate.h"

int main() {
  clustercache::ClientOptions options;
  options.servers = {"127.0.0.1:1"};  // nothing listens on port 1
  options.deadline = absl::Seconds(2);
  std::unique_ptr<clustercache::GrpcClient> client =
      clustercache::NewGrpcClient(options);
  clustercache::v1::FetchRequest request;
  request.mutable_key()->set_scope("content-view");
  request.mutable_key()->set_name("k");
  absl::StatusOr<clustercache::v1::FetchResponse> response =
      client->Fetch(request);
  if (response.ok() || !absl::IsUnavailable(response.status())) {
    std::cerr << "expected UNAVAILABLE, got " << response.status() << "\n";
    return 1;
  }
  std::cout << "client alone: " << response.status() << "\n";
  return 0;
}
