#include "server/tls_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"

namespace clustercache {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::Status Bad(const char* flag, const std::string& path,
                 absl::string_view what) {
  ERR_clear_error();  // OpenSSL's queue is per thread: leave it empty
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=", path, ": ", what));
}

std::string Subject(X509* x) {
  char name[256];
  X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
  return name;
}

std::string Time(const ASN1_TIME* t) {
  Bio out(BIO_new(BIO_s_mem()));
  if (out == nullptr || ASN1_TIME_print(out.get(), t) != 1) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

absl::StatusOr<Cert> ReadCert(const char* flag, const std::string& path,
                              const std::string& pem) {
  Bio in = MemoryBio(pem);
  if (in == nullptr) return Bad(flag, path, "out of memory");
  Cert x(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (x == nullptr) return Bad(flag, path, "no PEM certificate in it");
  return x;
}

constexpr size_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPemFile(const char* flag,
                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad(flag, path, "cannot read it");
  std::string text;
  text.resize(kMaxPemBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemBytes) return Bad(flag, path, "larger than 1 MiB");
  return text;
}

// An anonymous in-memory file holding `text`; -1 on failure.
int MemoryFile(const char* name, const std::string& text) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

// Puts `text` behind `*fd` (a new descriptor the first time; after that the
// same number, swapped at once by dup2).
absl::Status Serve(const char* name, const std::string& text, int* fd) {
  int fresh = MemoryFile(name, text);
  if (fresh < 0) {
    return absl::InternalError(
        absl::StrCat("TLS: cannot make an in-memory file: ", strerror(errno)));
  }
  if (*fd < 0) {
    *fd = fresh;
    return absl::OkStatus();
  }
  int rc = dup3(fresh, *fd, O_CLOEXEC);
  int err = errno;
  close(fresh);
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("TLS: cannot swap the served files: ", strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CheckTlsPem(const ServerTls& tls,
                                        const std::string& cert_pem,
                                        const std::string& key_pem,
                                        const std::string& client_ca_pem) {
  absl::StatusOr<Cert> cert = ReadCert("tls-cert", tls.cert, cert_pem);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
    return Bad("tls-cert", tls.cert,
               absl::StrCat("expired ", Time(X509_get0_notAfter(x))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
    return Bad("tls-cert", tls.cert,
               absl::StrCat("not valid before ", Time(X509_get0_notBefore(x))));
  }
  {
    Bio in = MemoryBio(key_pem);
    if (in == nullptr) return Bad("tls-key", tls.key, "out of memory");
    PrivateKey key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr,
                                           const_cast<char*>("")));
    if (key == nullptr) {
      return Bad("tls-key", tls.key,
                 "no PEM private key in it (or one with a passphrase)");
    }
    if (X509_check_private_key(x, key.get()) != 1) {
      return Bad("tls-key", tls.key,
                 absl::StrCat("not the key of --tls-cert=", tls.cert));
    }
  }
  std::string out = absl::StrCat("certificate ", Subject(x), " (until ",
                                 Time(X509_get0_notAfter(x)), "), key matches");
  if (!tls.client_ca.empty()) {
    absl::StatusOr<Cert> ca =
        ReadCert("tls-client-ca", tls.client_ca, client_ca_pem);
    if (!ca.ok()) return ca.status();
    absl::StrAppend(&out, ", clients need a certificate signed by ",
                    Subject(ca->get()));
  }
  ERR_clear_error();
  return out;
}

absl::StatusOr<std::unique_ptr<ServedTlsFiles>> ServedTlsFiles::Open(
    const ServerTls& tls, std::string* description) {
  std::unique_ptr<ServedTlsFiles> files(new ServedTlsFiles(tls));
  absl::StatusOr<std::string> loaded = files->Load();
  if (!loaded.ok()) return loaded.status();
  *description = *std::move(loaded);
  return files;
}

ServedTlsFiles::~ServedTlsFiles() {
  absl::MutexLock lock(&mu_);
  if (identity_fd_ >= 0) close(identity_fd_);
  if (client_ca_fd_ >= 0) close(client_ca_fd_);
}

absl::StatusOr<std::string> ServedTlsFiles::Reload() { return Load(); }

absl::StatusOr<std::string> ServedTlsFiles::Load() {
  absl::StatusOr<std::string> cert = ReadPemFile("tls-cert", tls_.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPemFile("tls-key", tls_.key);
  if (!key.ok()) return key.status();
  std::string ca;
  if (!tls_.client_ca.empty()) {
    absl::StatusOr<std::string> read =
        ReadPemFile("tls-client-ca", tls_.client_ca);
    if (!read.ok()) return read.status();
    ca = *std::move(read);
  }
  absl::StatusOr<std::string> described = CheckTlsPem(tls_, *cert, *key, ca);
  if (!described.ok()) return described.status();
  // The key first: gRPC reads the certificate chain from the same text and
  // skips what is not a certificate.
  std::string identity = *key;
  if (!identity.empty() && identity.back() != '\n') identity += '\n';
  identity += *cert;
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Serve("clustercache-tls", identity, &identity_fd_);
      !s.ok()) {
    return s;
  }
  if (!tls_.client_ca.empty()) {
    if (absl::Status s = Serve("clustercache-ca", ca, &client_ca_fd_);
        !s.ok()) {
      return s;
    }
  }
  return described;
}

std::string ServedTlsFiles::identity_path() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("/proc/self/fd/", identity_fd_);
}

std::string ServedTlsFiles::client_ca_path() const {
  absl::MutexLock lock(&mu_);
  return client_ca_fd_ < 0 ? std::string()
                           : absl::StrCat("/proc/self/fd/", client_ca_fd_);
}

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> HttpTlsContext(
    const ServedTlsFiles& files) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds |
                           ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                       ec);
  if (!ec) context->use_certificate_chain_file(files.identity_path(), ec);
  if (!ec) {
    context->use_private_key_file(files.identity_path(), ssl::context::pem, ec);
  }
  if (!ec && !files.client_ca_path().empty()) {
    context->load_verify_file(files.client_ca_path(), ec);
    if (!ec) {
      context->set_verify_mode(
          ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    }
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("HTTP TLS context: ", ec.message()));
  }
  return context;
}

}  // namespace clustercache
