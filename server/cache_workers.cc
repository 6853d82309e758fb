#include "server/cache_workers.h"

#include <grpc/support/time.h>

#include "server/proto_convert.h"

namespace clustercache {
namespace {

// Calls of each kind each worker has asked gRPC for at any time: a burst of
// arrivals does not wait for the worker to ask again.
constexpr int kAsked[] = {64, 8, 8};  // fetch, store, release
// The most fetches one batch takes.
constexpr size_t kMaxBatch = 64;

grpc::Status ToResponse(const absl::StatusOr<FetchResult>& result,
                        v1::FetchResponse* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_outcome(FetchOutcomeToProto(result->outcome));
  if (result->entry) {
    MetaToProto(result->entry->meta, result->outcome == FetchOutcome::kHit,
                response->mutable_meta());
    response->set_payload(*result->entry->payload);
  }
  if (!result->lease.token.empty()) {
    LeaseToProto(result->lease, response->mutable_lease());
  }
  return grpc::Status::OK;
}

}  // namespace

// A call has two tags on its queue. `event`: first its arrival, then (once
// answered) the end of its answer. `done`: the call is over, answered or
// cancelled (its deadline passed, its client went); gRPC returns it once
// for every call that arrived. The call is deleted when both are back.
struct CacheWorkers::Call {
  explicit Call(int k) : kind(k) { context.AsyncNotifyWhenDone(&done); }
  virtual ~Call() = default;
  virtual void Finish(const grpc::Status& status) = 0;
  struct Tag {
    Call* call;
  };
  const int kind;
  Tag event{this};
  Tag done{this};
  bool arrived = false;   // these three on the queue's worker only
  bool finished = false;  // the answer's end is back
  bool over = false;      // `done` is back
  // For a fetch that waits: the engine drops it when the call is cancelled.
  std::shared_ptr<Cancellation> cancellation;
  grpc::ServerContext context;
};

template <typename Request, typename Response, int kKind>
struct CacheWorkers::Unary : Call {
  Unary() : Call(kKind) {}
  void Finish(const grpc::Status& status) override {
    if (status.ok()) {
      writer.Finish(response, status, &event);
    } else {
      writer.FinishWithError(status, &event);
    }
  }
  Request request;
  Response response;
  grpc::ServerAsyncResponseWriter<Response> writer{&context};
};

CacheWorkers::CacheWorkers(ContentCache* cache, std::string node_name,
                           int threads, const Authorizer* auth)
    : cache_(cache),
      node_name_(std::move(node_name)),
      threads_(threads),
      auth_(auth) {}

grpc::Status CacheWorkers::Deny(Call* call, Role role) const {
  if (auth_ == nullptr) return grpc::Status::OK;
  return ToGrpcStatus(auth_->Check(call->context, role).status());
}

CacheWorkers::~CacheWorkers() { Join(); }

void CacheWorkers::Register(grpc::ServerBuilder* builder) {
  builder->RegisterService(&service_);
  for (int i = 0; i < threads_; ++i) {
    queues_.push_back(builder->AddCompletionQueue());
  }
}

void CacheWorkers::Start() {
  for (auto& q : queues_) {
    workers_.emplace_back([this, cq = q.get()] { Loop(cq); });
  }
}

void CacheWorkers::Join() {
  if (workers_.empty()) return;
  stopping_ = true;
  {
    // A call whose wait was cancelled is answered soon, from another
    // thread; its queue must stay open until then.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](int64_t* n) { return *n == 0; }, &unanswered_),
                         absl::Seconds(10));
  }
  for (auto& q : queues_) q->Shutdown();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
}

void CacheWorkers::Ask(grpc::ServerCompletionQueue* cq, int kind) {
  if (stopping_) return;
  if (kind == 0) {
    auto* c = new FetchCall;
    service_.RequestFetch(&c->context, &c->request, &c->writer, cq, cq,
                          &c->event);
  } else if (kind == 1) {
    auto* c = new StoreCall;
    service_.RequestStore(&c->context, &c->request, &c->writer, cq, cq,
                          &c->event);
  } else {
    auto* c = new ReleaseCall;
    service_.RequestRelease(&c->context, &c->request, &c->writer, cq, cq,
                            &c->event);
  }
}

