#include "tests/support/tcp_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace clustercache {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

TcpProxy::TcpProxy(int upstream_port) : upstream_port_(upstream_port) {
  Listen();
}

TcpProxy::~TcpProxy() {
  hung_ = false;  // the relays must see the cut
  Cut();
  for (std::thread& t : threads_) t.join();
  for (int fd : open_fds_) close(fd);
}

void TcpProxy::Listen() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(port_);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen(fd, 64);
  absl::MutexLock lock(&mu_);
  listen_fd_ = fd;
  threads_.emplace_back([this, fd] { AcceptLoop(fd); });
}

void TcpProxy::AcceptLoop(int listen_fd) {
  for (;;) {
    int client = accept(listen_fd, nullptr, nullptr);
    if (client < 0) return;  // shut down by Cut
    absl::MutexLock lock(&mu_);
    open_fds_.push_back(client);
    threads_.emplace_back([this, client] { Relay(client); });
  }
}

void TcpProxy::Relay(int client) {
  int upstream = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(upstream_port_);
  {
    absl::MutexLock lock(&mu_);
    open_fds_.push_back(upstream);
  }
  if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    shutdown(client, SHUT_RDWR);
    return;
  }
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  char buffer[16384];
  for (;;) {
    if (hung_) {
      poll(nullptr, 0, 10);
      continue;
    }
    if (poll(fds, 2, 100) < 0) break;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) bytes_ += n;  // before relaying: the peer sees it after
      if (n <= 0 || write(fds[1 - i].fd, buffer, n) != n) done = true;
    }
    if (done) break;
  }
  shutdown(client, SHUT_RDWR);
  shutdown(upstream, SHUT_RDWR);
}

void TcpProxy::Cut() {
  absl::MutexLock lock(&mu_);
  if (listen_fd_ >= 0) {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    listen_fd_ = -1;
  }
  // Shut down, not closed: relay threads may still poll them. The fds are
  // closed when the proxy is destroyed.
  for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
}

void TcpProxy::Restore() { Listen(); }

}  // namespace clustercache
