// curl and raw sockets for tests of the HTTP face: a request through the
// curl program, parsed, and plain loopback connections.
#ifndef CLUSTERCACHE_TESTS_SUPPORT_CURL_H_
#define CLUSTERCACHE_TESTS_SUPPORT_CURL_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/server_process.h"

namespace clustercache {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// curl -i ARGS URL, parsed.
inline Reply Curl(const std::string& url, const std::string& args = "") {
  ShellResult r =
      Shell(absl::StrCat("curl -s -i --max-time 10 ", args, " '", url, "'"));
  Reply reply;
  const size_t end = r.out.find("\r\n\r\n");
  if (end == std::string::npos) return reply;
  reply.body = r.out.substr(end + 4);
  bool first = true;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(r.out).substr(0, end), "\r\n")) {
    if (first) {
      first = false;
      std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
      if (parts.size() >= 2) (void)absl::SimpleAtoi(parts[1], &reply.status);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    reply.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return reply;
}

// A TCP connection to 127.0.0.1:`port` (-1 when refused).
inline int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline int PortOf(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_CURL_H_
