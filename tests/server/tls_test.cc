// Issue 15, items 2 and 3: TLS on the listener with certificates made by
// openssl at test time; mTLS; a rotated certificate served to new
// connections; and the start-up refusal of a network listener without TLS
// and tokens.
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cache_client.h"
#include "gtest/gtest.h"
#include "server/server_config.h"
#include "tests/support/server_process.h"

namespace clustercache {
namespace {

// A CA and certificates signed by it, in a directory of the test's own.
class Pki {
 public:
  explicit Pki(const std::string& name)
      : dir_(absl::StrCat(testing::TempDir(), "/pki-", getpid(), "-", name)) {
    ok_ = Run(absl::StrCat("mkdir -p ", dir_, " && cd ", dir_,
                           " && openssl req -x509 -newkey ec -pkeyopt "
                           "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
                           "-out ca.pem -days 2 -subj /CN=",
                           name, "-ca"));
  }
  // NAME.pem and NAME.key, signed by the CA, valid for 127.0.0.1.
  bool Issue(const std::string& name) {
    return Run(absl::StrCat(
        "cd ", dir_, " && openssl req -newkey ec -pkeyopt ",
        "ec_paramgen_curve:prime256v1 -nodes -keyout ", name, ".key -out ",
        name, ".csr -subj /CN=", name,
        " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > ", name,
        ".ext && openssl x509 -req -in ", name, ".csr -CA ca.pem -CAkey ca.key",
        " -CAcreateserial -out ", name, ".pem -days 2 -extfile ", name,
        ".ext"));
  }
  std::string Path(const std::string& file) const {
    return absl::StrCat(dir_, "/", file);
  }
  bool ok() const { return ok_; }

 private:
  static bool Run(const std::string& cmd) {
    return Shell(cmd + " >/dev/null 2>&1").exit_code == 0;
  }
  std::string dir_;
  bool ok_ = false;
};

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
}

TEST(TlsTest, ARotatedCertificateIsServedToNewConnections) {
  Pki old_pki("old"), new_pki("new");
  ASSERT_TRUE(old_pki.ok() && new_pki.ok() && old_pki.Issue("server") &&
              new_pki.Issue("server"));
  const std::string cert = old_pki.Path("live.pem"),
                    key = old_pki.Path("live.key");
  ASSERT_EQ(Shell(absl::StrCat("cp ", old_pki.Path("server.pem"), " ", cert,
                               " && cp ", old_pki.Path("server.key"), " ", key))
                .exit_code,
            0);
  absl::StatusOr<std::unique_ptr<ServerProcess>> node =
      ServerProcess::Start({"--tls-cert=" + cert, "--tls-key=" + key});
  ASSERT_TRUE(node.ok()) << node.status();
  ClientOptions trusts_new;
  trusts_new.tls_ca = new_pki.Path("ca.pem");
  EXPECT_FALSE(FetchThrough((*node)->address(), trusts_new).ok());
  // Rotated in place: key and certificate of the new CA.
  ASSERT_EQ(
      Shell(absl::StrCat("cp ", new_pki.Path("server.key"), " ", key, " && cp ",
                         new_pki.Path("server.pem"), " ", cert))
          .exit_code,
      0);
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    served = FetchThrough((*node)->address(), trusts_new).ok();
  }
  EXPECT_TRUE(served) << "the new certificate within 10 s";
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
