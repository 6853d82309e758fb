// MysqlLedger: the Ledger in a MySQL or MariaDB database of its own
// (MySQL Connector/C++ 1.1). The program creates and upgrades its schema
// (table cc_schema holds the version). Tables, every row under a namespace
// `ns` (the store's key prefix), so several clusters can share a database:
//   cc_entries(ns, scope, name, mtime, ...)  primary key (ns, scope, name),
//     which also serves name prefixes; indexes (ns, scope, mtime) and
//     (ns, mtime) for purge by age
//   cc_expiry_keys(ns, name, value)          values only move forward
// Connections are pooled; Record (the commit path of generators) has a
// connection of its own, so purge batches never queue in front of it.
// Transactions are retried on deadlock and lock-wait timeout. Connector
// exceptions never leave this class: they become absl::Status (Unavailable
// when the server cannot be reached, logged once per outage).
#ifndef CLUSTERCACHE_CACHE_STORE_LEDGER_MYSQL_LEDGER_H_
#define CLUSTERCACHE_CACHE_STORE_LEDGER_MYSQL_LEDGER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/store/ledger/ledger.h"

namespace clustercache {

struct MysqlUrl {
  std::string user, password, host, database;
  int port = 3306;
  // TLS to the server (?ssl-ca=&ssl-cert=&ssl-key=&ssl-mode=): PEM paths;
  // mode "" (the connector's default), REQUIRED (TLS or no connection) or
  // VERIFY_IDENTITY (also the server's certificate checked against ssl-ca
  // and the host name).
  std::string ssl_ca, ssl_cert, ssl_key, ssl_mode;
};
// "mysql://USER[:PASS]@HOST[:PORT]/DB[?ssl-ca=PATH&ssl-mode=MODE...]".
absl::StatusOr<MysqlUrl> ParseMysqlUrl(absl::string_view url);

struct MysqlLedgerOptions {
  MysqlUrl url;
  std::string ns = "cc";
  int pool_size = 4;
  absl::Duration timeout = absl::Seconds(2);
};

inline constexpr int kLedgerSchemaVersion = 1;

// Connects, creates the database if needed, and brings its schema to
// kLedgerSchemaVersion. FailedPrecondition if the schema is newer than
// this program; Unavailable if the server cannot be reached.
absl::StatusOr<std::unique_ptr<Ledger>> OpenMysqlLedger(
    const MysqlLedgerOptions& options);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_LEDGER_MYSQL_LEDGER_H_
