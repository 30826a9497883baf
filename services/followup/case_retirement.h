#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/followup/case_retention.h"
#include "services/followup/redis_keys.h"

namespace signpost::followup {

// Removes ended cases from Redis once their retention has passed (RedisCaseStore puts each in the
// retention set as it ends), and later their tombstones; and says whether a case has been removed.
class CaseRetirement {
 public:
  CaseRetirement(redis::RedisClient& redis, RedisKeys keys, CaseRetention retention);

  // Removes each ended case due by the clock with its tasks, and forgets each tombstone due, at
  // most `batch` of them (retire_cases.lua); returns how many were handled (fewer than `batch`:
  // none is left due).
  absl::StatusOr<int64_t> RetireDue(int batch);

  // For what was written before ended cases left Redis, a step of one pass over the keyspace from
  // `cursor` (SCAN's, "0" at first; `tasks` says which half of the pass): each ended case gets its
  // retention from its last change, and each task is named in its case. Answers whether the pass
  // is over (then nothing older is left unindexed).
  absl::StatusOr<bool> IndexOlderCases(std::string& cursor, bool& tasks, int batch);

  // When the case of `referral_id` left Redis, if it has and its tombstone is kept; none for a
  // case held, or an id never seen (or long forgotten).
  absl::StatusOr<std::optional<absl::Time>> RemovedAt(const std::string& referral_id);

  // What a caller is told of a removed case (FAILED_PRECONDITION: the id is right, and asking
  // again will not bring it back).
  absl::Status NoLongerHeld(const std::string& referral_id, absl::Time removed_at) const;

 private:
  redis::RedisClient& redis_;
  RedisKeys keys_;
  CaseRetention retention_;
  redis::LuaScript retire_;
  redis::LuaScript index_older_;
};

}  // namespace signpost::followup
