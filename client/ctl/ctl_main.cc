// clustercachectl: the admin CLI. Parses the global flags and the command,
// then runs the command from the table in ctl_commands.cc.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cache/util/version.h"
#include "client/ctl/ctl_commands.h"
#include "client/server_channel.h"

namespace {

using namespace clustercache;

struct Globals {
  std::string server = "127.0.0.1:7411";
  absl::Duration deadline = absl::Seconds(10);
  std::string token_file;
  std::string tls_ca, tls_cert, tls_key;
};

void AddGlobalFlags(FlagTable* t, Globals* g) {
  t->AddString("server", &g->server,
               "HOST:PORT[,HOST:PORT...] of clustercached nodes, tried in "
               "order (env CLUSTERCACHE_SERVER)");
  t->AddDuration("deadline", &g->deadline,
                 "deadline per call (fetch adds its wait)");
  t->AddString("token-file", &g->token_file,
               "file holding the token sent with every call (a line TOKEN, "
               "or NAME ROLE TOKEN) for a node with --auth-file (env "
               "CLUSTERCACHE_TOKEN_FILE)");
  t->AddString("tls-ca", &g->tls_ca,
               "TLS: the CA that signed the servers' certificates (PEM)");
  t->AddString("tls-cert", &g->tls_cert,
               "mTLS: this client's certificate chain (PEM)");
  t->AddString("tls-key", &g->tls_key, "mTLS: its key (PEM)");
}

std::string Usage() {
  Globals g;
  FlagTable globals;
  AddGlobalFlags(&globals, &g);
  std::string out =
      "clustercachectl: admin CLI for clustercached.\n\n"
      "usage: clustercachectl [--server=HOST:PORT[,...]] COMMAND [ARGS]\n"
      "       clustercachectl COMMAND --help\n"
      "       clustercachectl completion bash   (a bash completion script;\n"
      "         source it, or install it as\n"
      "         /usr/share/bash-completion/completions/clustercachectl)\n\n"
      "Durations: 500ms, 90s, 15m, 2h, 2d.\n"
      "Exit codes: 0 ok, 1 error, 2 usage error, 3 no fresh entry.\n\n"
      "commands:\n";
  for (const CtlCommand& c : CtlCommands()) {
    absl::StrAppend(&out, "  ", c.name, " ", c.usage, "\n      ", c.help, "\n");
  }
  absl::StrAppend(&out, "\nglobal flags:\n", globals.Help());
  return out;
}

// The command nearest to a mistyped `name` (edit distance at most 2, or
// a prefix of one), or "".
std::string Nearest(const std::string& name) {
  std::string best;
  size_t best_distance = 3;
  for (const CtlCommand& c : CtlCommands()) {
    const std::string candidate = c.name;
    if (!name.empty() && candidate.rfind(name, 0) == 0) return candidate;
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(candidate.size() + 1);
    for (size_t j = 0; j < row.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                           diagonal + (name[i - 1] != candidate[j - 1])});
        diagonal = up;
      }
    }
    if (row.back() < best_distance) {
      best_distance = row.back();
      best = candidate;
    }
  }
  return best;
}

