#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/auth/principal.h"
#include "signpost/v1/events.pb.h"

namespace signpost::matching {

enum class DirectoryRpc {
  kUpsertResource,
  kRemoveResource,
  kGetResource,
  kSearchResources,
  kUpdateCapacity,
  kReservePlace,
  kImportOpenReferral,
  kImportOpenReferralStream,
  kUpsertLinkWorker,
  kUpsertNetwork,
};

// The one place that says who may call what on the directory: directory admins write it; anyone
// with a token reads it (it holds services, not people); places are taken for a referral by the
// link worker or coordinator recording the connection (follow-up passes their token on).
absl::Status CanCallDirectory(const auth::Principal& caller, DirectoryRpc rpc);

// ReservePlace, once the caller may call it: PERMISSION_DENIED unless the referral is the
// caller's case as matching assigned it and the resource is one of the options matching offered
// it. `assigned_worker`: whom the referral is assigned to now (a worker id, "" for a team queue,
// nullopt when not assigned); `matched`: the referral's match as matching recorded it (null when
// it holds none). A link worker takes places for their own referral, a coordinator for a referral
// on their own network's team queue; so no token takes places for referrals that are not its own,
// nor at resources the case was not offered. A development caller (no authentication) may do
// anything.
absl::Status CanReserveFor(const auth::Principal& caller,
                           const std::optional<std::string>& assigned_worker,
                           const v1::ReferralMatched* matched, const std::string& resource_id);

}  // namespace signpost::matching
