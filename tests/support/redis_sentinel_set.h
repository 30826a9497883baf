#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/redis_server.h"

namespace signpost::testing {

struct RedisSentinelSetOptions {
  std::string master_name = "signpost";
  // The data servers' clients (and the replica and the sentinels towards them) authenticate
  // as `username` (an ACL user) or, without one, with `password` alone; empty: no AUTH.
  std::string username;
  std::string password;
  // When set, the sentinels themselves require this password (--redis-sentinel-password-file).
  std::string sentinel_password;
  int down_after_ms = 1000;
  int failover_timeout_ms = 3000;
  bool append_only = true;
};

// Redis as production runs it, on loopback free ports: a primary, a replica of it and three
// Sentinels (`redis-server --sentinel`) watching it with quorum 2. Start() returns once the
// replica is in sync and every sentinel knows the replica and the two other sentinels, so that a
// failover can happen. Everything is stopped on destruction.
class RedisSentinelSet {
 public:
  explicit RedisSentinelSet(RedisSentinelSetOptions options = {});
  ~RedisSentinelSet();
  RedisSentinelSet(const RedisSentinelSet&) = delete;
  RedisSentinelSet& operator=(const RedisSentinelSet&) = delete;

  absl::Status Start();

  // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3": the value of --redis-sentinels.
  std::string sentinels() const;
  const std::string& master_name() const { return options_.master_name; }
  const RedisSentinelSetOptions& options() const { return options_; }

  // The primary's "host:port" as the sentinels answer now (the first that answers).
  absl::StatusOr<std::string> PrimaryAddress() const;
  // The server that is the primary by the sentinels' answer, or the replica when the answer
  // names neither (null only when no sentinel answers).
  RedisServer* Primary();
  RedisServer* Replica();  // the other data server

  // SIGKILL of the current primary's process (kill -9); returns its address.
  absl::StatusOr<std::string> KillPrimary();
  // Waits until the sentinels name a primary other than `old_primary` and that server says
  // ROLE master; returns the new primary's address.
  absl::StatusOr<std::string> WaitForFailover(const std::string& old_primary,
                                              absl::Duration timeout = absl::Seconds(60));
  // Waits until the primary reports `replicas` replicas online.
  absl::Status WaitForReplicas(int replicas, absl::Duration timeout = absl::Seconds(30));

  RedisServer& server(int i) { return *servers_[i]; }      // the two data servers
  RedisServer& sentinel(int i) { return *sentinels_[i]; }  // the three sentinels

 private:
  RedisServer* ServerAt(const std::string& address);
  absl::Status WaitForSentinelsToKnowEachOther(absl::Duration timeout);

  RedisSentinelSetOptions options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

}  // namespace signpost::testing
