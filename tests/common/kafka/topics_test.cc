#include "common/kafka/topics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace signpost::kafka {
namespace {

TEST(TopicsTest, TheContractTopicsAreAllThere) {
  std::set<std::string> names;
  for (const auto& spec : AllTopics()) {
    names.insert(std::string(spec.name));
    EXPECT_GT(spec.partitions, 0) << spec.name;
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"signpost.referral.submitted", "signpost.referral.received",
                                   "signpost.referral.rejected", "signpost.referral.matched",
                                   "signpost.need.unmet", "signpost.followup.events",
                                   "signpost.referrer.feedback", "signpost.directory.resources",
                                   "signpost.deadletter", "signpost.audit.access"}));
}

TEST(TopicsTest, DirectoryIsCompactedAndKeptLifecycleTopicsAreDeleted) {
  EXPECT_EQ(SpecOf(Topic::kDirectoryResources).cleanup_policy, "compact");
  EXPECT_EQ(SpecOf(Topic::kDirectoryResources).retention_ms, -1);
  EXPECT_EQ(SpecOf(Topic::kReferralReceived).cleanup_policy, "delete");
  // Who was given a person's details is kept for years, longer than the events themselves.
  EXPECT_GT(SpecOf(Topic::kAuditAccess).retention_ms,
            SpecOf(Topic::kReferralReceived).retention_ms);
}

// What each topic's values are, from topics.tsv: the monitor reads only events as events.
TEST(TopicsTest, OnlyTopicsOfEventsCarryEvents) {
  std::set<Topic> not_events;
  for (const auto& spec : AllTopics()) {
    if (!spec.carries_events) not_events.insert(spec.topic);
  }
  EXPECT_EQ(not_events, (std::set<Topic>{Topic::kReferralSubmitted, Topic::kDeadletter}));
}

TEST(TopicsTest, PrefixRoundTrips) {
  EXPECT_EQ(TopicName(Topic::kReferralMatched, ""), "signpost.referral.matched");
  EXPECT_EQ(TopicName(Topic::kReferralMatched, "staging."), "staging.signpost.referral.matched");
  EXPECT_EQ(TopicFromName("staging.signpost.deadletter", "staging."), Topic::kDeadletter);
  EXPECT_EQ(TopicFromName("signpost.deadletter", "staging."), std::nullopt);
  EXPECT_EQ(TopicFromName("staging.other", "staging."), std::nullopt);
  for (const auto& spec : AllTopics()) {
    EXPECT_EQ(TopicFromName(TopicName(spec.topic, "p-"), "p-"), spec.topic);
  }
}

}  // namespace
}  // namespace signpost::kafka
