#include "cache/util/store_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cache/util/percent.h"

namespace clustercache {
namespace {

constexpr size_t kMaxUrl = 4096;

// Where the user information ends: the last '@' before the query (the
// query starts at the first '?' after that '@', or, with no '@', the
// first '?').
size_t UserinfoEnd(absl::string_view rest) {
  size_t at = absl::string_view::npos;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '@') at = i;
  }
  return at;
}

}  // namespace

std::string StoreUrl::Redacted() const {
  std::string out = absl::StrCat(scheme, "://");
  if (!user.empty() || has_password) {
    absl::StrAppend(&out, user, has_password ? ":***" : "", "@");
  }
  std::vector<std::string> hs;
  for (const UrlHost& h : hosts) {
    hs.push_back(h.port ? absl::StrCat(h.host, ":", h.port) : h.host);
  }
  absl::StrAppend(&out, absl::StrJoin(hs, ","));
  if (!path.empty()) absl::StrAppend(&out, "/", path);
  if (!query.empty()) {
    absl::StrAppend(&out, "?",
                    absl::StrJoin(query, "&", absl::PairFormatter("=")));
  }
  return out;
}

absl::StatusOr<StoreUrl> ParseStoreUrl(absl::string_view url,
                                       int default_port) {
  StoreUrl out;
  // Quoted in errors: without "://" the user information cannot be told
  // from the rest, so all before the last '@' goes.
  const size_t last_at = url.rfind('@');
  const std::string shown = url.find("://") != absl::string_view::npos
                                ? RedactUrls(url)
                            : last_at == absl::string_view::npos
                                ? std::string(url)
                                : absl::StrCat("***", url.substr(last_at));
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", shown, "\": ", why));
  };
  if (url.size() > kMaxUrl) return bad("longer than 4096 bytes");
  const size_t sep = url.find("://");
  if (sep == absl::string_view::npos || sep == 0) {
    return bad("not SCHEME://...");
  }
  out.scheme = std::string(url.substr(0, sep));
  absl::string_view rest = url.substr(sep + 3);
  const size_t at = UserinfoEnd(rest);
  if (at != absl::string_view::npos) {
    absl::string_view info = rest.substr(0, at);
    const size_t colon = info.find(':');
    if (!PercentDecode(info.substr(0, colon), &out.user)) {
      return bad("bad %-escape in the user");
    }
    if (colon != absl::string_view::npos) {
      out.has_password = true;
      if (!PercentDecode(info.substr(colon + 1), &out.password)) {
        return bad("bad %-escape in the password");
      }
    }
    rest.remove_prefix(at + 1);
  }
  const size_t question = rest.find('?');
  absl::string_view query =
      question == absl::string_view::npos ? "" : rest.substr(question + 1);
  rest = rest.substr(0, question);
  const size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    if (!PercentDecode(rest.substr(slash + 1), &out.path)) {
      return bad("bad %-escape in the path");
    }
    rest = rest.substr(0, slash);
  }
  if (rest.empty()) return bad("no host");
  for (absl::string_view item : absl::StrSplit(rest, ',')) {
    UrlHost h;
    absl::string_view port;
    if (absl::ConsumePrefix(&item, "[")) {  // [IPv6]:port
      const size_t close = item.find(']');
      if (close == absl::string_view::npos || close == 0) {
        return bad("bad [IPv6] host");
      }
      h.host = std::string(item.substr(0, close));
      item.remove_prefix(close + 1);
      if (!item.empty() && !absl::ConsumePrefix(&item, ":")) {
        return bad("bad [IPv6] host");
      }
      port = item;
    } else {
      const size_t colon = item.rfind(':');
      h.host = std::string(item.substr(0, colon));
      if (colon != absl::string_view::npos) port = item.substr(colon + 1);
      if (colon != absl::string_view::npos && port.empty()) {
        return bad("empty port");
      }
    }
    if (h.host.empty()) return bad("empty host");
    if (h.host.find_first_of(" @/?%") != std::string::npos) {
      return bad("bad host");
    }
    if (port.empty()) {
      h.port = default_port;
      if (h.port == 0) return bad(absl::StrCat("no port for ", h.host));
    } else if (!absl::SimpleAtoi(port, &h.port) || h.port <= 0 ||
               h.port > 65535) {
      return bad("a port is 1 to 65535");
    }
    out.hosts.push_back(std::move(h));
  }
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    std::string k, v;
    if (!PercentDecode(kv.substr(0, eq), &k) ||
        (eq != absl::string_view::npos &&
         !PercentDecode(kv.substr(eq + 1), &v))) {
      return bad("bad %-escape in the query");
    }
    out.query[k] = v;
  }
  return out;
}

std::string RedactUrls(absl::string_view text) {
  std::string out;
  size_t from = 0;
  for (;;) {
    const size_t sep = text.find("://", from);
    if (sep == absl::string_view::npos) break;
    // The URL runs to the next blank.
    size_t end = text.find_first_of(" \t\n", sep);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view rest = text.substr(sep + 3, end - sep - 3);
    absl::StrAppend(&out, text.substr(from, sep + 3 - from));
    const size_t at = UserinfoEnd(rest);
    if (at != absl::string_view::npos) {
      absl::string_view info = rest.substr(0, at);
      const size_t colon = info.find(':');
      if (colon != absl::string_view::npos) {
        absl::StrAppend(&out, info.substr(0, colon), ":***");
      } else {
        absl::StrAppend(&out, info);
      }
      rest.remove_prefix(at);
    }
    absl::StrAppend(&out, rest);
    from = end;
  }
  absl::StrAppend(&out, text.substr(from));
  return out;
}

}  // namespace clustercache
