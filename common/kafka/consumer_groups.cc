#include "common/kafka/consumer_groups.h"

namespace signpost::kafka {

std::span<const ConsumerGroupSpec> AllConsumerGroups() {
  static const std::vector<ConsumerGroupSpec> kGroups = {
      {ConsumerGroup::kIntakeSubmissions,
       "signpost-intake-submissions",
       {Topic::kReferralSubmitted}},
      {ConsumerGroup::kIntakeStatus,
       "signpost-intake-status",
       {Topic::kReferralReceived, Topic::kReferralMatched, Topic::kFollowupEvents},
       Fetching::kGathered},
      {ConsumerGroup::kMatching, "signpost-matching", {Topic::kReferralReceived}},
      {ConsumerGroup::kMatchingCaseloads,
       "signpost-matching-caseloads",
       {Topic::kFollowupEvents},
       Fetching::kGathered},
      {ConsumerGroup::kFollowup,
       "signpost-followup",
       {Topic::kReferralMatched, Topic::kReferralReceived, Topic::kReferralRejected}},
  };
  return kGroups;
}

const ConsumerGroupSpec& SpecOf(ConsumerGroup group) {
  for (const auto& spec : AllConsumerGroups()) {
    if (spec.group == group) return spec;
  }
  return AllConsumerGroups().front();  // unreachable: every enumerator is in the table
}

}  // namespace signpost::kafka
