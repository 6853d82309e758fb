#include "cache/store/redis/redis_router.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cache/util/store_url.h"

namespace clustercache {

absl::Status RedisRouter::LoadScripts() {
  for (RedisNode* node : topology_->Nodes()) {
    absl::Status loaded = node->pool->With([&](RedisConnection& conn) {
      for (int i = 0; i < static_cast<int>(RedisScript::kCount); ++i) {
        absl::Status s = scripts_.Load(conn, static_cast<RedisScript>(i));
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!loaded.ok()) return loaded;
  }
  return absl::OkStatus();
}

RedisCmd RedisRouter::Script(RedisScript script,
                             const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) {
  return RedisCmd{keys[0], scripts_.EvalShaArgv(script, keys, args),
                  static_cast<int>(script)};
}

absl::StatusOr<RedisReply> RedisRouter::Exec(const RedisCmd& cmd) {
  static const std::vector<std::string> kAsking = {"ASKING"};
  RedisNode* node = topology_->NodeFor(cmd.route);
  bool asking = false;
  absl::StatusOr<RedisReply> r = absl::UnavailableError("not sent");
  for (int attempt = 0; attempt < 5; ++attempt) {
    r = node->pool->With(
        [&](RedisConnection& conn) -> absl::StatusOr<RedisReply> {
          if (!asking) return conn.Command(cmd.argv);
          absl::StatusOr<std::vector<RedisReply>> both =
              conn.Pipeline({&kAsking, &cmd.argv});
          if (!both.ok()) return both.status();
          return std::move((*both)[1]);
        });
    if (!r.ok() || !r->is_error()) return r;
    std::string error = r->str();
    if (absl::StartsWith(error, "NOSCRIPT") && cmd.script >= 0) {
      absl::Status loaded = node->pool->With([&](RedisConnection& conn) {
        return scripts_.Load(conn, static_cast<RedisScript>(cmd.script));
      });
      if (!loaded.ok()) return loaded;
      continue;
    }
    std::vector<std::string> words = absl::StrSplit(error, ' ');
    if ((words[0] == "MOVED" || words[0] == "ASK") && words.size() == 3) {
      if (words[0] == "MOVED") (void)topology_->Refresh();
      RedisNode* target = topology_->NodeAt(words[2]);
      if (target == nullptr) return r;
      node = target;
      asking = words[0] == "ASK";
      continue;
    }
    if (words[0] == "TRYAGAIN" || words[0] == "CLUSTERDOWN" ||
        words[0] == "LOADING") {
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    return r;
  }
  return r;
}

absl::StatusOr<RedisReply> RedisRouter::Run(
    RedisScript script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args) {
  absl::StatusOr<RedisReply> r = Exec(Script(script, keys, args));
  if (r.ok() && r->is_error()) {
    return absl::InternalError(absl::StrCat("redis: ", r->str()));
  }
  return r;
}

absl::StatusOr<std::vector<RedisReply>> RedisRouter::ExecMany(
    const std::vector<RedisCmd>& cmds) {
  std::vector<std::optional<RedisReply>> replies(cmds.size());
  absl::flat_hash_map<RedisNode*, std::vector<size_t>> by_node;
  for (size_t i = 0; i < cmds.size(); ++i) {
    by_node[topology_->NodeFor(cmds[i].route)].push_back(i);
  }
  for (auto& [node, indexes] : by_node) {
    std::vector<const std::vector<std::string>*> argvs;
    argvs.reserve(indexes.size());
    for (size_t i : indexes) argvs.push_back(&cmds[i].argv);
    absl::StatusOr<std::vector<RedisReply>> got = node->pool->With(
        [&](RedisConnection& conn) { return conn.Pipeline(argvs); });
    if (!got.ok()) return got.status();
    for (size_t k = 0; k < indexes.size(); ++k) {
      replies[indexes[k]] = std::move((*got)[k]);
    }
  }
  std::vector<RedisReply> out;
  out.reserve(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (replies[i]->is_error()) {  // follow the cluster, or reload a script
      absl::StatusOr<RedisReply> again = Exec(cmds[i]);
      if (!again.ok()) return again.status();
      replies[i] = *std::move(again);
    }
    out.push_back(*std::move(replies[i]));
  }
  return out;
}

absl::StatusOr<int64_t> RedisRouter::Now() {
  absl::StatusOr<RedisReply> r = topology_->Nodes()[0]->pool->With(
      [](RedisConnection& conn) { return conn.Command({"TIME"}); });
  if (!r.ok()) return r.status();
  if (r->size() != 2) return absl::InternalError("TIME: bad reply");
  int64_t s = 0, us = 0;
  (void)absl::SimpleAtoi(ReplyString(r->at(0)), &s);
  (void)absl::SimpleAtoi(ReplyString(r->at(1)), &us);
  return s * 1000000 + us;
}

absl::StatusOr<std::vector<RedisEndpoint>> ParseRedisClusterUrl(
    absl::string_view url) {
  absl::StatusOr<StoreUrl> u = ParseStoreUrl(url);
  if (!u.ok()) return u.status();
  if (u->scheme != "redis-cluster" || !u->path.empty() || !u->query.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: \"", u->Redacted(),
        "\" is not redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]"));
  }
  std::vector<RedisEndpoint> seeds;
  for (const UrlHost& h : u->hosts) {
    RedisEndpoint e;
    e.host = h.host;
    e.port = h.port;
    e.user = u->user;
    e.password = u->password;
    seeds.push_back(e);
  }
  return seeds;
}

}  // namespace clustercache
