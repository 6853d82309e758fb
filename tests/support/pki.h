// Pki: a CA made by openssl at test time and certificates signed by it, in
// a directory of the test's own (TLS tests of the node, the ledger and the
// Redis tunnel).
#ifndef CLUSTERCACHE_TESTS_SUPPORT_PKI_H_
#define CLUSTERCACHE_TESTS_SUPPORT_PKI_H_

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace clustercache {

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

}  // namespace clustercache

#endif  // CLUSTERCACHE_TESTS_SUPPORT_PKI_H_
