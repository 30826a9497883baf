#pragma once

#include <optional>

#include "signpost/v1/events.pb.h"
#include "signpost/v1/intake_service.pb.h"

namespace signpost::intake {

// What one lifecycle event says about a referral's status.
struct StatusUpdate {
  v1::StateChange change;
  // Attributes to remember when the event carries them (empty / unspecified otherwise).
  v1::SourceReference source;
  std::string referrer_ods_code;
  v1::Urgency priority = v1::URGENCY_UNSPECIFIED;
  // Priority raised by matching (a Core20 decile it derived from the postcode): the referral's
  // priority from then on, in whichever order its received and matched events are applied.
  v1::Urgency raised_priority = v1::URGENCY_UNSPECIFIED;
  v1::ClosureReason closure_reason = v1::CLOSURE_REASON_UNSPECIFIED;
  // The link worker who has the case as of this event (matched, or any case event once one has
  // it): the view keeps the one of the latest event, whatever order they arrive in. Empty when
  // the event names none (a team queue, or not about the case).
  std::string link_worker_id;
  // A connection this event made (follow-up's CONNECTED case event): kept once per resource.
  std::optional<v1::ReferralConnection> connection;
};

// Pure: the status update an event implies, or nullopt when it does not change the status
// (task events, unmet needs, directory changes).
std::optional<StatusUpdate> ProjectStatus(const v1::Event& event);

// States from which nothing moves on: closed, withdrawn, rejected.
bool IsTerminal(v1::ReferralState state);

// How states combine: a terminal state sticks; otherwise the further state wins, so events that
// arrive out of order across topics never move a referral backwards.
v1::ReferralState CombineStates(v1::ReferralState current, v1::ReferralState next);

}  // namespace signpost::intake
