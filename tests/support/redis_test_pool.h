#pragma once

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

}  // namespace signpost::testing
