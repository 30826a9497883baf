#include "services/followup/rejection_feedback.h"

#include "absl/strings/str_cat.h"
#include "common/events/event_envelope.h"
#include "common/events/timestamp.h"
#include "services/followup/message_back_codes.h"

namespace signpost::followup {

v1::Event RejectionFeedback(const v1::Event& rejected, const std::string& producer) {
  const v1::ReferralRejected& r = rejected.referral_rejected();
  v1::Event event;
  v1::ReferrerFeedback* feedback = event.mutable_referrer_feedback();
  feedback->set_referrer_ods_code(r.referrer_ods_code());
  feedback->set_source_system(r.source_system());
  feedback->set_source_referral_id(r.source_referral_id());
  feedback->set_kind(v1::FEEDBACK_KIND_REJECTED);
  std::string summary = absl::StrCat("Not accepted: ", r.reason());
  for (const auto& violation : r.violations()) {
    absl::StrAppend(&summary, "; ", violation.field(), ": ", violation.description());
  }
  feedback->set_summary(summary);
  feedback->set_idempotency_key(absl::StrCat(rejected.envelope().event_id(), ":rejected"));
  MessageBackStep step = StepOf(v1::FEEDBACK_KIND_REJECTED, v1::CLOSURE_REASON_UNSPECIFIED);
  feedback->mutable_message_back()->set_step(step.step);
  *feedback->mutable_message_back()->mutable_step_code() = std::move(step.code);
  const std::string name = absl::StrCat("referrer.feedback:", feedback->idempotency_key());
  // Made by the service, not its instance: a redelivery may reach another instance, and the
  // same event id must come in the same bytes.
  const absl::string_view service = absl::string_view(producer).substr(0, producer.find('/'));
  events::Seal(event, rejected.envelope().referral_id(), service,
               events::FromTimestamp(rejected.envelope().occurred_at()), "",
               rejected.envelope().event_id());
  event.mutable_envelope()->set_event_id(events::NameBasedEventId(name));
  event.mutable_envelope()->mutable_trace()->set_traceparent(
      events::NameBasedTraceparent(name, rejected.envelope().trace().traceparent()));
  return event;
}

}  // namespace signpost::followup
