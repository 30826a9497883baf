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
  kMatchingDirectory,
  kFollowup,
  kFollowupWithdrawals,
};

// How a group's members fetch. On a referral's way to its link worker every hop counts, so
// those groups take each message as it lands. Views kept beside that path (the status view,
// caseloads, follow-up's withdrawals and rejections) gather what arrived over a moment into one
// fetch: a request per message, for every such group, was most of the broker's work.
enum class Fetching { kPrompt, kGathered };
// What gathering asks of the broker: answer a fetch once it holds 1 MiB or half a second passed.
inline constexpr int kGatheredFetchMinBytes = 1 << 20;
inline constexpr int kGatheredFetchWaitMs = 500;

struct ConsumerGroupSpec {
  ConsumerGroup group;
  absl::string_view name;  // without prefix, e.g. "signpost-matching"
  std::vector<Topic> topics;
  Fetching fetching = Fetching::kPrompt;
};

std::span<const ConsumerGroupSpec> AllConsumerGroups();
const ConsumerGroupSpec& SpecOf(ConsumerGroup group);

}  // namespace signpost::kafka
