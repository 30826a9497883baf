#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/intake/status_projection.h"
#include "signpost/v1/intake_service.pb.h"

namespace signpost::intake {

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
  virtual absl::StatusOr<std::optional<v1::GetReferralResponse>> Get(
      const std::string& referral_id) = 0;
};

}  // namespace signpost::intake
