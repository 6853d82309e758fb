#include "cache/util/flag_table.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cache/duration.h"

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

absl::Status FlagTable::Parse(const std::vector<std::string>& args,
                              std::vector<std::string>* positional,
                              std::vector<std::string>* rest,
                              bool* help_requested) {
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
    absl::string_view name = arg.substr(0, eq);
    bool has_value = eq != absl::string_view::npos;
    std::string value = has_value ? std::string(arg.substr(eq + 1)) : "";
    if (name == "flagfile") {
      if (!has_value && i + 1 < args.size()) value = args[++i];
      if (absl::Status s = ParseFlagfile(value, positional); !s.ok()) return s;
      continue;
    }
    const Row* row = Find(name);
    if (row == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value && !row->is_bool) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": missing value (", row->hint, ")"));
      }
      value = args[++i];
    }
    if (absl::Status s = row->set(value); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", value, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status FlagTable::ParseFlagfile(const std::string& path,
                                      std::vector<std::string>* positional) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--flagfile: cannot read \"", path, "\""));
  }
  std::vector<std::string> args;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    args.emplace_back(l);
  }
  return Parse(args, positional);
}

std::string FlagTable::Help() const {
  std::string out;
  for (const Row& row : rows_) {
    std::string flag = absl::StrCat("  --", row.name);
    if (!row.is_bool) absl::StrAppend(&flag, "=", row.hint);
    if (flag.size() < 34) flag.resize(34, ' ');
    absl::StrAppend(&flag, " ", row.help);
    if (!row.default_text.empty() && !row.is_bool) {
      absl::StrAppend(&flag, " (default: ", row.default_text, ")");
    }
    absl::StrAppend(&out, flag, "\n");
  }
  return out;
}

std::string FlagTable::Show() const {
  std::string out;
  for (const Row& row : rows_) {
    absl::StrAppend(&out, row.name, "=", row.show(), "\n");
  }
  return out;
}

}  // namespace clustercache
