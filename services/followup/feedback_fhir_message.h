#pragma once

// The message back as FHIR R4, so that a GP system can file it: a message Bundle built from a
// referrer.feedback event alone. Pure (no I/O); JSON, so it lives beside the I/O library rather
// than in the rules (rules_includes_test keeps JSON out of them).

#include <string>

#include "signpost/v1/events.pb.h"

namespace signpost::followup {

inline constexpr char kFhirJsonContentType[] = "application/fhir+json";

// The FHIR R4 message Bundle (JSON text, application/fhir+json) of a referrer.feedback event:
// MessageHeader first (BaRS servicerequest-response, focus the Task), the referral as a Task
// shaped like HL7 Gravity's TaskForReferralManagement (id the referral id, status mapped from the
// step, businessStatus the exact step, owner the link worker's role, output the connections), a
// Procedure coded with the step, and an Observation per shared outcome score. Every reference
// resolves inside the bundle (urn:uuid fullUrls); no meta.profile. The same event gives the same
// bytes: the bundle's id derives from the idempotency key, its timestamp is the event's. No
// personal details: the Patient entry is empty, the GP system knows the person by its referral.
std::string FeedbackFhirMessage(const v1::Event& event);

// Puts FeedbackFhirMessage into a referrer.feedback event's fhir_message; other events unchanged.
void AttachFhirMessage(v1::Event& event);

// The Task status (FHIR R4 TaskStatus) of a message back's step.
std::string TaskStatusOf(v1::FeedbackKind kind, v1::ClosureReason reason);

}  // namespace signpost::followup
