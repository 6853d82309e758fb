// Issue 15, items 2 and 3: TLS on the listener with certificates made by
// openssl at test time; mTLS; a rotated certificate served to new
// connections; and the start-up refusal of a network listener without TLS
// and tokens.
#include <unistd.h>

#include <csignal>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cache_client.h"
#include "gtest/gtest.h"
#include "server/server_config.h"
#include "tests/support/pki.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

// The HTTP status of GET https://NODE/healthz through curl with `args`
// (0: no answer: refused handshake, plaintext to TLS).
int Https(const ServerProcess& node, const std::string& args,
          const std::string& scheme = "https") {
  ShellResult r = Shell(
      absl::StrCat("curl -s -o /dev/null --max-time 5 -w '%{http_code}' ", args,
                   " ", scheme, "://", node.http_address(), "/healthz"));
  return std::atoi(r.out.c_str());
}

absl::Status FetchThrough(const std::string& address, const ClientOptions& o) {
  ClientOptions options = o;
  options.servers = {address};
  options.deadline = absl::Seconds(3);
  v1::FetchRequest fetch;
  fetch.mutable_key()->set_scope("content-view");
  fetch.mutable_key()->set_name("page");
  return NewGrpcClient(options)->Fetch(fetch).status();
}

TEST(TlsTest, OnlyClientsThatTrustTheServerGetIn) {
  Pki pki("one"), other("other");
  ASSERT_TRUE(pki.ok() && other.ok() && pki.Issue("server"));
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--tls-cert=" + pki.Path("server.pem"),
                            "--tls-key=" + pki.Path("server.key")});
  ASSERT_TRUE(node.ok()) << node.status();
  ClientOptions trusts;
  trusts.tls_ca = pki.Path("ca.pem");
  EXPECT_TRUE(FetchThrough((*node)->address(), trusts).ok());
  EXPECT_FALSE(FetchThrough((*node)->address(), ClientOptions()).ok())
      << "plaintext to a TLS node";
  ClientOptions wrong_ca;
  wrong_ca.tls_ca = other.Path("ca.pem");
  EXPECT_FALSE(FetchThrough((*node)->address(), wrong_ca).ok());
  // The HTTP face: HTTPS with the same files.
  EXPECT_EQ(Https(**node, "--cacert " + pki.Path("ca.pem")), 200);
  EXPECT_EQ(Https(**node, "--cacert " + other.Path("ca.pem")), 0);
  EXPECT_EQ(Https(**node, "", "http"), 0) << "plaintext to the HTTPS face";
  ClientOptions missing;
  missing.tls_ca = pki.Path("no-such.pem");
  absl::Status s = FetchThrough((*node)->address(), missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST(TlsTest, MutualTlsWantsAClientCertificate) {
  Pki pki("mtls");
  ASSERT_TRUE(pki.ok() && pki.Issue("server") && pki.Issue("client"));
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--tls-cert=" + pki.Path("server.pem"),
                            "--tls-key=" + pki.Path("server.key"),
                            "--tls-client-ca=" + pki.Path("ca.pem")});
  ASSERT_TRUE(node.ok()) << node.status();
  ClientOptions anonymous;
  anonymous.tls_ca = pki.Path("ca.pem");
  EXPECT_FALSE(FetchThrough((*node)->address(), anonymous).ok());
  ClientOptions known = anonymous;
  known.tls_cert = pki.Path("client.pem");
  known.tls_key = pki.Path("client.key");
  EXPECT_TRUE(FetchThrough((*node)->address(), known).ok());
  const std::string ca = "--cacert " + pki.Path("ca.pem");
  EXPECT_EQ(Https(**node, ca), 0) << "HTTPS without a client certificate";
  EXPECT_EQ(Https(**node, absl::StrCat(ca, " --cert ", pki.Path("client.pem"),
                                       " --key ", pki.Path("client.key"))),
            200);
}

