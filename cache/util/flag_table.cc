#include "cache/util/flag_table.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cache/duration.h"

extern char** environ;

namespace clustercache {

void FlagTable::Add(std::string name, std::string value_hint, std::string help,
                    Setter set, Shower show, bool is_bool) {
  std::string default_text = show();
  rows_.push_back({std::move(name), std::move(value_hint), std::move(help),
                   std::move(default_text), std::move(set), std::move(show),
                   is_bool});
}

void FlagTable::AddString(std::string name, std::string* target,
                          std::string help) {
  Add(
      std::move(name), "TEXT", std::move(help),
      [target](absl::string_view v) {
        *target = std::string(v);
        return absl::OkStatus();
      },
      [target] { return *target; });
}

void FlagTable::AddList(std::string name, std::vector<std::string>* target,
                        std::string help) {
  Add(
      std::move(name), "TEXT", std::move(help),
      [target](absl::string_view v) {
        target->emplace_back(v);
        return absl::OkStatus();
      },
      [target] { return absl::StrJoin(*target, ","); });
}

void FlagTable::AddBool(std::string name, bool* target, std::string help) {
  Add(
      std::move(name), "", std::move(help),
      [target](absl::string_view v) {
        if (v == "true" || v == "1" || v.empty()) {
          *target = true;
        } else if (v == "false" || v == "0") {
          *target = false;
        } else {
          return absl::InvalidArgumentError("want true or false");
        }
        return absl::OkStatus();
      },
      [target] { return std::string(*target ? "true" : "false"); },
      /*is_bool=*/true);
}

void FlagTable::AddInt(std::string name, int64_t* target, int64_t min,
                       int64_t max, std::string help) {
  Add(
      std::move(name), "N", std::move(help),
      [target, min, max](absl::string_view v) {
        int64_t n;
        if (!absl::SimpleAtoi(v, &n) || n < min || n > max) {
          return absl::InvalidArgumentError(
              absl::StrCat("want a whole number from ", min, " to ", max));
        }
        *target = n;
        return absl::OkStatus();
      },
      [target] { return absl::StrCat(*target); });
}

void FlagTable::AddDuration(std::string name, absl::Duration* target,
                            std::string help) {
  Add(
      std::move(name), "DURATION", std::move(help),
      [target](absl::string_view v) {
        absl::StatusOr<absl::Duration> d = ParseDuration(v);
        if (!d.ok()) return d.status();
        *target = *d;
        return absl::OkStatus();
      },
      [target] { return ShowDuration(*target); });
}

void FlagTable::AddSignedDuration(std::string name, absl::Duration* target,
                                  std::string help) {
  Add(
      std::move(name), "[-]DURATION", std::move(help),
      [target](absl::string_view v) {
        bool negative = absl::ConsumePrefix(&v, "-");
        absl::ConsumePrefix(&v, "+");
        absl::StatusOr<absl::Duration> d = ParseDuration(v);
        if (!d.ok()) return d.status();
        *target = negative ? -*d : *d;
        return absl::OkStatus();
      },
      [target] {
        return *target < absl::ZeroDuration() ? "-" + ShowDuration(-*target)
                                              : ShowDuration(*target);
      });
}

void FlagTable::AddByteSize(std::string name, int64_t* target,
                            std::string help) {
  Add(
      std::move(name), "SIZE", std::move(help),
      [target](absl::string_view v) {
        absl::StatusOr<int64_t> n = ParseByteSize(v);
        if (!n.ok()) return n.status();
        *target = *n;
        return absl::OkStatus();
      },
      [target] { return ShowByteSize(*target); });
}

void FlagTable::AddScopeDurations(std::string name, ScopeDurations* target,
                                  std::string help) {
  Add(
      std::move(name), "SCOPE=DURATION[,...]", std::move(help),
      [target](absl::string_view v) { return ParseScopeDurations(v, target); },
      [target] { return FormatScopeDurations(*target); });
}

const FlagTable::Row* FlagTable::Find(absl::string_view name) const {
  for (const Row& row : rows_) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

void FlagTable::SetEnvPrefix(std::string prefix) {
  env_prefix_ = std::move(prefix);
}

std::string FlagTable::EnvName(absl::string_view flag) const {
  std::string name = absl::StrCat(env_prefix_, flag);
  for (char& c : name) c = c == '-' ? '_' : absl::ascii_toupper(c);
  return name;
}

absl::Status FlagTable::Tokenize(const std::vector<std::string>& args,
                                 std::vector<Setting>* settings,
                                 std::vector<std::string>* positional,
                                 std::vector<std::string>* rest,
                                 bool* help_requested) const {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      if (rest == nullptr) {
        return absl::InvalidArgumentError("unexpected \"--\"");
      }
      rest->assign(args.begin() + i + 1, args.end());
      return absl::OkStatus();
    }
    if (arg == "--help" || arg == "-h") {
      if (help_requested) *help_requested = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      positional->emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    Setting setting{std::string(arg.substr(0, eq)), "",
                    eq != absl::string_view::npos};
    if (setting.has_value) setting.value = std::string(arg.substr(eq + 1));
    const Row* row = Find(setting.name);
    if (row == nullptr && setting.name != "flagfile") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", setting.name, " (see --help)"));
    }
    if (!setting.has_value && (row == nullptr || !row->is_bool)) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", setting.name, ": missing value (",
                         row == nullptr ? "FILE" : row->hint, ")"));
      }
      setting.value = args[++i];
      setting.has_value = true;
    }
    settings->push_back(std::move(setting));
  }
  return absl::OkStatus();
}

