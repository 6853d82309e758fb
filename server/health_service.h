// HealthService: grpc.health.v1.Health for load balancers and probes. The
// server ("") and the clustercache.v1 services are SERVING until shutdown
// begins, then NOT_SERVING; other names are NOT_FOUND (Check) or
// SERVICE_UNKNOWN (Watch). Check runs on gRPC's synchronous API (gRPC's
// built-in health service runs on its callback threads, which would share
// polling with the cache workers and cost every fetch a hand-off). Watch
// streams run on a completion queue and one thread of their own: an open
// stream holds no thread, and at most `max_watchers` are open (beyond that,
// RESOURCE_EXHAUSTED).
#ifndef CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_
#define CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_

#include <grpcpp/alarm.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace clustercache {

class HealthService final
    : public grpc::health::v1::Health::WithAsyncMethod_Watch<
          grpc::health::v1::Health::Service> {
 public:
  explicit HealthService(int max_watchers) : max_watchers_(max_watchers) {}
  ~HealthService() override;

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;

  // Before the server is built: the service and the watchers' queue.
  void Register(grpc::ServerBuilder* builder);
  // After the server started: the watchers' thread.
  void Start();
  // NOT_SERVING from now on; every open Watch stream is told and ended.
  void Shutdown();
  // After the server's Shutdown: drains the queue, joins the thread.
  void Join();

  // Watch streams open now.
  int watchers() const { return open_.load(); }

 private:
  struct Watcher;
  void Loop();
  void AskForWatch();

  const int max_watchers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread thread_;
  grpc::Alarm stop_alarm_;  // wakes the thread to end the open streams
  // The streams waiting for shutdown; the watchers' thread only.
  absl::flat_hash_set<Watcher*> idle_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HEALTH_SERVICE_H_
