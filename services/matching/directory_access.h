#pragma once

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

}  // namespace signpost::matching
