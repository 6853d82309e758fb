#include "client/ctl/ctl_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cache/key.h"
#include "client/ctl/run_command.h"
#include "client/ctl/store_commands.h"
#include "client/get_or_generate.h"
#include "proto/proto_json.h"

namespace clustercache {

int Fail(int code, absl::string_view message) {
  std::cerr << "clustercachectl: " << message << "\n";
  return code;
}

namespace {

std::string Iso(int64_t us) {
  if (us == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

// `m` as one line of JSON (proto/proto_json.h).
void PrintJson(const google::protobuf::Message& m) {
  const std::string line = ProtoJsonLine(m);
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void WriteOut(absl::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

// Validates SCOPE NAME locally: a bad key is a usage error.
bool ToKey(const std::vector<std::string>& args, v1::Key* key, int* code) {
  absl::StatusOr<Key> k = Key::Make(args[0], args[1]);
  if (!k.ok()) {
    *code = Fail(kExitUsage, k.status().message());
    return false;
  }
  key->set_scope(args[0]);
  key->set_name(args[1]);
  return true;
}

int ErrorCode(const absl::Status& s) {
  return absl::IsInvalidArgument(s) ? kExitUsage : kExitError;
}

int Get(const CtlCall& call) {
  v1::FetchRequest request;
  int code;
  if (!ToKey(call.args, request.mutable_key(), &code)) return code;
  request.set_peek(true);
  absl::StatusOr<v1::FetchResponse> r = call.client->Fetch(request);
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  const bool served = r->outcome() == v1::HIT ||
                      (r->outcome() == v1::STALE && call.options.allow_stale);
  if (call.options.json) {  // the metadata: everything but the payload
    r->clear_payload();
    PrintJson(*r);
  }
  if (served) {
    if (!call.options.json) WriteOut(r->payload());
    return kExitOk;
  }
  if (r->outcome() == v1::UNAVAILABLE) {
    return Fail(kExitError, "the server's store is unavailable");
  }
  return Fail(
      kExitNoFresh,
      absl::StrCat("no fresh entry for ", call.args[0], "/", call.args[1],
                   r->outcome() == v1::STALE
                       ? " (a stale copy exists: --allow-stale)"
                       : ""));
}

int Put(const CtlCall& call) {
  v1::StoreRequest request;
  int code;
  if (!ToKey(call.args, request.mutable_key(), &code)) return code;
  std::string payload(std::istreambuf_iterator<char>(std::cin), {});
  request.set_payload(payload);
  request.set_ttl_ms(absl::ToInt64Milliseconds(call.options.ttl));
  for (const std::string& t : call.options.tags) request.add_tags(t);
  request.set_content_type(call.options.content_type);
  absl::StatusOr<v1::StoreResponse> r = call.client->Store(request);
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  std::cout << "stored " << call.args[0] << "/" << call.args[1] << " ("
            << payload.size() << " bytes, mtime " << Iso(r->mtime_us())
            << ")\n";
  return kExitOk;
}

// "1 entry", "2 entries".
std::string Entries(int64_t n) {
  return absl::StrCat(n, n == 1 ? " entry" : " entries");
}

int FetchOrGenerate(const CtlCall& call) {
  v1::Key key;
  int code;
  if (!ToKey(call.args, &key, &code)) return code;
  if (call.rest.empty()) {
    return Fail(kExitUsage, "fetch-or-generate: missing -- CMD [ARG...]");
  }
  GenerateOptions options;
  options.wait = call.options.wait;
  options.ttl = call.options.ttl;
  options.tags = call.options.tags;
  options.content_type = call.options.content_type;
  int generator_exit = 0;
  absl::StatusOr<Generated> result = GetOrGenerate(
      *call.client, key, options, [&]() -> absl::StatusOr<std::string> {
        absl::StatusOr<CommandResult> run = RunCommand(call.rest);
        if (!run.ok()) {
          // Like a shell: 127 for a command that cannot be run.
          generator_exit = 127;
          return run.status();
        }
        if (run->exit_code != 0) {
          generator_exit = run->exit_code;
          return absl::AbortedError(absl::StrCat(
              "generator exited with ", run->exit_code, "; nothing stored"));
        }
        return std::move(run->out);
      });
  if (generator_exit != 0) {
    Fail(generator_exit, result.status().message());
    return generator_exit;
  }
  if (!result.ok()) {
    return Fail(ErrorCode(result.status()), result.status().message());
  }
  if (result->source == Source::kNotStored) {
    std::cerr << "clustercachectl: rendered without storing: "
              << (result->store_outcome != v1::STORE_OUTCOME_UNSPECIFIED
                      ? v1::StoreOutcome_Name(result->store_outcome)
                      : v1::FetchOutcome_Name(result->fetch_outcome))
              << (result->fetch_outcome == v1::TIMEOUT
                      ? " (another caller held the lease past --wait)"
                  : result->fetch_outcome == v1::UNAVAILABLE
                      ? " (the store cannot be reached)"
                      : "")
              << "\n";
  }
  WriteOut(result->payload);
  return kExitOk;
}

// expire / delete: SCOPE [NAME | --prefix P]
bool ToSelector(const CtlCall& call, v1::Selector* selector, int* code) {
  selector->set_scope(call.args[0]);
  if (call.args.size() == 2 && call.options.has_prefix) {
    *code = Fail(kExitUsage, "give NAME or --prefix, not both");
    return false;
  }
  if (call.args.size() == 2) {
    selector->set_name(call.args[1]);
  } else {
    selector->set_prefix(call.options.prefix);
  }
  return true;
}

// expire / delete: the same call shape, a different verb.
template <typename Request>
int CountCommand(
    const CtlCall& call, absl::string_view verb,
    absl::StatusOr<v1::CountResponse> (AdminClient::*rpc)(const Request&)) {
  Request request;
  int code;
  if (!ToSelector(call, request.mutable_selector(), &code)) return code;
  absl::StatusOr<v1::CountResponse> r = (call.client->*rpc)(request);
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  std::cout << verb << " " << Entries(r->count()) << "\n";
  return kExitOk;
}

int Expire(const CtlCall& call) {
  return CountCommand(call, "expired", &AdminClient::Expire);
}

int PurgeAs(const CtlCall& call, absl::string_view verb);

int Delete(const CtlCall& call) {
  const CtlOptions& o = call.options;
  const bool whole = call.args.size() == 1 && !o.has_prefix;
  if (o.dry_run) {
    if (call.args.size() == 2) {
      return Fail(kExitUsage, "delete --dry-run counts a scope or a prefix");
    }
    CtlOptions counting = o;  // a purge dry run of the same selection
    counting.scope = call.args[0];
    return PurgeAs({call.client, counting, call.args, call.rest}, "delete");
  }
  if (whole && !o.whole_scope) {
    return Fail(kExitUsage,
                "delete SCOPE without NAME or --prefix removes the whole "
                "scope: add --whole-scope (--dry-run counts it first)");
  }
  return CountCommand(call, "deleted", &AdminClient::Delete);
}

int Invalidate(const CtlCall& call) {
  const CtlOptions& o = call.options;
  int chosen = !o.scope.empty() + o.all + !o.tags.empty();
  if (chosen != 1) {
    return Fail(kExitUsage,
                "invalidate: give exactly one of --scope S, "
                "--all, --tag T (repeatable)");
  }
  v1::InvalidateRequest request;
  if (!o.scope.empty()) request.set_scope(o.scope);
  if (o.all) request.set_all(true);
  if (o.tags.size() == 1) request.set_tag(o.tags[0]);
  if (o.tags.size() > 1) {
    for (const std::string& t : o.tags) request.mutable_tags()->add_names(t);
  }
  absl::StatusOr<v1::InvalidateResponse> r = call.client->Invalidate(request);
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  if (o.json) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << r->value_us() << "\n";
  for (const v1::ExpiryKeyValue& kv : r->keys()) {
    std::cerr << "invalidated " << kv.name() << " at " << Iso(kv.value_us())
              << " (via " << r->served_by() << ")\n";
  }
  return kExitOk;
}

int ExpiryKeys(const CtlCall& call) {
  if (call.options.forget_tags_older_than != absl::InfiniteDuration()) {
    if (!call.options.reset.empty()) {
      return Fail(kExitUsage,
                  "--reset and --forget-tags-older-than: one at a time");
    }
    v1::ForgetTagsRequest request;
    request.set_older_than_ms(
        absl::ToInt64Milliseconds(call.options.forget_tags_older_than));
    absl::StatusOr<v1::ForgetTagsResponse> r = call.client->ForgetTags(request);
    if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
    if (call.options.json) {
      PrintJson(*r);
      return kExitOk;
    }
    std::cout << "forgot " << r->forgotten() << " tag keys; a tag not listed "
              << "counts as invalidated at " << r->floor_us() << " ("
              << Iso(r->floor_us()) << ")\n";
    return kExitOk;
  }
  if (!call.options.reset.empty()) {
    v1::ResetExpiryKeyRequest request;
    request.set_name(call.options.reset);
    absl::StatusOr<v1::ResetExpiryKeyResponse> r =
        call.client->ResetExpiryKey(request);
    if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
    if (call.options.json) {
      PrintJson(*r);
      return kExitOk;
    }
    if (r->reset()) {
      std::cout << "reset " << r->name() << " from " << r->before_us() << " ("
                << Iso(r->before_us()) << ") to " << r->value_us() << " ("
                << Iso(r->value_us()) << ")\n";
    } else {
      std::cout << r->name() << " is not ahead of cluster time; unchanged ("
                << r->value_us() << ")\n";
    }
    return kExitOk;
  }
  absl::StatusOr<v1::ListExpiryKeysResponse> r = call.client->ListExpiryKeys();
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  if (call.options.json) {
    PrintJson(*r);
    return kExitOk;
  }
  for (const v1::ExpiryKeyValue& k : r->keys()) {
    std::cout << k.name() << "\t" << k.value_us() << "\t" << Iso(k.value_us())
              << "\n";
  }
  return kExitOk;
}

int List(const CtlCall& call) {
  v1::ListRequest request;
  request.set_scope(call.options.scope);
  request.set_prefix(call.options.prefix);
  request.set_limit(static_cast<int32_t>(call.options.limit));
  const bool json = call.options.json;
  absl::Status s =
      call.client->List(request, [json](const v1::ListResponse& item) {
        if (json) {
          PrintJson(item);
          return true;
        }
        const v1::EntryMeta& m = item.meta();
        const char* state = m.fresh()     ? "fresh"
                            : m.expired() ? "expired"
                                          : "stale";
        std::cout << m.key().scope() << "\t" << m.key().name() << "\t"
                  << m.size() << "\t" << Iso(m.mtime_us()) << "\t" << state
                  << "\t" << (m.content_type().empty() ? "-" : m.content_type())
                  << "\t"
                  << (m.tags().empty() ? "-" : absl::StrJoin(m.tags(), ","))
                  << "\n";
        return true;
      });
  if (!s.ok()) return Fail(ErrorCode(s), s.message());
  return kExitOk;
}

int Stats(const CtlCall& call) {
  absl::StatusOr<v1::StatsResponse> r = call.client->Stats();
  if (!r.ok()) return Fail(ErrorCode(r.status()), r.status().message());
  if (call.options.json) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << "version\t" << r->version() << " (git " << r->revision()
            << ")\n";
  std::cout << "# store-wide (every node of the cluster)\n";
  if (r->usage_unknown().empty()) {
    std::cout << "entries\t" << r->entries() << "\nbytes\t" << r->bytes()
              << "\n";
  } else {
    std::cout << "entries\tunknown (" << r->usage_unknown()
              << ")\nbytes\tunknown\n";
  }
  std::cout << "# this node, since it started\n"
            << "node\t" << r->served_by() << "\nuptime\t"
            << absl::FormatDuration(absl::Trunc(
                   absl::Milliseconds(r->uptime_ms()), absl::Seconds(1)))
            << "\nhit_ratio\t" << absl::StrFormat("%.4f", r->hit_ratio())
            << "\n";
  std::vector<std::pair<std::string, int64_t>> node(r->node_counters().begin(),
                                                    r->node_counters().end());
  std::sort(node.begin(), node.end());
  for (const auto& [name, value] : node) {
    std::cout << "node\t" << name << "\t" << value << "\n";
  }
  for (const v1::ScopeStats& scope : r->scopes()) {
    std::vector<std::pair<std::string, int64_t>> counters(
        scope.counters().begin(), scope.counters().end());
    std::sort(counters.begin(), counters.end());
    for (const auto& [name, value] : counters) {
      std::cout << scope.scope() << "\t" << name << "\t" << value << "\n";
    }
  }
  return kExitOk;
}

int Purge(const CtlCall& call) { return PurgeAs(call, "purge"); }

// purge, or what delete --dry-run would remove (`verb`).
int PurgeAs(const CtlCall& call, absl::string_view verb) {
  const CtlOptions& o = call.options;
  const std::string would = absl::StrCat("would ", verb, " ");
  const std::string did = absl::StrCat(verb, "d ");
  v1::PurgeRequest request;
  request.set_scope(o.scope);
  request.set_prefix(o.prefix);
  request.set_older_than_ms(absl::ToInt64Milliseconds(o.older_than));
  request.set_only_not_fresh(o.not_fresh_only);
  request.set_dry_run(o.dry_run);
  request.set_batch(static_cast<int32_t>(o.batch));
  request.set_pause_ms(absl::ToInt64Milliseconds(o.pause));
  const bool filtered = !o.scope.empty() || !o.prefix.empty() ||
                        o.older_than > absl::ZeroDuration() || o.not_fresh_only;
  if (!filtered && !o.everything && !o.dry_run) {
    return Fail(kExitUsage,
                "purge without --scope, --prefix, --older-than or "
                "--not-fresh-only removes every entry: add --everything "
                "(--dry-run counts them first)");
  }
  if (filtered && o.everything) {
    return Fail(kExitUsage, "--everything and a filter: give one");
  }
  request.set_everything(!filtered);
  const bool tty = isatty(STDERR_FILENO);
  v1::PurgeProgress last;
  absl::Status s = call.client->Purge(request, [&](const v1::PurgeProgress& p) {
    last = p;
    if (o.json) {  // every step, on stdout
      PrintJson(p);
      std::fflush(stdout);
      return true;
    }
    std::cerr << (tty ? "\r" : "") << "examined " << p.examined() << ", "
              << (o.dry_run ? would : did) << p.purged() << " (" << p.bytes()
              << " bytes)" << (tty ? "" : "\n");
    return true;
  });
  if (tty && !o.json) std::cerr << "\n";
  if (!s.ok()) return Fail(ErrorCode(s), s.message());
  if (o.json) return kExitOk;
  std::cout << (o.dry_run ? would : did) << Entries(last.purged()) << ", "
            << last.bytes() << (last.bytes() == 1 ? " byte\n" : " bytes\n");
  return kExitOk;
}

void JsonFlag(FlagTable* t, CtlOptions* o) {
  t->AddBool("json", &o->json,
             "print JSON (one document; NDJSON for list and purge), field "
             "names as in the proto");
}

void WriteFlags(FlagTable* t, CtlOptions* o) {
  t->AddDuration("ttl", &o->ttl, "per-entry time to live (0 = none)");
  t->AddList("tag", &o->tags, "expiry tag to attach (repeatable)");
  t->AddString("content-type", &o->content_type, "content type to record");
}

void SelectorFlags(FlagTable* t, CtlOptions* o) {
  t->Add(
      "prefix", "P", "every name starting with P (default: whole scope)",
      [o](absl::string_view v) {
        o->prefix = std::string(v);
        o->has_prefix = true;
        return absl::OkStatus();
      },
      [o] { return o->prefix; });
}

void ScanFlags(FlagTable* t, CtlOptions* o) {
  t->AddString("scope", &o->scope, "only this scope (default: all)");
  t->AddString("prefix", &o->prefix, "only names starting with this");
}

}  // namespace

const std::vector<CtlCommand>& CtlCommands() {
  static const auto* commands = new std::vector<CtlCommand>{
      {"get", "SCOPE NAME [--allow-stale] [--json]",
       "Print the payload (--json: the metadata instead). Exit 0 on a fresh "
       "hit, 3 when there is none.",
       2, 2, false,
       [](FlagTable* t, CtlOptions* o) {
         t->AddBool("allow-stale", &o->allow_stale,
                    "a stale copy counts too (exit 0)");
         JsonFlag(t, o);
       },
       Get},
      {"put", "SCOPE NAME [--ttl D] [--tag T]... [--content-type M]",
       "Store stdin as the entry (unconditional write, mtime = now).", 2, 2,
       false, WriteFlags, Put},
      {"fetch-or-generate",
       "SCOPE NAME [--ttl D] [--tag T]... [--wait D] -- CMD [ARG...]",
       "Print the entry; if this call gets the lease, run CMD, store and "
       "print its stdout. A failing CMD stores nothing, releases the lease, "
       "and its exit code is returned.",
       2, 2, true,
       [](FlagTable* t, CtlOptions* o) {
         WriteFlags(t, o);
         t->AddDuration("wait", &o->wait,
                        "how long to wait for another holder's result");
       },
       FetchOrGenerate},
      {"expire", "SCOPE [NAME | --prefix P]",
       "Soft-expire entries: they stay as stale copies.", 1, 2, false,
       SelectorFlags, Expire},
      {"delete", "SCOPE (NAME | --prefix P | --whole-scope) [--dry-run]",
       "Remove entries. A whole scope needs --whole-scope; --dry-run counts "
       "what a scope or prefix would lose.",
       1, 2, false,
       [](FlagTable* t, CtlOptions* o) {
         SelectorFlags(t, o);
         t->AddBool("whole-scope", &o->whole_scope,
                    "remove every entry of SCOPE");
         t->AddBool("dry-run", &o->dry_run, "count, do not delete");
       },
       Delete},
      {"invalidate", "(--scope S | --all | --tag T...) [--json]",
       "Global expiry: every entry generated before now stops being fresh. "
       "Prints the new timestamp (microseconds).",
       0, 0, false,
       [](FlagTable* t, CtlOptions* o) {
         t->AddString("scope", &o->scope, "expire this scope");
         t->AddBool("all", &o->all, "expire everything");
         t->AddList("tag", &o->tags,
                    "expire entries with this tag (repeatable: many tags in "
                    "one call, up to 1000)");
         JsonFlag(t, o);
       },
       Invalidate},
      {"expiry-keys", "[--reset NAME | --forget-tags-older-than D] [--json]",
       "List expiry keys and their timestamps. --reset NAME sets a key that "
       "is more than a minute past cluster time (which makes every entry "
       "stale at birth) to now; the server logs it. "
       "--forget-tags-older-than D drops the keys of tags last invalidated "
       "more than D ago (each distinct tag otherwise costs space for good); "
       "safe at any time: a tag not listed counts as invalidated at the "
       "largest value dropped, and the keys the oldest entry may depend on "
       "are kept (memcached without a ledger cannot tell: its tagged entries "
       "older than that become stale).",
       0, 0, false,
       [](FlagTable* t, CtlOptions* o) {
         t->AddString("reset", &o->reset,
                      "expiry key to bring back to now: all, scope:S or a tag");
         t->AddDuration("forget-tags-older-than", &o->forget_tags_older_than,
                        "forget tag keys last invalidated more than this ago");
         JsonFlag(t, o);
       },
       ExpiryKeys},
      {"list", "[--scope S] [--prefix P] [--limit N] [--json]",
       "List entries: scope, name, size, mtime, state, content type, tags.", 0,
       0, false,
       [](FlagTable* t, CtlOptions* o) {
         ScanFlags(t, o);
         t->AddInt("limit", &o->limit, 0, INT32_MAX, "at most N (0 = all)");
         JsonFlag(t, o);
       },
       List},
      {"stats", "[--json]",
       "Store usage (store-wide), then this node's counters per scope since "
       "it started, uptime, hit ratio and version.",
       0, 0, false, JsonFlag, Stats},
      {"purge",
       "[--scope S] [--prefix P] [--older-than D] [--not-fresh-only] "
       "[--everything] [--dry-run] [--batch N] [--pause D] [--json]",
       "Remove entries by age, in batches; progress on stderr. With no filter "
       "it removes every entry, and says so only with --everything: try "
       "--dry-run first.",
       0, 0, false,
       [](FlagTable* t, CtlOptions* o) {
         ScanFlags(t, o);
         t->AddDuration("older-than", &o->older_than,
                        "only entries generated longer ago than D");
         t->AddBool("not-fresh-only", &o->not_fresh_only,
                    "only entries that are not fresh");
         t->AddBool("dry-run", &o->dry_run, "count, do not delete");
         t->AddBool("everything", &o->everything,
                    "no filter: remove every entry");
         t->AddInt("batch", &o->batch, 1, 100000, "entries per batch");
         t->AddDuration("pause", &o->pause,
                        "pause between batches (at most 1m)");
         JsonFlag(t, o);
       },
       Purge},
      {"migrate",
       "--from URL --to URL [--from-ledger URL] [--to-ledger URL] "
       "[--from-namespace N] [--to-namespace N] [--scope S] [--prefix P] "
       "[--fresh-only] [--dry-run] [--batch N] [--pause D] "
       "[--resume-after SCOPE/NAME] [--finish] [--json]",
       "Copy entries and expiry keys from one store into another, talking "
       "to the stores themselves (not to a node): expiry keys first, then "
       "the entries page by page with their mtimes. Nothing becomes fresh "
       "that was not fresh in the source; a newer entry in the target is "
       "kept; an invalidation on the target afterwards is newer than every "
       "copied entry. Progress (and the key to resume after) on stderr. "
       "--finish ends a live move (clustercached --migrate-from): run it "
       "once every node migrates.",
       0, 0, false, MigrateFlags, Migrate},
      {"store", "URL [--ledger URL] [--namespace N]",
       "What a --store URL opens: the store, its cluster time, entries and "
       "expiry keys.",
       1, 1, false, StoreFlags, DescribeStore},
  };
  return *commands;
}

}  // namespace clustercache
