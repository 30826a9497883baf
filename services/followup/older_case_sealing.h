#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/followup/case_details_seal.h"
#include "services/followup/redis_keys.h"

namespace signpost::followup {

// Cases written before follow-up sealed the person's details at rest hold them in clear until
// something acts on them (SealingCaseStore seals a case as it commits it), and a case nobody acts
// on would keep them so for as long as it is held. One pass over the cases per start seals each
// such case in place, at the version it has (seal_older_case.lua), so Redis, its replicas and its
// next snapshot or AOF rewrite hold none of them.
class OlderCaseSealing {
 public:
  OlderCaseSealing(redis::RedisClient& redis, RedisKeys keys, const CaseDetailsSeal& seal);

  // A step of the pass from `cursor` (SCAN's, "0" at first): every case of the step with identity
  // or referral notes in clear is sealed, unless it changed meanwhile (its new record is sealed
  // already, or purged). Answers whether the pass is over.
  absl::StatusOr<bool> SealStep(std::string& cursor, int batch);

  // Cases sealed by this instance's passes so far.
  int64_t sealed() const { return sealed_; }

 private:
  redis::RedisClient& redis_;
  RedisKeys keys_;
  const CaseDetailsSeal& seal_;
  redis::LuaScript seal_older_;
  int64_t sealed_ = 0;
};

}  // namespace signpost::followup
