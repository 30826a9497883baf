#include "services/intake/message_cancellation.h"

#include "absl/strings/str_cat.h"
#include "services/intake/status_projection.h"

namespace signpost::intake {

absl::StatusOr<MessageOutcome> CancelReferral(Submitter& submitter, const RequestMessage& message,
                                              const Submitter::MaySee& may_see,
                                              const std::string& withdrawn_by) {
  v1::GetReferralRequest get;
  if (!message.referral_id.empty()) {
    get.set_referral_id(message.referral_id);
  } else if (!message.source_name.empty() && !message.source_referral_id.empty()) {
    get.mutable_source()->set_source_system(message.source_name);
    get.mutable_source()->set_source_referral_id(message.source_referral_id);
  } else {
    get.set_referral_id(message.service_request_id);
  }
  auto current = submitter.GetStatus(get, may_see);
  if (!current.ok()) return current.status();
  if (IsTerminal(current->state())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "referral ", current->referral_id(), " is ", v1::ReferralState_Name(current->state()),
        ", no longer active: only an active referral can be cancelled"));
  }
  v1::WithdrawReferralRequest withdraw;
  withdraw.set_referral_id(current->referral_id());
  withdraw.set_reason(message.withdrawal_reason);
  withdraw.set_detail(message.withdrawal_detail);
  withdraw.set_withdrawn_by(withdrawn_by);
  auto withdrawn = submitter.Withdraw(withdraw);
  if (!withdrawn.ok()) return withdrawn.status();
  return MessageOutcome{.referral_id = current->referral_id(),
                        .already_withdrawn = withdrawn->already_withdrawn()};
}

}  // namespace signpost::intake
