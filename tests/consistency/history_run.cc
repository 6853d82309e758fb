#include "tests/consistency/history_run.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cache_client.h"
#include "tests/support/http_cache_client.h"

namespace clustercache {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<Nodes>> Nodes::Start(
    std::vector<std::string> flags, std::vector<std::string> offsets) {
  auto nodes = std::unique_ptr<Nodes>(new Nodes());
  nodes->flags_.assign(offsets.size(), flags);
  nodes->offsets_ = std::move(offsets);
  for (size_t i = 0; i < nodes->offsets_.size(); ++i) {
    nodes->ports_.push_back(FreeLoopbackPort());
    nodes->http_ports_.push_back(FreeLoopbackPort());
    nodes->processes_.emplace_back();
    if (absl::Status s = nodes->Restart(static_cast<int>(i)); !s.ok()) return s;
  }
  return nodes;
}

std::string Nodes::address(int i) const {
  return absl::StrCat("127.0.0.1:", ports_[i]);
}

std::string Nodes::http_address(int i) const {
  return absl::StrCat("127.0.0.1:", http_ports_[i]);
}

void Nodes::Kill(int i) {
  if (processes_[i] != nullptr) processes_[i]->Kill();
  processes_[i].reset();
}

absl::Status Nodes::RestartWith(int i, std::vector<std::string> flags) {
  if (processes_[i] != nullptr) processes_[i]->Stop();
  processes_[i].reset();
  flags_[i] = std::move(flags);
  return Restart(i);
}

absl::Status Nodes::Restart(int i) {
  std::vector<std::string> flags = flags_[i];
  flags.push_back(absl::StrCat("--listen=", address(i)));
  flags.push_back(absl::StrCat("--http-listen=", http_address(i)));
  flags.push_back(absl::StrCat("--node-name=node", i + 1));
  flags.push_back(absl::StrCat("--clock-offset=", offsets_[i]));
  absl::Status last;
  // A port just freed by a killed node may take a moment.
  for (int attempt = 0; attempt < 20; ++attempt) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> p =
        ServerProcess::Start(flags);
    if (p.ok()) {
      processes_[i] = *std::move(p);
      logs_.push_back(processes_[i]->log_path());
      return absl::OkStatus();
    }
    last = p.status();
    absl::SleepFor(absl::Milliseconds(250));
  }
  return last;
}

std::vector<Fault> Nodes::StoreOutages() const {
  // Log times are real time; the history orders by the monotonic clock.
  const int64_t mono_minus_wall =
      MonotonicNanos() - absl::GetCurrentTimeNanos();
  const int64_t now = MonotonicNanos();
  std::vector<Fault> faults;
  for (size_t n = 0; n < logs_.size(); ++n) {
    std::ifstream in(logs_[n]);
    std::map<std::string, size_t> open;  // server -> its fault in `faults`
    std::string line;
    while (std::getline(in, line)) {
      // "<RFC 3339 time> <LEVEL> <server> unreachable (...)" and so on.
      const size_t t_end = line.find(' ');
      const size_t level_end =
          t_end == std::string::npos ? t_end : line.find(' ', t_end + 1);
      if (level_end == std::string::npos) continue;
      absl::Time at;
      std::string error;
      if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", line.substr(0, t_end), &at,
                           &error)) {
        continue;
      }
      const int64_t mono = absl::ToUnixNanos(at) + mono_minus_wall;
      const absl::string_view rest =
          absl::string_view(line).substr(level_end + 1);
      static constexpr absl::string_view kDown = " unreachable (";
      static constexpr absl::string_view kBack = " reachable again";
      static constexpr absl::string_view kSynced =
          ": expiry copies brought up to date";
      if (size_t p = rest.find(kDown); p != absl::string_view::npos) {
        const std::string server(rest.substr(0, p));
        auto it = open.find(server);
        if (it != open.end() && faults[it->second].end_ns != now) {
          open.erase(it);  // the last outage had ended: a new one
        }
        if (open.count(server) == 0) {
          open[server] = faults.size();
          faults.push_back({absl::StrCat("node ", n, ": ", server, " away"),
                            mono - 1'000'000'000, now, /*kept_state=*/true});
        }
      } else if (size_t p = rest.find(kBack); p != absl::string_view::npos) {
        auto it = open.find(std::string(rest.substr(0, p)));
        if (it != open.end()) faults[it->second].end_ns = mono;
      } else if (size_t p = rest.find(kSynced); p != absl::string_view::npos) {
        auto it = open.find(std::string(rest.substr(0, p)));
        if (it != open.end()) faults[it->second].end_ns = mono;
      }
    }
  }
  return faults;
}

