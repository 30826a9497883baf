#include "services/followup/case_details_seal.h"

#include "absl/strings/str_cat.h"

namespace signpost::followup {
namespace {

// What the sealed details are bound to: the case, by its referral id, not by its Redis key (the
// key prefix is configuration; moving it must not make the details unopenable).
std::string RecordName(const v1::Case& kase) {
  return absl::StrCat("followup.case:", kase.referral_id());
}

}  // namespace

absl::Status CaseDetailsSeal::Seal(v1::Case& kase) const {
  if (!kase.has_identity() && kase.referral_notes().empty()) return absl::OkStatus();
  v1::PersonalDetails details;
  *details.mutable_identity() = kase.identity();
  details.set_notes(kase.referral_notes());
  auto sealed = cipher_.SealRecord(details, RecordName(kase));
  if (!sealed.ok()) return sealed.status();
  *kase.mutable_sealed_details() = *std::move(sealed);
  kase.clear_identity();
  kase.clear_referral_notes();
  return absl::OkStatus();
}

absl::Status CaseDetailsSeal::Open(v1::Case& kase) const {
  if (!kase.has_sealed_details()) return absl::OkStatus();
  auto details = cipher_.OpenRecord(kase.sealed_details(), RecordName(kase));
  if (!details.ok()) {
    return absl::Status(details.status().code(), absl::StrCat("case ", kase.referral_id(), ": ",
                                                              details.status().message()));
  }
  *kase.mutable_identity() = std::move(*details->mutable_identity());
  kase.set_referral_notes(std::move(*details->mutable_notes()));
  kase.clear_sealed_details();
  return absl::OkStatus();
}

}  // namespace signpost::followup
