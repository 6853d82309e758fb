// clustercache-http-stampede: the stampede over the HTTP face. N clients,
// each on its own connection, ask at once for one missing key with
// ?lease=1&wait=10s; the one granted the lease "generates" (sleeps) and
// PUTs with its token; the others wait. Reports how many leases were
// granted (generator runs), how long after the store each waiter got its
// answer (p50, p99, max) and, with --server-pid, the node's threads before,
// during the wait and after.
//   clustercache-http-stampede --http=127.0.0.1:7412 --waiters=200
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cache/util/flag_table.h"
#include "cache/util/version.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string http = "127.0.0.1:7412";
  int64_t waiters = 200;
  int64_t server_pid = 0;
  absl::Duration generate = absl::Milliseconds(100);
};

// One waiting client: connect, GET, read the answer.
struct Conn {
  explicit Conn(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
  Clock::time_point answered;
  bool done = false, ok = false;
};

int Threads(int64_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  clustercache::FlagTable flags;
  flags.AddString("http", &o.http, "the node's HTTP face, HOST:PORT");
  flags.AddInt("waiters", &o.waiters, 2, 20000, "concurrent clients");
  flags.AddInt("server-pid", &o.server_pid, 0, 1 << 30,
               "the node's pid: report its threads (0: do not)");
  flags.AddDuration("generate", &o.generate, "how long the generator takes");
  std::vector<std::string> args(argv + 1, argv + argc), positional;
  if (clustercache::PrintVersionIfAsked(args, "clustercache-http-stampede")) {
    return 0;
  }
  bool help = false;
  if (absl::Status s = flags.Parse(args, &positional, nullptr, &help);
      !s.ok() || help || !positional.empty()) {
    std::cerr << (help ? "" : std::string(s.message()) + "\n")
              << "clustercache-http-stampede: the stampede over HTTP\n"
              << flags.Help();
    return help ? 0 : 2;
  }
  // A connection each: raise the open-files limit to the hard one.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  const size_t colon = o.http.rfind(':');
  tcp::endpoint endpoint(
      net::ip::make_address(o.http.substr(0, colon)),
      static_cast<unsigned short>(std::stoi(o.http.substr(colon + 1))));
  const std::string path = absl::StrCat("/v1/entries/http-stampede/k",
                                        absl::ToUnixMicros(absl::Now()));
  const int threads_before = o.server_pid ? Threads(o.server_pid) : -1;

  net::io_context ioc;
  std::vector<std::unique_ptr<Conn>> conns;
  std::atomic<int> sent{0}, answered{0};
  for (int64_t i = 0; i < o.waiters; ++i) {
    auto c = std::make_unique<Conn>(ioc);
    Conn* conn = c.get();
    conn->req = {http::verb::get, path + "?lease=1&wait=10s", 11};
    conn->req.set(http::field::host, o.http);
    conn->stream.expires_after(std::chrono::seconds(30));
    conn->stream.async_connect(endpoint, [&, conn](beast::error_code ec) {
      if (ec) {
        conn->done = true;
        ++answered;
        return;
      }
      http::async_write(
          conn->stream, conn->req, [&, conn](beast::error_code ec, size_t) {
            ++sent;
            if (ec) {
              conn->done = true;
              ++answered;
              return;
            }
            http::async_read(conn->stream, conn->buffer, conn->res,
                             [&, conn](beast::error_code ec, size_t) {
                               conn->answered = Clock::now();
                               conn->ok = !ec;
                               conn->done = true;
                               ++answered;
                             });
          });
    });
    conns.push_back(std::move(c));
  }
  std::thread io([&] { ioc.run(); });

  // The holder: the one answered with a Lease-Token.
  std::string token;
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(30);
  while (token.empty() && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (answered.load() == 0) continue;
    for (auto& c : conns) {
      if (c->done && c->ok) {
        auto it = c->res.find("Lease-Token");
        if (it != c->res.end()) token = std::string(it->value());
      }
    }
  }
  while (sent.load() < o.waiters && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The generator's time: every request has reached the node by its end.
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(o.generate));
  const int threads_during = o.server_pid ? Threads(o.server_pid) : -1;
  if (token.empty()) {
    std::cerr << "no lease was granted\n";
    ioc.stop();
    io.join();
    return 1;
  }
  // Store with the token, on a connection of its own.
  net::io_context put_ioc;
  beast::tcp_stream put(put_ioc);
  put.connect(endpoint);
  http::request<http::string_body> store{http::verb::put, path, 11};
  store.set(http::field::host, o.http);
  store.set("Lease-Token", token);
  store.body() = std::string(4096, 'g');
  store.prepare_payload();
  const Clock::time_point stored_at = Clock::now();
  http::write(put, store);
  beast::flat_buffer put_buffer;
  http::response<http::string_body> stored;
  http::read(put, put_buffer, stored);

  while (answered.load() < o.waiters && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ioc.stop();
  io.join();
  const int threads_after = o.server_pid ? Threads(o.server_pid) : -1;

  int leases = 0, hits = 0, failed = 0;
  std::vector<double> after_store;
  for (auto& c : conns) {
    if (!c->done || !c->ok) {
      ++failed;
      continue;
    }
    if (c->res.find("Lease-Token") != c->res.end()) ++leases;
    if (c->res.result() == http::status::ok && c->res.body().size() == 4096) {
      ++hits;
      after_store.push_back(Ms(c->answered - stored_at));
    }
  }
  std::sort(after_store.begin(), after_store.end());
  auto pct = [&](double p) {
    if (after_store.empty()) return 0.0;
    return after_store[std::min(after_store.size() - 1,
                                static_cast<size_t>(p * after_store.size()))];
  };
  std::cout << absl::StrFormat(
      "waiters %d: generator runs %d, store %d, answered with the entry %d, "
      "failed %d\n",
      o.waiters, leases, stored.result_int(), hits, failed);
  std::cout << absl::StrFormat(
      "from the store to the waiters' answers: p50 %.2f ms p99 %.2f ms max "
      "%.2f ms\n",
      pct(0.5), pct(0.99), after_store.empty() ? 0.0 : after_store.back());
  if (o.server_pid) {
    std::cout << absl::StrFormat(
        "server threads: before %d, with %d waiting %d, after %d\n",
        threads_before, o.waiters, threads_during, threads_after);
  }
  return leases == 1 && failed == 0 && hits == o.waiters - 1 ? 0 : 1;
}
