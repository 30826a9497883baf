#pragma once

// Unit tests only: a Redis that answers nothing, for the task feed of tests that never read it
// (StreamStart asks it nothing for a snapshot or a malformed token).
#include <vector>

#include "absl/status/status.h"
#include "common/redis/redis_client.h"

namespace signpost::followup::testing {

class UnreachableRedis final : public redis::RedisClient {
 public:
  absl::StatusOr<redis::Reply> Execute(const redis::Command&) override {
    return absl::UnavailableError("no Redis in unit tests");
  }
  absl::StatusOr<std::vector<redis::Reply>> Pipeline(const std::vector<redis::Command>&) override {
    return absl::UnavailableError("no Redis in unit tests");
  }
};

}  // namespace signpost::followup::testing
