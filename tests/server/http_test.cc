// Issue 16: the HTTP face of a real node, through curl: the read route and
// every outcome, conditional GET and ranges (each of eZ's index_cluster.php
// mistakes as a case), tokens, probes and the listener's limits.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

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
Reply Curl(const std::string& url, const std::string& args = "") {
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
  EXPECT_EQ(post.Header("allow"), "GET, HEAD");
}

TEST_F(HttpTest, ProbesAnswerWithoutTokens) {
  EXPECT_EQ(Curl(Url("/healthz")).status, 200);
  Reply ready = Curl(Url("/readyz"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
}

TEST_F(HttpTest, TokensAndRoles) {
  const std::string dir = testing::TempDir();
  const std::string auth = absl::StrCat(dir, "/http-auth-", getpid());
  ASSERT_EQ(Shell(absl::StrCat("printf 'reader read read-token-0123456789\\n"
                               "writer write write-token-0123456789\\n' > ",
                               auth))
                .exit_code,
            0);
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
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *closed = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    *closed = true;
    return "";
  }
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
    if (n < 0) break;  // timed out: still open
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

TEST_F(HttpTest, ConnectionsBeyondTheCapAreClosed) {
  node_.reset();
  Start({"--http-max-connections=2"});
  const int port = std::stoi(
      node_->http_address().substr(node_->http_address().rfind(':') + 1));
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
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
