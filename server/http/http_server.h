// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast/Asio, for the HTTP
// face of the cache. It owns sockets, parsing, limits and timeouts; what a
// request means is the HttpHandler's. A handler answers through a Respond
// that may be called later from any thread (a fetch waiting for another
// holder's result holds no thread: the engine calls back).
//
// While a request is answered the connection is watched: a client that
// closes it cancels the request (a waiting fetch is dropped and never given
// the lease).
//
// Limits: header bytes (431), URL length (414), body bytes (413), the time
// to send a request's header once its first byte came (slowloris: the
// connection is closed), the idle time of a kept-alive connection, the
// number of connections (beyond it a new one is closed at once, counted).
#ifndef CLUSTERCACHE_SERVER_HTTP_HTTP_SERVER_H_
#define CLUSTERCACHE_SERVER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cache/stats.h"
#include "cache/util/cancellation.h"
#include "server/access_log.h"
#include "server/http/payload_body.h"

namespace clustercache {

struct HttpLimits {
  int64_t max_header_bytes = 16 << 10;
  int64_t max_url_bytes = 8 << 10;
  int64_t max_body_bytes = 8 << 20;
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Seconds(60);
  // Writing an answer, and reading a body once its header came.
  absl::Duration io_timeout = absl::Seconds(60);
  int64_t max_connections = 10000;
  int64_t threads = 2;
};

using HttpRequest =
    boost::beast::http::request<boost::beast::http::string_body>;
// The chunks of an answer of unknown length (Transfer-Encoding: chunked),
// e.g. an NDJSON stream. Used from one thread that may block.
class HttpChunks {
 public:
  // Without Finish the connection is closed: the client sees the stream
  // cut short, never a complete-looking answer.
  virtual ~HttpChunks() = default;
  // Sends one chunk and waits until it is written (back-pressure). False
  // when the client has gone, the server is stopping or the write took
  // longer than the I/O timeout: stop producing.
  virtual bool Write(std::string chunk) = 0;
  // Ends the answer (the last chunk). At most once.
  virtual void Finish() = 0;
};

// How a handler answers one request: exactly once, from any thread, either
// whole (operator()) or as a stream (Stream).
class Respond {
 public:
  using Whole = std::function<void(HttpResponse)>;
  using Streamed = std::function<std::unique_ptr<HttpChunks>(HttpResponse)>;
  Respond(Whole whole, Streamed streamed)
      : whole_(std::move(whole)), streamed_(std::move(streamed)) {}

  void operator()(HttpResponse response) const { whole_(std::move(response)); }
  // Sends `head` (status and headers; its body is not sent) and returns
  // the writer of the body's chunks. Blocks until the head is written: not
  // on a thread of the listener.
  std::unique_ptr<HttpChunks> Stream(HttpResponse head) const {
    return streamed_(std::move(head));
  }

 private:
  Whole whole_;
  Streamed streamed_;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // `peer` is "IP:PORT". Must not block for long: a store round trip at
  // most (waits go through the engine's callbacks). `gone` is cancelled
  // when the client closes the connection before its answer.
  virtual void Handle(HttpRequest request, const std::string& peer,
                      std::shared_ptr<Cancellation> gone, Respond respond) = 0;
  // The route's name for the stats (http_requests_total{route}): one of a
  // few fixed names, never a key.
  virtual absl::string_view RouteOf(const HttpRequest& request) const {
    (void)request;
    return "other";
  }
};

class HttpServer {
 public:
  // REQUIRES: `handler` and `stats` (the node's: http_* counters, requests
  // by route) outlive this object.
  HttpServer(HttpHandler* handler, HttpLimits limits, Stats* stats);
  ~HttpServer();

  // Every answered request is written there too (null: none). Before
  // Start; REQUIRES: it outlives this object.
  void SetAccessLog(AccessLog* access_log);
  // Binds HOST:PORT (port 0 picks one) and starts the threads. Errors name
  // `flag`.
  absl::Status Start(const std::string& listen,
                     absl::string_view flag = "--http-listen");
  int port() const { return port_; }
  // HTTPS from now on for new connections (open ones keep theirs); null:
  // plaintext. Before Start and on SIGHUP.
  void SetTls(std::shared_ptr<boost::asio::ssl::context> tls);
  // Stops accepting; open connections get `grace` to finish their request,
  // then everything is closed and the threads joined. Answers that arrive
  // after are dropped.
  void Shutdown(absl::Duration grace);

 private:
  struct SessionBase;
  template <class Stream>
  class Session;
  struct State;
  template <class S>
  static void StartSession(const std::shared_ptr<State>& state,
                           std::shared_ptr<S> session);
  // Accepts the next connection (and, from its handler, the one after).
  static void Accept(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_HTTP_HTTP_SERVER_H_
