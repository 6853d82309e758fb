#include "client/ctl/store_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cache/duration.h"
#include "cache/key.h"
#include "cache/store/migrate.h"
#include "cache/store/migrating_store.h"
#include "cache/store/open_store.h"
#include "client/ctl/node_source.h"
#include "nlohmann/json.hpp"

namespace clustercache {
namespace {

constexpr absl::string_view kNodeSource = "node";

// The store of `url` (with `ledger` beside it), as clustercached opens it.
absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& url,
                                            const std::string& ledger,
                                            const std::string& ns) {
  StoreSettings settings;
  settings.namespace_name = ns;
  settings.ledger_url = ledger;
  settings.memory_limit = int64_t{1} << 30;
  return OpenStore(url, settings);
}

// "scope/name" <-> the encoded key a scan resumes after.
std::string Printable(const std::string& encoded) {
  return Key::FromEncoded(encoded).ToString();
}

absl::StatusOr<std::string> Encoded(const std::string& printable) {
  const size_t slash = printable.find('/');
  if (slash == std::string::npos) {
    return absl::InvalidArgumentError(
        "--resume-after: want SCOPE/NAME, as a run printed it");
  }
  absl::StatusOr<Key> key =
      Key::Make(printable.substr(0, slash), printable.substr(slash + 1));
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--resume-after: ", key.status().message()));
  }
  return key->encoded();
}

// The rest of --finish, after the copy.
int FinishMove(Store& from, Store& to, const CtlOptions& o) {
  const absl::Time start = absl::Now();
  absl::StatusOr<CheckProgress> checked = CheckAgainstSource(
      from, to, static_cast<int>(o.batch), [&](const CheckProgress& p) {
        std::cerr << "finish: checked " << p.examined << ", removed "
                  << p.removed << "\n";
        return true;
      });
  if (!checked.ok()) {
    return Fail(kExitError, absl::StrCat("finish: ", checked.status().message(),
                                         " (nothing is marked; run "
                                         "--finish again)"));
  }
  std::cerr << "finish: marking the move finished; waiting "
            << absl::FormatDuration(kMoveSettle) << "\n";
  if (absl::Status s = MarkMoveFinished(to); !s.ok()) {
    return Fail(kExitError, absl::StrCat("finish: ", s.message()));
  }
  std::cout << "finished: checked " << checked->examined
            << " entries of the target, removed " << checked->removed
            << " the source does not vouch for"
            << absl::StrFormat(" in %.1f s",
                               absl::ToDoubleSeconds(absl::Now() - start))
            << "; nodes read " << to.Describe()
            << " now: restart them without --migrate-from\n";
  return kExitOk;
}

}  // namespace

void MigrateFlags(FlagTable* t, CtlOptions* o) {
  t->AddString("from", &o->from,
               "the source store, a --store URL of clustercached (redis://, "
               "redis-cluster://, memcached://), or `node`: the running node "
               "--server names, read through its gRPC face (how a node's "
               "embedded memory store is moved)");
  t->AddString("to", &o->to, "the target store, a --store URL");
  t->AddString("from-ledger", &o->from_ledger,
               "the source's ledger (mysql://...), beside memcached: it "
               "lists what memcached cannot");
  t->AddString("to-ledger", &o->to_ledger,
               "the target's ledger (mysql://...): beside memcached, which "
               "takes a copy only with its ledger");
  t->AddString("from-namespace", &o->from_namespace,
               "the source's --namespace");
  t->AddString("to-namespace", &o->to_namespace, "the target's --namespace");
  t->AddString("scope", &o->scope, "only this scope (default: all)");
  t->AddString("prefix", &o->prefix, "only names starting with this");
  t->AddBool("fresh-only", &o->fresh_only,
             "only entries fresh in the source (stale copies stay behind)");
  t->AddBool("dry-run", &o->dry_run, "count what would be copied");
  t->AddInt("batch", &o->batch, 1, 10000, "entries per page");
  t->AddDuration("pause", &o->pause, "pause between pages (at most 1m)");
  t->AddString("resume-after", &o->resume_after,
               "SCOPE/NAME: go on after this key (a stopped run prints it)");
  t->AddBool("finish", &o->finish,
             "end a live move, once every node runs with --migrate-from: "
             "copy, then remove from the target what the source does not "
             "hold fresh with the same bytes, then mark the move finished "
             "(nodes read the target from then on; restart them without "
             "--migrate-from after)");
  t->AddBool("json", &o->json, "print the summary as JSON");
}

