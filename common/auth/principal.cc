#include "common/auth/principal.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {

bool Principal::Refers(absl::string_view ods_code) const {
  return std::any_of(organisations.begin(), organisations.end(),
                     [&](const std::string& own) { return absl::EqualsIgnoreCase(own, ods_code); });
}

Principal QueueOwner(const std::string& queue, const std::string& worker_network,
                     const std::string& coordinator) {
  if (absl::StartsWith(queue, "team:")) {
    return {Role::kCoordinator, coordinator, {}, queue.substr(5)};
  }
  return {Role::kLinkWorker, queue, {}, worker_network};
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

absl::Status RequireRole(const Principal& caller, std::initializer_list<Role> roles,
                         absl::string_view rpc) {
  if (caller.role == Role::kDevelopment) return absl::OkStatus();
  for (Role role : roles) {
    if (caller.role == role) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the ", RoleName(caller.role), " role may not call ", rpc));
}

}  // namespace signpost::auth
