// The follow-up handler over a batch, against a real redis-server: matches opened together, in the
// batch's order with the other messages, and a retry holding the rest of its partition.
#include "services/followup/followup_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "common/redis/redis_pool.h"
#include "services/followup/redis_case_store.h"
#include "tests/services/followup/batch_events.h"
#include "tests/support/fake_producer.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/test_data_keys.h"

namespace signpost::followup {
namespace {

using batch_events::kMonday;
using batch_events::Matched;
using batch_events::Withdrawn;

kafka::ConsumedMessage On(kafka::Topic topic, int32_t partition, const v1::Event& event) {
  kafka::ConsumedMessage m;
  m.topic = kafka::TopicName(topic, "");
  m.partition = partition;
  m.key = event.envelope().referral_id();
  m.value = event.SerializeAsString();
  return m;
}

class FollowUpHandlerTest : public testing::RedisPoolTest {
 protected:
  FollowUpHandlerTest() : keys_(signpost::testing::TestDataKeys()), cipher_(keys_) {}

  void SetUp() override {
    RedisPoolTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RedisCaseStore>(*pool_, RedisKeys{}, "");
    workflow_ = std::make_unique<CaseWorkflow>(WorkflowOptions{});
    commands_ = std::make_unique<CaseCommands>(
        *store_, *workflow_, nullptr, [] { return kMonday; }, nullptr);
    handler_ = std::make_unique<FollowUpHandler>(*commands_, producer_, cipher_, "",
                                                 "signpost-followup", metrics_);
  }

  std::optional<v1::Case> CaseOf(const std::string& rid) {
    auto loaded = store_->Load(rid);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok() || !loaded->has_value()) return std::nullopt;
    return (*loaded)->kase;
  }

  crypto::DataKeyring keys_;
  crypto::PersonalDetailsCipher cipher_;
  std::unique_ptr<RedisCaseStore> store_;
  std::unique_ptr<CaseWorkflow> workflow_;
  std::unique_ptr<CaseCommands> commands_;
  // Rejections are the only messages this handler sends itself; none are in these batches.
  testing::FakeProducer producer_;
  metrics::Registry metrics_;
  std::unique_ptr<FollowUpHandler> handler_;
};

TEST_F(FollowUpHandlerTest, AWithdrawalEarlierInTheBatchComesBeforeTheMatchesAfterIt) {
  std::vector<kafka::ConsumedMessage> batch = {
      On(kafka::Topic::kReferralMatched, 0, Matched("r-1")),
      On(kafka::Topic::kReferralReceived, 0, Withdrawn("r-2")),
      On(kafka::Topic::kReferralMatched, 1, Matched("r-2")),
      On(kafka::Topic::kReferralMatched, 0, Matched("r-3")),
  };
  auto outcomes = handler_->Handle(batch);
  ASSERT_EQ(outcomes.size(), batch.size());
  for (const auto& o : outcomes) EXPECT_EQ(o.kind, kafka::Outcome::Kind::kDone) << o.reason;
  EXPECT_EQ(CaseOf("r-1")->state(), v1::CASE_STATE_ASSIGNED);
  EXPECT_EQ(CaseOf("r-3")->state(), v1::CASE_STATE_ASSIGNED);
  // Withdrawn before its match came: the match finds it ended and opens nothing.
  auto r2 = CaseOf("r-2");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_TRUE(r2->open_task_ids().empty());
  auto version = pool_->Execute({"HGET", "fu:case:r-2", "v"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->str, "1");
}

TEST_F(FollowUpHandlerTest, AMatchWaitingForItsKeyHoldsTheRestOfItsPartitionOnly) {
  v1::Event unknown_key = Matched("r-waits");
  unknown_key.mutable_referral_matched()->mutable_referral()->mutable_sealed()->set_key_id(
      "a-key-from-a-later-rotation");
  std::vector<kafka::ConsumedMessage> batch = {
      On(kafka::Topic::kReferralMatched, 0, Matched("r-before")),
      On(kafka::Topic::kReferralMatched, 0, unknown_key),
      On(kafka::Topic::kReferralMatched, 0, Matched("r-after")),
      On(kafka::Topic::kReferralMatched, 1, Matched("r-elsewhere")),
      On(kafka::Topic::kReferralReceived, 0, Withdrawn("r-withdrawn")),
  };
  auto outcomes = handler_->Handle(batch);
  ASSERT_EQ(outcomes.size(), batch.size());
  using Kind = kafka::Outcome::Kind;
  EXPECT_EQ(outcomes[0].kind, Kind::kDone);
  EXPECT_EQ(outcomes[1].kind, Kind::kRetry);
  EXPECT_THAT(outcomes[1].reason, ::testing::HasSubstr("a-key-from-a-later-rotation"));
  EXPECT_EQ(outcomes[2].kind, Kind::kRetry);
  EXPECT_EQ(outcomes[3].kind, Kind::kDone);
  EXPECT_EQ(outcomes[4].kind, Kind::kDone);
  EXPECT_TRUE(CaseOf("r-before"));
  EXPECT_FALSE(CaseOf("r-waits"));
  EXPECT_FALSE(CaseOf("r-after"));  // it comes again after the one it waits behind
  EXPECT_TRUE(CaseOf("r-elsewhere"));
  EXPECT_EQ(CaseOf("r-withdrawn")->state(), v1::CASE_STATE_WITHDRAWN);
}

}  // namespace
}  // namespace signpost::followup
