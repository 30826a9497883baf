#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/intake/status_projection.h"
#include "signpost/v1/intake_service.pb.h"

namespace signpost::intake {

// What is left of a referral whose status view has expired: its tombstone.
struct ReleasedStatus {
  std::string referrer_ods_code;  // who may be told (the view's, kept for that)
  absl::Time expired_at;
};

// The status view behind GetReferral: per referral its state and history.
class StatusStore {
 public:
  virtual ~StatusStore() = default;
  // Idempotent by update.change.event_id: an event applied twice changes nothing.
  virtual absl::Status Apply(const std::string& referral_id, const StatusUpdate& update) = 0;
  // Several at once (one round trip where the store allows); the first failure is returned.
  virtual absl::Status ApplyMany(const std::vector<std::pair<std::string, StatusUpdate>>& updates) {
    absl::Status first;
    for (const auto& [id, update] : updates) first.Update(Apply(id, update));
    return first;
  }
  // The view, or none: never held, or expired (then Released says so).
  virtual absl::StatusOr<std::optional<v1::GetReferralResponse>> Get(
      const std::string& referral_id) = 0;
  // The tombstone of a view that has expired; none for a view held or an id never seen. A store
  // that keeps every view for ever has none.
  virtual absl::StatusOr<std::optional<ReleasedStatus>> Released(const std::string& referral_id) {
    (void)referral_id;
    return std::optional<ReleasedStatus>();
  }
};

}  // namespace signpost::intake
