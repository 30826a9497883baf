#include "tools/demo/worked_queues.h"

#include <gtest/gtest.h>

namespace signpost::demo {
namespace {

TEST(WorkedQueuesTest, EveryWorkerAndTeamQueueIsWorkedWithItsOwnersToken) {
  region::Region region = region::GenerateRegion(7, 300);
  auto queues = WorkedQueues(region, "");
  ASSERT_TRUE(queues.ok()) << queues.status();
  EXPECT_EQ(queues->size(), region.link_workers.size() + region.networks.size());
  const v1::LinkWorker& worker = region.link_workers.front();
  ASSERT_TRUE(queues->count(worker.id()));
  EXPECT_EQ(queues->at(worker.id()).role, auth::Role::kLinkWorker);
  EXPECT_EQ(queues->at(worker.id()).subject, worker.id());
  EXPECT_EQ(queues->at(worker.id()).network, worker.network_id());
  const std::string team = "team:" + region.networks.front().id();
  ASSERT_TRUE(queues->count(team));
  EXPECT_EQ(queues->at(team).role, auth::Role::kCoordinator);
  EXPECT_EQ(queues->at(team).network, region.networks.front().id());
}

TEST(WorkedQueuesTest, TheQueueLeftForAPersonIsNotWorkedAndTheOthersAre) {
  region::Region region = region::GenerateRegion(7, 300);
  const std::string person = region.link_workers.front().id();
  auto queues = WorkedQueues(region, person);
  ASSERT_TRUE(queues.ok()) << queues.status();
  EXPECT_EQ(queues->count(person), 0u);
  EXPECT_EQ(queues->size(), region.link_workers.size() + region.networks.size() - 1);
  EXPECT_EQ(queues->count(region.link_workers.back().id()), 1u);
  EXPECT_EQ(queues->count("team:" + region.networks.front().id()), 1u);
}

TEST(WorkedQueuesTest, AQueueTheRegionHasNotIsRefusedNamingTheFlag) {
  region::Region region = region::GenerateRegion(7, 300);
  auto queues = WorkedQueues(region, "pcn-nowhere-1-lw9");
  ASSERT_FALSE(queues.ok());
  EXPECT_EQ(queues.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(queues.status().message().find("--leave-for-person"), std::string::npos);
  EXPECT_NE(queues.status().message().find("pcn-nowhere-1-lw9"), std::string::npos);
}

}  // namespace
}  // namespace signpost::demo
