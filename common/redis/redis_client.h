#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/redis/redis_reply.h"

namespace signpost::redis {

using Command = std::vector<std::string>;

// What services need of Redis; RedisPool is the real one, tests may substitute their own.
class RedisClient {
 public:
  virtual ~RedisClient() = default;

  // One command. An error reply becomes a status (see ErrorReplyStatus); a broken connection or
  // a timeout is UNAVAILABLE.
  virtual absl::StatusOr<Reply> Execute(const Command& command) = 0;

  // Several commands in one round trip on one connection, replies in order. Error replies stay
  // in the vector as kError; only a connection failure fails the whole call.
  virtual absl::StatusOr<std::vector<Reply>> Pipeline(const std::vector<Command>& commands) = 0;
};

}  // namespace signpost::redis
