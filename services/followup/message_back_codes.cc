#include "services/followup/message_back_codes.h"

namespace signpost::followup {
namespace {

// SNOMED CT (UK extension) concept ids, each used only with a public source that states the id
// and the term for this use. NHS England's social prescribing refsets for the other steps are
// "available on request" (PRSB Social Prescribing Information Standard v1.1, Technology
// Framework), not published; no id for them was found, so those steps carry Signpost's own code
// and its text. Never add an id without a source here and a passing IsValidSnomedConceptId.

// 871731000000106 |Referral to social prescribing service (procedure)|: "To be used when an
// individual accepts a referral to the SPLW - for first interaction in an episode of care only"
// (NHS Transformation Partners in Health and Care, Social Prescribing Link Workers' FAQs,
// transformationpartnersinhealthandcare.nhs.uk/our-work/personalised_care/arrs-roles/
// social-prescribing/faqs/); the one code counted by IIF PC-01 (Ardens support article
// 31000166945); socialrx.co.uk "social prescribing SNOMED codes".
constexpr char kReferralToSocialPrescribing[] = "871731000000106";
// 871711000000103 |Social prescribing declined (situation)|: "To be used when an individual
// declines a referral to the SPLW" (the same NHS Transformation Partners FAQ); "used when a
// person is contacted by a link worker and explicitly states they do not wish to make use of
// the social prescribing service" (socialrx.co.uk, ibid.).
constexpr char kSocialPrescribingDeclined[] = "871711000000103";

v1::MessageBackCoding Coding(const char* system, std::string code, std::string display) {
  v1::MessageBackCoding coding;
  coding.set_system(system);
  coding.set_code(std::move(code));
  coding.set_display(std::move(display));
  return coding;
}

MessageBackStep Own(std::string step, std::string display) {
  v1::MessageBackCoding code = Coding(kMessageBackStepSystem, step, std::move(display));
  return {std::move(step), std::move(code)};
}

MessageBackStep Closed(v1::ClosureReason reason) {
  switch (reason) {
    case v1::CLOSURE_REASON_COMPLETED:
      return Own("closed-completed", "Social prescribing completed");
    case v1::CLOSURE_REASON_DECLINED:
      return {"closed-declined",
              Coding(kSnomedSystem, kSocialPrescribingDeclined, "Social prescribing declined")};
    case v1::CLOSURE_REASON_UNABLE_TO_CONTACT:
      return Own("closed-unable-to-contact",
                 "Social prescribing ended: the person could not be contacted");
    case v1::CLOSURE_REASON_EXPIRED:
      return Own("closed-expired", "Social prescribing ended: the referral expired");
    case v1::CLOSURE_REASON_NO_SUITABLE_PROVISION:
      return Own("closed-no-suitable-provision", "Social prescribing ended: no suitable provision");
    case v1::CLOSURE_REASON_WITHDRAWN:
      return Own("withdrawn", "Referral to social prescribing service withdrawn by the referrer");
    default:
      return Own("closed", "Social prescribing ended");
  }
}

}  // namespace

MessageBackStep StepOf(v1::FeedbackKind kind, v1::ClosureReason reason) {
  switch (kind) {
    case v1::FEEDBACK_KIND_ACCEPTED:
      return {"accepted", Coding(kSnomedSystem, kReferralToSocialPrescribing,
                                 "Referral to social prescribing service")};
    case v1::FEEDBACK_KIND_REJECTED:
      return Own("rejected", "Referral to social prescribing service not accepted");
    case v1::FEEDBACK_KIND_ASSIGNED:
      return Own("assigned", "Referral placed with a social prescribing link worker or team");
    case v1::FEEDBACK_KIND_FIRST_CONTACT:
      return Own("first-contact", "First contact made by the social prescribing link worker");
    case v1::FEEDBACK_KIND_CONNECTED:
      return Own("connected", "Connected to a community activity or service");
    case v1::FEEDBACK_KIND_WITHDRAWN:
      return Closed(v1::CLOSURE_REASON_WITHDRAWN);
    case v1::FEEDBACK_KIND_CLOSED:
      return Closed(reason);
    default:
      return Own("unspecified", "Social prescribing message back");
  }
}

}  // namespace signpost::followup
