#pragma once

#include <map>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/followup/redis_keys.h"

namespace signpost::followup {

// How the outbox's publishing lease is kept. A send may take as long as the producer's delivery
// timeout (`longest_send`); another instance may take over only when no send of the holder can
// still land, so the lease outlives any send: a batch is begun only while the lease has
// `longest_send` and `renew_every` left, and a watchdog renews it every `renew_every` meanwhile.
struct OutboxLease {
  absl::Duration longest_send = absl::Seconds(30);
  absl::Duration ttl = absl::Seconds(60);
  absl::Duration renew_every = absl::Seconds(10);

  // A lease of twice the longest send, renewed six times in it.
  static OutboxLease For(absl::Duration longest_send);
  // INVALID_ARGUMENT unless ttl > longest_send + 2 * renew_every > 0.
  absl::Status Check() const;
};

// The longest a send can wait for the broker: `delivery_timeout`, or the librdkafka
// `properties` (applied after it) delivery.timeout.ms / message.timeout.ms, the longer when both
// are given. INVALID_ARGUMENT naming the property for one that is not a positive number of
// milliseconds: 0 means no limit, which no lease can outlast.
absl::StatusOr<absl::Duration> LongestSend(absl::Duration delivery_timeout,
                                           const std::map<std::string, std::string>& properties);

// Moves committed events from the Redis outbox to the broker, oldest first, and deletes them
// once the broker has acknowledged them. One instance at a time publishes, in commit order,
// whatever the broker does: the publisher holds a lease in Redis with a fencing token (a number
// that grows with every takeover), checks before each batch that the token is still the lease's,
// deletes what it sent only under that check, and never begins a send the lease could not
// outlast (OutboxLease). When the holder dies another instance takes over once the lease runs
// out; a holder that stops releases it at once. Events keep their ids, so a batch resent after a
// failed send is recognised by consumers.
class OutboxPublisher {
 public:
  OutboxPublisher(redis::RedisClient& redis, RedisKeys keys, kafka::Producer& producer,
                  std::string instance, metrics::Registry& metrics, OutboxLease lease = {});
  ~OutboxPublisher();

  // One pass: publishes everything in the outbox if this instance holds (or takes) the lease.
  absl::StatusOr<int> PublishOnce();

  // Starts the publishing thread and the lease's watchdog.
  void Start();
  // Publishes what is left, then releases the lease.
  void Stop();
  // Something was committed: publish now instead of at the next poll.
  void Wake();

 private:
  // This instance's fencing token when it holds the lease (taking it when nobody does); empty
  // when another instance holds it.
  absl::StatusOr<std::string> Acquire();
  // Renews the lease if `token` is still its token: false when the lease was lost.
  absl::StatusOr<bool> Renew(const std::string& token);
  // Whether a whole send fits in what is left of the lease.
  bool RoomForASend();
  // `token` is no longer the lease's: publish nothing more under it.
  void LostLease(const std::string& token);
  void Watchdog();

  redis::RedisClient& redis_;
  RedisKeys keys_;
  kafka::Producer& producer_;
  std::string instance_;
  OutboxLease lease_;
  redis::LuaScript acquire_;
  redis::LuaScript renew_;
  redis::LuaScript mark_sent_;
  redis::LuaScript release_;
  metrics::Counter& published_;
  metrics::Gauge& backlog_;
  metrics::Gauge& holding_;
  metrics::Counter& lost_;
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool watchdog_stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string token_ ABSL_GUARDED_BY(mu_);  // empty: not the holder
  // Until when the lease is surely ours: the start of the last successful renewal plus the ttl.
  absl::Time held_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
  std::thread watchdog_;
};

}  // namespace signpost::followup
