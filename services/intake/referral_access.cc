#include "services/intake/referral_access.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth/call_authenticator.h"

namespace signpost::intake {

absl::Status CanSubmit(const auth::Principal& caller, const v1::Referral& referral) {
  constexpr absl::string_view kRpc = "IntakeService/SubmitReferral";
  if (absl::Status s = auth::RequireRole(caller, {auth::Role::kReferrer}, kRpc); !s.ok()) return s;
  if (caller.role == auth::Role::kDevelopment || caller.Refers(referral.referrer().ods_code())) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "referrer.ods_code is not one of the organisations this token refers for");
}

absl::Status CanAskAboutReferrals(const auth::Principal& caller, absl::string_view rpc) {
  return auth::RequireRole(caller, {auth::Role::kReferrer}, rpc);
}

absl::Status CanSeeReferral(const auth::Principal& caller, absl::string_view referrer_ods_code,
                            absl::string_view rpc) {
  if (absl::Status s = CanAskAboutReferrals(caller, rpc); !s.ok()) return s;
  if (caller.role == auth::Role::kDevelopment || caller.Refers(referrer_ods_code)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(rpc, ": the referral was not made by an organisation this token refers for"));
}

}  // namespace signpost::intake
