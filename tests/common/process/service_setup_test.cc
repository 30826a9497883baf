#include "common/process/service_setup.h"

#include <gtest/gtest.h>

namespace signpost {
namespace {

// The groups on a referral's way to its link worker take each message as it lands; the views
// beside that path gather, so that the broker is not asked for every message by every view.
TEST(ServiceSetupTest, GroupsOnTheReferralsWayFetchPromptlyAndTheViewsBesideItGather) {
  CommonConfig config;
  config.kafka_bootstrap = "127.0.0.1:9092";
  for (auto group : {kafka::ConsumerGroup::kIntakeSubmissions, kafka::ConsumerGroup::kMatching,
                     kafka::ConsumerGroup::kFollowup}) {
    kafka::ConsumerOptions options = ConsumerOptionsFor(config, group, nullptr);
    EXPECT_EQ(options.fetch_min_bytes, 1) << options.group_id;
    EXPECT_LE(options.fetch_wait, absl::Milliseconds(100)) << options.group_id;
  }
  for (auto group : {kafka::ConsumerGroup::kIntakeStatus, kafka::ConsumerGroup::kMatchingCaseloads,
                     kafka::ConsumerGroup::kFollowupWithdrawals}) {
    kafka::ConsumerOptions options = ConsumerOptionsFor(config, group, nullptr);
    EXPECT_EQ(options.fetch_min_bytes, kafka::kGatheredFetchMinBytes) << options.group_id;
    EXPECT_EQ(options.fetch_wait, absl::Milliseconds(kafka::kGatheredFetchWaitMs))
        << options.group_id;
  }
}

}  // namespace
}  // namespace signpost
