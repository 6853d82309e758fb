// Issue 16: the HTTP face of a real node, through curl: the read route and
// every outcome, conditional GET and ranges (each of eZ's index_cluster.php
// mistakes as a case), tokens, probes and the listener's limits.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/curl.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

class HttpTest : public testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> flags) {
    flags.push_back("--node-name=http-node");
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start(flags);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    ASSERT_FALSE(node_->http_address().empty());
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://", node_->http_address(), path);
  }

  // clustercachectl ARGS with `payload` on stdin; its exit code.
  int Ctl(const std::string& args, const std::string& payload = "") {
    return Shell(absl::StrCat("printf '%s' '", payload, "' | ",
                              CLUSTERCACHECTL_BIN, " --server=",
                              node_->address(), " ", args, " >/dev/null 2>&1"))
        .exit_code;
  }

  // An auth file with a read token and a write token.
  static std::string WriteAuthFile(const std::string& name) {
    const std::string auth =
        absl::StrCat(testing::TempDir(), "/", name, getpid());
    EXPECT_EQ(Shell(absl::StrCat("printf 'reader read read-token-0123456789\\n"
                                 "writer write write-token-0123456789\\n' > ",
                                 auth))
                  .exit_code,
              0);
    return auth;
  }

  // A reply with a Last-Modified (given once the entry's second is over).
  Reply ReadWithLastModified(const std::string& path) {
    Reply r;
    for (int i = 0; i < 30; ++i) {
      r = Curl(Url(path));
      if (!r.Header("last-modified").empty()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return r;
  }

  std::unique_ptr<ServerProcess> node_;
};

TEST_F(HttpTest, AFreshEntryWithItsHeaders) {
  ASSERT_EQ(Ctl("put rss 'feeds/a b' --tag t1 --tag t2 --content-type "
                "'text/xml'",
                "<rss/>"),
            0);
  Reply r = Curl(Url("/v1/entries/rss/feeds/a%20b"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<rss/>");
  EXPECT_EQ(r.Header("content-type"), "text/xml");
  EXPECT_EQ(r.Header("content-length"), "6");
  EXPECT_EQ(r.Header("cache-status"), "clustercache; hit");
  EXPECT_EQ(r.Header("served-by"), "http-node");
  EXPECT_EQ(r.Header("xkey"), "t1 t2");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_EQ(r.Header("age"), "0");
  const std::string etag = r.Header("etag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  // HEAD: the same headers, no body.
  Reply head = Curl(Url("/v1/entries/rss/feeds/a%20b"), "-I");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "6");
  EXPECT_EQ(head.Header("etag"), etag);
  EXPECT_EQ(head.body, "");
}

TEST_F(HttpTest, MissStaleAndStaleOnRequest) {
  Reply miss = Curl(Url("/v1/entries/rss/none"));
  EXPECT_EQ(miss.status, 404);
  EXPECT_EQ(miss.body, "");
  EXPECT_EQ(miss.Header("cache-status"), "clustercache; fwd=miss");
  ASSERT_EQ(Ctl("put rss old", "v1"), 0);
  ASSERT_EQ(Ctl("invalidate --scope rss"), 0);
  Reply stale = Curl(Url("/v1/entries/rss/old"));
  EXPECT_EQ(stale.status, 404) << "not fresh after the invalidation";
  EXPECT_NE(stale.Header("cache-status").find("fwd=stale"), std::string::npos);
  EXPECT_EQ(stale.body, "");
  for (const std::string& ask : {std::string("?stale=1"), std::string("")}) {
    Reply served = Curl(Url("/v1/entries/rss/old" + ask),
                        ask.empty() ? "-H 'Cache-Control: max-stale'" : "");
    EXPECT_EQ(served.status, 200) << ask;
    EXPECT_EQ(served.body, "v1");
    EXPECT_EQ(served.Header("cache-status"), "clustercache; fwd=stale");
  }
}

// eZ's index_cluster.php answered 304 to any If-Modified-Since and to a
// foreign ETag, sent unquoted ETags, and had off-by-one ranges.
TEST_F(HttpTest, ConditionalGetAndRanges) {
  ASSERT_EQ(Ctl("put image logo.png", "0123456789"), 0);
  ASSERT_EQ(Ctl("put image dot", "x"), 0);
  const std::string path = "/v1/entries/image/logo.png";
  Reply r = ReadWithLastModified(path);
  ASSERT_EQ(r.status, 200);
  const std::string etag = r.Header("etag"), lm = r.Header("last-modified");
  ASSERT_FALSE(lm.empty());
  EXPECT_EQ(Curl(Url(path), "-H 'If-None-Match: \"nope\"'").status, 200);
  Reply not_modified =
      Curl(Url(path), absl::StrCat("-H 'If-None-Match: W/", etag, "'"));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("etag"), etag) << "304 carries the ETag";
  EXPECT_EQ(not_modified.body, "");
  EXPECT_EQ(Curl(Url(path), "-H 'If-None-Match: *'").status, 304);
  EXPECT_EQ(Curl(Url(path), "-H 'If-Modified-Since: " + lm + "'").status, 304);
  EXPECT_EQ(
      Curl(Url(path), "-H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT'")
          .status,
      200)
      << "an older date";
  Reply one = Curl(Url(path), "-H 'Range: bytes=5-5'");
  EXPECT_EQ(one.status, 206);
  EXPECT_EQ(one.body, "5");
  EXPECT_EQ(one.Header("content-range"), "bytes 5-5/10");
  Reply tail = Curl(Url(path), "-H 'Range: bytes=-3'");
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, "789");
  Reply dot = Curl(Url("/v1/entries/image/dot"), "-H 'Range: bytes=0-'");
  EXPECT_EQ(dot.status, 206);
  EXPECT_EQ(dot.body, "x");
  Reply beyond = Curl(Url(path), "-H 'Range: bytes=10-'");
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.Header("content-range"), "bytes */10");
  Reply several = Curl(Url(path), "-H 'Range: bytes=0-1,4-5'");
  EXPECT_EQ(several.status, 200) << "several ranges: the whole body";
  EXPECT_EQ(several.body, "0123456789");
  EXPECT_EQ(
      Curl(Url(path), "-H 'Range: bytes=0-1' -H 'If-Range: \"old\"'").status,
      200);
  EXPECT_EQ(
      Curl(Url(path),
           absl::StrCat("-H 'Range: bytes=0-1' -H 'If-Range: ", etag, "'"))
          .status,
      206);
}

