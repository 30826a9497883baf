#include "common/kafka/topics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace signpost::kafka {
namespace {

// The table the build wrote (cmake/topic_table.cmake) is topics.tsv, line for line and in order,
// and each enumerator indexes its own entry.
TEST(TopicsTest, TheTableIsTopicsTsv) {
  std::ifstream tsv(std::string(SIGNPOST_SOURCE_DIR) + "/proto/signpost/v1/topics.tsv");
  ASSERT_TRUE(tsv) << "cannot read topics.tsv";
  std::vector<std::vector<std::string>> lines;
  for (std::string line; std::getline(tsv, line);) {
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(absl::StrSplit(line, '\t'));
  }
  std::span<const TopicSpec> table = AllTopics();
  ASSERT_EQ(table.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<std::string>& f = lines[i];
    ASSERT_GE(f.size(), 6u) << "line " << i;
    EXPECT_EQ(table[i].name, f[0]);
    EXPECT_EQ(std::to_string(table[i].partitions), f[1]) << f[0];
    EXPECT_EQ(table[i].cleanup_policy, f[2]) << f[0];
    EXPECT_EQ(std::to_string(table[i].retention_ms), f[3]) << f[0];
    EXPECT_EQ(table[i].carries_events, absl::StartsWith(f[5], "Event{")) << f[0];
    EXPECT_EQ(SpecOf(table[i].topic).name, table[i].name);
  }
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
