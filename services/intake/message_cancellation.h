#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/intake/fhir_process_message.h"
#include "services/intake/submitter.h"

namespace signpost::intake {

// Withdraws the referral a cancellation message names (fhir_process_message.h), as
// WithdrawReferral does, for the caller `may_see` speaks for, recording `withdrawn_by`. BaRS
// requires a cancellation of a referral no longer active to be refused: FAILED_PRECONDITION for a
// referral withdrawn, closed or rejected already; NOT_FOUND for one never received; the refusal of
// `may_see` for another organisation's; UNAVAILABLE when Redis or Kafka is. Both the HTTPS and the
// Kafka path take this one way.
absl::StatusOr<MessageOutcome> CancelReferral(Submitter& submitter, const RequestMessage& message,
                                              const Submitter::MaySee& may_see,
                                              const std::string& withdrawn_by);

}  // namespace signpost::intake
