#include "server/http/http_admin_routes.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/limits.h"
#include "cache/util/version.h"
#include "proto/proto_json.h"
#include "server/admin_ops.h"
#include "server/http/http_answers.h"

namespace clustercache {

namespace http = boost::beast::http;
using Json = nlohmann::json;

namespace {

// An admin body is small: 1000 tags of 128 bytes fit.
constexpr size_t kMaxAdminBody = 256 << 10;

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

HttpResponse JsonAnswer(const Json& j) {
  return Text(http::status::ok, Dump(j) + "\n", "application/json");
}

// An admin call's JSON object, with only the `known` fields; an error names
// the field in `*field`.
absl::StatusOr<Json> JsonObject(const std::string& body,
                                std::initializer_list<absl::string_view> known,
                                std::string* field) {
  if (body.size() > kMaxAdminBody) {
    return absl::InvalidArgumentError(
        absl::StrCat("body: at most ", kMaxAdminBody, " bytes"));
  }
  // Nothing deeper than an object of arrays is kept (the parser itself
  // keeps its own stack, so depth costs no recursion).
  Json j = Json::parse(
      body.empty() ? std::string("{}") : body,
      [](int depth, Json::parse_event_t, Json&) { return depth <= 2; },
      /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("body: want a JSON object");
  }
  for (const auto& [name, value] : j.items()) {
    bool ok = false;
    for (absl::string_view k : known) ok = ok || k == name;
    if (!ok) {
      *field = name;
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field; this call takes ", absl::StrJoin(known, ", ")));
    }
  }
  return j;
}

// Typed fields: absent -> nullopt; of the wrong type -> an error naming it.
absl::StatusOr<std::optional<std::string>> StringField(const Json& j,
                                                       const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": want a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::optional<bool>> BoolField(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": want true/false"));
  }
  return it->get<bool>();
}

absl::StatusOr<int64_t> IntField(const Json& j, const char* name, int64_t min,
                                 int64_t max, int64_t absent) {
  auto it = j.find(name);
  if (it == j.end()) return absent;
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<uint64_t>() > static_cast<uint64_t>(max)) ||
      it->get<int64_t>() < min || it->get<int64_t>() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": want an integer, ", min, " .. ", max));
  }
  return it->get<int64_t>();
}

absl::StatusOr<absl::Duration> DurationField(const Json& j, const char* name,
                                             absl::Duration max) {
  absl::StatusOr<std::optional<std::string>> text = StringField(j, name);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::ZeroDuration();
  return BoundedDuration(name, **text, max);
}

// The field a "NAME: ..." message is about.
std::string FieldOf(const absl::Status& s) {
  absl::string_view m = s.message();
  const size_t colon = m.find(':');
  if (colon == absl::string_view::npos || colon > 20 ||
      absl::StrContains(m.substr(0, colon), " ")) {
    return "";
  }
  return std::string(m.substr(0, colon));
}

HttpResponse Refused(const absl::Status& s, absl::string_view field = "") {
  return ErrorFor(s, field.empty() ? FieldOf(s) : std::string(field));
}

Json KeysJson(const std::vector<ExpiryKeyValue>& keys) {
  Json out = Json::array();
  for (const ExpiryKeyValue& kv : keys) {
    out.push_back({{"name", kv.name}, {"value_us", kv.value}});
  }
  return out;
}

// The tags of a proxy's PURGE: xkey-purge, xkey-softpurge, Surrogate-Key.
std::vector<std::string> PurgeTags(const HttpRequest& request) {
  std::vector<std::string> tags;
  for (absl::string_view name :
       {"xkey-purge", "xkey-softpurge", "Surrogate-Key"}) {
    auto [from, to] = request.equal_range(
        boost::beast::string_view(name.data(), name.size()));
    for (auto it = from; it != to; ++it) {
      for (absl::string_view t : absl::StrSplit(
               absl::string_view(it->value().data(), it->value().size()),
               absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
        tags.emplace_back(t);
      }
    }
  }
  return tags;
}

}  // namespace

struct HttpAdminRoutes::Call {
  HttpRequest request;
  std::string peer;
  std::string path, query;
  std::shared_ptr<Cancellation> gone;
  Respond respond;
  absl::StatusOr<std::string> caller;  // the token's name, or the refusal
};

HttpAdminRoutes::HttpAdminRoutes(ContentCache* cache, const Authorizer* auth,
                                 std::string node_name, int threads,
                                 int max_in_flight)
    : cache_(cache),
      auth_(auth),
      node_name_(std::move(node_name)),
      max_in_flight_(max_in_flight),
      executor_(threads) {}