// A client holding an older generation never gets 304: not by its ETag,
// not by its Last-Modified, even when the new one is stored at once.
TEST_F(HttpTest, AnOlderCopyNeverGets304) {
  const std::string path = "/v1/entries/content-view/page";
  ASSERT_EQ(Ctl("put content-view page", "first"), 0);
  Reply first = ReadWithLastModified(path);
  ASSERT_FALSE(first.Header("last-modified").empty());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Ctl("put content-view page", absl::StrCat("gen", i)), 0);
    Reply by_date =
        Curl(Url(path),
             "-H 'If-Modified-Since: " + first.Header("last-modified") + "'");
    EXPECT_EQ(by_date.status, 200) << i;
    EXPECT_EQ(by_date.body, absl::StrCat("gen", i));
    EXPECT_EQ(
        Curl(Url(path), "-H 'If-None-Match: " + first.Header("etag") + "'")
            .status,
        200)
        << i;
    // Whatever the node says of this generation, a later one is not it.
    Reply now = Curl(Url(path));
    if (!now.Header("last-modified").empty()) first = now;
  }
}

TEST_F(HttpTest, BadPathsAreRefusedAsJson) {
  Reply no_name = Curl(Url("/v1/entries/rss/"));
  EXPECT_EQ(no_name.status, 400);
  EXPECT_NE(no_name.body.find("\"field\":\"name\""), std::string::npos)
      << no_name.body;
  EXPECT_EQ(Curl(Url("/v1/entries/rss/%zz")).status, 400);
  EXPECT_EQ(Curl(Url("/v1/entries/BAD%20SCOPE/x")).status, 400);
  EXPECT_EQ(Curl(Url("/v1/nothing")).status, 404);
  Reply post = Curl(Url("/v1/entries/rss/x"), "-X POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("allow"), "GET, HEAD, PUT");
  EXPECT_EQ(Curl(Url("/v1/leases/rss/x")).status, 405);
  EXPECT_EQ(Curl(Url("/v1/entries/rss/x?lease=1&wait=11m")).status, 400);
  EXPECT_EQ(Curl(Url("/v1/entries/rss/x?wait=1s")).status, 400)
      << "a read never waits";
  EXPECT_EQ(Curl(Url("/v1/entries/rss/x?lease=1&newer_than=-1")).status, 400);
}

// The lease protocol with curl: every Fetch outcome by status and header,
// the rechecked commit, giving a lease back.
TEST_F(HttpTest, LeaseProtocolOutcomes) {
  const std::string entry = Url("/v1/entries/content-view/article-7");
  Reply granted = Curl(entry + "?lease=1");
  EXPECT_EQ(granted.status, 404);
  EXPECT_EQ(granted.Header("cache-status"), "clustercache; fwd=miss");
  const std::string token = granted.Header("lease-token");
  ASSERT_EQ(token.size(), 32u);
  EXPECT_FALSE(granted.Header("lease-expires").empty());
  Reply timeout = Curl(entry + "?lease=1&wait=300ms");
  EXPECT_EQ(timeout.status, 404);
  EXPECT_EQ(timeout.Header("cache-status"),
            "clustercache; fwd=miss; detail=timeout");
  EXPECT_EQ(timeout.Header("lease-token"), "");
  Reply stored =
      Curl(entry + "?ttl=1h&tag=article",
           absl::StrCat("-X PUT --data-binary 'v1' -H 'Lease-Token: ", token,
                        "' -H 'Content-Type: text/html' -H 'xkey: a b' ",
                        "-H 'xkey: article' -H 'Surrogate-Key: b'"));
  EXPECT_EQ(stored.status, 201) << stored.body;
  EXPECT_FALSE(stored.Header("mtime").empty());
  Reply hit = Curl(entry + "?lease=1");
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.body, "v1");
  EXPECT_EQ(hit.Header("etag"), stored.Header("etag"));
  EXPECT_EQ(hit.Header("content-type"), "text/html");
  EXPECT_EQ(hit.Header("xkey"), "a article b");
  Reply again = Curl(entry, absl::StrCat("-X PUT --data-binary 'v2' -H ",
                                         "'Lease-Token: ", token, "'"));
  EXPECT_EQ(again.status, 412) << "the lease was spent by the commit";
  // Stale: one caller regenerates (STALE_LEASE), the next is served the
  // stale copy (STALE).
  ASSERT_EQ(Ctl("invalidate --scope content-view"), 0);
  Reply stale_lease = Curl(entry + "?lease=1");
  EXPECT_EQ(stale_lease.status, 200);
  EXPECT_EQ(stale_lease.body, "v1");
  EXPECT_EQ(stale_lease.Header("cache-status"), "clustercache; fwd=stale");
  const std::string second = stale_lease.Header("lease-token");
  ASSERT_EQ(second.size(), 32u);
  Reply stale = Curl(entry + "?lease=1");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.Header("lease-token"), "");
  EXPECT_EQ(stale.Header("cache-status"), "clustercache; fwd=stale");
  // A newer unconditional write supersedes the leased commit.
  ASSERT_EQ(Curl(entry, "-X PUT --data-binary 'direct'").status, 201);
  EXPECT_EQ(Curl(entry, absl::StrCat("-X PUT --data-binary 'late' -H ",
                                     "'Lease-Token: ", second, "'"))
                .status,
            409);
  // Giving a lease back.
  ASSERT_EQ(Ctl("invalidate --scope content-view"), 0);
  const std::string third = Curl(entry + "?lease=1").Header("lease-token");
  ASSERT_EQ(third.size(), 32u);
  const std::string lease_url = Url("/v1/leases/content-view/article-7");
  EXPECT_EQ(Curl(lease_url, "-X DELETE -H 'Lease-Token: " + third + "'").status,
            204);
  EXPECT_EQ(Curl(lease_url, "-X DELETE -H 'Lease-Token: " + third + "'").status,
            409);
  EXPECT_EQ(Curl(lease_url, "-X DELETE").status, 400);
}

