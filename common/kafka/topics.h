#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include "absl/strings/string_view.h"

namespace signpost::kafka {

// The Signpost topics. Names, partition counts and policies come from
// proto/signpost/v1/topics.tsv, the one place they are defined: configuring the build writes the
// enum (one enumerator per line, signpost.need.unmet -> kNeedUnmet) and the table of specs into
// <build>/gen/common/kafka/topic_table.h (cmake/topic_table.cmake), included below.
enum class Topic : int;

struct TopicSpec {
  Topic topic;
  absl::string_view name;  // without prefix, e.g. "signpost.referral.received"
  int partitions;
  absl::string_view cleanup_policy;  // "delete" or "compact"
  int64_t retention_ms;              // -1 keeps forever
  // Every value is a signpost.v1.Event (or a tombstone): topics.tsv's value column says
  // "Event{...}". The others (submissions: protobuf or FHIR JSON; dead letters: any bytes) must
  // never be parsed as events.
  bool carries_events;
};

}  // namespace signpost::kafka

#include "common/kafka/topic_table.h"  // IWYU pragma: export

namespace signpost::kafka {

std::span<const TopicSpec> AllTopics();
const TopicSpec& SpecOf(Topic topic);

// The full name of a topic with a deployment's prefix ("" for none).
std::string TopicName(Topic topic, absl::string_view prefix);

// The topic a full name denotes under the prefix, if it is a Signpost topic.
std::optional<Topic> TopicFromName(absl::string_view full_name, absl::string_view prefix);

}  // namespace signpost::kafka
