#include "common/kafka/batch_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace signpost::kafka {
namespace {

using Action = PlannedStep::Action;

ConsumedMessage At(const std::string& topic, int32_t partition, int64_t offset) {
  ConsumedMessage m;
  m.topic = topic;
  m.partition = partition;
  m.offset = offset;
  return m;
}

std::vector<Action> ActionsOf(const std::vector<PlannedStep>& steps) {
  std::vector<Action> out;
  for (const auto& s : steps) out.push_back(s.action);
  return out;
}

TEST(BatchPlanTest, AllDoneCommitsAll) {
  std::vector<ConsumedMessage> batch = {At("t", 0, 1), At("t", 0, 2), At("t", 1, 7)};
  std::vector<Outcome> outcomes(3, Outcome::Done());
  EXPECT_THAT(ActionsOf(PlanBatch(batch, outcomes)),
              ::testing::ElementsAre(Action::kCommit, Action::kCommit, Action::kCommit));
}

TEST(BatchPlanTest, RetryStopsItsPartitionOnly) {
  std::vector<ConsumedMessage> batch = {At("t", 0, 1), At("t", 1, 5), At("t", 0, 2), At("t", 1, 6),
                                        At("t", 0, 3)};
  std::vector<Outcome> outcomes = {Outcome::Done(), Outcome::Retry("redis down"), Outcome::Done(),
                                   Outcome::Done(), Outcome::Done()};
  auto steps = PlanBatch(batch, outcomes);
  EXPECT_THAT(ActionsOf(steps),
              ::testing::ElementsAre(Action::kCommit, Action::kRetryFrom, Action::kCommit,
                                     Action::kSkip, Action::kCommit));
  EXPECT_EQ(steps[1].reason, "redis down");
}

TEST(BatchPlanTest, SamePartitionNumberOnAnotherTopicIsIndependent) {
  std::vector<ConsumedMessage> batch = {At("a", 0, 1), At("b", 0, 1), At("a", 0, 2)};
  std::vector<Outcome> outcomes = {Outcome::Retry("x"), Outcome::Done(), Outcome::Done()};
  EXPECT_THAT(ActionsOf(PlanBatch(batch, outcomes)),
              ::testing::ElementsAre(Action::kRetryFrom, Action::kCommit, Action::kSkip));
}

TEST(BatchPlanTest, DeadLetterCarriesReasonAndDoesNotStopThePartition) {
  std::vector<ConsumedMessage> batch = {At("t", 0, 1), At("t", 0, 2)};
  std::vector<Outcome> outcomes = {Outcome::DeadLetter("not a signpost.v1.Event"), Outcome::Done()};
  auto steps = PlanBatch(batch, outcomes);
  EXPECT_THAT(ActionsOf(steps), ::testing::ElementsAre(Action::kDeadLetter, Action::kCommit));
  EXPECT_EQ(steps[0].reason, "not a signpost.v1.Event");
}

TEST(BatchPlanDeathTest, MismatchedOutcomesIsAProgrammingError) {
  std::vector<ConsumedMessage> batch = {At("t", 0, 1)};
  std::vector<Outcome> outcomes;
  EXPECT_DEATH(PlanBatch(batch, outcomes), "outcomes for a batch of 1");
}

TEST(PerMessageTest, DoesNotHandleTheRestOfARetriedPartition) {
  std::vector<int64_t> seen;
  auto handler = PerMessage([&seen](const ConsumedMessage& m) {
    seen.push_back(m.offset);
    return m.offset == 2 ? Outcome::Retry("later") : Outcome::Done();
  });
  std::vector<ConsumedMessage> batch = {At("t", 0, 1), At("t", 0, 2), At("t", 1, 10),
                                        At("t", 0, 3)};
  auto outcomes = handler->Handle(batch);
  EXPECT_THAT(seen, ::testing::ElementsAre(1, 2, 10));
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(outcomes[1].kind, Outcome::Kind::kRetry);
  EXPECT_EQ(outcomes[2].kind, Outcome::Kind::kDone);
}

}  // namespace
}  // namespace signpost::kafka