bool HttpAdminRoutes::Serves(http::verb method, absl::string_view path,
                             const HttpRequest& request) {
  if (method == http::verb::purge) {
    return absl::StartsWith(path, "/v1/entries/") ||
           !PurgeTags(request).empty();
  }
  return path == "/v1/invalidate" || path == "/v1/expire" ||
         path == "/v1/delete" || path == "/v1/purge" || path == "/v1/list" ||
         path == "/v1/stats" || path == "/v1/expiry-keys";
}

void HttpAdminRoutes::Handle(HttpRequest request, const std::string& peer,
                             std::shared_ptr<Cancellation> gone,
                             Respond respond) {
  auto call = std::make_shared<Call>(Call{std::move(request), peer, "", "",
                                          std::move(gone), std::move(respond),
                                          std::string()});
  const std::string target(call->request.target());
  const size_t q = target.find('?');
  call->path = target.substr(0, q);
  call->query = q == std::string::npos ? "" : target.substr(q + 1);
  if (auth_ != nullptr) {
    call->caller = auth_->CheckHeader(
        Header(call->request, http::field::authorization), Role::kAdmin);
  }
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    --in_flight_;
    HttpResponse res = Error(http::status::service_unavailable,
                             absl::StrCat("too many admin calls at once (",
                                          max_in_flight_, "); try again"));
    res.set(http::field::retry_after, "1");
    return call->respond(std::move(res));
  }
  executor_.Run([this, call] {
    Run(*call);
    --in_flight_;
  });
}

void HttpAdminRoutes::Run(const Call& call) {
  const http::verb method = call.request.method();
  const absl::string_view path = call.path;
  const bool get = method == http::verb::get || method == http::verb::head;
  const bool post = method == http::verb::post;
  if (method == http::verb::purge) return SoftPurge(call);
  if (path == "/v1/invalidate" && post) return Invalidate(call);
  if (path == "/v1/expire" && post) return ExpireOrDelete(call, true);
  if (path == "/v1/delete" && post) return ExpireOrDelete(call, false);
  if (path == "/v1/purge" && post) return Purge(call);
  // A streamed answer has no HEAD form.
  if (path == "/v1/list" && method == http::verb::get) return List(call);
  if (path == "/v1/stats" && get) return Stats(call);
  if (path == "/v1/expiry-keys" && get) return ExpiryKeys(call);
  call.respond(MethodNotAllowed(
      path == "/v1/list"                                 ? "GET"
      : path == "/v1/stats" || path == "/v1/expiry-keys" ? "GET, HEAD"
                                                         : "POST"));
}

