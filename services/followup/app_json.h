#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <string>

namespace signpost::followup {

// A message as the link-worker app reads it: proto field names (so a violation's field is the
// form input's name) and every field, zero values included (the pages need not guess defaults).
inline std::string AppJsonOf(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // A message of the build's own type always prints.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace signpost::followup