namespace {

int64_t WallMicros() { return absl::ToUnixMicros(absl::Now()); }

SeenFetch SeenOf(v1::FetchOutcome o) {
  switch (o) {
    case v1::HIT:
      return SeenFetch::kHit;
    case v1::STALE:
      return SeenFetch::kStale;
    case v1::MISS_LEASE:
      return SeenFetch::kMissLease;
    case v1::STALE_LEASE:
      return SeenFetch::kStaleLease;
    case v1::TIMEOUT:
      return SeenFetch::kTimeout;
    case v1::UNAVAILABLE:
      return SeenFetch::kUnavailable;
    default:
      return SeenFetch::kOther;
  }
}

SeenStore SeenOf(v1::StoreOutcome o) {
  switch (o) {
    case v1::STORED:
      return SeenStore::kStored;
    case v1::SUPERSEDED:
      return SeenStore::kSuperseded;
    case v1::LEASE_LOST:
      return SeenStore::kLeaseLost;
    default:
      return SeenStore::kOther;
  }
}

// One client: a thread with a connection to every node, and its own log.
class Client {
 public:
  Client(int id, Nodes& nodes, const RunOptions& options,
         const std::vector<std::string>& scopes,
         const std::vector<std::string>& tags)
      : id_(id),
        options_(options),
        scopes_(scopes),
        tags_(tags),
        rng_(options.seed * 7919 + id) {
    for (int i = 0; i < nodes.size(); ++i) {
      if (options.http_clients && id % 2 == 1) {
        nodes_.push_back(
            NewHttpCacheClient(nodes.http_address(i), absl::Seconds(5)));
        http_ = true;
        continue;
      }
      ClientOptions co;
      co.servers = {nodes.address(i)};
      co.deadline = absl::Seconds(5);
      nodes_.push_back(NewGrpcClient(co));
    }
  }

  void Run(int64_t end_ns) {
    while (MonotonicNanos() < end_ns) Step();
  }

  std::vector<Op>& ops() { return ops_; }

 private:
  double Uniform() { return std::uniform_real_distribution<>(0, 1)(rng_); }
  int Pick(int n) { return std::uniform_int_distribution<>(0, n - 1)(rng_); }

  Op Begin(OpKind kind, int node) {
    Op op;
    op.kind = kind;
    op.client = id_;
    op.node = node;
    op.http = http_;
    op.wall_start_us = WallMicros();
    op.start_ns = MonotonicNanos();
    return op;
  }
  void End(Op& op) {
    op.end_ns = MonotonicNanos();
    op.wall_end_us = WallMicros();
    ops_.push_back(op);
  }

  void Step() {
    const int node = Pick(static_cast<int>(nodes_.size()));
    const std::string scope = scopes_[Pick(static_cast<int>(scopes_.size()))];
    const int n = options_.keys_per_scope;
    int k = Pick(n);
    const double r = Uniform();
    // With dropped leases: Expire and Delete keep to the first half of the
    // keys, dropped leases to the second.
    if (options_.abandon > 0 && r >= 0.87 && r < 0.97) k %= n / 2;
    const std::string name = absl::StrCat("k", k);
    if (r < 0.70) return FetchAndGenerate(node, scope, name, k >= n / 2);
    if (r < 0.82) return Store(node, scope, name, "");
    if (r < 0.87) return Invalidate(node, scope);
    if (r < 0.92) return ExpireOrDelete(node, scope, name, OpKind::kExpire);
    if (r < 0.97) return ExpireOrDelete(node, scope, name, OpKind::kDelete);
    ListExpiry(node);
  }

