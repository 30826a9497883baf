#include "services/matching/caseload_handler.h"

#include "common/events/case_states.h"
#include "common/events/event_factory.h"
#include "common/kafka/retry_policy.h"

namespace signpost::matching {

CaseloadHandler::CaseloadHandler(Roster& roster, metrics::Registry& metrics)
    : roster_(roster),
      released_(metrics.GetCounter("signpost_matching_caseload_releases_total",
                                   "Cases that ended and gave their link worker a place back")),
      moved_(metrics.GetCounter("signpost_matching_caseload_moves_total",
                                "Cases reassigned from one link worker to another")) {}

kafka::Outcome CaseloadHandler::HandleMessage(const kafka::ConsumedMessage& message) {
  auto event = events::ParseEvent(message);
  if (!event.ok()) return kafka::OutcomeOf(event.status());
  if (!event->has_case_event()) return kafka::Outcome::Done();
  const v1::CaseEvent& change = event->case_event();
  const std::string& referral_id = event->envelope().referral_id();
  absl::StatusOr<bool> done = false;
  if (!change.reassigned_to().empty()) {
    done = roster_.MoveAssignment(referral_id, change.reassigned_to());
    if (done.ok() && *done) moved_.Increment();
  } else if (events::IsCaseEnded(change.to_state()) && change.from_state() != change.to_state()) {
    done = roster_.ReleaseAssignment(referral_id);
    if (done.ok() && *done) released_.Increment();
  }
  return kafka::OutcomeOf(done.status());
}

}  // namespace signpost::matching
