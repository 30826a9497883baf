#include "common/redis/redis_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signpost::redis {
namespace {

// Attempts to connect to the primary within one call: a sentinel's stale answer (the old
// primary, down or demoted) makes the pool ask again.
constexpr int kConnectAttempts = 3;
// How long a failed Sentinel query's answer stands for the callers that waited on it.
constexpr absl::Duration kShareFailureFor = absl::Milliseconds(250);
// How often a primary short of replicas makes the pool ask Sentinel whether it is still the one.
constexpr absl::Duration kRecheckEvery = absl::Seconds(1);

// True when the server has closed the connection (or sent something unasked), which happens
// when redis-server restarts while the connection sits idle in the pool.
bool PeerClosed(const redisContext& context) {
  char byte;
  ssize_t n = recv(context.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n > 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

// A write refused by a replica: the server we took for the primary has been demoted. Redis 7
// gives a script's refused write the same prefix ("READONLY ... script: <sha>").
bool IsReadOnlyReply(const Reply& reply) {
  return reply.type == Reply::Type::kError && absl::StartsWith(reply.str, "READONLY");
}

// A write refused for want of replicas (min-replicas-to-write); a script's refused write has
// the same prefix.
bool IsNoReplicasReply(const Reply& reply) {
  return reply.type == Reply::Type::kError && absl::StartsWith(reply.str, "NOREPLICAS");
}

bool IsMasterRole(const Reply& role) {
  return role.type == Reply::Type::kArray && !role.elements.empty() &&
         role.elements[0].str == "master";
}

RedisAddress TcpAddress(const HostPort& host_port) {
  RedisAddress address;
  address.tcp = host_port;
  return address;
}

// How a connection's `where` names the primary at `primary`.
std::string Where(const HostPort& primary) {
  return absl::StrCat("redis at ", TcpAddress(primary).ToString());
}

}  // namespace

// Returns the slot to the pool when the caller is done with it.
class RedisPool::Lease {
 public:
  Lease(RedisPool& pool, Slot* slot) : pool_(pool), slot_(slot) {}
  ~Lease() { pool_.Release(slot_, broken_); }
  redisContext* context() { return slot_->context; }
  void MarkBroken() { broken_ = true; }

 private:
  RedisPool& pool_;
  Slot* slot_;
  bool broken_ = false;
};

absl::StatusOr<std::unique_ptr<RedisPool>> RedisPool::Create(const PoolOptions& options) {
  if (options.size == 0) return absl::InvalidArgumentError("redis pool size must be at least 1");
  if (options.replica_ack.replicas < 0) {
    return absl::InvalidArgumentError("redis replica acknowledgements must be 0 or more");
  }
  return std::unique_ptr<RedisPool>(new RedisPool(options));
}

RedisPool::RedisPool(const PoolOptions& options) : options_(options), slots_(options.size) {
  if (uses_sentinel()) resolver_.emplace(options_.sentinel);
  if (options_.metrics) {
    round_trips_ = &options_.metrics->GetCounter("signpost_redis_round_trips_total",
                                                 "Round trips to Redis (a pipeline is one)");
    commands_ = &options_.metrics->GetCounter(
        "signpost_redis_commands_total",
        "Commands sent to Redis (a script is one; WAIT for replicas included)");
    waits_ = &options_.metrics->GetCounter(
        "signpost_redis_pool_waits_total",
        "Round trips that waited for a connection, every one of the pool's being in use");
  }
}

RedisPool::~RedisPool() {
  absl::MutexLock lock(&mu_);
  for (auto& slot : slots_) {
    if (slot.context) redisFree(slot.context);
  }
}

absl::StatusOr<RedisPool::Slot*> RedisPool::Acquire() {
  absl::MutexLock lock(&mu_);
  auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& slot : slots_) {
      if (!slot.in_use) return true;
    }
    return false;
  };
  if (waits_ && !has_free()) waits_->Increment();
  if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.acquire_timeout)) {
    return absl::UnavailableError(absl::StrCat("redis pool: all ", slots_.size(),
                                               " connections busy for ",
                                               absl::FormatDuration(options_.acquire_timeout)));
  }
  // Prefer a slot with a live connection.
  Slot* chosen = nullptr;
  for (auto& slot : slots_) {
    if (slot.in_use) continue;
    if (!chosen || (slot.context && !chosen->context)) chosen = &slot;
  }
  chosen->in_use = true;
  return chosen;
}

