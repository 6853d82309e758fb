// TcpProxy: a loopback TCP relay to a real server, that a test can cut (every
// connection closed, new ones refused) and restore: "the server became
// unreachable" without stopping a server that other tests share.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_TCP_PROXY_H_
#define CLUSTERCACHE_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace clustercache {

class TcpProxy {
 public:
  // Listens on a free loopback port; relays to 127.0.0.1:upstream_port.
  explicit TcpProxy(int upstream_port);
  ~TcpProxy();

  int port() const { return port_; }
  // Closes every relayed connection and refuses new ones.
  void Cut();
  // Accepts and relays again (on the same port).
  void Restore();
  // Hung: connections are accepted and kept, and nothing is relayed either
  // way (a server stopped with SIGSTOP), until Hang(false).
  void Hang(bool hung) { hung_ = hung; }
  // Bytes relayed so far, both ways.
  int64_t bytes_relayed() const { return bytes_.load(); }

 private:
  void Listen();
  void AcceptLoop(int listen_fd);
  void Relay(int client_fd);

  const int upstream_port_;
  int port_ = 0;
  absl::Mutex mu_;
  int listen_fd_ = -1;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> bytes_{0};
  std::atomic<bool> hung_{false};
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_TCP_PROXY_H_