absl::Status FlagTable::Apply(const Setting& setting,
                              absl::string_view source) const {
  const Row* row = Find(setting.name);
  if (absl::Status s = row->set(setting.value); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, "--", setting.name, "=", setting.value, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status FlagTable::Parse(const std::vector<std::string>& args,
                              std::vector<std::string>* positional,
                              std::vector<std::string>* rest,
                              bool* help_requested) {
  std::vector<Setting> settings;
  if (absl::Status s =
          Tokenize(args, &settings, positional, rest, help_requested);
      !s.ok()) {
    return s;
  }
  // Precedence: the command line over the environment over flagfiles, so
  // files are applied first and the command line last.
  for (const Setting& setting : settings) {
    if (setting.name != "flagfile") continue;
    std::vector<std::string> including;
    if (absl::Status s = ApplyFlagfile(setting.value, &including); !s.ok()) {
      return s;
    }
  }
  if (!env_prefix_.empty()) {
    if (absl::Status s = ApplyEnvironment(); !s.ok()) return s;
  }
  for (const Setting& setting : settings) {
    if (setting.name == "flagfile") continue;
    if (absl::Status s = Apply(setting, ""); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FlagTable::ApplyEnvironment() const {
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    if (!absl::StartsWith(entry, env_prefix_)) continue;
    const size_t eq = entry.find('=');
    const absl::string_view name = entry.substr(0, eq);
    bool known = false;
    for (const Row& row : rows_) known = known || EnvName(row.name) == name;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown environment variable ", name,
                       " (no such flag; --help lists each flag's variable)"));
    }
  }
  for (const Row& row : rows_) {
    const std::string name = EnvName(row.name);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) continue;
    if (absl::Status s =
            Apply({row.name, value, true}, absl::StrCat("$", name, ": "));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status FlagTable::ApplyFlagfile(const std::string& path,
                                      std::vector<std::string>* including) {
  constexpr size_t kMaxDepth = 8;
  char resolved[PATH_MAX];
  const std::string id =
      realpath(path.c_str(), resolved) != nullptr ? resolved : path;
  if (std::find(including->begin(), including->end(), id) != including->end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--flagfile: \"", path, "\" includes itself (",
                     absl::StrJoin(*including, " -> "), " -> ", id, ")"));
  }
  if (including->size() >= kMaxDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--flagfile: \"", path, "\": flagfiles nest deeper than ", kMaxDepth));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--flagfile: cannot read \"", path, "\""));
  }
  including->push_back(id);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = absl::StrCat(path, ":", number, ": ");
    absl::StatusOr<std::optional<Setting>> setting = FlagfileLine(line);
    if (!setting.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, setting.status().message()));
    }
    if (!setting->has_value()) continue;
    if ((*setting)->name == "flagfile") {
      if (absl::Status s = ApplyFlagfile((*setting)->value, including);
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (absl::Status s = Apply(**setting, where); !s.ok()) return s;
  }
  including->pop_back();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<FlagTable::Setting>> FlagTable::FlagfileLine(
    absl::string_view line) const {
  // A comment: from a '#' that starts the line or follows a blank.
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || absl::ascii_isspace(line[i - 1]))) {
      line = line.substr(0, i);
      break;
    }
  }
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return std::nullopt;
  absl::ConsumePrefix(&line, "--");
  // NAME=VALUE, NAME VALUE, or NAME alone (a boolean).
  const size_t end = line.find_first_of("= \t");
  Setting setting{std::string(line.substr(0, end)), "", false};
  if (end != absl::string_view::npos) {
    setting.value =
        std::string(absl::StripAsciiWhitespace(line.substr(end + 1)));
    setting.has_value = true;
  }
  const Row* row = Find(setting.name);
  if (row == nullptr && setting.name != "flagfile") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag --", setting.name, " (see --help)"));
  }
  if (!setting.has_value && (row == nullptr || !row->is_bool)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", setting.name, ": missing value (",
                     row == nullptr ? "FILE" : row->hint, ")"));
  }
  return setting;
}

