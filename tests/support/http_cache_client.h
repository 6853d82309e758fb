// HttpCacheClient: the cache and the admin calls the history checker makes,
// over a node's HTTP face (the lease protocol and the admin routes) instead
// of gRPC, so that one history holds both faces. One kept-alive connection;
// every call has a deadline (connect, write and read together); a failed
// call drops the connection and the next one reconnects. Not thread-safe:
// one per client thread.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_HTTP_CACHE_CLIENT_H_
#define CLUSTERCACHE_TESTS_SUPPORT_HTTP_CACHE_CLIENT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "client/cache_client.h"

namespace clustercache {

// `address` is the node's HTTP HOST:PORT.
std::unique_ptr<GrpcClient> NewHttpCacheClient(const std::string& address,
                                               absl::Duration deadline);

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_HTTP_CACHE_CLIENT_H_