void RedisPool::Release(Slot* slot, bool broken) {
  absl::MutexLock lock(&mu_);
  if (broken && slot->context) {
    redisFree(slot->context);
    slot->context = nullptr;
  }
  slot->in_use = false;
}

absl::StatusOr<RedisPool::Target> RedisPool::CurrentTarget() {
  if (!uses_sentinel()) return Target{options_.address, 0};
  absl::MutexLock resolving(&resolve_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (primary_) return Target{TcpAddress(*primary_), generation_};
  }
  // Callers that queued behind a query that just failed share its answer rather than each
  // asking every (perhaps unreachable) sentinel again in turn.
  if (!last_resolve_failure_.ok() && absl::Now() - last_resolve_failure_at_ < kShareFailureFor) {
    return last_resolve_failure_;
  }
  auto primary = resolver_->Primary();
  if (!primary.ok()) {
    last_resolve_failure_ = primary.status();
    last_resolve_failure_at_ = absl::Now();
    return primary.status();
  }
  last_resolve_failure_ = absl::OkStatus();
  absl::MutexLock lock(&mu_);
  spdlog::info("redis: Sentinel names {} as the primary of '{}'", primary->ToString(),
               options_.sentinel.master_name);
  primary_ = *primary;
  return Target{TcpAddress(*primary_), generation_};
}

void RedisPool::ForgetPrimary(uint64_t generation, const std::string& why) {
  if (!uses_sentinel()) return;
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;  // already forgotten
  spdlog::warn("redis: primary {} no longer trusted ({}); asking Sentinel again",
               primary_ ? primary_->ToString() : std::string("(unknown)"), why);
  primary_.reset();
  ++generation_;
}

void RedisPool::RecheckPrimary(uint64_t generation, const std::string& where) {
  if (!uses_sentinel()) return;
  absl::MutexLock resolving(&resolve_mu_);
  if (absl::Now() - last_recheck_at_ < kRecheckEvery) return;
  last_recheck_at_ = absl::Now();
  auto named = resolver_->Primary();
  if (!named.ok() || Where(*named) == where) return;
  ForgetPrimary(generation,
                absl::StrCat("short of replicas, and Sentinel now names ", named->ToString()));
}

absl::Status RedisPool::EnsureConnected(Slot& slot) {
  if (slot.context) {
    bool stale;
    {
      absl::MutexLock lock(&mu_);
      stale = slot.generation != generation_;
    }
    const bool closed = !stale && (slot.context->err || PeerClosed(*slot.context));
    // A primary that closed our idle connection may have died or been demoted: ask again.
    if (closed) ForgetPrimary(slot.generation, absl::StrCat(slot.where, " closed a connection"));
    if (stale || closed) {
      redisFree(slot.context);
      slot.context = nullptr;
    }
  }
  if (slot.context) return absl::OkStatus();
  return Connect(slot);
}

absl::Status RedisPool::Connect(Slot& slot) {
  ConnectOptions connect;
  connect.connect_timeout = options_.connect_timeout;
  connect.command_timeout = options_.command_timeout;
  if (options_.replica_ack.required()) connect.command_timeout += options_.replica_ack.timeout;
  connect.credentials = options_.credentials;
  absl::Status last;
  for (int attempt = 0; attempt < kConnectAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(100 * attempt));
    auto target = CurrentTarget();
    if (!target.ok()) return target.status();
    const std::string where = absl::StrCat("redis at ", target->address.ToString());
    auto context = OpenConnection(target->address, connect);
    if (!context.ok()) {
      // Nothing was sent: asking Sentinel again and retrying is safe.
      if (!uses_sentinel() || context.status().code() == absl::StatusCode::kPermissionDenied) {
        return context.status();
      }
      ForgetPrimary(target->generation, std::string(context.status().message()));
      last = context.status();
      continue;
    }
    if (uses_sentinel()) {
      auto role = RoundTrip(**context, {{"ROLE"}}, where);
      if (!role.ok()) {
        ForgetPrimary(target->generation, std::string(role.status().message()));
        last = role.status();
        continue;
      }
      const Reply& reply = role->front();
      if (absl::Status refused = AuthenticationRefusal(reply, where, options_.credentials);
          !refused.ok()) {
        return refused;
      }
      // An ACL that does not let the user run ROLE: a setting to change, not an outage to wait
      // out (each Sentinel answer would be refused in turn, for ever).
      if (reply.type == Reply::Type::kError && absl::StartsWith(reply.str, "NOPERM")) {
        return absl::PermissionDeniedError(absl::StrCat(where, ": user '",
                                                        options_.credentials.user(),
                                                        "' may not run ROLE, which checks the "
                                                        "primary Sentinel names: ",
                                                        reply.str));
      }
      if (!IsMasterRole(reply)) {
        const std::string role_name = reply.elements.empty() ? reply.str : reply.elements[0].str;
        ForgetPrimary(target->generation, absl::StrCat("ROLE says ", role_name));
        last = absl::UnavailableError(
            absl::StrCat(where, ": named by Sentinel but not the primary (ROLE ", role_name, ")"));
        continue;
      }
    }
    slot.context = context->release();
    slot.generation = target->generation;
    slot.where = where;
    return absl::OkStatus();
  }
  return last;
}

