#include "server/http/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cache/util/log.h"

namespace clustercache {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

std::chrono::nanoseconds Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// A short answer the server makes itself (over a limit, malformed).
HttpResponse Refusal(http::status status, absl::string_view why) {
  HttpResponse res(status, 11);
  res.set(http::field::content_type, "application/json");
  auto body = std::make_shared<const std::string>(
      absl::StrCat("{\"error\":\"", why, "\"}\n"));
  res.body().payload = body;
  res.body().length = body->size();
  res.prepare_payload();
  return res;
}

// One request as the stats and the access log see it.
struct Exchange {
  absl::Time started;
  RequestStats::Series* route;
  std::string method;  // "GET /v1/entries/a/b"
};

// The served outcome from the fetch route's headers ("" for other routes).
std::string OutcomeOf(const HttpResponse& res) {
  auto it = res.find("Cache-Status");
  if (it == res.end()) return "";
  const absl::string_view v(it->value().data(), it->value().size());
  const bool leased = res.find("Lease-Token") != res.end();
  std::string outcome = absl::StrContains(v, "detail=timeout") ? "TIMEOUT"
                        : absl::StrContains(v, "detail=unavailable")
                            ? "UNAVAILABLE"
                        : absl::StrContains(v, "; hit")     ? "HIT"
                        : absl::StrContains(v, "fwd=stale") ? "STALE"
                                                            : "MISS";
  if (leased) outcome += "_LEASE";
  return outcome;
}

}  // namespace

struct HttpServer::State {
  State(HttpHandler* h, HttpLimits l, Stats* s)
      : handler(h),
        limits(l),
        stats(*s),
        counters(s->node()),
        ioc(static_cast<int>(std::max<int64_t>(1, l.threads))) {}
  HttpHandler* const handler;
  const HttpLimits limits;
  Stats& stats;
  NodeCounters& counters;
  AccessLog* access_log = nullptr;  // set before Start

  // Counts an answered request and logs it.
  void Answered(const Exchange& x, const std::string& peer,
                const HttpResponse& res, int64_t bytes) {
    const absl::Duration took = absl::Now() - x.started;
    const std::string code = absl::StrCat(res.result_int());
    x.route->Record(code, took);
    if (access_log == nullptr) return;
    AccessRecord r;
    r.face = "http";
    r.peer = peer;
    r.method = x.method;
    r.status = code;
    r.took = took;
    r.outcome = OutcomeOf(res);
    r.bytes = bytes;
    access_log->Write(r);
  }
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  // Answers from the engine are posted only while open; sessions live in
  // `sessions` until they close, so that none outlives the io_context.
  absl::Mutex mu;
  bool open ABSL_GUARDED_BY(mu) = true;
  absl::flat_hash_map<SessionBase*, std::shared_ptr<SessionBase>> sessions
      ABSL_GUARDED_BY(mu);
  // Set: HTTPS, new connections with this context (swapped on SIGHUP).
  std::shared_ptr<ssl::context> tls ABSL_GUARDED_BY(mu);
};

struct HttpServer::SessionBase {
  virtual ~SessionBase() = default;
  // Shutdown: closes the connection now if it waits for a request, or
  // after the answer it is giving (with "Connection: close").
  virtual void CloseWhenIdle() = 0;
  std::atomic<bool> told_to_close{false};  // CloseWhenIdle called
};

namespace {

// The lowest layer of either stream (expiry, socket).
beast::tcp_stream& Tcp(beast::tcp_stream& s) { return s; }
beast::tcp_stream& Tcp(beast::ssl_stream<beast::tcp_stream>& s) {
  return s.next_layer();
}

}  // namespace

