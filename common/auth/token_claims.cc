#include "common/auth/token_claims.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace signpost::auth {

absl::Status CheckScope(const Principal& principal) {
  if (principal.subject.empty()) return absl::InvalidArgumentError("no subject (sub)");
  switch (principal.role) {
    case Role::kReferrer:
      if (principal.organisations.empty()) {
        return absl::InvalidArgumentError("a referrer names the ODS codes it refers for (ods)");
      }
      for (const auto& code : principal.organisations) {
        if (code.empty()) return absl::InvalidArgumentError("an empty ODS code (ods)");
      }
      break;
    case Role::kLinkWorker:
    case Role::kCoordinator:
      if (principal.network.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("a ", RoleName(principal.role), " names their network (network)"));
      }
      break;
    case Role::kNone:
    case Role::kDevelopment:
      return absl::InvalidArgumentError(
          absl::StrCat("no token carries the ", RoleName(principal.role), " role"));
    case Role::kDirectoryAdmin:
    case Role::kOps:
      break;
  }
  return absl::OkStatus();
}

}  // namespace signpost::auth
