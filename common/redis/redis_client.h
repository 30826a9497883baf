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

  // Returns once every write Redis has taken so far, by any client, is on the replicas this
  // client requires (OK at once when it requires none); UNAVAILABLE when too few hold it in
  // time. For an answer read back from Redis that tells a caller a change has happened (a retry
  // that finds its first try applied): the first try may have been written on the primary but
  // refused its replicas, and a call of reads alone waits for none.
  virtual absl::Status AwaitReplication() { return absl::OkStatus(); }
};

}  // namespace signpost::redis
