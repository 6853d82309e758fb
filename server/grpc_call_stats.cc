#include "server/grpc_call_stats.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace clustercache {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

class CallStats : public grpc::experimental::Interceptor {
 public:
  CallStats(ServerRpcInfo* info, RequestStats::Series* series,
            AccessLog* access_log)
      : info_(info),
        series_(series),
        access_log_(access_log),
        start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE) &&
        access_log_ != nullptr) {
      if (const void* message = methods->GetSendMessage()) {
        Sent(message);
      } else if (grpc::ByteBuffer* bytes =
                     methods->GetSerializedSendMessage()) {
        SentBytes(*bytes);
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const char* code = GrpcCodeName(status.error_code());
      const absl::Duration took = absl::Now() - start_;
      series_->Record(code, took);
      if (access_log_ != nullptr) {
        AccessRecord r;
        r.face = "grpc";
        r.peer = info_->server_context()->peer();
        r.method = info_->method();
        r.status = code;
        r.took = took;
        r.outcome = std::move(outcome_);
        r.bytes = bytes_;
        access_log_->Write(r);
      }
    }
    methods->Proceed();
  }

 private:
  // The size of an answer message, and its outcome when it has one.
  void Sent(const void* message) {
    if (message == nullptr) return;  // already serialized: not counted
    const auto* m = static_cast<const google::protobuf::Message*>(message);
    bytes_ += static_cast<int64_t>(m->ByteSizeLong());
    const google::protobuf::FieldDescriptor* field =
        m->GetDescriptor()->FindFieldByName("outcome");
    if (field != nullptr &&
        field->type() == google::protobuf::FieldDescriptor::TYPE_ENUM &&
        !field->is_repeated()) {
      outcome_ = m->GetReflection()->GetEnum(*m, field)->name();
    }
  }

  // An answer gRPC serialized already (the async API does): its size, and
  // its outcome when its first field is the enum "outcome" (field 1, which
  // protobuf writes first). Garbage reads as no outcome.
  void SentBytes(grpc::ByteBuffer& bytes) {
    bytes_ += static_cast<int64_t>(bytes.Length());
    const google::protobuf::FieldDescriptor* field = OutcomeField();
    std::vector<grpc::Slice> slices;
    if (field == nullptr || !bytes.Dump(&slices).ok() || slices.empty()) {
      return;
    }
    const uint8_t* p = slices[0].begin();
    const uint8_t* end = slices[0].end();
    if (p == end || *p != 0x08) return;  // field 1, varint
    ++p;
    uint64_t value = 0;
    for (int shift = 0; p < end && shift < 35; shift += 7, ++p) {
      value |= static_cast<uint64_t>(*p & 0x7F) << shift;
      if ((*p & 0x80) == 0) {
        const google::protobuf::EnumValueDescriptor* v =
            field->enum_type()->FindValueByNumber(static_cast<int>(value));
        if (v != nullptr) outcome_ = v->name();
        return;
      }
    }
  }

  // The answer's "outcome" field (an enum, field 1), if its type has one.
  const google::protobuf::FieldDescriptor* OutcomeField() const {
    absl::string_view name = info_->method() == nullptr ? "" : info_->method();
    if (!absl::ConsumePrefix(&name, "/")) return nullptr;
    std::string full(name);
    std::replace(full.begin(), full.end(), '/', '.');
    const google::protobuf::MethodDescriptor* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            full);
    if (method == nullptr) return nullptr;
    const google::protobuf::FieldDescriptor* field =
        method->output_type()->FindFieldByNumber(1);
    if (field == nullptr || field->name() != "outcome" ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_ENUM) {
      return nullptr;
    }
    return field;
  }

  ServerRpcInfo* const info_;
  RequestStats::Series* const series_;
  AccessLog* const access_log_;
  const absl::Time start_;
  int64_t bytes_ = 0;
  std::string outcome_;
};

}  // namespace

const char* GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "Canceled",
                                           "Unknown",
                                           "InvalidArgument",
                                           "DeadlineExceeded",
                                           "NotFound",
                                           "AlreadyExists",
                                           "PermissionDenied",
                                           "ResourceExhausted",
                                           "FailedPrecondition",
                                           "Aborted",
                                           "OutOfRange",
                                           "Unimplemented",
                                           "Internal",
                                           "Unavailable",
                                           "DataLoss",
                                           "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

grpc::experimental::Interceptor* GrpcCallStatsFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  // "/clustercache.v1.Cache/Fetch" -> service, method.
  absl::string_view full = info->method() == nullptr ? "" : info->method();
  absl::string_view service = "unknown", method = "unknown";
  if (absl::ConsumePrefix(&full, "/")) {
    size_t slash = full.find('/');
    if (slash != absl::string_view::npos) {
      service = full.substr(0, slash);
      method = full.substr(slash + 1);
    }
  }
  RequestStats::Series* series =
      stats_->grpc.For({TypeName(info->type()), service, method});
  return new CallStats(info, series, access_log_);
}

}  // namespace clustercache
