// Authorizer: who may call what. `--auth-file` lists tokens, one a line:
//   NAME ROLE TOKEN        (# starts a comment; blank lines are skipped)
// ROLE is read (Fetch), write (Fetch, Store, Release) or admin (every
// call). A client sends "authorization: Bearer TOKEN" (gRPC metadata, or
// the HTTP header of the same name: one check for both faces). With
// no auth file every call is allowed, as before. Tokens are compared in
// constant time, never logged, and the file may be re-read (SIGHUP): a bad
// file is refused and the tokens before it stay. Refusals are counted in
// the node's stats. Thread-safe.
#ifndef CLUSTERCACHE_SERVER_AUTH_H_
#define CLUSTERCACHE_SERVER_AUTH_H_

#include <grpcpp/server_context.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cache/stats.h"

namespace clustercache {

enum class Role { kRead = 0, kWrite = 1, kAdmin = 2 };

struct AuthToken {
  std::string name;
  Role role = Role::kRead;
  std::string token;
};

// The lines of an auth file; errors name the line (never its token).
absl::StatusOr<std::vector<AuthToken>> ParseAuthFile(absl::string_view text);

class Authorizer {
 public:
  explicit Authorizer(NodeCounters* counters) : counters_(counters) {}

  // Reads `path` and, if it is good, uses its tokens from now on. Returns a
  // line for the log ("3 tokens: 1 admin, 2 read").
  absl::StatusOr<std::string> Load(const std::string& path);
  bool enabled() const;

  // The calling token's name ("" with no auth file), or UNAUTHENTICATED
  // (no token, or an unknown one) or PERMISSION_DENIED (its role does not
  // allow `needed`); refusals are counted.
  absl::StatusOr<std::string> Check(const grpc::ServerContext& context,
                                    Role needed) const;
  // The same for the value of an authorization header ("" when absent).
  absl::StatusOr<std::string> CheckHeader(absl::string_view authorization,
                                          Role needed) const;

 private:
  NodeCounters* const counters_;
  // Set once a file is loaded: without one, a call takes no lock.
  std::atomic<bool> enabled_{false};
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<AuthToken>> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_SERVER_AUTH_H_
