// The MySQL ledger on the MariaDB of scripts/test: its schema is created and
// versioned by the program (a newer one is refused), a statement that meets a
// lock-wait timeout is retried, and URLs are checked.
#include "cache/store/ledger/mysql_ledger.h"

#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/store/memcached/memcached_pool.h"
#include "gtest/gtest.h"
#include "tests/support/pki.h"
#include "tests/support/server_process.h"
#include "tests/support/servers.h"

namespace clustercache {
namespace {

// The mariadb client on the test server, as `url`'s user.
std::string Sql(const MysqlUrl& url, const std::string& statements) {
  return absl::StrCat("mariadb --no-defaults -h", url.host, " -P", url.port,
                      " -u", url.user, " -p", url.password, " -e \"",
                      statements, "\"");
}

class MysqlLedgerTest : public testing::Test {
 protected:
  void SetUp() override {
    CLUSTERCACHE_NEED_SERVER(mysql, "CLUSTERCACHE_TEST_MYSQL");
    absl::StatusOr<MysqlUrl> url = ParseMysqlUrl(mysql);
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    url_.database = absl::StrCat("cc_ledger_test_", getpid());
  }
  void TearDown() override {
    if (!url_.database.empty()) {
      Shell(Sql(url_, "DROP DATABASE IF EXISTS " + url_.database));
    }
  }

  absl::StatusOr<std::unique_ptr<Ledger>> Open() {
    MysqlLedgerOptions options;
    options.url = url_;
    options.timeout = absl::Seconds(1);
    return OpenMysqlLedger(options);
  }

  MysqlUrl url_;
};

TEST_F(MysqlLedgerTest, CreatesItsSchemaAndRefusesANewerOne) {
  ASSERT_TRUE(Open().ok());
  ShellResult version =
      Shell(Sql(url_, "SELECT version FROM " + url_.database + ".cc_schema") +
            " --skip-column-names");
  EXPECT_EQ(version.out, absl::StrCat(kLedgerSchemaVersion, "\n"));
  ASSERT_TRUE(Open().ok()) << "opening again changes nothing";
  ASSERT_EQ(Shell(Sql(url_, "UPDATE " + url_.database +
                                ".cc_schema SET version = 99"))
                .exit_code,
            0);
  absl::StatusOr<std::unique_ptr<Ledger>> newer = Open();
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("newer"), absl::string_view::npos)
      << newer.status();
}

TEST_F(MysqlLedgerTest, ALockWaitTimeoutIsRetried) {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Open();
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  ASSERT_EQ(*(*ledger)->RaiseExpiryKey("scope:rss", 100), 100);
  // Another session holds the row for 2.5 s; the ledger's statement times
  // out waiting (1 s) and is retried until the lock is gone.
  std::thread holder([&] {
    Shell(Sql(url_, "BEGIN; SELECT value FROM " + url_.database +
                        ".cc_expiry_keys WHERE name = 'scope:rss' FOR "
                        "UPDATE; SELECT SLEEP(2.5); COMMIT;") +
          " >/dev/null");
  });
  absl::SleepFor(absl::Milliseconds(500));
  absl::Time start = absl::Now();
  absl::StatusOr<int64_t> raised = (*ledger)->RaiseExpiryKey("scope:rss", 200);
  absl::Duration took = absl::Now() - start;
  holder.join();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, 200);
  EXPECT_GE(took, absl::Milliseconds(900)) << "it did wait for the lock";
}

// The recorder hands the ledger a batch at a time (one commit each): every
// row lands, and of two versions of a key, in one batch or across two,
// the newer stays whatever the order.
TEST_F(MysqlLedgerTest, ABatchLandsWholeAndTheNewestVersionOfAKeyWins) {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Open();
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto meta = [](int i, int64_t mtime) {
    EntryMeta m;
    m.key = Key("rss", absl::StrCat("k", 1000 + i));
    m.mtime = mtime;
    m.size = i;
    return m;
  };
  std::vector<EntryMeta> batch;
  for (int i = 0; i < 1200; ++i) batch.push_back(meta(i, 100));
  batch.push_back(meta(0, 50));   // older, later in the batch: ignored
  batch.push_back(meta(1, 200));  // newer: wins
  ASSERT_TRUE((*ledger)->Record(batch).ok());
  ASSERT_TRUE((*ledger)->Record({meta(2, 300), meta(1, 150)}).ok());
  absl::StatusOr<ScanPage> page = (*ledger)->Scan({"rss", "", "", 5000});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 1200u);
  EXPECT_EQ(page->entries[0].meta.mtime, 100);
  EXPECT_EQ(page->entries[1].meta.mtime, 200);
  EXPECT_EQ(page->entries[2].meta.mtime, 300);
  EXPECT_EQ(page->entries[1199].meta.size, 1199);
}

