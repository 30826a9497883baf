#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/auth/principal.h"

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
// caller's case as matching assigned it (`assigned_worker`: the worker id, "" for the team queue,
// nullopt when not assigned): a link worker's own, or a team-queue case for a coordinator. So no
// token takes places for referrals that are not its own.
absl::Status CanReserveFor(const auth::Principal& caller,
                           const std::optional<std::string>& assigned_worker);

}  // namespace signpost::matching