const CtlCommand* Find(const std::string& name) {
  for (const CtlCommand& c : CtlCommands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// A bash completion script, made from the command table: commands, each
// command's flags, and the global flags (clustercachectl completion bash).
std::string BashCompletion() {
  Globals g;
  FlagTable globals;
  AddGlobalFlags(&globals, &g);
  std::vector<std::string> names = {"help", "completion"};
  for (const CtlCommand& c : CtlCommands()) names.push_back(c.name);
  std::string out = absl::StrCat(
      "# bash completion for clustercachectl ", Version(),
      " (made by: clustercachectl completion bash)\n"
      "_clustercachectl() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"\" i w\n"
      "  local global_values=\" ",
      absl::StrJoin(globals.Names(/*value_flags_only=*/true), " "),
      " \"\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=\"${COMP_WORDS[i]}\"\n"
      "    case \"$w\" in\n"
      "      --*=*) ;;\n"
      "      --*) [[ $global_values == *\" $w \"* ]] && ((i++)) ;;\n"
      "      *) cmd=\"$w\"; break ;;\n"
      "    esac\n"
      "  done\n"
      "  local words\n"
      "  case \"$cmd\" in\n"
      "    \"\") if [[ $cur == -* ]]; then words=\"",
      absl::StrJoin(globals.Names(), " "), " --help --version\"; else words=\"",
      absl::StrJoin(names, " "),
      "\"; fi ;;\n"
      "    help) words=\"",
      absl::StrJoin(names.begin() + 2, names.end(), " "),
      "\" ;;\n"
      "    completion) words=\"bash\" ;;\n");
  for (const CtlCommand& c : CtlCommands()) {
    FlagTable table;
    CtlOptions options;
    c.add_flags(&table, &options);
    absl::StrAppend(&out, "    ", c.name, ") words=\"",
                    absl::StrJoin(table.Names(), " "), " --help\" ;;\n");
  }
  absl::StrAppend(&out,
                  "  esac\n"
                  "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                  "}\n"
                  "complete -F _clustercachectl clustercachectl\n");
  return out;
}

std::string CommandHelp(const CtlCommand& command, const FlagTable& table) {
  return absl::StrCat("usage: clustercachectl ", command.name, " ",
                      command.usage, "\n\n", command.help, "\n\nflags:\n",
                      table.Help());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (PrintVersionIfAsked(args, "clustercachectl")) return kExitOk;
  Globals globals;
  if (const char* env = std::getenv("CLUSTERCACHE_SERVER"); env && *env) {
    globals.server = env;
  }
  if (const char* env = std::getenv("CLUSTERCACHE_TOKEN_FILE"); env && *env) {
    globals.token_file = env;
  }
  // Global flags may stand before the command.
  size_t i = 0;
  std::vector<std::string> leading;
  while (i < args.size() && args[i].rfind("--", 0) == 0) {
    leading.push_back(args[i++]);
    if (leading.back().find('=') == std::string::npos &&
        leading.back() != "--help" && i < args.size()) {
      leading.push_back(args[i++]);
    }
  }
  if (i == args.size()) {
    bool help = false;
    for (const std::string& a : leading) help = help || a == "--help";
    std::cout << Usage();
    return help ? kExitOk : kExitUsage;
  }
  const std::string& name = args[i];
  if (name == "completion") {
    if (i + 1 < args.size() && args[i + 1] == "bash") {
      std::cout << BashCompletion();
      return kExitOk;
    }
    return Fail(kExitUsage, "usage: clustercachectl completion bash");
  }
  // help, -h, help COMMAND
  if (name == "help" || name == "-h") {
    if (i + 1 < args.size()) {
      if (const CtlCommand* c = Find(args[i + 1])) {
        FlagTable table;
        CtlOptions options;
        AddGlobalFlags(&table, &globals);
        c->add_flags(&table, &options);
        std::cout << CommandHelp(*c, table);
        return kExitOk;
      }
    }
    std::cout << Usage();
    return kExitOk;
  }
  const CtlCommand* command = Find(name);
  if (command == nullptr) {
    const std::string nearest = Nearest(name);
    return Fail(kExitUsage,
                absl::StrCat("unknown command \"", name, "\"",
                             nearest.empty() ? ""
                                             : absl::StrCat("; did you mean ",
                                                            nearest, "?"),
                             " (clustercachectl help lists them)"));
  }

  FlagTable table;
  CtlOptions options;
  AddGlobalFlags(&table, &globals);
  command->add_flags(&table, &options);
  std::vector<std::string> rest_of_args = leading;
  rest_of_args.insert(rest_of_args.end(), args.begin() + i + 1, args.end());
  std::vector<std::string> positional, rest;
  bool help = false;
  absl::Status parsed = table.Parse(
      rest_of_args, &positional, command->takes_rest ? &rest : nullptr, &help);
  if (help) {
    std::cout << CommandHelp(*command, table);
    return kExitOk;
  }
  if (!parsed.ok()) return Fail(kExitUsage, parsed.message());
  if (positional.size() < command->min_args ||
      positional.size() > command->max_args) {
    return Fail(kExitUsage, absl::StrCat("usage: clustercachectl ",
                                         command->name, " ", command->usage));
  }
  absl::StatusOr<std::vector<std::string>> servers =
      ParseServerList(globals.server);
  if (!servers.ok()) return Fail(kExitUsage, servers.status().message());
  ClientOptions client_options;
  client_options.servers = *servers;
  client_options.deadline = globals.deadline;
  client_options.tls_ca = globals.tls_ca;
  client_options.tls_cert = globals.tls_cert;
  client_options.tls_key = globals.tls_key;
  if (absl::Status tls =
          ChannelCredentialsFor(
              {globals.tls_ca, globals.tls_cert, globals.tls_key})
              .status();
      !tls.ok()) {
    return Fail(kExitUsage, tls.message());
  }
  if (!globals.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(globals.token_file);
    if (!token.ok()) {
      return Fail(kExitUsage,
                  absl::StrCat("--token-file: ", token.status().message()));
    }
    client_options.token = *token;
  }
  std::unique_ptr<GrpcClient> client = NewGrpcClient(client_options);
  return command->run(CtlCall{client.get(), options, positional, rest});
}
