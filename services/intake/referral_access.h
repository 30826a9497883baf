#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// The one place that says who may do what at intake: referrers, for the organisations their token
// names; nobody else (link workers and coordinators see cases at follow-up, operations staff see
// aggregates at the monitor).

// SubmitReferral: PERMISSION_DENIED unless the referral's referrer.ods_code is one of the
// caller's organisations.
absl::Status CanSubmit(const auth::Principal& caller, const v1::Referral& referral);

// GetReferral and WithdrawReferral: PERMISSION_DENIED unless the referral was made by one of the
// caller's organisations. The message says neither whose it is nor what it holds.
absl::Status CanSeeReferral(const auth::Principal& caller, absl::string_view referrer_ods_code,
                            absl::string_view rpc);

// Before the referral is looked up: only referrers ask at all.
absl::Status CanAskAboutReferrals(const auth::Principal& caller, absl::string_view rpc);

}  // namespace signpost::intake