TEST(LedgerUrlTest, UrlsAreCheckedWithClearErrors) {
  absl::StatusOr<MysqlUrl> url = ParseMysqlUrl("mysql://u:p@db1:3307/cache");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->user, "u");
  EXPECT_EQ(url->password, "p");
  EXPECT_EQ(url->host, "db1");
  EXPECT_EQ(url->port, 3307);
  EXPECT_EQ(url->database, "cache");
  EXPECT_EQ(ParseMysqlUrl("mysql://u@db1/cache")->port, 3306);
  for (const char* bad :
       {"postgres://u@h/db", "mysql://h/db", "mysql://u@h:0/db", "mysql://u@h/",
        "mysql://u@h/a;drop"}) {
    absl::StatusOr<MysqlUrl> r = ParseMysqlUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("mysql://"), absl::string_view::npos);
  }
  absl::StatusOr<MemcachedUrl> pool = ParseMemcachedUrl("memcached://a:1,b:2");
  ASSERT_TRUE(pool.ok());
  ASSERT_EQ(pool->servers.size(), 2u);
  EXPECT_EQ(pool->servers[1].ToString(), "b:2");
  EXPECT_TRUE(pool->sasl.user.empty());
  EXPECT_FALSE(ParseMemcachedUrl("memcached://a").ok());
  EXPECT_FALSE(ParseMemcachedUrl("memcached://a:99999").ok());
  // SASL: both parts, percent-decoded; one without the other is refused
  // without echoing the password.
  absl::StatusOr<MemcachedUrl> sasl =
      ParseMemcachedUrl("memcached://cc%40site:p%2Fw%3A1@a:1");
  ASSERT_TRUE(sasl.ok()) << sasl.status();
  EXPECT_EQ(sasl->sasl.user, "cc@site");
  EXPECT_EQ(sasl->sasl.password, "p/w:1");
  for (const char* half : {"memcached://cc@a:1", "memcached://:s3cr3t@a:1"}) {
    absl::StatusOr<MemcachedUrl> r = ParseMemcachedUrl(half);
    ASSERT_FALSE(r.ok()) << half;
    EXPECT_EQ(r.status().message().find("s3cr3t"), absl::string_view::npos);
  }
}

// Issue 15, item 4: the ledger over TLS, to a MariaDB started with
// require_secure_transport=ON: with ssl-ca and VERIFY_IDENTITY it connects;
// without TLS the server refuses it; a CA that did not sign the server's
// certificate is refused.
TEST(LedgerTlsTest, ConnectsOverTlsAndVerifiesTheServer) {
  CLUSTERCACHE_NEED_SERVER(tls_url, "CLUSTERCACHE_TEST_MYSQL_TLS");
  absl::StatusOr<MysqlUrl> url = ParseMysqlUrl(tls_url);
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->ssl_mode, "VERIFY_IDENTITY");
  MysqlLedgerOptions options;
  options.url = *url;
  options.ns = absl::StrCat("tls", getpid());
  options.timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = OpenMysqlLedger(options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_TRUE((*ledger)->RaiseExpiryKey("all", 5).ok());
  MysqlLedgerOptions plain = options;
  plain.url.ssl_ca.clear();
  plain.url.ssl_mode.clear();
  absl::StatusOr<std::unique_ptr<Ledger>> refused = OpenMysqlLedger(plain);
  // (MariaDB 10.11 answers "Access denied" to a plaintext login there.)
  EXPECT_FALSE(refused.ok()) << "the server takes only TLS";
  EXPECT_EQ(refused.status().message().find("tls-pw-3x"), std::string::npos)
      << refused.status();
  Pki other("ledger-other");
  ASSERT_TRUE(other.ok());
  options.url.ssl_ca = other.Path("ca.pem");
  EXPECT_FALSE(OpenMysqlLedger(options).ok()) << "a server the CA did not sign";
}

TEST(LedgerTlsTest, TlsOptionsAreChecked) {
  absl::StatusOr<MysqlUrl> url = ParseMysqlUrl(
      "mysql://u:p@db1/cache?ssl-ca=/etc/ca.pem&ssl-mode=REQUIRED");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->ssl_ca, "/etc/ca.pem");
  EXPECT_EQ(url->ssl_mode, "REQUIRED");
  for (const char* bad : {"mysql://u@h/db?ssl-mode=PREFERRED",
                          "mysql://u@h/db?ssl-mode=VERIFY_IDENTITY",
                          "mysql://u@h/db?sslmode=require"}) {
    EXPECT_FALSE(ParseMysqlUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace clustercache
