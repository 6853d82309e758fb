#include "server/auth.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace clustercache {
namespace {

constexpr size_t kMinTokenBytes = 16;
constexpr size_t kMaxTokenBytes = 512;
constexpr size_t kMaxAuthFileBytes = 1 << 20;

// Equal, in time that depends on the lengths only.
bool SameSecret(absl::string_view given, absl::string_view known) {
  unsigned diff = given.size() != known.size();
  for (size_t i = 0; i < known.size(); ++i) {
    diff |= static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^
            static_cast<unsigned char>(known[i]);
  }
  return diff == 0;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

}  // namespace

absl::StatusOr<std::vector<AuthToken>> ParseAuthFile(absl::string_view text) {
  if (text.size() > kMaxAuthFileBytes) {
    return absl::InvalidArgumentError("auth file: larger than 1 MiB");
  }
  std::vector<AuthToken> out;
  absl::flat_hash_set<std::string> names, tokens;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++n;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("auth file line ", n, ": ", why));
    };
    if (words.size() != 3) return bad("want NAME ROLE TOKEN");
    AuthToken t;
    t.name = std::string(words[0]);
    if (words[1] == "read") {
      t.role = Role::kRead;
    } else if (words[1] == "write") {
      t.role = Role::kWrite;
    } else if (words[1] == "admin") {
      t.role = Role::kAdmin;
    } else {
      return bad("the role is read, write or admin");
    }
    t.token = std::string(words[2]);
    if (t.token.size() < kMinTokenBytes || t.token.size() > kMaxTokenBytes) {
      return bad(absl::StrCat("a token is ", kMinTokenBytes, " to ",
                              kMaxTokenBytes, " bytes"));
    }
    if (!names.insert(t.name).second) return bad("a name used twice");
    if (!tokens.insert(t.token).second) return bad("a token used twice");
    out.push_back(std::move(t));
  }
  if (out.empty()) return absl::InvalidArgumentError("auth file: no tokens");
  return out;
}

absl::StatusOr<std::string> Authorizer::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("auth file ", path, ": cannot read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<AuthToken>> tokens = ParseAuthFile(text.str());
  if (!tokens.ok()) {
    return absl::Status(tokens.status().code(),
                        absl::StrCat(path, ": ", tokens.status().message()));
  }
  int by_role[3] = {0, 0, 0};
  for (const AuthToken& t : *tokens) ++by_role[static_cast<int>(t.role)];
  std::string summary = absl::StrCat(tokens->size(), " tokens from ", path);
  for (Role r : {Role::kAdmin, Role::kWrite, Role::kRead}) {
    absl::StrAppend(&summary, ", ", by_role[static_cast<int>(r)], " ",
                    RoleName(r));
  }
  auto shared =
      std::make_shared<const std::vector<AuthToken>>(*std::move(tokens));
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(shared);
  enabled_.store(true, std::memory_order_release);
  return summary;
}

bool Authorizer::enabled() const {
  return enabled_.load(std::memory_order_acquire);
}

absl::StatusOr<std::string> Authorizer::Check(
    const grpc::ServerContext& context, Role needed) const {
  if (!enabled()) return std::string();  // no auth file: the hot path
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view given;
  if (it != metadata.end()) {
    given = absl::string_view(it->second.data(), it->second.size());
  }
  return CheckHeader(given, needed);
}

absl::StatusOr<std::string> Authorizer::CheckHeader(absl::string_view given,
                                                    Role needed) const {
  if (!enabled()) return std::string();
  std::shared_ptr<const std::vector<AuthToken>> tokens;
  {
    absl::ReaderMutexLock lock(&mu_);
    tokens = tokens_;
  }
  if (tokens == nullptr) return std::string();
  const AuthToken* match = nullptr;
  if (absl::ConsumePrefix(&given, "Bearer ")) {
    for (const AuthToken& t : *tokens) {  // every one: no early exit
      if (SameSecret(given, t.token)) match = &t;
    }
  }
  if (match == nullptr) {
    Bump(counters_->unauthenticated);
    return absl::UnauthenticatedError(
        "a token is required: authorization: Bearer TOKEN");
  }
  if (static_cast<int>(match->role) < static_cast<int>(needed)) {
    Bump(counters_->permission_denied);
    return absl::PermissionDeniedError(absl::StrCat(
        "token \"", match->name, "\" has role ", RoleName(match->role),
        "; this call needs ", RoleName(needed)));
  }
  return match->name;
}

}  // namespace clustercache
