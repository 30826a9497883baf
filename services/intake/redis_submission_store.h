#pragma once

#include "absl/time/time.h"
#include "common/redis/lua_script.h"
#include "common/redis/redis_client.h"
#include "services/intake/submission_store.h"

namespace signpost::intake {

// Submissions in Redis: one hash per key (fingerprint, referral id, state, owner, lease, and the
// received event from its recording until it is published), kept for `retention` so a
// resubmission months later is still recognised.
class RedisSubmissionStore final : public SubmissionStore {
 public:
  RedisSubmissionStore(redis::RedisClient& redis, absl::Duration retention);

  absl::StatusOr<Claim> TryClaim(const SubmissionKey& key, const Fingerprint& fingerprint,
                                 const Proposal& proposal, const std::string& owner, absl::Time now,
                                 absl::Duration lease) override;
  // One pipeline: the claim script once per request.
  std::vector<absl::StatusOr<Claim>> TryClaimMany(const std::vector<ClaimRequest>& requests,
                                                  absl::Time now, absl::Duration lease) override;
  absl::StatusOr<std::optional<std::string>> RecordEvent(const SubmissionKey& key,
                                                         const std::string& referral_id,
                                                         std::string event) override;
  absl::Status MarkPublished(const SubmissionKey& key, const std::string& owner) override;
  absl::Status MarkPublishedMany(
      const std::vector<std::pair<SubmissionKey, std::string>>& keys_and_owners) override;
  absl::Status Release(const SubmissionKey& key, const std::string& owner) override;
  absl::StatusOr<std::optional<std::string>> FindReferralId(const SubmissionKey& key) override;

  static std::string RedisKey(const SubmissionKey& key);

 private:
  redis::RedisClient& redis_;
  absl::Duration retention_;
};

}  // namespace signpost::intake
