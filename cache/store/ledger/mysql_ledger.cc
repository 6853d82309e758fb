#include "cache/store/ledger/mysql_ledger.h"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cache/store/ledger/ledger_row.h"
#include "cache/util/log.h"
#include "cache/util/store_url.h"

namespace clustercache {

absl::StatusOr<MysqlUrl> ParseMysqlUrl(absl::string_view url) {
  absl::StatusOr<StoreUrl> u = ParseStoreUrl(url, 3306);
  const std::string usage =
      "ledger: expected mysql://USER[:PASS]@HOST[:PORT]/DB";
  if (!u.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(usage, ": ", u.status().message()));
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(usage, ": \"", u->Redacted(), "\": ", why));
  };
  if (u->scheme != "mysql") return bad("not mysql://");
  if (u->hosts.size() != 1) return bad("one host");
  if (u->user.empty()) return bad("no user");
  MysqlUrl out;
  for (const auto& [k, v] : u->query) {
    if (k == "ssl-ca") {
      out.ssl_ca = v;
    } else if (k == "ssl-cert") {
      out.ssl_cert = v;
    } else if (k == "ssl-key") {
      out.ssl_key = v;
    } else if (k == "ssl-mode" && (v == "REQUIRED" || v == "VERIFY_IDENTITY")) {
      out.ssl_mode = v;
    } else {
      return bad(
          absl::StrCat("option \"", k,
                       "\": the options are ssl-ca, ssl-cert, ssl-key and "
                       "ssl-mode=REQUIRED|VERIFY_IDENTITY"));
    }
  }
  if (out.ssl_mode == "VERIFY_IDENTITY" && out.ssl_ca.empty()) {
    return bad("ssl-mode=VERIFY_IDENTITY needs ssl-ca");
  }
  if (u->path.empty() ||
      u->path.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
          std::string::npos) {
    return bad("DB: letters, digits and _");
  }
  out.user = u->user;
  out.password = u->password;
  out.host = u->hosts[0].host;
  out.port = u->hosts[0].port;
  out.database = u->path;
  return out;
}

