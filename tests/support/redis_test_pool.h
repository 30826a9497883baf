#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "common/config/address.h"
#include "common/redis/redis_pool.h"
#include "tests/support/redis_server.h"

namespace signpost::testing {

// A small pool of connections to a test's redis-server; null when it cannot be made.
inline std::unique_ptr<redis::RedisPool> PoolFor(const RedisServer& server, int size = 2) {
  redis::PoolOptions options;
  options.address = *ParseRedisAddress(server.address());
  options.size = size;
  auto pool = redis::RedisPool::Create(options);
  return pool.ok() ? *std::move(pool) : nullptr;
}

// A test with its own redis-server and a pool of `pool_size` connections to it. A fixture that
// builds more on the pool calls RedisPoolTest::SetUp() first and stops on a fatal failure.
class RedisPoolTest : public ::testing::Test {
 protected:
  explicit RedisPoolTest(int pool_size = 2) : pool_size_(pool_size) {}

  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    pool_ = PoolFor(server_, pool_size_);
    ASSERT_TRUE(pool_);
  }

  RedisServer server_;
  std::unique_ptr<redis::RedisPool> pool_;

 private:
  int pool_size_;
};

}  // namespace signpost::testing
