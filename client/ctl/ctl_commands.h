// The commands of clustercachectl: a table of name, usage, flags and the
// function that runs it. Exit codes: 0 done (a fresh hit for get), 1 error,
// 2 usage error, 3 no fresh entry; fetch-or-generate passes on the exit code
// of a failing generator.
#ifndef CLUSTERCACHE_CLIENT_CTL_CTL_COMMANDS_H_
#define CLUSTERCACHE_CLIENT_CTL_CTL_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cache/util/flag_table.h"
#include "client/cache_client.h"

namespace clustercache {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNoFresh = 3;

// Every option any command takes; each command registers the ones it uses.
struct CtlOptions {
  bool allow_stale = false;
  absl::Duration ttl;
  std::vector<std::string> tags;
  std::string content_type;
  absl::Duration wait = absl::Seconds(5);
  std::string prefix;
  bool has_prefix = false;
  std::string scope;
  bool all = false;
  std::string reset;  // expiry-keys --reset NAME
  // expiry-keys --forget-tags-older-than D (infinite: not given)
  absl::Duration forget_tags_older_than = absl::InfiniteDuration();
  int64_t limit = 0;
  absl::Duration older_than;
  bool not_fresh_only = false;
  bool dry_run = false;
  bool everything = false;   // purge with no filter
  bool whole_scope = false;  // delete SCOPE with no NAME or --prefix
  int64_t batch = 1000;
  absl::Duration pause;
  // --json: one JSON document (NDJSON for streams) on stdout, in proto3's
  // JSON mapping with the proto's field names.
  bool json = false;
  // migrate, store: the stores, as clustercached's flags name them.
  std::string from, to, from_ledger, to_ledger;
  std::string from_namespace = "cc", to_namespace = "cc";
  bool fresh_only = false;
  bool finish = false;       // migrate --finish
  std::string resume_after;  // SCOPE/NAME
};

struct CtlCall {
  GrpcClient* client;
  const CtlOptions& options;
  const std::vector<std::string>& args;  // positional, after the command
  const std::vector<std::string>& rest;  // after "--"
};

struct CtlCommand {
  const char* name;
  const char* usage;  // the arguments, e.g. "SCOPE NAME [--allow-stale]"
  const char* help;
  size_t min_args, max_args;
  bool takes_rest;  // "-- CMD [ARG...]"
  std::function<void(FlagTable*, CtlOptions*)> add_flags;
  std::function<int(const CtlCall&)> run;
};

const std::vector<CtlCommand>& CtlCommands();

// Prints "clustercachectl: <message>" on stderr and returns `code`.
int Fail(int code, absl::string_view message);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_CTL_CTL_COMMANDS_H_
