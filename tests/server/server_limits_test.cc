// Issue 14, item 12: what clients can hold on a node is bounded. 1000
// Health.Watch streams hold no thread (they did: one each); the next one is
// refused; 2000 connections that never speak are closed after the
// handshake timeout; the thread count stays flat through all of it; and at
// shutdown every watcher is told NOT_SERVING.
#include <grpcpp/create_channel.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A field of /proc/PID/status ("Threads", "VmRSS"): its number, or -1.
int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, field + ":")) continue;
    std::string value = line.substr(field.size() + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value = value.substr(0, value.find_first_of(" \t"));
    int64_t n = -1;
    return absl::SimpleAtoi(value, &n) ? n : -1;
  }
  return -1;
}

// Open Watch streams, driven from one completion queue.
struct Watchers {
  struct Stream {
    grpc::ClientContext context;
    HealthCheckResponse response;
    std::unique_ptr<grpc::ClientAsyncReader<HealthCheckResponse>> reader;
    grpc::Status status;
  };
  grpc::CompletionQueue cq;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<Stream>> streams;

  explicit Watchers(const std::string& address) {
    for (int i = 0; i < 4; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", i);  // four connections, not one
      channels.push_back(grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args));
    }
  }
  ~Watchers() {
    for (auto& s : streams) s->context.TryCancel();
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
  // Starts `n` more streams and waits for the first message (or the end)
  // of each; returns how many said `want`.
  int Open(int n, HealthCheckResponse::ServingStatus want) {
    const size_t first = streams.size();
    for (int i = 0; i < n; ++i) {
      auto s = std::make_unique<Stream>();
      s->context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::seconds(60));
      HealthCheckRequest request;
      std::unique_ptr<Health::Stub> stub =
          Health::NewStub(channels[streams.size() % channels.size()]);
      s->reader = stub->PrepareAsyncWatch(&s->context, request, &cq);
      s->reader->StartCall(s.get());  // tag: started
      streams.push_back(std::move(s));
    }
    // Each stream: started, then its first Read.
    int said = 0, pending = n;
    std::vector<int> step(streams.size(), 0);
    while (pending > 0) {
      void* tag;
      bool ok;
      if (cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() +
                                      std::chrono::seconds(30)) !=
          grpc::CompletionQueue::GOT_EVENT) {
        break;
      }
      Stream* s = static_cast<Stream*>(tag);
      size_t i = first;
      while (i < streams.size() && streams[i].get() != s) ++i;
      if (i == streams.size()) continue;
      if (step[i] == 0 && ok) {
        step[i] = 1;
        s->reader->Read(&s->response, s);
        continue;
      }
      if (step[i] == 1 && ok && s->response.status() == want) ++said;
      --pending;
    }
    return said;
  }
};

TEST(ServerLimitsTest, ThousandWatchersAndTwoThousandIdleConnections) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node = ServerProcess::Start(
      {"--max-health-watchers=1000", "--handshake-timeout=1s"});
  ASSERT_TRUE(node.ok()) << node.status();
  const pid_t pid = (*node)->pid();
  const int64_t threads_at_start = ProcStatus(pid, "Threads");
  ASSERT_GT(threads_at_start, 0);

  Watchers watchers((*node)->address());
  EXPECT_EQ(watchers.Open(1000, HealthCheckResponse::SERVING), 1000);
  const int64_t threads_watched = ProcStatus(pid, "Threads");
  const int64_t rss_watched = ProcStatus(pid, "VmRSS");
  // The 1001st is refused: its stream ends without a status message.
  EXPECT_EQ(watchers.Open(1, HealthCheckResponse::SERVING), 0);

  // 2000 connections that never send a byte.
  const int port = std::stoi((*node)->address().substr(
      (*node)->address().rfind(':') + 1));
  std::vector<int> idle;
  for (int i = 0; i < 2000; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    idle.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(300));
  const int64_t threads_idle = ProcStatus(pid, "Threads");
  const int64_t rss_idle = ProcStatus(pid, "VmRSS");
  std::cout << "threads: " << threads_at_start << " at start, "
            << threads_watched << " with 1000 watchers, " << threads_idle
            << " with 2000 idle connections more; RSS " << rss_watched
            << " kB, then " << rss_idle << " kB\n";
  // A thread per stream or per connection would be thousands.
  EXPECT_LE(threads_watched, threads_at_start + 8);
  EXPECT_LE(threads_idle, threads_at_start + 8);
  EXPECT_LT(rss_idle, 512 * 1024) << "kB";
  // The server closes them once the handshake timeout has passed.
  int closed = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  for (int fd : idle) {
    timeval wait{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    char byte;
    while (absl::Now() < give_up) {
      ssize_t n = read(fd, &byte, 1);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        ++closed;
        break;
      }
      if (n > 0) continue;  // the server's settings frame
    }
    close(fd);
  }
  EXPECT_EQ(closed, 2000) << "closed by the server";

  // Shutdown tells every watcher.
  EXPECT_EQ((*node)->Stop(), 0);
  int told = 0;
  void* tag;
  bool ok;
  for (size_t i = 0; i < 1000; ++i) {
    watchers.streams[i]->reader->Read(&watchers.streams[i]->response,
                                      watchers.streams[i].get());
  }
  for (size_t i = 0; i < 1000; ++i) {
    if (watchers.cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() +
                                             std::chrono::seconds(10)) !=
        grpc::CompletionQueue::GOT_EVENT) {
      break;
    }
    if (ok && static_cast<Watchers::Stream*>(tag)->response.status() ==
                  HealthCheckResponse::NOT_SERVING) {
      ++told;
    }
  }
  EXPECT_EQ(told, 1000);
}

}  // namespace
}  // namespace clustercache
