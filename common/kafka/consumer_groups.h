#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/kafka/topics.h"

namespace signpost::kafka {

// The Signpost services' consumer groups and the topics each reads: defined once, used by the
// services to consume and by the monitor to measure their lag. Names take the topic prefix.
enum class ConsumerGroup {
  kIntakeSubmissions,
  kIntakeStatus,
  kMatching,
  kMatchingCaseloads,
  kFollowup,
};

struct ConsumerGroupSpec {
  ConsumerGroup group;
  absl::string_view name;  // without prefix, e.g. "signpost-matching"
  std::vector<Topic> topics;
};

std::span<const ConsumerGroupSpec> AllConsumerGroups();
const ConsumerGroupSpec& SpecOf(ConsumerGroup group);

}  // namespace signpost::kafka