  void FetchAndGenerate(int node, const std::string& scope,
                        const std::string& name, bool may_drop) {
    Op op = Begin(OpKind::kFetch, node);
    op.scope = scope;
    op.name = name;
    v1::FetchRequest req;
    req.mutable_key()->set_scope(scope);
    req.mutable_key()->set_name(name);
    req.set_wait_ms(Uniform() < 0.5 ? 0 : 200);
    absl::StatusOr<v1::FetchResponse> resp = nodes_[node]->Fetch(req);
    op.ok = resp.ok();
    if (resp.ok()) {
      op.fetch = SeenOf(resp->outcome());
      op.got_payload = resp->payload();
      op.mtime = resp->has_meta() ? resp->meta().mtime_us() : 0;
      if (resp->has_lease()) {
        op.lease_token = resp->lease().token();
        op.granted_at = resp->lease().granted_at_us();
        op.lease_expires_at = resp->lease().expires_at_us();
      }
    }
    const bool leased = op.ok && (op.fetch == SeenFetch::kMissLease ||
                                  op.fetch == SeenFetch::kStaleLease);
    op.abandoned = leased && may_drop && Uniform() < options_.abandon;
    End(op);
    if (!leased || op.abandoned) return;
    // Generate, then store (or, now and then, give up and release).
    absl::SleepFor(absl::Milliseconds(Pick(15)));
    if (Uniform() < 0.9) {
      Store(node, scope, name, op.lease_token);
    } else {
      Op rel = Begin(OpKind::kRelease, node);
      rel.scope = scope;
      rel.name = name;
      rel.token = op.lease_token;
      v1::ReleaseRequest req2;
      req2.mutable_key()->set_scope(scope);
      req2.mutable_key()->set_name(name);
      req2.set_lease_token(op.lease_token);
      rel.ok = nodes_[node]->Release(req2).ok();
      End(rel);
    }
  }

  void Store(int node, const std::string& scope, const std::string& name,
             const std::string& token) {
    Op op = Begin(OpKind::kStore, node);
    op.scope = scope;
    op.name = name;
    op.token = token;
    op.payload = absl::StrCat(scope, "/", name, "|c", id_, "#", seq_++, "|",
                              std::string(Pick(200), 'a' + Pick(26)));
    for (const std::string& t : tags_) {
      if (Uniform() < 0.3) op.tags.push_back(t);
    }
    v1::StoreRequest req;
    req.mutable_key()->set_scope(scope);
    req.mutable_key()->set_name(name);
    req.set_payload(op.payload);
    req.set_content_type("text/plain");
    req.set_lease_token(token);
    for (const std::string& t : op.tags) req.add_tags(t);
    absl::StatusOr<v1::StoreResponse> resp = nodes_[node]->Store(req);
    op.ok = resp.ok();
    if (resp.ok()) {
      op.store = SeenOf(resp->outcome());
      op.mtime = resp->mtime_us();
    }
    End(op);
  }

  void Invalidate(int node, const std::string& scope) {
    Op op = Begin(OpKind::kInvalidate, node);
    v1::InvalidateRequest req;
    const double r = Uniform();
    if (r < 0.4) {
      req.set_scope(scope);
      op.target = "scope:" + scope;
    } else if (r < 0.8) {
      op.target = tags_[Pick(static_cast<int>(tags_.size()))];
      req.set_tag(op.target);
    } else {
      req.set_all(true);
      op.target = "all";
    }
    absl::StatusOr<v1::InvalidateResponse> resp = nodes_[node]->Invalidate(req);
    op.ok = resp.ok();
    if (resp.ok()) op.value = resp->value_us();
    End(op);
  }

