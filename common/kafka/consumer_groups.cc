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
      // Every matching instance follows the directory topic into the cache on its own, without a
      // group; this group sets each record the cache cannot read aside on the dead-letter topic,
      // once, whatever the number of instances and restarts.
      {ConsumerGroup::kMatchingDirectory,
       "signpost-matching-directory",
       {Topic::kDirectoryResources},
       Fetching::kGathered},
      {ConsumerGroup::kFollowup, "signpost-followup", {Topic::kReferralMatched}},
      // Withdrawals travel on the received topic, behind the referral: follow-up reads that
      // topic only for them (and the rejected one to tell referrers), so it gathers instead of
      // being woken by every referral that arrives. Either order of a withdrawal and its match
      // ends in a withdrawn case.
      {ConsumerGroup::kFollowupWithdrawals,
       "signpost-followup-withdrawals",
       {Topic::kReferralReceived, Topic::kReferralRejected},
       Fetching::kGathered},
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
