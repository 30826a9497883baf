#include "services/matching/directory_access.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"

namespace signpost::matching {
namespace {

absl::string_view NameOf(DirectoryRpc rpc) {
  switch (rpc) {
    case DirectoryRpc::kUpsertResource:
      return "DirectoryService/UpsertResource";
    case DirectoryRpc::kRemoveResource:
      return "DirectoryService/RemoveResource";
    case DirectoryRpc::kGetResource:
      return "DirectoryService/GetResource";
    case DirectoryRpc::kSearchResources:
      return "DirectoryService/SearchResources";
    case DirectoryRpc::kUpdateCapacity:
      return "DirectoryService/UpdateCapacity";
    case DirectoryRpc::kReservePlace:
      return "DirectoryService/ReservePlace";
    case DirectoryRpc::kImportOpenReferral:
      return "DirectoryService/ImportOpenReferral";
    case DirectoryRpc::kImportOpenReferralStream:
      return "DirectoryService/ImportOpenReferralStream";
    case DirectoryRpc::kUpsertLinkWorker:
      return "DirectoryService/UpsertLinkWorker";
    case DirectoryRpc::kUpsertNetwork:
      return "DirectoryService/UpsertNetwork";
  }
  return "DirectoryService";
}

}  // namespace

absl::Status CanCallDirectory(const auth::Principal& caller, DirectoryRpc rpc) {
  using auth::Role;
  switch (rpc) {
    case DirectoryRpc::kGetResource:
    case DirectoryRpc::kSearchResources:
      return auth::RequireRole(caller,
                               {Role::kReferrer, Role::kLinkWorker, Role::kCoordinator,
                                Role::kDirectoryAdmin, Role::kOps},
                               NameOf(rpc));
    case DirectoryRpc::kReservePlace:
      return auth::RequireRole(caller, {Role::kLinkWorker, Role::kCoordinator}, NameOf(rpc));
    default:
      // Every write, capacity included: providers' places change by the day, and the admin (or
      // a provider's integration with that role) keeps them true.
      return auth::RequireRole(caller, {Role::kDirectoryAdmin}, NameOf(rpc));
  }
}

absl::Status CanReserveFor(const auth::Principal& caller,
                           const std::optional<std::string>& assigned_worker,
                           const v1::ReferralMatched* matched, const std::string& resource_id) {
  if (caller.role == auth::Role::kDevelopment) return absl::OkStatus();
  const absl::Status not_theirs = absl::PermissionDeniedError(
      "DirectoryService/ReservePlace: the referral is not a case of this caller");
  if (!assigned_worker.has_value() || matched == nullptr) return not_theirs;
  switch (caller.role) {
    case auth::Role::kLinkWorker:
      if (*assigned_worker != caller.subject) return not_theirs;
      break;
    case auth::Role::kCoordinator:
      if (!assigned_worker->empty() || matched->network_id() != caller.network) return not_theirs;
      break;
    default:
      return not_theirs;
  }
  for (const auto& need : matched->needs()) {
    for (const auto& option : need.options()) {
      if (option.resource_id() == resource_id) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("DirectoryService/ReservePlace: resource '", resource_id,
                   "' is not one of the options matching offered this referral"));
}

}  // namespace signpost::matching
