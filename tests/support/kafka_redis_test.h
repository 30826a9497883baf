#pragma once

#include <gtest/gtest.h>

#include "tests/support/kafka_env.h"
#include "tests/support/redis_server.h"

namespace signpost::testing {

// A test with its own topic prefix on the run's local Kafka and its own redis-server.
class KafkaRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = MakeKafkaEnv();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *env;
    ASSERT_TRUE(redis_.Start().ok());
  }

  KafkaEnv env_;
  RedisServer redis_;
};

}  // namespace signpost::testing
