#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/config/address.h"
#include "common/redis/redis_client.h"

struct redisContext;

namespace signpost::redis {

struct PoolOptions {
  RedisAddress address;
  size_t size = 4;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  // How long a caller waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
};

// A fixed set of hiredis connections, made lazily and remade after a failure: a connection that
// broke (I/O error, timeout, or a server that restarted and closed it) is replaced on its next
// use, so the pool recovers by itself once Redis is back.
class RedisPool final : public RedisClient {
 public:
  static absl::StatusOr<std::unique_ptr<RedisPool>> Create(const PoolOptions& options);
  ~RedisPool() override;

  absl::StatusOr<Reply> Execute(const Command& command) override;
  absl::StatusOr<std::vector<Reply>> Pipeline(const std::vector<Command>& commands) override;

  // PING on one connection; OK when Redis answers.
  absl::Status Ping();

 private:
  struct Slot {
    redisContext* context = nullptr;
    bool in_use = false;
  };
  class Lease;

  explicit RedisPool(const PoolOptions& options);
  absl::StatusOr<Slot*> Acquire();
  void Release(Slot* slot, bool broken);
  absl::Status EnsureConnected(Slot& slot);

  PoolOptions options_;
  absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::redis
