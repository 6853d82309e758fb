// ProtoJson: a clustercache.v1 message as JSON for people and scripts
// (clustercachectl --json, the HTTP face's /v1/stats): field names as in the
// proto, every field present, int64 as numbers, enums by name, bytes fields
// as text (they hold names, tags and media types, validated as UTF-8 or
// ASCII; invalid UTF-8 is replaced, never a throw). Unlike proto3's own JSON
// mapping, which writes bytes as base64 and int64 as strings.
#ifndef CLUSTERCACHE_PROTO_PROTO_JSON_H_
#define CLUSTERCACHE_PROTO_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string>

namespace clustercache {

nlohmann::ordered_json ProtoJson(const google::protobuf::Message& message);
// One line, ending in '\n'.
std::string ProtoJsonLine(const google::protobuf::Message& message);

}  // namespace clustercache

#endif  // CLUSTERCACHE_PROTO_PROTO_JSON_H_
