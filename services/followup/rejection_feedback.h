#pragma once

// The message back for a referral intake did not accept. Pure: a value from the rejection.

#include <string>

#include "signpost/v1/events.pb.h"

namespace signpost::followup {

// The referrer.feedback event telling the referrer why its referral was not accepted, made
// from the referral.rejected event alone: the same rejection, redelivered whenever, gives the
// same event in the same bytes (its time is the rejection's, its ids and trace derive from it,
// its producer is `producer` without the instance after '/').
// Its fhir_message is left to AttachFhirMessage.
v1::Event RejectionFeedback(const v1::Event& rejected, const std::string& producer);

}  // namespace signpost::followup
