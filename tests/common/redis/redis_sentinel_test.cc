// Redis as production runs it: a primary, a replica and three Sentinels (real redis-server
// processes on loopback), with the pool finding the primary through Sentinel and following a
// failover.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/redis_sentinel_set.h"

namespace signpost::redis {
namespace {

using ::testing::HasSubstr;

TEST(RedisSentinelSetTest, PromotesTheReplicaWhenThePrimaryIsKilled) {
  testing::RedisSentinelSet set({.username = "signpost",
                                 .password = "primary-secret",
                                 .sentinel_password = "sentinel-secret"});
  ASSERT_TRUE(set.Start().ok());
  auto primary = set.PrimaryAddress();
  ASSERT_TRUE(primary.ok()) << primary.status();
  ASSERT_EQ(*primary, set.server(0).address());
  auto written = set.server(0).Run({"SET", "before", "1"});
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(set.server(0).Run({"WAIT", "1", "5000"})->integer, 1);

  auto killed = set.KillPrimary();
  ASSERT_TRUE(killed.ok()) << killed.status();
  auto promoted = set.WaitForFailover(*killed);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(*promoted, set.server(1).address());
  EXPECT_EQ(set.server(1).Run({"GET", "before"})->str, "1");
}

}  // namespace
}  // namespace signpost::redis