// A waiting request holds no thread and is answered when the holder
// stores.
TEST_F(HttpTest, AWaiterIsAnsweredByTheStore) {
  const std::string entry = Url("/v1/entries/content-view/wait-here");
  const std::string token = Curl(entry + "?lease=1").Header("lease-token");
  ASSERT_EQ(token.size(), 32u);
  Reply waited;
  std::thread waiter([&] { waited = Curl(entry + "?lease=1&wait=8s"); });
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time stored_at = absl::Now();
  ASSERT_EQ(Curl(entry, absl::StrCat("-X PUT --data-binary 'made' -H ",
                                     "'Lease-Token: ", token, "'"))
                .status,
            201);
  waiter.join();
  EXPECT_EQ(waited.status, 200);
  EXPECT_EQ(waited.body, "made");
  EXPECT_LT(absl::Now() - stored_at, absl::Seconds(4)) << "not the timeout";
}

// A waiter whose client hangs up is dropped: when the holder gives the
// lease back, nobody got it, and the next caller is granted it at once.
TEST_F(HttpTest, AWaiterThatHangsUpIsNeverGrantedTheLease) {
  const std::string entry = Url("/v1/entries/content-view/orphan");
  const std::string token = Curl(entry + "?lease=1").Header("lease-token");
  ASSERT_EQ(token.size(), 32u);
  // curl gives up after 1 s of a 20 s wait: the connection closes.
  Reply gave_up = Curl(entry + "?lease=1&wait=20s", "--max-time 1");
  EXPECT_EQ(gave_up.status, 0);
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_EQ(Curl(Url("/v1/leases/content-view/orphan"),
                 "-X DELETE -H 'Lease-Token: " + token + "'")
                .status,
            204);
  Reply next = Curl(entry + "?lease=1");
  EXPECT_EQ(next.status, 404);
  EXPECT_EQ(next.Header("lease-token").size(), 32u)
      << "the lease went to nobody else";
}