int Migrate(const CtlCall& call) {
  const CtlOptions& o = call.options;
  if (o.from.empty() || o.to.empty()) {
    return Fail(kExitUsage, "migrate: --from and --to are both needed");
  }
  if (o.from == o.to && o.from_namespace == o.to_namespace) {
    return Fail(kExitUsage, "migrate: --from and --to are the same store");
  }
  if (o.finish && (!o.scope.empty() || !o.prefix.empty() || o.dry_run ||
                   !o.resume_after.empty() || o.from == kNodeSource)) {
    return Fail(kExitUsage,
                "migrate: --finish moves everything from a store: not with "
                "--scope, --prefix, --dry-run, --resume-after or --from=node");
  }
  // Refused before the target is opened: opening memcached alone makes its
  // expiry-key map without a ledger, and a pool with such a map refuses
  // imports for good (see MemcachedStore's CheckImportable).
  if (absl::StartsWith(o.to, "memcached") && o.to_ledger.empty()) {
    return Fail(kExitUsage,
                "migrate: into memcached only with its ledger "
                "(--to-ledger=mysql://...): alone, memcached counts every "
                "expiry key it has not seen as invalidated when its map was "
                "made, so every copied entry would arrive stale");
  }
  MigrateOptions options;
  options.scope = o.scope;
  options.prefix = o.prefix;
  options.fresh_only = o.fresh_only;
  options.dry_run = o.dry_run;
  options.batch = static_cast<int>(o.batch);
  options.pause = o.pause;
  options.expiry_keys = !o.finish;
  if (!o.resume_after.empty()) {
    absl::StatusOr<std::string> after = Encoded(o.resume_after);
    if (!after.ok()) return Fail(kExitUsage, after.status().message());
    options.resume_after = *after;
  }
  // A running node (its embedded memory store has no URL to open): read
  // through its gRPC face, the node --server names.
  absl::StatusOr<std::unique_ptr<Store>> from =
      o.from == kNodeSource ? absl::StatusOr<std::unique_ptr<Store>>(
                                  NewNodeSource(call.client, "(--server)"))
                            : Open(o.from, o.from_ledger, o.from_namespace);
  if (!from.ok()) {
    return Fail(kExitError, absl::StrCat("source: ", from.status().message()));
  }
  absl::StatusOr<std::unique_ptr<Store>> to =
      Open(o.to, o.to_ledger, o.to_namespace);
  if (!to.ok()) {
    return Fail(kExitError, absl::StrCat("target: ", to.status().message()));
  }
  // A finished move's marker in the target would switch a node that starts
  // migrating into it at once, before the target holds what it should.
  absl::StatusOr<Lookup> marker = (*to)->Read(MigrationMarker());
  if (!marker.ok()) {
    return Fail(kExitError,
                absl::StrCat("target: ", marker.status().message()));
  }
  if (marker->entry != nullptr && !o.finish) {
    return Fail(kExitError,
                "target: it holds the marker of a finished live move (" +
                    MigrationMarker().ToString() +
                    "); once no node runs with --migrate-from into it, "
                    "delete that key (`clustercachectl delete "
                    "clustercache-migration finished` through a node on it) "
                    "and run this again");
  }
  // For the ETA: how many the source holds, when it can tell.
  absl::StatusOr<StoreUsage> usage = (*from)->Usage();
  const int64_t total = usage.ok() ? usage->entries : -1;
  std::cerr << "migrate: " << (*from)->Describe() << " -> " << (*to)->Describe()
            << (o.dry_run ? " (dry run)" : "") << "\n";
  const absl::Time start = absl::Now();
  const bool tty = isatty(STDERR_FILENO);
  absl::StatusOr<MigrateProgress> done = clustercache::Migrate(
      **from, **to, options, [&](const MigrateProgress& p) {
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        const double rate = seconds > 0 ? p.examined / seconds : 0;
        std::string eta;
        if (total > 0 && rate > 0 && total > p.examined) {
          eta = absl::StrCat(", ETA ",
                             absl::FormatDuration(absl::Trunc(
                                 absl::Seconds((total - p.examined) / rate),
                                 absl::Seconds(1))));
        }
        std::cerr << (tty ? "\r" : "") << "examined " << p.examined
                  << (o.dry_run ? ", would copy " : ", copied ") << p.copied
                  << " (" << ShowByteSize(p.bytes) << "), kept " << p.kept
                  << ", skipped " << p.skipped
                  << absl::StrFormat(", %.0f entries/s", rate) << eta
                  << (p.last_key.empty() ? ""
                                         : absl::StrCat("; resume after ",
                                                        Printable(p.last_key)))
                  << (tty ? "" : "\n");
        return true;
      });
  if (tty) std::cerr << "\n";
  if (!done.ok()) return Fail(kExitError, done.status().message());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (o.json) {
    nlohmann::ordered_json j = {
        {"dry_run", o.dry_run},
        {"expiry_keys", done->expiry_keys},
        {"examined", done->examined},
        {"copied", done->copied},
        {"kept", done->kept},
        {"skipped", done->skipped},
        {"bytes", done->bytes},
        {"seconds", seconds},
        {"last_key", done->last_key.empty() ? "" : Printable(done->last_key)},
        {"done", done->done}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << (o.dry_run ? "would copy " : "copied ") << done->copied
              << (done->copied == 1 ? " entry" : " entries") << " ("
              << ShowByteSize(done->bytes) << ") and " << done->expiry_keys
              << " expiry keys; kept " << done->kept << " newer, skipped "
              << done->skipped << absl::StrFormat(" in %.1f s", seconds)
              << "\n";
  }
  if (o.finish && !o.dry_run) return FinishMove(**from, **to, o);
  return kExitOk;
}

void StoreFlags(FlagTable* t, CtlOptions* o) {
  t->AddString("ledger", &o->from_ledger, "a ledger beside it (mysql://...)");
  t->AddString("namespace", &o->from_namespace, "its --namespace");
}

int DescribeStore(const CtlCall& call) {
  const CtlOptions& o = call.options;
  absl::StatusOr<std::unique_ptr<Store>> store =
      Open(call.args[0], o.from_ledger, o.from_namespace);
  if (!store.ok()) return Fail(kExitError, store.status().message());
  std::cout << "store\t" << (*store)->Describe() << "\n";
  absl::StatusOr<int64_t> now = (*store)->Now();
  if (now.ok()) std::cout << "cluster_time_us\t" << *now << "\n";
  absl::StatusOr<StoreUsage> usage = (*store)->Usage();
  if (usage.ok()) {
    std::cout << "entries\t" << usage->entries << "\nbytes\t" << usage->bytes
              << "\n";
  } else {
    std::cout << "entries\tunknown (" << usage.status().message() << ")\n";
  }
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = (*store)->ListExpiryKeys();
  if (keys.ok()) std::cout << "expiry_keys\t" << keys->size() << "\n";
  return kExitOk;
}

}  // namespace clustercache