void HttpAdminRoutes::Invalidate(const Call& call) {
  AuditLine audit("Invalidate", call.request.body(), call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  std::string field;
  absl::StatusOr<Json> j = JsonObject(
      call.request.body(), {"scope", "all", "tag", "tags", "at_us"}, &field);
  if (!j.ok()) return call.respond(Refused(audit.Done(j.status()), field));
  InvalidateTarget target;
  absl::StatusOr<std::optional<std::string>> scope = StringField(*j, "scope");
  absl::StatusOr<std::optional<bool>> all = BoolField(*j, "all");
  absl::StatusOr<std::optional<std::string>> tag = StringField(*j, "tag");
  absl::StatusOr<int64_t> at =
      IntField(*j, "at_us", 0, std::numeric_limits<int64_t>::max(), 0);
  for (const absl::Status& s :
       {scope.status(), all.status(), tag.status(), at.status()}) {
    if (!s.ok()) return call.respond(Refused(audit.Done(s)));
  }
  target.scope = *scope;
  target.all = *all;
  if (tag->has_value()) target.tags = std::vector<std::string>{**tag};
  if (auto it = j->find("tags"); it != j->end()) {
    if (target.tags.has_value() || !it->is_array()) {
      return call.respond(Refused(
          audit.Done(absl::InvalidArgumentError(
              "tags: want an array of strings (and no \"tag\" beside it)")),
          "tags"));
    }
    target.tags.emplace();
    for (const Json& t : *it) {
      if (!t.is_string()) {
        return call.respond(Refused(audit.Done(
            absl::InvalidArgumentError("tags: want an array of strings"))));
      }
      target.tags->push_back(t.get<std::string>());
    }
  }
  absl::StatusOr<std::vector<std::string>> keys = ExpiryKeysOf(target);
  if (!keys.ok()) return call.respond(Refused(audit.Done(keys.status())));
  absl::StatusOr<std::vector<ExpiryKeyValue>> values =
      InvalidateKeys(*cache_, *keys, *at);
  if (!values.ok()) return call.respond(Refused(audit.Done(values.status())));
  audit.Count(static_cast<int64_t>(values->size()));
  audit.Done(absl::OkStatus()).IgnoreError();
  call.respond(
      JsonAnswer({{"served_by", node_name_}, {"keys", KeysJson(*values)}}));
}

void HttpAdminRoutes::SoftPurge(const Call& call) {
  std::vector<std::string> tags = PurgeTags(call.request);
  AuditLine audit("Purge (proxy)",
                  absl::StrCat(call.path, " ", absl::StrJoin(tags, " ")),
                  call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  if (!tags.empty()) {
    InvalidateTarget target;
    target.tags = std::move(tags);
    absl::StatusOr<std::vector<std::string>> keys = ExpiryKeysOf(target);
    if (!keys.ok()) return call.respond(Refused(audit.Done(keys.status())));
    absl::StatusOr<std::vector<ExpiryKeyValue>> values =
        InvalidateKeys(*cache_, *keys, 0);
    if (!values.ok()) {
      return call.respond(Refused(audit.Done(values.status())));
    }
    audit.Count(static_cast<int64_t>(values->size()));
    audit.Done(absl::OkStatus()).IgnoreError();
    return call.respond(
        JsonAnswer({{"served_by", node_name_}, {"keys", KeysJson(*values)}}));
  }
  // PURGE /v1/entries/{scope}/{name}: that entry goes stale.
  absl::string_view rest = absl::string_view(call.path).substr(
      absl::string_view("/v1/entries/").size());
  std::string field;
  absl::StatusOr<Key> key = KeyFromPath(rest, &field);
  if (!key.ok()) return call.respond(Refused(audit.Done(key.status()), field));
  absl::StatusOr<int64_t> n = cache_->Expire(
      Selector{std::string(key->scope()), std::string(key->name()), ""});
  if (!n.ok()) return call.respond(Refused(audit.Done(n.status())));
  audit.Count(*n);
  audit.Done(absl::OkStatus()).IgnoreError();
  call.respond(JsonAnswer({{"served_by", node_name_}, {"count", *n}}));
}

void HttpAdminRoutes::ExpireOrDelete(const Call& call, bool expire) {
  AuditLine audit(expire ? "Expire" : "Delete", call.request.body(), call.peer,
                  call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  std::string field;
  absl::StatusOr<Json> j =
      JsonObject(call.request.body(), {"scope", "name", "prefix"}, &field);
  if (!j.ok()) return call.respond(Refused(audit.Done(j.status()), field));
  absl::StatusOr<std::optional<std::string>> scope = StringField(*j, "scope");
  absl::StatusOr<std::optional<std::string>> name = StringField(*j, "name");
  absl::StatusOr<std::optional<std::string>> prefix = StringField(*j, "prefix");
  for (const absl::Status& s :
       {scope.status(), name.status(), prefix.status()}) {
    if (!s.ok()) return call.respond(Refused(audit.Done(s)));
  }
  if (!scope->has_value() || name->has_value() == prefix->has_value()) {
    return call.respond(Refused(audit.Done(absl::InvalidArgumentError(
        "selector: give a scope and either a name or a prefix (\"\" for "
        "the whole scope)"))));
  }
  Selector selector{**scope, *name, prefix->value_or("")};
  absl::StatusOr<int64_t> n =
      expire ? cache_->Expire(selector) : cache_->Delete(selector);
  if (!n.ok()) return call.respond(Refused(audit.Done(n.status())));
  audit.Count(*n);
  audit.Done(absl::OkStatus()).IgnoreError();
  call.respond(JsonAnswer({{"served_by", node_name_}, {"count", *n}}));
}

void HttpAdminRoutes::Purge(const Call& call) {
  AuditLine audit("Purge", call.request.body(), call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  std::string field;
  absl::StatusOr<Json> j =
      JsonObject(call.request.body(),
                 {"scope", "prefix", "older_than", "only_not_fresh", "dry_run",
                  "batch", "pause", "everything"},
                 &field);
  if (!j.ok()) return call.respond(Refused(audit.Done(j.status()), field));
  PurgeRequest purge;
  absl::StatusOr<std::optional<std::string>> scope = StringField(*j, "scope");
  absl::StatusOr<std::optional<std::string>> prefix = StringField(*j, "prefix");
  absl::StatusOr<absl::Duration> older =
      DurationField(*j, "older_than", kMaxAge);
  absl::StatusOr<absl::Duration> pause =
      DurationField(*j, "pause", kMaxPurgePause);
  absl::StatusOr<std::optional<bool>> not_fresh =
      BoolField(*j, "only_not_fresh");
  absl::StatusOr<std::optional<bool>> dry_run = BoolField(*j, "dry_run");
  absl::StatusOr<std::optional<bool>> everything = BoolField(*j, "everything");
  absl::StatusOr<int64_t> batch =
      IntField(*j, "batch", 1, kMaxPurgeBatch, purge.batch);
  for (const absl::Status& s :
       {scope.status(), prefix.status(), older.status(), pause.status(),
        not_fresh.status(), dry_run.status(), everything.status(),
        batch.status()}) {
    if (!s.ok()) return call.respond(Refused(audit.Done(s)));
  }
  purge.scope = scope->value_or("");
  purge.prefix = prefix->value_or("");
  purge.older_than = *older;
  purge.pause = *pause;
  purge.only_not_fresh = not_fresh->value_or(false);
  purge.dry_run = dry_run->value_or(false);
  purge.batch = static_cast<int>(*batch);
  if (absl::Status s = CheckPurge(purge, everything->value_or(false));
      !s.ok()) {
    return call.respond(Refused(audit.Done(s)));
  }
  std::shared_ptr<Cancellation> gone = call.gone;
  purge.cancelled = [gone] { return gone != nullptr && gone->cancelled(); };
  HttpResponse head(http::status::ok, 11);
  head.set(http::field::content_type, "application/x-ndjson");
  head.set("Served-By", node_name_);
  std::unique_ptr<HttpChunks> out = call.respond.Stream(std::move(head));
  absl::Status s = cache_->Purge(purge, [&](const PurgeProgress& p) {
    audit.Count(p.purged);
    return out->Write(Dump({{"examined", p.examined},
                            {"purged", p.purged},
                            {"bytes", p.bytes},
                            {"done", p.done}}) +
                      "\n");
  });
  // A failure after the head: the last line says so (the status is sent).
  if (!s.ok()) out->Write(Dump({{"error", std::string(s.message())}}) + "\n");
  out->Finish();
  audit.Done(s).IgnoreError();
}

void HttpAdminRoutes::List(const Call& call) {
  AuditLine audit("List", call.query, call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  ListRequest list;
  list.scope = QueryValue(call.query, "scope").value_or("");
  list.prefix = QueryValue(call.query, "prefix").value_or("");
  if (std::optional<std::string> limit = QueryValue(call.query, "limit")) {
    if (!absl::SimpleAtoi(*limit, &list.limit) || list.limit < 0) {
      return call.respond(Refused(
          audit.Done(absl::InvalidArgumentError("limit: want a count >= 0"))));
    }
  }
  HttpResponse head(http::status::ok, 11);
  head.set(http::field::content_type, "application/x-ndjson");
  head.set("Served-By", node_name_);
  std::unique_ptr<HttpChunks> out;
  int64_t n = 0;
  std::string batch;
  // Lines go out in chunks of about 64 KiB.
  auto flush = [&] {
    if (out == nullptr) out = call.respond.Stream(std::move(head));
    const bool ok = out->Write(std::move(batch));
    batch.clear();
    return ok;
  };
  absl::Status s = cache_->List(list, [&](const EntryMeta& m, bool fresh) {
    ++n;
    absl::StrAppend(&batch,
                    Dump({{"scope", m.key.scope()},
                          {"name", m.key.name()},
                          {"mtime_us", m.mtime},
                          {"expires_at_us", m.expires_at},
                          {"expired_at_us", m.expired_at},
                          {"content_type", m.content_type},
                          {"tags", m.tags},
                          {"size", m.size},
                          {"fresh", fresh}}),
                    "\n");
    return batch.size() < (64 << 10) || flush();
  });
  audit.Count(n);
  if (!s.ok() && out == nullptr) {
    return call.respond(Refused(audit.Done(s)));
  }
  if (!s.ok())
    absl::StrAppend(&batch, Dump({{"error", std::string(s.message())}}), "\n");
  if (!batch.empty() || out == nullptr) flush();
  out->Finish();
  audit.Done(s).IgnoreError();
}

void HttpAdminRoutes::Stats(const Call& call) {
  AuditLine audit("Stats", "", call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  const nlohmann::ordered_json out =
      ProtoJson(CollectStats(*cache_, node_name_));
  audit.Done(absl::OkStatus()).IgnoreError();
  call.respond(JsonAnswer(out));
}

void HttpAdminRoutes::ExpiryKeys(const Call& call) {
  AuditLine audit("ListExpiryKeys", "", call.peer, call.caller);
  if (!audit.allowed()) return call.respond(ErrorFor(audit.refusal()));
  absl::StatusOr<std::vector<ExpiryKeyValue>> keys = cache_->ListExpiryKeys();
  if (!keys.ok()) return call.respond(Refused(audit.Done(keys.status())));
  audit.Count(static_cast<int64_t>(keys->size()));
  audit.Done(absl::OkStatus()).IgnoreError();
  call.respond(
      JsonAnswer({{"served_by", node_name_}, {"keys", KeysJson(*keys)}}));
}

}  // namespace clustercache