int Threads(pid_t pid) {
  const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  const size_t at = status.find("Threads:");
  int n = -1;
  if (at != std::string::npos) {
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(status.substr(
                               at + 8, status.find('\n', at) - at - 8)),
                           &n);
  }
  return n;
}

// 500 requests waiting on one key hold no thread each; all are answered
// by the one store.
TEST_F(HttpTest, ManyWaitersHoldNoThreads) {
  const std::string entry = Url("/v1/entries/content-view/crowd");
  const std::string token = Curl(entry + "?lease=1").Header("lease-token");
  ASSERT_EQ(token.size(), 32u);
  const int before = Threads(node_->pid());
  const int port = PortOf(node_->http_address());
  const std::string request =
      "GET /v1/entries/content-view/crowd?lease=1&wait=30s HTTP/1.1\r\n"
      "Host: x\r\nConnection: close\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < 500; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    fds.push_back(fd);
  }
  absl::SleepFor(absl::Seconds(1));  // all arrived and waiting
  const int during = Threads(node_->pid());
  EXPECT_EQ(during, before) << "threads with 500 waiting requests";
  ASSERT_EQ(Curl(entry, absl::StrCat("-X PUT --data-binary 'for all' -H ",
                                     "'Lease-Token: ", token, "'"))
                .status,
            201);
  int answered = 0;
  for (int fd : fds) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
    close(fd);
    if (absl::StartsWith(out, "HTTP/1.1 200") &&
        absl::EndsWith(out, "for all")) {
      ++answered;
    }
  }
  EXPECT_EQ(answered, 500);
}

TEST_F(HttpTest, PutLimitsAndRoles) {
  const std::string dir = testing::TempDir();
  const std::string auth = WriteAuthFile("http-put-auth-");
  node_.reset();
  Start({"--auth-file=" + auth, "--max-payload=1KiB"});
  const std::string entry = Url("/v1/entries/rss/put-me");
  const std::string reader = "-H 'Authorization: Bearer read-token-0123456789'";
  const std::string writer =
      "-H 'Authorization: Bearer write-token-0123456789'";
  EXPECT_EQ(Curl(entry, "-X PUT --data-binary x " + reader).status, 403);
  EXPECT_EQ(Curl(entry + "?lease=1", reader).status, 403);
  EXPECT_EQ(Curl(entry, "-X PUT --data-binary x " + writer).status, 201);
  const std::string big = absl::StrCat(dir, "/http-big-", getpid());
  ASSERT_EQ(Shell(absl::StrCat("head -c 2048 /dev/zero > ", big)).exit_code, 0);
  EXPECT_EQ(Curl(entry, "-X PUT --data-binary @" + big + " " + writer).status,
            413);
  EXPECT_EQ(Curl(entry,
                 "-X PUT --data-binary x -H 'Cache-Control: "
                 "max-age=-5' " +
                     writer)
                .status,
            400);
  Reply read = Curl(entry, reader);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, "x");
}