namespace {

// The terminal's width (stdout), else $COLUMNS, else 80; kept to 60..200.
size_t TerminalWidth() {
  size_t width = 80;
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
      ws.ws_col > 0) {
    width = ws.ws_col;
  } else if (const char* columns = std::getenv("COLUMNS")) {
    (void)absl::SimpleAtoi(columns, &width);
  }
  return std::clamp<size_t>(width, 60, 200);
}

// `text` in lines of at most `width` columns, each after `indent` blanks
// (the first after whatever `out` ends with).
void AppendWrapped(std::string* out, absl::string_view text, size_t indent,
                   size_t width) {
  size_t column = indent;
  bool first = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!first && column + 1 + word.size() > width) {
      absl::StrAppend(out, "\n", std::string(indent, ' '));
      column = indent;
      first = true;
    }
    if (!first) {
      out->push_back(' ');
      ++column;
    }
    absl::StrAppend(out, word);
    column += word.size();
    first = false;
  }
  out->push_back('\n');
}

}  // namespace

std::string FlagTable::Help(size_t width) const {
  if (width == 0) width = TerminalWidth();
  constexpr size_t kColumn = 34;
  std::string out;
  for (const Row& row : rows_) {
    std::string flag = absl::StrCat("  --", row.name);
    if (!row.is_bool) absl::StrAppend(&flag, "=", row.hint);
    if (flag.size() < kColumn) {
      flag.resize(kColumn, ' ');
    } else {
      absl::StrAppend(&flag, "\n", std::string(kColumn, ' '));
    }
    std::string help = row.help;
    if (!row.default_text.empty() && !row.is_bool) {
      absl::StrAppend(&help, " (default: ", row.default_text, ")");
    }
    if (!env_prefix_.empty()) {
      absl::StrAppend(&help, " [$", EnvName(row.name), "]");
    }
    absl::StrAppend(&out, flag, " ");
    AppendWrapped(&out, help, kColumn + 1, width);
  }
  return out;
}

std::vector<std::string> FlagTable::Names(bool value_flags_only) const {
  std::vector<std::string> names;
  for (const Row& row : rows_) {
    if (!value_flags_only || !row.is_bool) names.push_back("--" + row.name);
  }
  return names;
}

std::string FlagTable::Show() const {
  std::string out;
  for (const Row& row : rows_) {
    absl::StrAppend(&out, row.name, "=", row.show(), "\n");
  }
  return out;
}

}  // namespace clustercache
