#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/config/address.h"
#include "common/metrics/registry.h"
#include "common/redis/redis_client.h"
#include "common/redis/redis_connection.h"
#include "common/redis/replica_ack.h"
#include "common/redis/sentinel_resolver.h"

struct redisContext;

namespace signpost::redis {

struct PoolOptions {
  // Where Redis is; ignored when sentinel.sentinels names Sentinels, which then say.
  RedisAddress address;
  SentinelOptions sentinel;
  // Sent with AUTH on every new connection.
  RedisCredentials credentials;
  // WAIT for this many replicas after every call.
  ReplicaAck replica_ack;
  size_t size = 4;
  absl::Duration connect_timeout = absl::Seconds(1);
  // A reply's time limit (WAIT's timeout comes on top).
  absl::Duration command_timeout = absl::Seconds(2);
  // How long a caller waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Where the pool counts its round trips, the commands they carried and the round trips that
  // waited for a free connection (optional): what each service's work costs Redis, and whether
  // the pool is too small for its callers; read by the benchmarks.
  metrics::Registry* metrics = nullptr;
};

// A fixed set of hiredis connections, made lazily and remade after a failure: a connection that
// broke (I/O error, timeout, or a server that restarted and closed it) is replaced on its next
// use, so the pool recovers by itself once Redis is back.
//
// Every new connection authenticates (AUTH) when credentials are set. With Sentinel, the pool
// asks the sentinels for the primary, checks it with ROLE, and forgets it (dropping every
// connection to it) on a broken connection, a READONLY reply or a ROLE that is not master; the
// call that saw it fails UNAVAILABLE (it is never re-run here: it may have been applied) and the
// next call asks Sentinel again. With a replica acknowledgement, every call that may write
// (anything but known reads, see MayWrite) ends with WAIT on the same connection, and too few
// replicas make the call UNAVAILABLE.
class RedisPool final : public RedisClient {
 public:
  static absl::StatusOr<std::unique_ptr<RedisPool>> Create(const PoolOptions& options);
  ~RedisPool() override;

  absl::StatusOr<Reply> Execute(const Command& command) override;
  absl::StatusOr<std::vector<Reply>> Pipeline(const std::vector<Command>& commands) override;
  absl::Status AwaitReplication() override;

  // PING on one connection; OK when Redis answers.
  absl::Status Ping();
  // Whether this process may use Redis: PERMISSION_DENIED, naming Redis (or the sentinels) and
  // the user, when the credentials are refused; UNAVAILABLE when Redis cannot be reached now.
  absl::Status CheckAccess();

 private:
  struct Slot {
    redisContext* context = nullptr;
    bool in_use = false;
    uint64_t generation = 0;  // of the primary it was connected to
    std::string where;        // "redis at host:port", for messages
  };
  // The primary to connect to and the generation it belongs to.
  struct Target {
    RedisAddress address;
    uint64_t generation = 0;
  };
  class Lease;

  explicit RedisPool(const PoolOptions& options);
  absl::StatusOr<Slot*> Acquire();
  void Release(Slot* slot, bool broken);
  absl::Status EnsureConnected(Slot& slot);
  absl::Status Connect(Slot& slot);
  absl::StatusOr<Target> CurrentTarget();
  // Sentinel only: the primary of `generation` is no longer trusted; connections to it are
  // dropped as they are next used, and the next connection asks Sentinel again.
  void ForgetPrimary(uint64_t generation, const std::string& why);
  // Sentinel only: the primary at `where` (of `generation`) took a write no replica acknowledged
  // or refused one for want of replicas, as a primary cut off from Sentinel and its replicas
  // does while Sentinel promotes another (nothing closes our connections to it then). Asks
  // Sentinel, at most once a second, and forgets the primary when Sentinel names another.
  void RecheckPrimary(uint64_t generation, const std::string& where);
  // The pipeline with the raw statuses (PERMISSION_DENIED kept); Pipeline() turns those into
  // UNAVAILABLE for callers, who retry UNAVAILABLE.
  absl::StatusOr<std::vector<Reply>> Run(const std::vector<Command>& commands);
  bool uses_sentinel() const { return !options_.sentinel.sentinels.empty(); }

  PoolOptions options_;
  std::optional<SentinelResolver> resolver_;
  metrics::Counter* round_trips_ = nullptr;  // options_.metrics's, when given
  metrics::Counter* commands_ = nullptr;
  metrics::Counter* waits_ = nullptr;
  absl::Mutex resolve_mu_;  // one Sentinel query at a time
  absl::Status last_resolve_failure_ ABSL_GUARDED_BY(resolve_mu_);
  absl::Time last_resolve_failure_at_ ABSL_GUARDED_BY(resolve_mu_);
  absl::Time last_recheck_at_ ABSL_GUARDED_BY(resolve_mu_) = absl::InfinitePast();
  absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::optional<HostPort> primary_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace signpost::redis
