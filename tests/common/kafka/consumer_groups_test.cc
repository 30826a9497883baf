#include "common/kafka/consumer_groups.h"

#include <gtest/gtest.h>

#include <set>

namespace signpost::kafka {
namespace {

TEST(ConsumerGroupsTest, EveryGroupHasOneNameAndTheTopicsItReads) {
  std::set<absl::string_view> names;
  for (auto group :
       {ConsumerGroup::kIntakeSubmissions, ConsumerGroup::kIntakeStatus, ConsumerGroup::kMatching,
        ConsumerGroup::kMatchingCaseloads, ConsumerGroup::kMatchingDirectory,
        ConsumerGroup::kFollowup, ConsumerGroup::kFollowupWithdrawals}) {
    const ConsumerGroupSpec& spec = SpecOf(group);
    EXPECT_EQ(spec.group, group);
    EXPECT_FALSE(spec.topics.empty()) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
  }
  EXPECT_EQ(AllConsumerGroups().size(), names.size());
  EXPECT_EQ(SpecOf(ConsumerGroup::kMatching).topics, std::vector<Topic>{Topic::kReferralReceived});
}

}  // namespace
}  // namespace signpost::kafka
