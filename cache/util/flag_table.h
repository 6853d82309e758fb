// FlagTable: command-line settings as a table, one row each: name, help, how
// to parse a value, and how to show the current one. Used by clustercached
// and clustercachectl so both read "--name=value", "--name value", bare
// booleans, "--flagfile=FILE" (one flag per line, # comments) and "--help"
// the same way, and so the effective configuration can be printed.
// Not thread-safe; build and parse on one thread.
#ifndef CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_
#define CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
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

  // Parses `args` (no program name). Non-flag arguments go to `positional`;
  // everything after a bare "--" goes to `rest` (if null, "--" is an error).
  // Sets *help_requested on --help/-h. Errors name the flag.
  absl::Status Parse(const std::vector<std::string>& args,
                     std::vector<std::string>* positional,
                     std::vector<std::string>* rest = nullptr,
                     bool* help_requested = nullptr);

  // "  --name=HINT  help (default: value)" lines.
  std::string Help() const;
  // "name=value" for every row, one per line: the effective configuration.
  std::string Show() const;

 private:
  struct Row {
    std::string name, hint, help, default_text;
    Setter set;
    Shower show;
    bool is_bool;
  };
  const Row* Find(absl::string_view name) const;
  absl::Status ParseFlagfile(const std::string& path,
                             std::vector<std::string>* positional);

  std::vector<Row> rows_;
};

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_FLAG_TABLE_H_