// One connection: plaintext (Stream = beast::tcp_stream) or TLS
// (beast::ssl_stream over it: a handshake first, within the header
// timeout).
template <class Stream>
class HttpServer::Session
    : public SessionBase,
      public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... TlsContext>
  Session(std::shared_ptr<State> state, tcp::socket socket, TlsContext&... tls)
      : state_(std::move(state)), stream_(std::move(socket), tls...) {
    beast::error_code ec;
    tcp::endpoint remote = Tcp(stream_).socket().remote_endpoint(ec);
    if (!ec)
      peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
  }
  ~Session() override { Bump(state_->counters.http_connections, -1); }

  void CloseWhenIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stopping_ = true;
      if (!self->answering_) self->Close();
    });
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        Tcp(self->stream_)
            .expires_after(Chrono(self->state_->limits.header_timeout));
        self->stream_.async_handshake(
            ssl::stream_base::server, [self](beast::error_code ec) {
              if (ec) {
                Bump(self->state_->counters.http_bad_requests);
                return self->Close();
              }
              self->AwaitRequest();
            });
      } else {
        self->AwaitRequest();
      }
    });
  }

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

  // Idle until the next request's first byte (or use what is buffered).
  void AwaitRequest() {
    if (buffer_.size() > 0) return ReadHeader();
    Tcp(stream_).expires_after(Chrono(state_->limits.idle_timeout));
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    const HttpLimits& limits = state_->limits;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(limits.max_body_bytes));
    Tcp(stream_).expires_after(Chrono(limits.header_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return Refuse(http::status::request_header_fields_too_large,
                    "header too large");
    }
    if (ec == http::error::body_limit) {  // from Content-Length
      return Refuse(http::status::payload_too_large, "body too large");
    }
    if (ec) {  // timed out, closed, or not HTTP
      Bump(state_->counters.http_bad_requests);
      if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
          ec == net::error::eof) {
        return Close();
      }
      return Refuse(http::status::bad_request, "malformed request");
    }
    const auto& header = parser_->get();
    if (static_cast<int64_t>(header.target().size()) >
        state_->limits.max_url_bytes) {
      return Refuse(http::status::uri_too_long, "URL too long");
    }
    if (parser_->content_length() &&
        *parser_->content_length() >
            static_cast<uint64_t>(state_->limits.max_body_bytes)) {
      return Refuse(http::status::payload_too_large, "body too large");
    }
    if (parser_->is_done()) return OnRequest();
    Tcp(stream_).expires_after(Chrono(state_->limits.io_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) {
                         return self->Refuse(http::status::payload_too_large,
                                             "body too large");
                       }
                       if (ec) {
                         Bump(self->state_->counters.http_bad_requests);
                         return self->Close();
                       }
                       self->OnRequest();
                     });
  }

  void OnRequest() {
    Bump(state_->counters.http_requests);
    HttpRequest request = parser_->release();
    keep_alive_ = request.keep_alive();
    head_ = request.method() == http::verb::head;
    answering_ = true;
    answered_at_once_ = false;
    gone_ = std::make_shared<Cancellation>();
    auto exchange = std::make_shared<Exchange>();
    exchange->started = absl::Now();
    exchange->route =
        state_->stats.http.For({state_->handler->RouteOf(request)});
    if (state_->access_log != nullptr) {
      exchange->method = absl::StrCat(
          absl::string_view(request.method_string().data(),
                            request.method_string().size()),
          " ",
          absl::string_view(request.target().data(), request.target().size()));
    }
    state_->handler->Handle(std::move(request), peer_, gone_,
                            MakeRespond(std::move(exchange)));
    // A next request already buffered (pipelined) is read after the answer;
    // the client is there, so no watch.
    // An answer given at once (a hit) is written next: nothing to watch
    // for (a read now would cost a system call per request).
    if (answering_ && !reading_ && buffer_.size() == 0 &&
        !answered_at_once_.load(std::memory_order_acquire)) {
      Watch();
    }
  }

  // Reads while the answer is pending: the end of the stream means the
  // client has gone. Bytes of a next request wait in the buffer. Once the
  // answer is written the same read is the idle wait for the next request:
  // there is never more than one read pending.
  void Watch() {
    reading_ = true;
    Tcp(stream_)
        .expires_never();  // the handler's wait is bounded by the engine
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->reading_ = false;
          if (!ec) {
            self->buffer_.commit(n);
            if (!self->answering_) self->ReadHeader();
            return;  // else: read on once the answer is out
          }
          if (self->answering_) self->gone_->Cancel();
          self->Close();
        });
  }

  Respond MakeRespond(std::shared_ptr<const Exchange> exchange) {
    std::weak_ptr<Session> weak = weak_from_this();
    std::shared_ptr<State> state = state_;
    return Respond(
        [weak, state, exchange, peer = peer_](HttpResponse res) {
          state->Answered(*exchange, peer, res,
                          static_cast<int64_t>(res.body().length));
          absl::MutexLock lock(&state->mu);
          if (!state->open) return;
          std::shared_ptr<Session> self = weak.lock();
          if (self == nullptr) return;
          self->answered_at_once_.store(true, std::memory_order_release);
          net::post(self->stream_.get_executor(),
                    [self, res = std::move(res)]() mutable {
                      self->Write(std::move(res));
                    });
        },
        [weak, state, exchange,
         peer = peer_](HttpResponse head) -> std::unique_ptr<HttpChunks> {
          state->Answered(*exchange, peer, head, 0);
          auto chunks = std::make_unique<Chunks>(weak.lock());
          chunks->Head(std::move(head));
          return chunks;
        });
  }

  // A step of a streamed answer, run on the session's strand; the
  // producer's thread waits for it.
  struct Step {
    absl::Notification done;
    std::atomic<bool> ok{false};
  };
  using StepFn = std::function<void(std::shared_ptr<Step>)>;

  // Posts `step` to the strand and waits until it is done (at most the
  // I/O timeout). False: not done, or failed.
  bool Await(StepFn step) {
    auto result = std::make_shared<Step>();
    {
      absl::MutexLock lock(&state_->mu);
      if (!state_->open) return false;
      net::post(stream_.get_executor(),
                [result, step = std::move(step)] { step(result); });
    }
    return result->done.WaitForNotificationWithTimeout(
               state_->limits.io_timeout) &&
           result->ok.load();
  }

  static void Finished(const std::shared_ptr<Step>& step,
                       beast::error_code ec) {
    step->ok = !ec;
    step->done.Notify();
  }

  class Chunks : public HttpChunks {
   public:
    explicit Chunks(std::shared_ptr<Session> session)
        : session_(std::move(session)) {}
    ~Chunks() override {
      if (session_ == nullptr || finished_) return;
      net::post(session_->stream_.get_executor(),
                [s = session_] { s->Close(); });
    }
    void Head(HttpResponse head) {
      ok_ = session_ != nullptr &&
            session_->Await([s = session_,
                             h = std::make_shared<HttpResponse>(
                                 std::move(head))](std::shared_ptr<Step> step) {
              s->WriteHead(std::move(*h), std::move(step));
            });
    }
    bool Write(std::string chunk) override {
      if (!ok_ || chunk.empty()) return ok_;  // an empty chunk ends a stream
      auto data = std::make_shared<const std::string>(std::move(chunk));
      ok_ = session_->Await([s = session_, data](std::shared_ptr<Step> step) {
        net::async_write(s->stream_, http::make_chunk(net::buffer(*data)),
                         [s, data, step](beast::error_code ec, size_t) {
                           Finished(step, ec);
                           if (ec) s->Close();
                         });
      });
      return ok_;
    }
    void Finish() override {
      if (!ok_ || finished_) return;
      finished_ = true;
      session_->Await([s = session_](std::shared_ptr<Step> step) {
        net::async_write(s->stream_, http::make_chunk_last(),
                         [s, step](beast::error_code ec, size_t) {
                           Finished(step, ec);
                           s->AfterAnswer(ec);
                         });
      });
    }

   private:
    std::shared_ptr<Session> session_;
    bool ok_ = false;
    bool finished_ = false;
  };

  void WriteHead(HttpResponse res, std::shared_ptr<Step> step) {
    auto head = std::make_shared<http::response<http::empty_body>>(
        std::move(res.base()));
    keep_alive_ = keep_alive_ && !stopping_;
    head->keep_alive(keep_alive_);
    head->chunked(true);
    auto serializer =
        std::make_shared<http::response_serializer<http::empty_body>>(*head);
    // Between chunks the producer may pause (a purge's pause): the client
    // watch goes on without a deadline, each write has its own.
    Tcp(stream_).expires_after(Chrono(state_->limits.io_timeout));
    http::async_write_header(stream_, *serializer,
                             [self = shared_from_this(), head, serializer,
                              step](beast::error_code ec, size_t) {
                               Tcp(self->stream_).expires_never();
                               Finished(step, ec);
                               if (ec) self->Close();
                             });
  }

  void Refuse(http::status status, absl::string_view why) {
    Bump(state_->counters.http_bad_requests);
    keep_alive_ = false;
    head_ = false;
    Write(Refusal(status, why));
  }

  void Write(HttpResponse res) {
    keep_alive_ = keep_alive_ && !stopping_;
    res.keep_alive(keep_alive_);
    if (head_) res.body().length = 0;  // Content-Length stays the entry's
    response_ = std::make_unique<HttpResponse>(std::move(res));
    Tcp(stream_).expires_after(Chrono(state_->limits.io_timeout));
    http::async_write(
        stream_, *response_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->response_.reset();
          self->AfterAnswer(ec);
        });
  }

  void AfterAnswer(beast::error_code ec) {
    answering_ = false;
    if (ec || !keep_alive_ || stopping_) return Close();
    if (!reading_) return AwaitRequest();
    // The watching read goes on as the idle wait (one read at a time).
    Tcp(stream_).expires_after(Chrono(state_->limits.idle_timeout));
  }

  void Close() {
    beast::error_code ec;
    Tcp(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    Tcp(stream_).close();
    absl::MutexLock lock(&state_->mu);
    state_->sessions.erase(this);  // the handler in flight keeps us alive
  }

  std::shared_ptr<State> state_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpResponse> response_;
  std::string peer_ = "?";
  std::shared_ptr<Cancellation> gone_;
  bool answering_ = false;  // a request is with the handler or being written
  bool reading_ = false;    // a read is pending
  bool keep_alive_ = false;
  bool stopping_ = false;  // the server shuts down: no next request
  bool head_ = false;
  // The handler answered before it returned (set from its thread).
  std::atomic<bool> answered_at_once_{false};
};

