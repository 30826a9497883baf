#pragma once

#include "common/redis/redis_client.h"
#include "services/intake/status_store.h"

namespace signpost::intake {

// The status view in Redis: a hash per referral (state, source, referrer, priority), a list of
// state changes, and the set of event ids applied (for idempotency). No personal data.
class RedisStatusStore final : public StatusStore {
 public:
  explicit RedisStatusStore(redis::RedisClient& redis);

  absl::Status Apply(const std::string& referral_id, const StatusUpdate& update) override;
  absl::Status ApplyMany(const std::vector<std::pair<std::string, StatusUpdate>>& updates) override;
  absl::StatusOr<std::optional<v1::GetReferralResponse>> Get(
      const std::string& referral_id) override;

 private:
  redis::RedisClient& redis_;
};

}  // namespace signpost::intake
