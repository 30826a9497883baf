#include "services/matching/directory_access.h"

#include "common/auth/call_authenticator.h"

namespace signpost::matching {

absl::Status CanCallDirectory(const auth::Principal& caller, DirectoryRpc rpc) {
  using auth::Role;
  switch (rpc) {
    case DirectoryRpc::kGetResource:
      return auth::RequireRole(caller,
                               {Role::kReferrer, Role::kLinkWorker, Role::kCoordinator,
                                Role::kDirectoryAdmin, Role::kOps},
                               "DirectoryService/GetResource");
    case DirectoryRpc::kSearchResources:
      return auth::RequireRole(caller,
                               {Role::kReferrer, Role::kLinkWorker, Role::kCoordinator,
                                Role::kDirectoryAdmin, Role::kOps},
                               "DirectoryService/SearchResources");
    case DirectoryRpc::kReservePlace:
      return auth::RequireRole(caller, {Role::kLinkWorker, Role::kCoordinator},
                               "DirectoryService/ReservePlace");
    case DirectoryRpc::kUpsertResource:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin}, "DirectoryService/UpsertResource");
    case DirectoryRpc::kRemoveResource:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin}, "DirectoryService/RemoveResource");
    case DirectoryRpc::kUpdateCapacity:
      // Providers' places change by the day; the admin (or a provider's integration with that
      // role) keeps them true.
      return auth::RequireRole(caller, {Role::kDirectoryAdmin}, "DirectoryService/UpdateCapacity");
    case DirectoryRpc::kImportOpenReferral:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin},
                               "DirectoryService/ImportOpenReferral");
    case DirectoryRpc::kImportOpenReferralStream:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin},
                               "DirectoryService/ImportOpenReferralStream");
    case DirectoryRpc::kUpsertLinkWorker:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin},
                               "DirectoryService/UpsertLinkWorker");
    case DirectoryRpc::kUpsertNetwork:
      return auth::RequireRole(caller, {Role::kDirectoryAdmin}, "DirectoryService/UpsertNetwork");
  }
  return absl::PermissionDeniedError("unknown DirectoryService call");
}

absl::Status CanReserveFor(const auth::Principal& caller,
                           const std::optional<std::string>& assigned_worker) {
  switch (caller.role) {
    case auth::Role::kDevelopment:
      return absl::OkStatus();
    case auth::Role::kLinkWorker:
      if (assigned_worker.has_value() && *assigned_worker == caller.subject) {
        return absl::OkStatus();
      }
      break;
    case auth::Role::kCoordinator:
      if (assigned_worker.has_value() && assigned_worker->empty()) return absl::OkStatus();
      break;
    default:
      break;
  }
  return absl::PermissionDeniedError(
      "DirectoryService/ReservePlace: the referral is not a case of this caller");
}

}  // namespace signpost::matching
