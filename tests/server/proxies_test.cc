// Issue 16: the proxies people run in front of a cache, real ones from
// Debian on loopback, in front of real nodes:
// - nginx: the seeds' cluster rewrite (/var/storage/... served from the
//   cluster) with conditional GET and Range through it, and an SSI page
//   assembled from two fragments;
// - Varnish with the xkey vmod: an ESI page of fragments; after
//   `clustercachectl invalidate` the next page shows the new fragment (no
//   stale copy through the proxy, which revalidates with If-None-Match);
//   a soft purge in Varnish's xkey convention reaches the cache;
// - HAProxy over three nodes on one Redis, health-checking /readyz: a node
//   killed under load, every request still answered.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/curl.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

// A proxy process of the test: SIGTERM and reaped when it goes (SIGKILL
// after 5 s).
class Spawned {
 public:
  explicit Spawned(pid_t pid) : pid_(pid) {}
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    KillAndReap(pid_);
  }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_;
};

std::string TempDir(const std::string& name) {
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/", name, "-", getpid());
  EXPECT_EQ(Shell("rm -rf " + dir + " && mkdir -p " + dir).exit_code, 0);
  return dir;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string Until(const std::string& address) {
  return absl::StrCat("curl -s -o /dev/null --max-time 1 http://", address,
                      "/");
}

class ProxiesTest : public testing::Test {
 protected:
  void StartNode(std::vector<std::string> flags = {}) {
    flags.push_back(absl::StrCat("--node-name=node", nodes_.size() + 1));
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start(flags);
    ASSERT_TRUE(node.ok()) << node.status();
    nodes_.push_back(*std::move(node));
  }

  std::string Http(int i = 0) const { return nodes_[i]->http_address(); }

  void Put(const std::string& path, const std::string& body,
           const std::string& headers = "") {
    Reply r = Curl(absl::StrCat("http://", Http(), "/v1/entries/", path),
                   absl::StrCat("-X PUT --data-binary '", body, "' ", headers));
    ASSERT_EQ(r.status, 201) << path << ": " << r.body;
  }

  int Ctl(const std::string& args) {
    return Shell(absl::StrCat(CLUSTERCACHECTL_BIN,
                              " --server=", nodes_[0]->address(), " ", args,
                              " >/dev/null 2>&1"))
        .exit_code;
  }

  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

TEST_F(ProxiesTest, NginxRewritesStorageAndAssemblesSsi) {
  CLUSTERCACHE_NEED_PROGRAM("nginx");
  StartNode();
  const std::string dir = TempDir("nginx");
  const std::string listen = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  WriteFile(dir + "/page.html",
            "<html><!--# include virtual=\"/fragments/menu\" -->|"
            "<!--# include virtual=\"/fragments/body\" --></html>\n");
  WriteFile(dir + "/nginx.conf",
            absl::StrReplaceAll(
                R"(
daemon off;
master_process off;
pid DIR/nginx.pid;
error_log DIR/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path DIR/body;
  proxy_temp_path DIR/proxy;
  fastcgi_temp_path DIR/fastcgi;
  uwsgi_temp_path DIR/uwsgi;
  scgi_temp_path DIR/scgi;
  upstream clustercache { server NODE; keepalive 8; }
  server {
    listen LISTEN;
    # The seeds' cluster rewrite: files under var/storage are the cluster's.
    location /var/storage/ {
      rewrite ^/var/storage/(.*)$ /v1/entries/storage/$1 break;
      proxy_pass http://clustercache;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /fragments/ {
      rewrite ^/fragments/(.*)$ /v1/entries/frag/$1 break;
      proxy_pass http://clustercache;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location = /page.html { root DIR; ssi on; }
  }
}
)",
                {{"DIR", dir}, {"NODE", Http()}, {"LISTEN", listen}}));
  Spawned nginx(SpawnUntilReady({"nginx", "-p", dir, "-c", dir + "/nginx.conf"},
                                Until(listen), absl::Seconds(10)));
  ASSERT_TRUE(nginx.ok()) << ReadFile(dir + "/error.log");

  Put("storage/images/logo.png", "0123456789", "-H 'Content-Type: image/png'");
  const std::string url =
      absl::StrCat("http://", listen, "/var/storage/images/logo.png");
  Reply whole = Curl(url);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, "0123456789");
  EXPECT_EQ(whole.Header("content-type"), "image/png");
  EXPECT_EQ(whole.Header("served-by"), "node1");
  const std::string etag = whole.Header("etag");
  ASSERT_FALSE(etag.empty());
  Reply same = Curl(url, "-H 'If-None-Match: " + etag + "'");
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(same.Header("etag"), etag);
  EXPECT_EQ(Curl(url, "-H 'If-None-Match: \"other\"'").status, 200);
  Reply one = Curl(url, "-H 'Range: bytes=5-5'");
  EXPECT_EQ(one.status, 206);
  EXPECT_EQ(one.body, "5");
  EXPECT_EQ(one.Header("content-range"), "bytes 5-5/10");
  EXPECT_EQ(Curl(url, "-H 'Range: bytes=10-'").status, 416);
  EXPECT_EQ(Curl(absl::StrCat("http://", listen, "/var/storage/none")).status,
            404);

  Put("frag/menu", "MENU-1");
  Put("frag/body", "BODY-1");
  const std::string page = absl::StrCat("http://", listen, "/page.html");
  EXPECT_EQ(Curl(page).body, "<html>MENU-1|BODY-1</html>\n");
  Put("frag/menu", "MENU-2");
  EXPECT_EQ(Curl(page).body, "<html>MENU-2|BODY-1</html>\n");
}