  void ExpireOrDelete(int node, const std::string& scope,
                      const std::string& name, OpKind kind) {
    Op op = Begin(kind, node);
    op.scope = scope;
    op.name = name;
    v1::Selector selector;
    selector.set_scope(scope);
    selector.set_name(name);
    if (kind == OpKind::kExpire) {
      v1::ExpireRequest req;
      *req.mutable_selector() = selector;
      op.ok = nodes_[node]->Expire(req).ok();
    } else {
      v1::DeleteRequest req;
      *req.mutable_selector() = selector;
      op.ok = nodes_[node]->Delete(req).ok();
    }
    End(op);
  }

  void ListExpiry(int node) {
    Op op = Begin(OpKind::kListExpiry, node);
    absl::StatusOr<v1::ListExpiryKeysResponse> resp =
        nodes_[node]->ListExpiryKeys();
    op.ok = resp.ok();
    if (resp.ok()) {
      for (const v1::ExpiryKeyValue& kv : resp->keys()) {
        op.expiry.push_back({kv.name(), kv.value_us()});
      }
    }
    End(op);
  }

  const int id_;
  const RunOptions& options_;
  const std::vector<std::string>& scopes_;
  const std::vector<std::string>& tags_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<GrpcClient>> nodes_;
  std::vector<Op> ops_;
  int64_t seq_ = 0;
  bool http_ = false;
};

const char* KindName(OpKind k) {
  switch (k) {
    case OpKind::kFetch:
      return "fetch";
    case OpKind::kStore:
      return "store";
    case OpKind::kRelease:
      return "release";
    case OpKind::kInvalidate:
      return "invalidate";
    case OpKind::kExpire:
      return "expire";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kListExpiry:
      return "list-expiry";
  }
  return "?";
}

std::string OutcomeName(const Op& op) {
  if (!op.ok) return "error";
  if (op.kind == OpKind::kFetch) {
    const char* names[] = {"other",       "hit",     "stale",      "miss_lease",
                           "stale_lease", "timeout", "unavailable"};
    return names[static_cast<int>(op.fetch)];
  }
  if (op.kind == OpKind::kStore) {
    const char* names[] = {"other", "stored", "superseded", "lease_lost"};
    return absl::StrCat(op.token.empty() ? "unconditional " : "leased ",
                        names[static_cast<int>(op.store)]);
  }
  return "ok";
}

}  // namespace

RunResult RecordHistory(Nodes& nodes, const RunOptions& options) {
  RunResult result;
  const std::vector<std::string> scopes = {"h" + options.run_id + "-a",
                                           "h" + options.run_id + "-b"};
  std::vector<std::string> tags;
  for (int i = 1; i <= 3; ++i) {
    tags.push_back(absl::StrCat("t", options.run_id, "-", i));
  }
  result.expiry_keys = {"all", "scope:" + scopes[0], "scope:" + scopes[1]};
  result.expiry_keys.insert(result.expiry_keys.end(), tags.begin(), tags.end());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < options.clients; ++i) {
    clients.push_back(
        std::make_unique<Client>(i, nodes, options, scopes, tags));
  }
  const int64_t start = MonotonicNanos();
  const int64_t end = start + absl::ToInt64Nanoseconds(options.duration);
  std::vector<std::thread> threads;
  for (auto& c : clients) {
    threads.emplace_back([&c, end] { c->Run(end); });
  }
  if (options.fault) {
    absl::SleepFor(options.duration * 0.4);
    options.fault(&result.history.faults);
  }
  for (std::thread& t : threads) t.join();
  std::map<std::string, int64_t> counts;
  for (auto& c : clients) {
    for (Op& op : c->ops()) {
      ++counts[absl::StrCat(op.http ? "http " : "grpc ", KindName(op.kind), " ",
                            OutcomeName(op))];
      result.history.ops.push_back(std::move(op));
    }
  }
  for (const auto& [what, n] : counts) {
    absl::StrAppend(&result.counts, what, ": ", n, "\n");
  }
  return result;
}

}  // namespace clustercache
