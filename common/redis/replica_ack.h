#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"

namespace signpost::redis {

// How many replicas must hold a call's writes before the call succeeds (Redis's WAIT), and how
// long to wait for them. 0 replicas: no WAIT (one Redis without replicas).
struct ReplicaAck {
  int replicas = 0;
  absl::Duration timeout = absl::Seconds(1);

  bool required() const { return replicas > 0; }
};

// False for the commands known only to read (GET, HGETALL, ZRANGE, XRANGE, PING, EVALSHA_RO,
// ...); true for every other command, scripts included. A call of reads alone needs no WAIT:
// Redis 7.0 would still make it wait for the replicas to catch up with the primary's writes
// (the full timeout while a replica is down), so reads and readiness would fail with the
// replica although they change nothing.
bool MayWrite(const Command& command);

// The WAIT sent after a call's commands, on the same connection.
Command WaitCommand(const ReplicaAck& ack);

// What WAIT's reply means for the call: OK when at least the required replicas acknowledged;
// UNAVAILABLE when fewer did ("written on the primary but acknowledged by only k of N replicas
// within T ms": the caller may retry, and must not tell anyone the change is safe) or WAIT was
// refused (a replica answering: the primary was demoted).
absl::Status ReplicaAckStatus(const Reply& wait_reply, const ReplicaAck& ack,
                              const std::string& where);

}  // namespace signpost::redis