HttpServer::HttpServer(HttpHandler* handler, HttpLimits limits, Stats* stats)
    : state_(std::make_shared<State>(handler, limits, stats)) {}

void HttpServer::SetAccessLog(AccessLog* access_log) {
  state_->access_log = access_log;
}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

template <class S>
void HttpServer::StartSession(const std::shared_ptr<State>& state,
                              std::shared_ptr<S> session) {
  {
    absl::MutexLock lock(&state->mu);
    state->sessions[session.get()] = session;
  }
  session->Start();
}

void HttpServer::SetTls(std::shared_ptr<ssl::context> tls) {
  absl::MutexLock lock(&state_->mu);
  state_->tls = std::move(tls);
}

void HttpServer::Accept(const std::shared_ptr<State>& state) {
  state->acceptor.async_accept(
      net::make_strand(state->ioc),
      [state](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;  // closed
        if (!ec) {
          if (state->counters.http_connections.load() >=
              state->limits.max_connections) {
            Bump(state->counters.http_connections_refused);
            socket.close(ec);
          } else {
            Bump(state->counters.http_connections);
            std::shared_ptr<ssl::context> tls;
            {
              absl::MutexLock lock(&state->mu);
              tls = state->tls;
            }
            if (tls != nullptr) {
              StartSession(state, std::make_shared<Session<TlsStream>>(
                                      state, std::move(socket), *tls));
            } else {
              StartSession(state, std::make_shared<Session<beast::tcp_stream>>(
                                      state, std::move(socket)));
            }
          }
        } else {
          // Out of descriptors, say: wait a little rather than spin.
          LogWarning("http: accept: ", ec.message());
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        Accept(state);
      });
}

absl::Status HttpServer::Start(const std::string& listen,
                               absl::string_view flag) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", listen, ": want HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, "=", listen, ": not an IP address (", ec.message(), ")"));
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(flag, "=", listen, ": ", ec.message()));
  }
  port_ = acceptor.local_endpoint().port();
  Accept(state_);
  for (int64_t i = 0; i < std::max<int64_t>(1, state_->limits.threads); ++i) {
    threads_.emplace_back([state = state_] { state->ioc.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Shutdown(absl::Duration grace) {
  if (threads_.empty()) return;
  net::post(state_->ioc, [state = state_] {
    beast::error_code ec;
    state->acceptor.close(ec);
  });
  // Connections waiting for a request close now; the others once their
  // answer is out. (Looked at each round: one accepted meanwhile.)
  const absl::Time deadline = absl::Now() + grace;
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->sessions.empty()) break;
      for (auto& [raw, session] : state_->sessions) {
        if (!session->told_to_close.exchange(true)) session->CloseWhenIdle();
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  {
    absl::MutexLock lock(&state_->mu);
    state_->open = false;
  }
  state_->ioc.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  absl::flat_hash_map<SessionBase*, std::shared_ptr<SessionBase>> sessions;
  {
    absl::MutexLock lock(&state_->mu);
    sessions.swap(state_->sessions);
  }
  sessions.clear();  // while the io_context lives
}

}  // namespace clustercache
