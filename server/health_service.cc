#include "server/health_service.h"

#include <grpc/support/time.h>

#include <string>

namespace clustercache {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

bool Known(const std::string& service) {
  return service.empty() || service == "clustercache.v1.Cache" ||
         service == "clustercache.v1.Admin";
}

// The tag of the alarm that starts the shutdown of the open streams.
int stop_tag;

}  // namespace

// One Watch stream. `event` comes back for its arrival, each write and the
// finish; `done` when the call is over (finished or cancelled), once, for
// a call that arrived. Deleted when `done` is back and no op is pending.
struct HealthService::Watcher {
  struct Tag {
    Watcher* watcher;
  };
  enum class Step { kArriving, kServing, kIdle, kClosing, kFinishing };
  Watcher() { context.AsyncNotifyWhenDone(&done); }

  Tag event{this};
  Tag done{this};
  Step step = Step::kArriving;
  bool pending = true;   // an op of `event` is outstanding
  bool over = false;     // `done` is back
  bool counted = false;  // in open_
  grpc::ServerContext context;
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer{&context};

  void Write(HealthCheckResponse::ServingStatus status, Step next) {
    response.set_status(status);
    step = next;
    pending = true;
    writer.Write(response, &event);
  }
  void Finish(const grpc::Status& status) {
    step = Step::kFinishing;
    pending = true;
    writer.Finish(status, &event);
  }
};

HealthService::~HealthService() { Join(); }

grpc::Status HealthService::Check(grpc::ServerContext* context,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (!Known(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown service: " + request->service());
  }
  response->set_status(stopping_ ? HealthCheckResponse::NOT_SERVING
                                 : HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

void HealthService::Register(grpc::ServerBuilder* builder) {
  builder->RegisterService(this);
  cq_ = builder->AddCompletionQueue();
}

void HealthService::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void HealthService::Shutdown() {
  if (stopping_.exchange(true) || !thread_.joinable()) return;
  stop_alarm_.Set(cq_.get(), gpr_time_0(GPR_CLOCK_MONOTONIC), &stop_tag);
}

void HealthService::Join() {
  if (!thread_.joinable()) return;
  cq_->Shutdown();
  thread_.join();
}

void HealthService::AskForWatch() {
  if (stopping_) return;
  auto* w = new Watcher;
  RequestWatch(&w->context, &w->request, &w->writer, cq_.get(), cq_.get(),
               &w->event);
}

void HealthService::Loop() {
  AskForWatch();
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) {
    if (tag == &stop_tag) {  // shutdown began: tell every idle stream
      for (Watcher* w : idle_) {
        w->Write(HealthCheckResponse::NOT_SERVING, Watcher::Step::kClosing);
      }
      idle_.clear();
      continue;
    }
    Watcher* w = static_cast<Watcher::Tag*>(tag)->watcher;
    if (tag == &w->done) {
      w->over = true;
      if (w->step == Watcher::Step::kIdle) idle_.erase(w);  // client went
    } else {
      w->pending = false;
      switch (w->step) {
        case Watcher::Step::kArriving:
          if (!ok) {  // no call (shutting down): no `done` either
            delete w;
            continue;
          }
          AskForWatch();
          if (!Known(w->request.service())) {
            w->Write(HealthCheckResponse::SERVICE_UNKNOWN,
                     Watcher::Step::kClosing);
          } else if (open_.load() >= max_watchers_) {
            w->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "too many health watchers (at most " +
                                       std::to_string(max_watchers_) + ")"));
          } else {
            w->counted = true;
            open_.fetch_add(1);
            w->Write(
                stopping_ ? HealthCheckResponse::NOT_SERVING
                          : HealthCheckResponse::SERVING,
                stopping_ ? Watcher::Step::kClosing : Watcher::Step::kServing);
          }
          break;
        case Watcher::Step::kServing:
          if (!ok || w->over) {
            w->Finish(grpc::Status::OK);
          } else if (stopping_) {
            w->Write(HealthCheckResponse::NOT_SERVING, Watcher::Step::kClosing);
          } else {
            w->step = Watcher::Step::kIdle;
            idle_.insert(w);
          }
          break;
        case Watcher::Step::kClosing:
          w->Finish(grpc::Status::OK);
          break;
        case Watcher::Step::kFinishing:
        case Watcher::Step::kIdle:
          break;
      }
    }
    if (w->over && !w->pending) {
      if (w->counted) open_.fetch_sub(1);
      delete w;
    }
  }
}

}  // namespace clustercache