// Rotation: the files are replaced in place and the node is sent SIGHUP.
// New connections get the new certificate; a connection opened before keeps
// working; SIGHUP logs what is served, and refuses (logs, keeps serving) a
// key that is not the certificate's.
TEST(TlsTest, ARotatedCertificateIsServedToNewConnectionsOldOnesGoOn) {
  Pki old_pki("old"), new_pki("new");
  ASSERT_TRUE(old_pki.ok() && new_pki.ok() && old_pki.Issue("server") &&
              new_pki.Issue("server"));
  const std::string cert = old_pki.Path("live.pem"),
                    key = old_pki.Path("live.key");
  auto install = [&](const Pki& cert_from, const Pki& key_from) {
    return Shell(absl::StrCat("cp ", key_from.Path("server.key"), " ", key,
                              ".tmp && mv ", key, ".tmp ", key, " && cp ",
                              cert_from.Path("server.pem"), " ", cert,
                              ".tmp && mv ", cert, ".tmp ", cert))
               .exit_code == 0;
  };
  ASSERT_TRUE(install(old_pki, old_pki));
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--tls-cert=" + cert, "--tls-key=" + key});
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string address = (*node)->address();
  ClientOptions trusts_old, trusts_new;
  trusts_old.tls_ca = old_pki.Path("ca.pem");
  trusts_new.tls_ca = new_pki.Path("ca.pem");
  trusts_old.servers = {address};
  trusts_old.deadline = absl::Seconds(3);
  std::unique_ptr<CacheClient> open_before = NewGrpcClient(trusts_old);
  v1::FetchRequest fetch;
  fetch.mutable_key()->set_scope("content-view");
  fetch.mutable_key()->set_name("page");
  ASSERT_TRUE(open_before->Fetch(fetch).ok());
  EXPECT_FALSE(FetchThrough(address, trusts_new).ok());

  ASSERT_TRUE(install(new_pki, new_pki));
  absl::SleepFor(absl::Milliseconds(1500));  // past gRPC's re-read
  EXPECT_FALSE(FetchThrough(address, trusts_new).ok())
      << "files changed without a SIGHUP are not served";
  kill((*node)->pid(), SIGHUP);
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    served = FetchThrough(address, trusts_new).ok();
  }
  EXPECT_TRUE(served) << "the new certificate within 10 s";
  EXPECT_FALSE(FetchThrough(address, trusts_old).ok()) << "a new connection";
  EXPECT_TRUE(open_before->Fetch(fetch).ok()) << "the connection made before";
  EXPECT_EQ(Https(**node, "--cacert " + new_pki.Path("ca.pem")), 200)
      << "the HTTP face serves the new certificate too";
  EXPECT_EQ(Https(**node, "--cacert " + old_pki.Path("ca.pem")), 0);
  EXPECT_NE(ReadFile((*node)->log_path())
                .find("received SIGHUP: TLS: certificate /CN=server"),
            std::string::npos);

  // Half a rotation: the old key beside the new certificate.
  ASSERT_TRUE(install(new_pki, old_pki));
  kill((*node)->pid(), SIGHUP);
  bool logged = false;
  for (int i = 0; i < 50 && !logged; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    logged =
        ReadFile((*node)->log_path())
            .find(
                "TLS files refused, new connections keep the "
                "certificate before them: --tls-key=") != std::string::npos;
  }
  EXPECT_TRUE(logged) << ReadFile((*node)->log_path());
  absl::SleepFor(absl::Milliseconds(1500));  // gRPC's re-read, and refusal
  EXPECT_TRUE(FetchThrough(address, trusts_new).ok()) << "still served";
}

