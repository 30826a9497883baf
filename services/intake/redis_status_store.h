#pragma once

#include "common/redis/redis_client.h"
#include "services/intake/status_retention.h"
#include "services/intake/status_store.h"

namespace signpost::intake {

// The status view in Redis: a hash per referral (state, source, referrer, priority), a list of
// state changes, and the set of event ids applied (for idempotency). No personal data. A view in a
// final state (closed, withdrawn, rejected) expires `retention.status` after the change that made
// it final (ExpireDue removes it, leaving a tombstone); a view of a referral still open never does.
class RedisStatusStore final : public StatusStore {
 public:
  explicit RedisStatusStore(redis::RedisClient& redis, StatusRetention retention = {});

  absl::Status Apply(const std::string& referral_id, const StatusUpdate& update) override;
  absl::Status ApplyMany(const std::vector<std::pair<std::string, StatusUpdate>>& updates) override;
  absl::StatusOr<std::optional<v1::GetReferralResponse>> Get(
      const std::string& referral_id) override;
  absl::StatusOr<std::optional<ReleasedStatus>> Released(const std::string& referral_id) override;

  // Replaces each view due by the clock with its tombstone, and forgets each tombstone due, at
  // most `batch` of them; returns how many were handled (fewer than `batch`: none is left due).
  absl::StatusOr<int64_t> ExpireDue(int batch);

  // Views written before they expired have no entry in the expiry index: gives each final one its
  // expiry (its last change plus the retention), and takes out of the index each one not final
  // (the former rule indexed every view), from where `cursor` (SCAN's, "0" at first) says; answers
  // whether the whole keyspace has been looked at (then nothing is left unindexed).
  absl::StatusOr<bool> IndexOlderViews(std::string& cursor, int batch);

 private:
  int64_t NowMs() const;

  redis::RedisClient& redis_;
  StatusRetention retention_;
};

}  // namespace signpost::intake