TEST_F(ProxiesTest, VarnishEsiShowsNoStaleFragmentAndXkeyPurgesReachTheCache) {
  CLUSTERCACHE_NEED_PROGRAM("varnishd");
  StartNode();
  const std::string dir = TempDir("varnish");
  const std::string listen = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  const std::string node = Http();
  WriteFile(dir + "/cc.vcl",
            absl::StrReplaceAll(R"(vcl 4.1;
import xkey;
backend clustercache {
  .host = "127.0.0.1";
  .port = "PORT";
}
sub vcl_recv {
  # xkey's convention: purge here (soft), then on to the cache, which
  # invalidates the same tags cluster-wide.
  if (req.method == "PURGE") {
    if (req.http.xkey-purge) {
      set req.http.n-gone = xkey.softpurge(req.http.xkey-purge);
    }
    return (pass);
  }
}
sub vcl_backend_response {
  if (bereq.url ~ "^/v1/entries/page/") {
    set beresp.do_esi = true;
  }
  # no-cache: keep the copy, but revalidate it on every request
  # (If-None-Match: a 304 costs no body), so a global expiry is never
  # hidden behind the proxy.
  if (beresp.status == 200 && beresp.http.Cache-Control ~ "no-cache") {
    set beresp.http.Revalidated = beresp.was_304;
    set beresp.ttl = 0s;
    set beresp.grace = 0s;
    set beresp.keep = 1h;
    return (deliver);
  }
}
)",
                                {{"PORT", node.substr(node.rfind(':') + 1)}}));
  Spawned varnish(
      SpawnUntilReady({"varnishd", "-F", "-a", listen, "-f", dir + "/cc.vcl",
                       "-n", dir + "/work", "-s", "malloc,32m", "-T", "none"},
                      Until(listen), absl::Seconds(30)));
  ASSERT_TRUE(varnish.ok());

  Put("frag/menu", "MENU-1", "-H 'xkey: menu'");
  Put("frag/body", "BODY-1", "-H 'xkey: body'");
  Put("page/front",
      "<html><esi:include src=\"/v1/entries/frag/menu\"/>|"
      "<esi:include src=\"/v1/entries/frag/body\"/></html>",
      "-H 'Content-Type: text/html'");
  const std::string page =
      absl::StrCat("http://", listen, "/v1/entries/page/front");
  EXPECT_EQ(Curl(page).body, "<html>MENU-1|BODY-1</html>");
  EXPECT_EQ(Curl(page).body, "<html>MENU-1|BODY-1</html>");
  // A fragment asked for again is revalidated (a conditional request, 304),
  // not fetched whole and not served from Varnish's copy unasked. (Varnish
  // 7.1 revalidates only a copy whose Last-Modified is well before its
  // Date: an entry at least about two seconds old.)
  const std::string body =
      absl::StrCat("http://", listen, "/v1/entries/frag/body");
  for (int i = 0; i < 50; ++i) {
    Reply direct = Curl(absl::StrCat("http://", node, "/v1/entries/frag/body"));
    if (std::atoi(direct.Header("age").c_str()) >= 2) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Curl(body).body, "BODY-1");
  Reply again = Curl(body);
  EXPECT_EQ(again.body, "BODY-1");
  EXPECT_EQ(again.Header("revalidated"), "true");

  // A new generation of the menu after an invalidation: the next page
  // shows it; between the two, no page shows the old one as current.
  ASSERT_EQ(Ctl("invalidate --scope frag"), 0);
  Reply between = Curl(page);
  EXPECT_EQ(between.body, "<html>|</html>") << "both fragments are stale";
  Put("frag/menu", "MENU-2", "-H 'xkey: menu'");
  Put("frag/body", "BODY-2", "-H 'xkey: body'");
  EXPECT_EQ(Curl(page).body, "<html>MENU-2|BODY-2</html>");

  // xkey soft purge through Varnish: the cache invalidates the tag too.
  Reply purge = Curl(absl::StrCat("http://", listen, "/"),
                     "-X PURGE -H 'xkey-purge: menu'");
  ASSERT_EQ(purge.status, 200) << purge.body;
  EXPECT_NE(purge.body.find("\"name\":\"menu\""), std::string::npos)
      << purge.body;
  Reply menu = Curl(absl::StrCat("http://", node, "/v1/entries/frag/menu"));
  EXPECT_EQ(menu.status, 404);
  EXPECT_NE(menu.Header("cache-status").find("fwd=stale"), std::string::npos);
  EXPECT_EQ(Curl(page).body, "<html>|BODY-2</html>");
}

