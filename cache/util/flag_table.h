// FlagTable: command-line settings as a table, one row each: name, help, how
// to parse a value, and how to show the current one. Used by clustercached
// and clustercachectl so both read "--name=value", "--name value", bare
// booleans, "--flagfile=FILE" and "--help" the same way, and so the
// effective configuration can be printed.
//
// A flagfile has one setting a line: "--name=value", "--name value",
// "name=value" or "name value" (a boolean alone); '#' starts a comment at
// the start of a line or after a blank. It may name other flagfiles (at
// most 8 deep); one that includes itself is an error. With an environment
// prefix every flag is also read from $PREFIX_NAME (upper case, '-' as
// '_'), and a variable of that prefix that names no flag is an error.
// Precedence: the command line over the environment over flagfiles.
// Not thread-safe; build and parse on one thread.
#ifndef CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_
#define CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cache/scope_policy.h"

namespace clustercache {

class FlagTable {
 public:
  using Setter = std::function<absl::Status(absl::string_view)>;
  using Shower = std::function<std::string()>;

  void Add(std::string name, std::string value_hint, std::string help,
           Setter set, Shower show, bool is_bool = false);

  void AddString(std::string name, std::string* target, std::string help);
  // Repeatable: each use appends.
  void AddList(std::string name, std::vector<std::string>* target,
               std::string help);
  void AddBool(std::string name, bool* target, std::string help);
  void AddInt(std::string name, int64_t* target, int64_t min, int64_t max,
              std::string help);
  void AddDuration(std::string name, absl::Duration* target, std::string help);
  // Like AddDuration, but "-5s" is allowed.
  void AddSignedDuration(std::string name, absl::Duration* target,
                         std::string help);
  void AddByteSize(std::string name, int64_t* target, std::string help);
  void AddScopeDurations(std::string name, ScopeDurations* target,
                         std::string help);

  // Reads every flag from the environment too (e.g. "CLUSTERCACHED_").
  void SetEnvPrefix(std::string prefix);
  // The environment variable of `flag` ("" without a prefix).
  std::string EnvName(absl::string_view flag) const;

  // Parses `args` (no program name). Non-flag arguments go to `positional`;
  // everything after a bare "--" goes to `rest` (if null, "--" is an error).
  // Sets *help_requested on --help/-h. Errors name the flag.
  absl::Status Parse(const std::vector<std::string>& args,
                     std::vector<std::string>* positional,
                     std::vector<std::string>* rest = nullptr,
                     bool* help_requested = nullptr);

  // "  --name=HINT  help (default: value) [$ENV]", wrapped to `width`
  // columns (0: the terminal's, else $COLUMNS, else 80).
  std::string Help(size_t width = 0) const;
  // "--name" of every row, in table order; value_flags only those that
  // take a value (not booleans).
  std::vector<std::string> Names(bool value_flags_only = false) const;
  // "name=value" for every row, one per line: the effective configuration.
  std::string Show() const;

 private:
  struct Row {
    std::string name, hint, help, default_text;
    Setter set;
    Shower show;
    bool is_bool;
  };
  // One "--name=value" as read, before it is applied.
  struct Setting {
    std::string name, value;
    bool has_value = false;
  };
  const Row* Find(absl::string_view name) const;
  absl::Status Tokenize(const std::vector<std::string>& args,
                        std::vector<Setting>* settings,
                        std::vector<std::string>* positional,
                        std::vector<std::string>* rest,
                        bool* help_requested) const;
  // Sets a known flag; errors start with `source` (where it came from).
  absl::Status Apply(const Setting& setting, absl::string_view source) const;
  absl::Status ApplyEnvironment() const;
  // `including`: the flagfiles open around this one (loop detection).
  absl::Status ApplyFlagfile(const std::string& path,
                             std::vector<std::string>* including);
  // A setting, nothing (blank or comment), or why the line is wrong.
  absl::StatusOr<std::optional<Setting>> FlagfileLine(
      absl::string_view line) const;

  std::vector<Row> rows_;
  std::string env_prefix_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_