// At start, a key that is not the certificate's, an expired certificate or
// a file that is not PEM is refused, naming the flag.
TEST(TlsTest, BadFilesAreRefusedAtStart) {
  Pki a("start-a"), b("start-b");
  ASSERT_TRUE(a.ok() && b.ok() && a.Issue("server") && b.Issue("server"));
  // Expired yesterday (OpenSSL 3.0 takes negative days).
  ASSERT_EQ(Shell(absl::StrCat("cd ", a.Path(""),
                               " && openssl x509 -req -in server.csr -CA ",
                               "ca.pem -CAkey ca.key -out expired.pem -days -1",
                               " >/dev/null 2>&1"))
                .exit_code,
            0);
  struct Case {
    std::string cert, key, says;
  };
  for (const Case& c : std::vector<Case>{
           {a.Path("server.pem"), b.Path("server.key"), "--tls-key="},
           {a.Path("expired.pem"), a.Path("server.key"), "expired"},
           {a.Path("server.key"), a.Path("server.key"), "no PEM certificate"},
           {a.Path("server.pem"), a.Path("server.pem"), "no PEM private key"},
       }) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> node =
        ServerProcess::Start({"--tls-cert=" + c.cert, "--tls-key=" + c.key});
    ASSERT_FALSE(node.ok()) << c.says;
    EXPECT_NE(node.status().message().find(c.says), std::string::npos)
        << node.status();
  }
}

// Refused before anything binds (tests listen on loopback only).
TEST(SecureByDefaultTest, ANetworkListenerWithoutTlsAndTokensIsRefused) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> refused =
      ServerProcess::Start({"--listen=0.0.0.0:0"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--auth-file"), std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("--insecure"), std::string::npos);
}

TEST(SecureByDefaultTest, WhichListenersNeedWhat) {
  struct Case {
    std::string listen;
    bool tls, tokens, insecure, ok;
  };
  for (const Case& c : std::vector<Case>{
           {"127.0.0.1:7411", false, false, false, true},
           {"[::1]:7411", false, false, false, true},
           {"[::ffff:127.0.0.1]:7411", false, false, false, true},
           {"localhost:7411", false, false, false, true},
           {"unix:/run/clustercache.sock", false, false, false, true},
           {"0.0.0.0:7411", false, false, false, false},
           {"10.0.0.5:7411", true, false, false, false},
           {"10.0.0.5:7411", false, true, false, false},
           {"10.0.0.5:7411", true, true, false, true},
           {"[::]:7411", false, false, true, true},
       }) {
    ServerConfig config;
    config.listen = c.listen;
    if (c.tls) config.tls = {"cert.pem", "key.pem", ""};
    if (c.tokens) config.auth_file = "auth";
    config.insecure = c.insecure;
    EXPECT_EQ(config.Validate().ok(), c.ok)
        << c.listen << " tls " << c.tls << " tokens " << c.tokens
        << " insecure " << c.insecure;
  }
  ServerConfig http_out;
  http_out.http_listen = "10.0.0.5:7412";  // --listen is loopback
  EXPECT_FALSE(http_out.Validate().ok());
  http_out.tls = {"cert.pem", "key.pem", ""};
  http_out.auth_file = "auth";
  EXPECT_TRUE(http_out.Validate().ok()) << "HTTPS and tokens";
  ServerConfig admin_out;
  admin_out.admin_listen = "10.0.0.5:7410";  // --listen is loopback
  EXPECT_FALSE(admin_out.Validate().ok());
  admin_out.admin_listen = "unix:/run/clustercache/admin.sock";
  EXPECT_TRUE(admin_out.Validate().ok());
}

// Issue 15, item 3: --admin-listen serves Admin there and not on --listen;
// the Cache service stays where it was.
TEST(AdminListenTest, AdminOnlyOnItsOwnAddress) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--admin-listen=127.0.0.1:0"});
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string log = ReadFile((*node)->log_path());
  const size_t at = log.find("Admin on ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string admin = log.substr(at + 9, log.find(' ', at + 9) - at - 9);
  auto client = [](const std::string& address) {
    ClientOptions o;
    o.servers = {address};
    return NewGrpcClient(o);
  };
  v1::FetchRequest fetch;
  fetch.mutable_key()->set_scope("content-view");
  fetch.mutable_key()->set_name("page");
  EXPECT_TRUE(client((*node)->address())->Fetch(fetch).ok());
  EXPECT_EQ(client((*node)->address())->Stats().status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(client(admin)->Stats().ok()) << admin;
  EXPECT_EQ(client(admin)->Fetch(fetch).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace clustercache