void CacheWorkers::Loop(grpc::ServerCompletionQueue* cq) {
  for (int kind = 0; kind < 3; ++kind) {
    for (int i = 0; i < kAsked[kind]; ++i) Ask(cq, kind);
  }
  std::vector<FetchCall*> fetches;
  auto sort = [&](void* tag, bool ok) {
    Call* call = static_cast<Call::Tag*>(tag)->call;
    if (tag == &call->done) {
      call->over = true;
      if (call->context.IsCancelled() && call->cancellation) {
        call->cancellation->Cancel();  // a waiting fetch is dropped now
      }
      if (call->finished) delete call;
      return;
    }
    if (!call->arrived && !ok) {  // no call (shutting down): no `done` either
      delete call;
      return;
    }
    if (call->arrived) {  // the answer's end
      call->finished = true;
      if (call->over) delete call;
      return;
    }
    call->arrived = true;
    Ask(cq, call->kind);
    {
      absl::MutexLock lock(&mu_);
      ++unanswered_;
    }
    if (call->kind == 0) {
      fetches.push_back(static_cast<FetchCall*>(call));
    } else if (call->kind == 1) {
      ServeStore(static_cast<StoreCall*>(call));
    } else {
      ServeRelease(static_cast<ReleaseCall*>(call));
    }
  };
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
    sort(tag, ok);
    // Whatever else has arrived joins the batch.
    while (fetches.size() < kMaxBatch &&
           cq->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) ==
               grpc::CompletionQueue::GOT_EVENT) {
      sort(tag, ok);
    }
    if (!fetches.empty()) ServeFetches(fetches);
    fetches.clear();
  }
}

void CacheWorkers::ServeFetches(const std::vector<FetchCall*>& calls) {
  std::vector<ContentCache::PendingFetch> batch;
  batch.reserve(calls.size());
  for (FetchCall* call : calls) {
    call->response.set_served_by(node_name_);
    if (grpc::Status denied = Deny(call, Role::kRead); !denied.ok()) {
      Answer(call, denied);
      continue;
    }
    absl::StatusOr<FetchRequest> request = FetchFromProto(call->request);
    if (!request.ok()) {
      Answer(call, ToGrpcStatus(request.status()));
      continue;
    }
    if (request->wait > absl::ZeroDuration()) {
      call->cancellation = std::make_shared<Cancellation>();
      request->cancellation = call->cancellation;
    }
    batch.push_back(
        {*std::move(request), [this, call](absl::StatusOr<FetchResult> result) {
           Answer(call, ToResponse(result, &call->response));
         }});
  }
  cache_->FetchMany(std::move(batch));
}

void CacheWorkers::ServeStore(StoreCall* call) {
  if (grpc::Status denied = Deny(call, Role::kWrite); !denied.ok()) {
    return Answer(call, denied);
  }
  cache_->RunBlocking([this, call] {
    call->response.set_served_by(node_name_);
    absl::StatusOr<Key> key = KeyFromProto(call->request.key());
    absl::StatusOr<EntryWrite> write =
        key.ok() ? WriteFromProto(*key, call->request)
                 : absl::StatusOr<EntryWrite>(key.status());
    absl::StatusOr<Commit> commit =
        write.ok() ? cache_->Store(*write, call->request.lease_token())
                   : absl::StatusOr<Commit>(write.status());
    if (commit.ok()) {
      call->response.set_outcome(CommitOutcomeToProto(commit->outcome));
      call->response.set_mtime_us(commit->mtime);
    }
    Answer(call, ToGrpcStatus(commit.status()));
  });
}

void CacheWorkers::ServeRelease(ReleaseCall* call) {
  if (grpc::Status denied = Deny(call, Role::kWrite); !denied.ok()) {
    return Answer(call, denied);
  }
  cache_->RunBlocking([this, call] {
    call->response.set_served_by(node_name_);
    absl::StatusOr<Key> key = KeyFromProto(call->request.key());
    absl::StatusOr<bool> released =
        key.ok() ? cache_->Release(*key, call->request.lease_token())
                 : absl::StatusOr<bool>(key.status());
    if (released.ok()) call->response.set_released(*released);
    Answer(call, ToGrpcStatus(released.status()));
  });
}

void CacheWorkers::Answer(Call* call, const grpc::Status& status) {
  call->Finish(status);
  absl::MutexLock lock(&mu_);
  --unanswered_;
}

}  // namespace clustercache
