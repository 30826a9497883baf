#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

namespace signpost::kafka {

struct Header {
  std::string key;
  std::string value;

  bool operator==(const Header&) const = default;
};
using Headers = std::vector<Header>;

// The value of the first header named `key`, if any.
std::optional<absl::string_view> FindHeader(const Headers& headers, absl::string_view key);

// Header names every Signpost producer sets.
inline constexpr absl::string_view kHeaderEventType = "event-type";
inline constexpr absl::string_view kHeaderSchemaVersion = "schema-version";
inline constexpr absl::string_view kHeaderTraceparent = "traceparent";
inline constexpr absl::string_view kHeaderContentType = "content-type";
// Set on dead-letter records.
inline constexpr absl::string_view kHeaderDeadLetterReason = "dlq-reason";
inline constexpr absl::string_view kHeaderDeadLetterTopic = "dlq-source-topic";
inline constexpr absl::string_view kHeaderDeadLetterPartition = "dlq-source-partition";
inline constexpr absl::string_view kHeaderDeadLetterOffset = "dlq-source-offset";
inline constexpr absl::string_view kHeaderDeadLetterGroup = "dlq-consumer-group";

struct OutgoingMessage {
  std::string topic;  // full name, prefix included
  std::string key;
  std::optional<std::string> value;  // nullopt is a tombstone
  Headers headers;
};

struct ConsumedMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::optional<std::string> value;  // nullopt for a tombstone
  Headers headers;
  int64_t timestamp_ms = 0;
};

}  // namespace signpost::kafka
