#include "common/auth/principal.h"
#include "absl/strings/string_view.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signpost::auth {

bool Principal::Refers(absl::string_view ods_code) const {
  return std::any_of(organisations.begin(), organisations.end(),
                     [&](const std::string& own) { return absl::EqualsIgnoreCase(own, ods_code); });
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kDevelopment:
      return "development";
    case Role::kReferrer:
      return "referrer";
    case Role::kLinkWorker:
      return "link_worker";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kDirectoryAdmin:
      return "directory_admin";
    case Role::kOps:
      return "ops";
  }
  return "unknown";
}

absl::StatusOr<Role> RoleFromName(absl::string_view name) {
  for (Role role : {Role::kReferrer, Role::kLinkWorker, Role::kCoordinator, Role::kDirectoryAdmin,
                    Role::kOps}) {
    if (name == RoleName(role)) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "role '", name, "' is not one of referrer, link_worker, coordinator, directory_admin, ops"));
}

}  // namespace signpost::auth
