#pragma once

#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/followup/case_retention.h"
#include "services/followup/case_store.h"
#include "services/followup/redis_keys.h"

namespace signpost::followup {

// Cases in Redis (persistent with AOF). A commit is one Lua script (commit_case.lua): version
// check, case, tasks with their queues' open sets and feeds, timers, and the events into the
// outbox, so a change is never half-made and an event is never lost between Redis and the broker.
class RedisCaseStore final : public CaseStore {
 public:
  // An ended case is put in the retention set, to leave Redis `retention.closed` after its last
  // change (CaseRetirement removes it).
  RedisCaseStore(redis::RedisClient& redis, RedisKeys keys, std::string topic_prefix,
                 int feed_max_length = 10000, CaseRetention retention = {});

  absl::StatusOr<std::optional<LoadedCase>> Load(const std::string& referral_id) override;
  absl::Status Commit(const CaseChange& change) override;
  // A case removed after it ended exists still while its tombstone is kept.
  absl::StatusOr<std::vector<bool>> Exist(const std::vector<std::string>& referral_ids) override;
  std::vector<absl::Status> CommitMany(const std::vector<CaseChange>& changes) override;
  absl::StatusOr<std::optional<v1::Task>> GetTask(const std::string& task_id) override;
  absl::StatusOr<QueueSnapshot> Snapshot(const std::string& queue) override;
  absl::StatusOr<std::vector<v1::FollowUpTimer>> ClaimDueTimers(absl::Time now,
                                                                absl::Duration lease,
                                                                int limit) override;
  absl::Status DropTimer(const std::string& timer_id) override;
  absl::Status AwaitReplicated() override { return redis_.AwaitReplication(); }

 private:
  redis::LuaScript::Call CommitCall(const CaseChange& change) const;

  redis::RedisClient& redis_;
  RedisKeys keys_;
  std::string topic_prefix_;
  int feed_max_length_;
  CaseRetention retention_;
  redis::LuaScript commit_;
  redis::LuaScript snapshot_;
  redis::LuaScript claim_;
};

}  // namespace signpost::followup