absl::StatusOr<std::vector<Reply>> RedisPool::Run(const std::vector<Command>& commands) {
  auto slot = Acquire();
  if (!slot.ok()) return slot.status();
  Lease lease(*this, *slot);
  if (absl::Status s = EnsureConnected(**slot); !s.ok()) return s;
  const Slot& connected = **slot;
  const ReplicaAck& ack = options_.replica_ack;
  const bool wait_for_replicas =
      ack.required() && std::any_of(commands.begin(), commands.end(), MayWrite);
  const Command wait = wait_for_replicas ? WaitCommand(ack) : Command{};
  if (round_trips_) {
    round_trips_->Increment();
    commands_->Increment(static_cast<double>(commands.size() + (wait_for_replicas ? 1 : 0)));
  }
  auto replies =
      RoundTrip(*lease.context(), commands, connected.where, wait_for_replicas ? &wait : nullptr);
  if (!replies.ok()) {
    lease.MarkBroken();
    ForgetPrimary(connected.generation, std::string(replies.status().message()));
    return replies.status();
  }
  for (const Reply& reply : *replies) {
    if (absl::Status refused = AuthenticationRefusal(reply, connected.where, options_.credentials);
        !refused.ok()) {
      lease.MarkBroken();
      return refused;
    }
    if (IsReadOnlyReply(reply)) {
      // Not applied; the caller retries, by then on the primary Sentinel names.
      lease.MarkBroken();
      ForgetPrimary(connected.generation, reply.str);
      return absl::UnavailableError(
          absl::StrCat(connected.where, ": no longer the primary (", reply.str, ")",
                       uses_sentinel() ? "; asking Sentinel for the new one" : ""));
    }
    if (IsNoReplicasReply(reply)) RecheckPrimary(connected.generation, connected.where);
  }
  if (wait_for_replicas) {
    const Reply wait_reply = std::move(replies->back());
    replies->pop_back();
    if (wait_reply.type == Reply::Type::kError) {
      lease.MarkBroken();
      ForgetPrimary(connected.generation, wait_reply.str);
    }
    if (absl::Status s = ReplicaAckStatus(wait_reply, ack, connected.where); !s.ok()) {
      RecheckPrimary(connected.generation, connected.where);
      return s;
    }
  }
  return replies;
}

absl::StatusOr<std::vector<Reply>> RedisPool::Pipeline(const std::vector<Command>& commands) {
  auto replies = Run(commands);
  // Refused credentials are a start-up error (CheckAccess); a call meeting them later (Redis
  // reconfigured under us) is an outage to retry, not a verdict on the caller's request.
  if (replies.status().code() == absl::StatusCode::kPermissionDenied) {
    return absl::UnavailableError(replies.status().message());
  }
  return replies;
}

absl::StatusOr<Reply> RedisPool::Execute(const Command& command) {
  auto replies = Pipeline({command});
  if (!replies.ok()) return replies.status();
  Reply& reply = replies->front();
  if (reply.type == Reply::Type::kError) return ErrorReplyStatus(reply.str);
  return std::move(reply);
}

absl::Status RedisPool::AwaitReplication() {
  if (!options_.replica_ack.required()) return absl::OkStatus();
  // PUBLISH is replicated, so the WAIT after it covers every write the primary took before it,
  // whichever connection made it (a WAIT after reads alone covers them only while Redis counts
  // from the primary's offset, as 7.0 does). Nobody listens on the channel. A user refused the
  // channel (an ACL without it) gets an error for the PUBLISH alone: the WAIT still answers.
  auto replies = Pipeline({{"PUBLISH", "signpost:replication-barrier", ""}});
  return replies.status();
}

absl::Status RedisPool::Ping() {
  auto reply = Execute({"PING"});
  if (!reply.ok()) return reply.status();
  return absl::OkStatus();
}

absl::Status RedisPool::CheckAccess() { return Run({{"PING"}}).status(); }

}  // namespace signpost::redis