TEST_F(ProxiesTest, HaproxyKeepsServingWhenANodeIsKilled) {
  CLUSTERCACHE_NEED_PROGRAM("haproxy");
  CLUSTERCACHE_NEED_SERVER(redis, "CLUSTERCACHE_TEST_REDIS");
  for (int i = 0; i < 3; ++i) StartNode({"--store=redis://" + redis});
  const std::string dir = TempDir("haproxy");
  const std::string listen = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  WriteFile(dir + "/haproxy.cfg", absl::StrReplaceAll(R"(
global
  maxconn 256
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 3
  option redispatch
  retry-on all-retryable-errors
listen clustercache
  bind LISTEN
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fall 1 rise 2
  server node1 N1 check
  server node2 N2 check
  server node3 N3 check
)",
                                                      {{"LISTEN", listen},
                                                       {"N1", Http(0)},
                                                       {"N2", Http(1)},
                                                       {"N3", Http(2)}}));
  Spawned haproxy(
      SpawnUntilReady({"haproxy", "-db", "-f", dir + "/haproxy.cfg"},
                      Until(listen), absl::Seconds(10)));
  ASSERT_TRUE(haproxy.ok());
  const std::string scope = absl::StrCat("haproxy", getpid());
  Put(scope + "/menu", "MENU");
  const std::string url =
      absl::StrCat("http://", listen, "/v1/entries/", scope, "/menu");
  // N reads through HAProxy on one kept-alive connection: "STATUS NODE"
  // each.
  auto reads = [&](int n) {
    const std::string urls = absl::StrCat(dir, "/urls", n);
    std::ofstream out(urls);
    for (int i = 0; i < n; ++i) {
      out << "url = \"" << url << "\"\noutput = /dev/null\n";
    }
    out.close();
    ShellResult r =
        Shell(absl::StrCat("curl -s --max-time 60 -K ", urls,
                           " -w '%{http_code} %header{served-by}\\n'"));
    return std::vector<std::string>(
        absl::StrSplit(r.out, '\n', absl::SkipEmpty()));
  };
  std::vector<std::string> before = reads(90);
  ASSERT_EQ(before.size(), 90u);
  EXPECT_EQ(std::count(before.begin(), before.end(), "200 node2"), 30)
      << "round robin over three";
  // Killed: the next reads go to node2's turn at once, before a health
  // check has seen it (connection refused: HAProxy retries elsewhere), then
  // node2 is marked down.
  nodes_[1]->Kill();
  std::vector<std::string> after = reads(300);
  ASSERT_EQ(after.size(), 300u);
  for (const std::string& line : after) {
    EXPECT_TRUE(line == "200 node1" || line == "200 node3") << line;
  }
  absl::SleepFor(absl::Milliseconds(500));  // a few health checks
  after = reads(60);
  EXPECT_EQ(std::count(after.begin(), after.end(), "200 node1"), 30)
      << "the two left share the load";
}

}  // namespace
}  // namespace clustercache