TEST_F(HttpTest, ProbesAnswerWithoutTokens) {
  EXPECT_EQ(Curl(Url("/healthz")).status, 200);
  Reply ready = Curl(Url("/readyz"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
}

TEST_F(HttpTest, TokensAndRoles) {
  const std::string auth = WriteAuthFile("http-auth-");
  node_.reset();
  Start({"--auth-file=" + auth});
  Reply none = Curl(Url("/v1/entries/rss/x"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(
      Curl(Url("/v1/entries/rss/x"), "-H 'Authorization: Bearer wrong-one'")
          .status,
      401);
  EXPECT_EQ(Curl(Url("/v1/entries/rss/x"),
                 "-H 'Authorization: Bearer read-token-0123456789'")
                .status,
            404)
      << "allowed: no such entry";
  EXPECT_EQ(Curl(Url("/healthz")).status, 200);
  EXPECT_EQ(Curl(Url("/readyz")).status, 200);
}

// A raw connection: send `bytes`, then read until the server closes (or
// `wait` passes); what came back.
std::string Raw(const std::string& address, const std::string& bytes,
                absl::Duration wait, bool* closed) {
  int fd = Connect(PortOf(address));
  *closed = fd < 0;
  if (fd < 0) return "";
  if (!bytes.empty()) (void)!write(fd, bytes.data(), bytes.size());
  timeval tv{
      static_cast<time_t>(absl::ToInt64Seconds(wait)),
      static_cast<suseconds_t>(absl::ToInt64Microseconds(wait) % 1'000'000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) {
      *closed = true;
      break;
    }
    if (n < 0) {  // timed out (still open), or reset (closed unread)
      *closed = errno == ECONNRESET;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

TEST_F(HttpTest, LimitsOnHeadersUrlsAndSlowClients) {
  node_.reset();
  Start({"--http-header-timeout=500ms", "--http-idle-timeout=1s",
         "--http-max-header=2KiB", "--http-max-url=512B"});
  EXPECT_EQ(Curl(Url("/v1/entries/rss/" + std::string(600, 'a'))).status, 414);
  EXPECT_EQ(Curl(Url("/healthz"), "-H 'X-Big: " + std::string(3000, 'b') + "'")
                .status,
            431);
  bool closed = false;
  std::string garbage =
      Raw(node_->http_address(), "NOT HTTP\r\n\r\n", absl::Seconds(3), &closed);
  EXPECT_NE(garbage.find(" 400 "), std::string::npos) << garbage;
  EXPECT_TRUE(closed);
  // Slowloris: half a header, then nothing. Closed after the header
  // timeout, answered nothing.
  const absl::Time start = absl::Now();
  std::string slow = Raw(node_->http_address(), "GET /healthz HTTP/1.1\r\nHo",
                         absl::Seconds(5), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(slow, "");
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  // Idle keep-alive: closed after the idle timeout.
  std::string idle = Raw(node_->http_address(), "", absl::Seconds(5), &closed);
  EXPECT_TRUE(closed);
  // The node serves on.
  EXPECT_EQ(Curl(Url("/healthz")).status, 200);
}

// SIGTERM: a kept-alive connection waiting for its next request is closed
// at once, not held open for the shutdown's grace (5 s, which every
// rolling restart paid while any client kept a connection).
TEST_F(HttpTest, AStoppingNodeClosesIdleKeptAliveConnectionsAtOnce) {
  bool closed = false;
  std::string answer;
  std::thread client([&] {
    answer =
        Raw(node_->http_address(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            absl::Seconds(4), &closed);
  });
  absl::SleepFor(absl::Milliseconds(500));  // answered, and idle since
  ASSERT_EQ(kill(node_->pid(), SIGTERM), 0);
  client.join();
  EXPECT_NE(answer.find("ok\n"), std::string::npos) << answer;
  EXPECT_TRUE(closed) << "still open 3.5 s after SIGTERM";
  EXPECT_EQ(node_->Stop(), 0);
}

// A kept-alive connection serves one request after another, and requests
// sent together (pipelined) are answered in order. (Once the watch of a
// waiting client and the idle wait were two reads at once: the second
// request was swallowed and answered never.)
TEST_F(HttpTest, KeptAliveConnectionsServeRequestAfterRequest) {
  // The second request waits 300 ms for the lease the first took: its
  // answer comes later, from the engine, while the connection is watched.
  const std::string held = Url("/v1/entries/rss/held?lease=1");
  ShellResult r = Shell(absl::StrCat(
      "curl -s --max-time 5 -o /dev/null -o /dev/null -o /dev/null -w "
      "'%{http_code} %{num_connects}\\n' '",
      held, "' '", held, "&wait=300ms' ", Url("/healthz")));
  EXPECT_EQ(r.out, "404 1\n404 0\n200 0\n") << "three answers, one connection";
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  bool closed = false;
  std::string two = Raw(node_->http_address(),
                        get +
                            "GET /readyz HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n",
                        absl::Seconds(5), &closed);
  EXPECT_TRUE(closed) << "the second asked to close";
  EXPECT_NE(two.find("ok\n"), std::string::npos) << two;
  EXPECT_LT(two.find("ok\n"), two.find("ready\n")) << two;
}

TEST_F(HttpTest, ConnectionsBeyondTheCapAreClosed) {
  node_.reset();
  Start({"--http-max-connections=2"});
  const int port = PortOf(node_->http_address());
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(200));  // both accepted
  bool closed = false;
  std::string third =
      Raw(node_->http_address(), "GET /healthz HTTP/1.1\r\n\r\n",
          absl::Seconds(3), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(third, "");
  for (int fd : held) close(fd);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Curl(Url("/healthz")).status, 200) << "room again";
}

}  // namespace
}  // namespace clustercache
