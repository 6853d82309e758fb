// A listening TCP socket on 127.0.0.1 and a free port, for tests that play
// a server which misbehaves (never accepts, or answers garbage).
#ifndef CLUSTERCACHE_TESTS_SUPPORT_LOOPBACK_LISTENER_H_
#define CLUSTERCACHE_TESTS_SUPPORT_LOOPBACK_LISTENER_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace clustercache {

// The listening socket (or -1), its port in *port. Close it when done.
inline int ListenOnLoopback(int* port, int backlog = 16) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_LOOPBACK_LISTENER_H_