namespace {

constexpr int kMaxAttempts = 5;
constexpr int kDeleteBatch = 500;

// Each schema version, as the statements that lead to it from the one
// before. Version 1 is the first.
const std::vector<std::vector<const char*>>& Migrations() {
  static const auto* migrations = new std::vector<std::vector<const char*>>{
      {
          "CREATE TABLE IF NOT EXISTS cc_entries ("
          " ns VARBINARY(64) NOT NULL, scope VARBINARY(32) NOT NULL,"
          " name VARBINARY(1024) NOT NULL, mtime BIGINT NOT NULL,"
          " expires_at BIGINT NOT NULL, expired_at BIGINT NOT NULL,"
          " size BIGINT NOT NULL, crc32 BIGINT NOT NULL,"
          " content_type VARBINARY(255) NOT NULL, tags VARBINARY(4200) NOT "
          "NULL,"
          " PRIMARY KEY (ns, scope, name),"
          " KEY by_scope_mtime (ns, scope, mtime),"
          " KEY by_mtime (ns, mtime)) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS cc_expiry_keys ("
          " ns VARBINARY(64) NOT NULL, name VARBINARY(160) NOT NULL,"
          " value BIGINT NOT NULL, PRIMARY KEY (ns, name)) ENGINE=InnoDB",
      },
  };
  return *migrations;
}

bool IsConnectionError(int code) {
  switch (code) {
    case 0:     // the connector's own "connection closed"
    case 1053:  // server shutdown in progress
    case 1927:  // connection killed
    case 2002:
    case 2003:
    case 2006:
    case 2013:
    case 2055:
      return true;
    default:
      return false;
  }
}

bool IsRetryable(int code) { return code == 1213 || code == 1205; }

using Conn = std::unique_ptr<sql::Connection>;
using Statement = std::unique_ptr<sql::PreparedStatement>;
using Rows = std::unique_ptr<sql::ResultSet>;

std::string Str(const sql::SQLString& s) { return s.asStdString(); }

// "%" and "_" and "\" matched literally.
std::string LikePrefix(absl::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

class MysqlLedger : public Ledger {
 public:
  explicit MysqlLedger(MysqlLedgerOptions options)
      : options_(std::move(options)),
        driver_(sql::mysql::get_mysql_driver_instance()) {}

  std::string Describe() const override {
    return absl::StrCat("mysql://", options_.url.user, "@", options_.url.host,
                        ":", options_.url.port, "/", options_.url.database,
                        " (namespace ", options_.ns, ", schema v",
                        kLedgerSchemaVersion, ")");
  }

  absl::Status Migrate() {
    return Run(Lane::kPool, [&](sql::Connection& c) -> absl::Status {
      std::unique_ptr<sql::Statement> st(c.createStatement());
      st->execute(
          "CREATE TABLE IF NOT EXISTS cc_schema (id INT PRIMARY KEY,"
          " version INT NOT NULL) ENGINE=InnoDB");
      st->execute("INSERT IGNORE INTO cc_schema VALUES (1, 0)");
      c.setAutoCommit(false);
      Rows rows(st->executeQuery(
          "SELECT version FROM cc_schema WHERE id = 1 FOR UPDATE"));
      int version = rows->next() ? rows->getInt(1) : 0;
      const int target = static_cast<int>(Migrations().size());
      if (version > target) {
        c.rollback();
        c.setAutoCommit(true);
        return absl::FailedPreconditionError(absl::StrCat(
            "ledger: schema version ", version, " in ", options_.url.database,
            " is newer than this program's (", target,
            "); upgrade clustercached"));
      }
      for (int v = version; v < target; ++v) {
        for (const char* statement : Migrations()[v]) st->execute(statement);
        st->execute(absl::StrCat("UPDATE cc_schema SET version = ", v + 1,
                                 " WHERE id = 1"));
        LogInfo("ledger: schema at version ", v + 1);
      }
      c.commit();
      c.setAutoCommit(true);
      return absl::OkStatus();
    });
  }

  absl::Status Ping() override {
    return Run(Lane::kPool, [&](sql::Connection& c) -> absl::Status {
      std::unique_ptr<sql::Statement> st(c.createStatement());
      Rows rows(st->executeQuery("SELECT 1"));
      return absl::OkStatus();
    });
  }

  absl::Status Record(const std::vector<EntryMeta>& metas) override {
    if (metas.empty()) return absl::OkStatus();
    return Run(Lane::kRecord, [&](sql::Connection& c) -> absl::Status {
      // mtime is assigned last: the IFs before it must see the old value.
      Statement ps(c.prepareStatement(
          "INSERT INTO cc_entries (ns, scope, name, mtime, expires_at,"
          " expired_at, size, crc32, content_type, tags)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
          " expires_at = IF(VALUES(mtime) >= mtime, VALUES(expires_at),"
          "   expires_at),"
          " expired_at = IF(VALUES(mtime) >= mtime, VALUES(expired_at),"
          "   expired_at),"
          " size = IF(VALUES(mtime) >= mtime, VALUES(size), size),"
          " crc32 = IF(VALUES(mtime) >= mtime, VALUES(crc32), crc32),"
          " content_type = IF(VALUES(mtime) >= mtime, VALUES(content_type),"
          "   content_type),"
          " tags = IF(VALUES(mtime) >= mtime, VALUES(tags), tags),"
          " mtime = GREATEST(mtime, VALUES(mtime))"));
      // One commit for the batch (a failure rolls it back in Run, and a
      // retry records it all again: each row is an idempotent upsert).
      c.setAutoCommit(false);
      for (const EntryMeta& m : metas) {
        ps->setString(1, options_.ns);
        ps->setString(2, std::string(m.key.scope()));
        ps->setString(3, std::string(m.key.name()));
        ps->setInt64(4, m.mtime);
        ps->setInt64(5, m.expires_at);
        ps->setInt64(6, m.expired_at);
        ps->setInt64(7, m.size);
        ps->setInt64(8, m.crc32);
        ps->setString(9, m.content_type);
        ps->setString(10, absl::StrJoin(m.tags, " "));
        ps->executeUpdate();
      }
      c.commit();
      c.setAutoCommit(true);
      return absl::OkStatus();
    });
  }

  absl::Status MarkExpired(const std::vector<Key>& keys, int64_t at) override {
    if (keys.empty()) return absl::OkStatus();
    return Transaction([&](sql::Connection& c) {
      Statement ps(c.prepareStatement(
          "UPDATE cc_entries SET expired_at = ? WHERE ns = ? AND scope = ?"
          " AND name = ? AND expired_at = 0"));
      for (const Key& k : keys) {
        ps->setInt64(1, at);
        ps->setString(2, options_.ns);
        ps->setString(3, std::string(k.scope()));
        ps->setString(4, std::string(k.name()));
        ps->executeUpdate();
      }
    });
  }

  absl::Status Forget(const std::vector<KeyVersion>& keys) override {
    // One statement per batch: the keys as a derived table joined on the
    // primary key (each a point delete; an OR of many keys in a WHERE makes
    // the optimiser scan the table). mtime 0 matches any version.
    for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
      size_t end = std::min(keys.size(), start + kDeleteBatch);
      absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
        std::string rows;
        for (size_t i = start; i < end; ++i) {
          absl::StrAppend(&rows, i == start ? "" : " UNION ALL ",
                          "SELECT ? AS scope, ? AS name, ? AS mtime");
        }
        // Forced: the keys first, each an eq_ref on the primary key (on a
        // small table the optimiser would rather scan).
        Statement ps(c.prepareStatement(absl::StrCat(
            "DELETE e FROM (", rows,
            ") k STRAIGHT_JOIN cc_entries e FORCE INDEX (PRIMARY)"
            " ON e.ns = ? AND e.scope = k.scope AND e.name = k.name"
            " AND (k.mtime = 0 OR e.mtime = k.mtime)")));
        int p = 1;
        for (size_t i = start; i < end; ++i) {
          ps->setString(p++, std::string(keys[i].key.scope()));
          ps->setString(p++, std::string(keys[i].key.name()));
          ps->setInt64(p++, keys[i].mtime);
        }
        ps->setString(p++, options_.ns);
        ps->executeUpdate();
        return absl::OkStatus();
      });
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ScanPage> Scan(const ScanRequest& request) override {
    std::map<std::string, int64_t> expiry;
    if (request.metadata) {
      absl::StatusOr<std::vector<ExpiryKeyValue>> keys = ExpiryKeys();
      if (!keys.ok()) return keys.status();
      for (const ExpiryKeyValue& kv : *keys) expiry[kv.name] = kv.value;
    }
    ScanPage page;
    absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
      page = ScanPage();
      const bool by_age = request.any_order && request.mtime_before > 0;
      // By age, the mtime index is named: left to itself, MariaDB would
      // read a whole scope by its primary key and sort it for every page.
      std::string sql = absl::StrCat(
          "SELECT scope, name, mtime, expires_at, expired_at, size, crc32,"
          " content_type, tags FROM cc_entries",
          !by_age                 ? ""
          : request.scope.empty() ? " FORCE INDEX (by_mtime)"
                                  : " FORCE INDEX (by_scope_mtime)",
          " WHERE ns = ?");
      if (!request.scope.empty()) sql += " AND scope = ?";
      if (!request.prefix.empty()) sql += " AND name LIKE ?";
      int64_t after_mtime = 0;
      Key after("x", "x");
      bool has_after = !request.after.empty();
      if (has_after) {
        absl::string_view cursor = request.after;
        if (by_age) {
          size_t space = cursor.find(' ');
          if (space == absl::string_view::npos ||
              !absl::SimpleAtoi(cursor.substr(0, space), &after_mtime)) {
            return absl::InvalidArgumentError("scan: bad cursor");
          }
          cursor.remove_prefix(space + 1);
        }
        if (cursor.find('\0') == absl::string_view::npos) {
          return absl::InvalidArgumentError("scan: bad cursor");
        }
        after = Key::FromEncoded(std::string(cursor));
      }
      const char* key_after = "(scope > ? OR (scope = ? AND name > ?))";
      if (by_age) {
        sql += " AND mtime < ?";
        if (has_after) {
          absl::StrAppend(&sql, " AND (mtime > ? OR (mtime = ? AND ", key_after,
                          "))");
        }
        // In one scope, (mtime, name) is the index's own order.
        sql += request.scope.empty() ? " ORDER BY mtime, scope, name LIMIT ?"
                                     : " ORDER BY mtime, name LIMIT ?";
      } else {
        if (has_after) absl::StrAppend(&sql, " AND ", key_after);
        sql += " ORDER BY scope, name LIMIT ?";
      }
      Statement ps(c.prepareStatement(sql));
      int p = 1;
      ps->setString(p++, options_.ns);
      if (!request.scope.empty()) ps->setString(p++, request.scope);
      if (!request.prefix.empty()) {
        ps->setString(p++, LikePrefix(request.prefix));
      }
      if (by_age) ps->setInt64(p++, request.mtime_before);
      if (has_after) {
        if (by_age) {
          ps->setInt64(p++, after_mtime);
          ps->setInt64(p++, after_mtime);
        }
        ps->setString(p++, std::string(after.scope()));
        ps->setString(p++, std::string(after.scope()));
        ps->setString(p++, std::string(after.name()));
      }
      ps->setInt(p++, request.limit);
      Rows rows(ps->executeQuery());
      int read = 0;
      std::string last_after;  // the page goes on after the last row read
      while (rows->next()) {
        ++read;
        LedgerRow row;
        row.scope = Str(rows->getString(1));
        row.name = Str(rows->getString(2));
        row.mtime = rows->getInt64(3);
        row.expires_at = rows->getInt64(4);
        row.expired_at = rows->getInt64(5);
        row.size = rows->getInt64(6);
        row.crc32 = rows->getInt64(7);
        row.content_type = Str(rows->getString(8));
        row.tags = Str(rows->getString(9));
        last_after =
            by_age ? absl::StrCat(row.mtime, " ", row.scope,
                                  std::string(1, '\0'), row.name)
                   : absl::StrCat(row.scope, std::string(1, '\0'), row.name);
        std::optional<EntryMeta> meta = MetaFromLedgerRow(row);
        if (!meta) continue;
        ScannedEntry e;
        e.meta = *std::move(meta);
        if (request.metadata) {
          auto value = [&](const std::string& name) {
            auto it = expiry.find(name);
            return it == expiry.end() ? int64_t{0} : it->second;
          };
          e.expiry.all = value(std::string(kExpiryAll));
          e.expiry.scope = value(ScopeExpiryKey(e.meta.key.scope()));
          for (const std::string& t : e.meta.tags) {
            e.expiry.tags.push_back(value(t));
          }
        }
        page.entries.push_back(std::move(e));
      }
      page.done = read < request.limit;
      if (read > 0) page.next_after = std::move(last_after);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return page;
  }

  absl::StatusOr<StoreUsage> Usage() override {
    StoreUsage usage;
    absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
      Statement ps(c.prepareStatement(
          "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM cc_entries"
          " WHERE ns = ?"));
      ps->setString(1, options_.ns);
      Rows rows(ps->executeQuery());
      if (rows->next()) {
        usage.entries = rows->getInt64(1);
        usage.bytes = rows->getInt64(2);
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return usage;
  }

  absl::StatusOr<int64_t> RaiseExpiryKey(absl::string_view name,
                                         int64_t value) override {
    int64_t after = value;
    absl::Status s = Transaction([&](sql::Connection& c) {
      Statement up(c.prepareStatement(
          "INSERT INTO cc_expiry_keys (ns, name, value) VALUES (?, ?, ?)"
          " ON DUPLICATE KEY UPDATE value = GREATEST(value, VALUES(value))"));
      up->setString(1, options_.ns);
      up->setString(2, std::string(name));
      up->setInt64(3, value);
      up->executeUpdate();
      Statement read(c.prepareStatement(
          "SELECT value FROM cc_expiry_keys WHERE ns = ? AND name = ?"));
      read->setString(1, options_.ns);
      read->setString(2, std::string(name));
      Rows rows(read->executeQuery());
      if (rows->next()) after = rows->getInt64(1);
    });
    if (!s.ok()) return s;
    return after;
  }

  absl::StatusOr<int64_t> LowerExpiryKey(absl::string_view name, int64_t value,
                                         int64_t ahead) override {
    int64_t before = 0;
    absl::Status s = Transaction([&](sql::Connection& c) {
      Statement read(c.prepareStatement(
          "SELECT value FROM cc_expiry_keys WHERE ns = ? AND name = ?"
          " FOR UPDATE"));
      read->setString(1, options_.ns);
      read->setString(2, std::string(name));
      Rows rows(read->executeQuery());
      if (rows->next()) before = rows->getInt64(1);
      Statement down(c.prepareStatement(
          "UPDATE cc_expiry_keys SET value = ? WHERE ns = ? AND name = ?"
          " AND value > ?"));
      down->setInt64(1, value);
      down->setString(2, options_.ns);
      down->setString(3, std::string(name));
      down->setInt64(4, value + ahead);
      down->executeUpdate();
    });
    if (!s.ok()) return s;
    return before;
  }

  absl::Status ForgetTags(const std::vector<std::string>& names,
                          int64_t floor) override {
    absl::Status raised = RaiseExpiryKey(kTagFloorKey, floor).status();
    if (!raised.ok()) return raised;
    for (size_t start = 0; start < names.size(); start += kDeleteBatch) {
      const size_t end = std::min(names.size(), start + kDeleteBatch);
      absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
        std::string marks;
        for (size_t i = start; i < end; ++i) {
          absl::StrAppend(&marks, i == start ? "?" : ", ?");
        }
        Statement ps(c.prepareStatement(absl::StrCat(
            "DELETE FROM cc_expiry_keys WHERE ns = ? AND value <= ?"
            " AND name IN (",
            marks, ")")));
        int p = 1;
        ps->setString(p++, options_.ns);
        ps->setInt64(p++, floor);
        for (size_t i = start; i < end; ++i) ps->setString(p++, names[i]);
        ps->executeUpdate();
        return absl::OkStatus();
      });
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> OldestMtime() override {
    int64_t oldest = 0;
    absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
      Statement ps(c.prepareStatement(
          "SELECT COALESCE(MIN(mtime), 0) FROM cc_entries WHERE ns = ?"));
      ps->setString(1, options_.ns);
      Rows rows(ps->executeQuery());
      if (rows->next()) oldest = rows->getInt64(1);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return oldest;
  }

  absl::StatusOr<std::vector<ExpiryKeyValue>> ExpiryKeys() override {
    std::vector<ExpiryKeyValue> out;
    absl::Status s = Run(Lane::kPool, [&](sql::Connection& c) {
      out.clear();
      Statement ps(c.prepareStatement(
          "SELECT name, value FROM cc_expiry_keys WHERE ns = ?"
          " ORDER BY name"));
      ps->setString(1, options_.ns);
      Rows rows(ps->executeQuery());
      while (rows->next()) {
        out.push_back({Str(rows->getString(1)), rows->getInt64(2)});
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

 private:
  enum class Lane { kPool, kRecord };

  absl::StatusOr<Conn> Connect() {
    sql::ConnectOptionsMap opts;
    const int seconds = static_cast<int>(std::max<int64_t>(
        1,
        absl::ToInt64Seconds(absl::Ceil(options_.timeout, absl::Seconds(1)))));
    opts["hostName"] = sql::SQLString(
        absl::StrCat("tcp://", options_.url.host, ":", options_.url.port));
    opts["userName"] = sql::SQLString(options_.url.user);
    opts["password"] = sql::SQLString(options_.url.password);
    opts["OPT_CONNECT_TIMEOUT"] = seconds;
    // The socket's own limit is a safety net above the lock wait below, so
    // that a lock wait ends as 1205 (retried), not as a lost connection.
    opts["OPT_READ_TIMEOUT"] = 2 * seconds + 1;
    opts["OPT_WRITE_TIMEOUT"] = 2 * seconds + 1;
    opts["OPT_RECONNECT"] = false;
    const MysqlUrl& u = options_.url;
    if (!u.ssl_ca.empty()) opts["sslCA"] = sql::SQLString(u.ssl_ca);
    if (!u.ssl_cert.empty()) opts["sslCert"] = sql::SQLString(u.ssl_cert);
    if (!u.ssl_key.empty()) opts["sslKey"] = sql::SQLString(u.ssl_key);
    if (!u.ssl_mode.empty()) opts["sslEnforce"] = true;
    if (u.ssl_mode == "VERIFY_IDENTITY") opts["sslVerify"] = true;
    try {
      Conn c(driver_->connect(opts));
      std::unique_ptr<sql::Statement> st(c->createStatement());
      st->execute(absl::StrCat("CREATE DATABASE IF NOT EXISTS ",
                               options_.url.database));
      c->setSchema(options_.url.database);
      // A statement waits for a row lock no longer than the timeout (the
      // server default is 50 s); the wait ends in 1205, which is retried.
      st->execute(
          absl::StrCat("SET SESSION innodb_lock_wait_timeout = ", seconds));
      return c;
    } catch (const sql::SQLException& e) {
      return absl::UnavailableError(
          absl::StrCat("ledger ", options_.url.host, ":", options_.url.port,
                       ": ", e.what(), " (", e.getErrorCode(), ")"));
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("ledger ", options_.url.host,
                                                 ":", options_.url.port, ": ",
                                                 e.what()));
    }
  }

  absl::StatusOr<Conn> Acquire(Lane lane) {
    {
      absl::MutexLock lock(&mu_);
      auto busy = [&] {
        return absl::UnavailableError(
            absl::StrCat("ledger ", Describe(), ": no connection free for ",
                         absl::FormatDuration(options_.timeout)));
      };
      if (lane == Lane::kRecord) {
        if (!mu_.AwaitWithTimeout(absl::Condition(&record_idle_),
                                  options_.timeout)) {
          return busy();
        }
        record_idle_ = false;
        if (record_conn_) return std::move(record_conn_);
      } else {
        if (!mu_.AwaitWithTimeout(
                absl::Condition(
                    +[](MysqlLedger* l) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                      return !l->idle_.empty() ||
                             l->open_ < l->options_.pool_size;
                    },
                    this),
                options_.timeout)) {
          return busy();
        }
        if (!idle_.empty()) {
          Conn c = std::move(idle_.back());
          idle_.pop_back();
          return c;
        }
        ++open_;
      }
    }
    absl::StatusOr<Conn> c = Connect();
    if (!c.ok()) Release(lane, nullptr);
    NoteOutcome(c.status());
    return c;
  }

  // `conn` null: the connection is broken (or was never made).
  void Release(Lane lane, Conn conn) {
    absl::MutexLock lock(&mu_);
    if (lane == Lane::kRecord) {
      record_conn_ = std::move(conn);
      record_idle_ = true;
    } else if (conn) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }

  void NoteOutcome(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (status.ok() && down_) {
      down_ = false;
      LogInfo("ledger ", Describe(), " reachable again");
    } else if (absl::IsUnavailable(status) && !down_) {
      down_ = true;
      LogWarning("ledger ", Describe(), " unreachable (", status.message(),
                 "); listing, purging and invalidating fail until it is back");
    }
  }

  // Runs `fn` on a connection of `lane`; retries deadlocks and lock-wait
  // timeouts; turns connector exceptions into statuses.
  absl::Status Run(Lane lane,
                   const std::function<absl::Status(sql::Connection&)>& fn) {
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<Conn> conn = Acquire(lane);
      if (!conn.ok()) return conn.status();
      int code = 0;
      std::string what;
      try {
        absl::Status s = fn(**conn);
        Release(lane, *std::move(conn));
        NoteOutcome(absl::OkStatus());
        return s;
      } catch (const sql::SQLException& e) {
        code = e.getErrorCode();
        what = e.what();
      } catch (const std::exception& e) {
        code = -1;
        what = e.what();
      }
      if (IsConnectionError(code)) {
        Release(lane, nullptr);
        absl::Status s = absl::UnavailableError(
            absl::StrCat("ledger: ", what, " (", code, ")"));
        NoteOutcome(s);
        return s;
      }
      try {
        if (!(*conn)->getAutoCommit()) {
          (*conn)->rollback();
          (*conn)->setAutoCommit(true);
        }
        Release(lane, *std::move(conn));
      } catch (const sql::SQLException&) {
        Release(lane, nullptr);
      }
      if (!IsRetryable(code) || attempt >= kMaxAttempts) {
        return absl::InternalError(
            absl::StrCat("ledger: ", what, " (", code, ")"));
      }
      absl::SleepFor(absl::Milliseconds(5 * attempt));
    }
  }

  absl::Status Transaction(const std::function<void(sql::Connection&)>& fn) {
    return Run(Lane::kPool, [&](sql::Connection& c) {
      c.setAutoCommit(false);
      fn(c);
      c.commit();
      c.setAutoCommit(true);
      return absl::OkStatus();
    });
  }

  const MysqlLedgerOptions options_;
  sql::mysql::MySQL_Driver* const driver_;
  absl::Mutex mu_;
  std::vector<Conn> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  Conn record_conn_ ABSL_GUARDED_BY(mu_);
  bool record_idle_ ABSL_GUARDED_BY(mu_) = true;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Ledger>> OpenMysqlLedger(
    const MysqlLedgerOptions& options) {
  static absl::Mutex driver_mu(absl::kConstInit);
  {
    // The driver's first use is not thread-safe.
    absl::MutexLock lock(&driver_mu);
    sql::mysql::get_mysql_driver_instance();
  }
  auto ledger = std::make_unique<MysqlLedger>(options);
  if (absl::Status s = ledger->Migrate(); !s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace clustercache
