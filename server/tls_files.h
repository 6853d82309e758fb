// The certificate, key and client CA a node serves TLS with. They are read
// at start and on SIGHUP only, checked as an operator would (each file is
// PEM that parses, the key is the certificate's, the certificate is
// current), and only then served: a file half-copied, a key of another
// certificate or an expired certificate is refused with a reason, and the
// node goes on serving what it served before.
//
// How: gRPC 1.51 can take new certificates only from files it re-reads
// (FileWatcherCertificateProvider, every second), and it serves whatever it
// finds, checked or not. So gRPC reads anonymous in-memory files of ours
// (memfd, by /proc/self/fd/N): the key and the certificate chain in one
// (gRPC takes the key and the certificates from it by their PEM labels), so
// that one dup2 swaps both at once, and the client CA in another. The key
// never touches a disk.
#ifndef CLUSTERCACHE_SERVER_TLS_FILES_H_
#define CLUSTERCACHE_SERVER_TLS_FILES_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace clustercache {

struct ServerTls {
  std::string cert, key;
  std::string client_ca;  // set: mTLS, a client certificate signed by it
};

// "certificate /CN=node1 (until Dec  4 18:00:00 2026 GMT), key matches[,
// clients need a certificate signed by /CN=ca]" for these PEM texts;
// InvalidArgument naming the flag (and `tls`'s path) and what is wrong,
// never a key's content.
absl::StatusOr<std::string> CheckTlsPem(const ServerTls& tls,
                                        const std::string& cert_pem,
                                        const std::string& key_pem,
                                        const std::string& client_ca_pem);

class ServedTlsFiles {
 public:
  // Reads and checks the files of `tls`; `*description` says what is
  // served. REQUIRES: tls.cert and tls.key set.
  static absl::StatusOr<std::unique_ptr<ServedTlsFiles>> Open(
      const ServerTls& tls, std::string* description);
  ~ServedTlsFiles();

  // Reads and checks the files again; if they pass, new connections get
  // them within a second (open ones keep theirs). Else nothing changes.
  absl::StatusOr<std::string> Reload();

  // What gRPC reads: the key and the certificate chain (for both its key
  // and its certificate path); the client CA ("" without mTLS).
  std::string identity_path() const;
  std::string client_ca_path() const;

 private:
  explicit ServedTlsFiles(ServerTls tls) : tls_(std::move(tls)) {}
  // Reads and checks; then puts the texts behind the served descriptors.
  absl::StatusOr<std::string> Load();

  const ServerTls tls_;
  mutable absl::Mutex mu_;
  int identity_fd_ ABSL_GUARDED_BY(mu_) = -1;
  int client_ca_fd_ ABSL_GUARDED_BY(mu_) = -1;
};

// The HTTP face's TLS context from the files served now: TLS 1.2 and up,
// the identity, and with a client CA a client certificate required.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> HttpTlsContext(
    const ServedTlsFiles& files);

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_TLS_FILES_H_
