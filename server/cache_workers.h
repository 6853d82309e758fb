// CacheWorkers: serve clustercache.v1.Cache (Fetch, Store, Release) on
// gRPC's asynchronous API. Each worker thread owns a completion queue; it
// takes every fetch that has arrived there and hands them to the engine as
// one batch (on Redis: one pipelined round trip for all of them, on this
// thread), and answers the fresh hits itself, so a hit costs no hand-off
// between threads. A fetch that must wait is answered later by whichever
// thread ends its wait. Stores and releases run on the worker for a store
// that never blocks, else where the engine allows blocking. Every answer
// names the node that served it.
#ifndef CLUSTERCACHE_SERVER_CACHE_WORKERS_H_
#define CLUSTERCACHE_SERVER_CACHE_WORKERS_H_

#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "cache/content_cache.h"
#include "clustercache/v1/cache.grpc.pb.h"
#include "server/auth.h"

namespace clustercache {

class CacheWorkers {
 public:
  // REQUIRES: `cache` outlives this object.
  // `auth` may be null (every call allowed).
  CacheWorkers(ContentCache* cache, std::string node_name, int threads,
               const Authorizer* auth = nullptr);
  ~CacheWorkers();

  // Before the server is built: the service and one queue per worker.
  void Register(grpc::ServerBuilder* builder);
  // After the server started.
  void Start();
  // Stops asking for new calls; before the server's Shutdown.
  void StopTaking() { stopping_ = true; }
  // After the server's Shutdown: waits (bounded) until every taken call is
  // answered, then drains the queues and joins the workers.
  void Join();

 private:
  struct Call;
  template <typename Request, typename Response, int kKind>
  struct Unary;
  using FetchCall = Unary<v1::FetchRequest, v1::FetchResponse, 0>;
  using StoreCall = Unary<v1::StoreRequest, v1::StoreResponse, 1>;
  using ReleaseCall = Unary<v1::ReleaseRequest, v1::ReleaseResponse, 2>;

  void Loop(grpc::ServerCompletionQueue* cq);
  // Asks gRPC for the next call of `kind` arriving on `cq`.
  void Ask(grpc::ServerCompletionQueue* cq, int kind);
  void ServeFetches(const std::vector<FetchCall*>& calls);
  void ServeStore(StoreCall* call);
  void ServeRelease(ReleaseCall* call);
  void Answer(Call* call, const grpc::Status& status);

  // The call's status when its token does not allow `role`, else OK.
  grpc::Status Deny(Call* call, Role role) const;

  ContentCache* const cache_;
  const std::string node_name_;
  const int threads_;
  const Authorizer* const auth_;
  v1::Cache::AsyncService service_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  int64_t unanswered_ ABSL_GUARDED_BY(mu_) = 0;  // taken, not yet answered
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> workers_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_CACHE_WORKERS_H_
