#pragma once

#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/followup/redis_keys.h"

namespace signpost::followup {

// Moves committed events from the Redis outbox to the broker, oldest first, and deletes them
// once the broker has acknowledged them. One instance at a time publishes (a lease in Redis), so
// the events of a case reach their topics in the order they were committed; when that instance
// dies another takes over within the lease. Events keep their ids, so a batch resent after a
// crash is recognised by consumers.
class OutboxPublisher {
 public:
  OutboxPublisher(redis::RedisClient& redis, RedisKeys keys, kafka::Producer& producer,
                  std::string instance, metrics::Registry& metrics);
  ~OutboxPublisher();

  // One pass: publishes everything in the outbox if this instance holds the lease.
  absl::StatusOr<int> PublishOnce();

  void Start();
  void Stop();
  // Something was committed: publish now instead of at the next poll.
  void Wake();

 private:
  absl::StatusOr<bool> HoldLease();

  redis::RedisClient& redis_;
  RedisKeys keys_;
  kafka::Producer& producer_;
  std::string instance_;
  redis::LuaScript lease_;
  metrics::Counter& published_;
  metrics::Gauge& backlog_;
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost::followup
