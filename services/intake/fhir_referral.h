#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/intake/sender_identity.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// Content type of FHIR submissions on signpost.referral.submitted.
inline constexpr absl::string_view kFhirJsonContentType = "application/fhir+json";

// Maps a FHIR R4 message Bundle (MessageHeader, UK Core ServiceRequest, Patient and optional
// Consent resources, JSON) to a referral:
//  - MessageHeader.source.name                  -> source_system
//  - ServiceRequest.identifier[0].value         -> source_referral_id
//  - ServiceRequest.requester: its identifier (ODS), or the Organization (or PractitionerRole's
//    organization) it references in the bundle -> referrer.ods_code; .display -> referrer.name
//  - extension urn:signpost:referrer-role       -> referrer.role (default GP: GP systems emit
//  these)
//  - ServiceRequest.reasonCode[]                -> needs: a urn:signpost:need-category coding, or a
//    SNOMED CT coding from the mapped set; the SNOMED code is kept; text -> description
//  - ServiceRequest.priority, authoredOn, note  -> urgency, referred_at, notes
//  - Patient: NHS number (https://fhir.nhs.uk/Id/nhs-number), name, birthDate, gender, address,
//    telecom, UK Core EthnicCategory and NHSCommunication extensions; Signpost extensions
//    urn:signpost:nhs-number-absence, urn:signpost:inclusion-group, urn:signpost:access-need
//  - Consent, by its category as FHIR R4 and UK Core senders code it: LOINC 59284-0 "Patient
//    Consent" -> consent to the referral, LOINC 64292-6 "Release of information consent" ->
//    information sharing; or the older urn:signpost:consent-category referral |
//    information-sharing. Given when status is active and provision.type is not deny; dateTime =
//    when recorded. A Consent of another category is ignored once the referral's consent is
//    found (and named as the problem when it is not).
// A bundle that cannot be read gives INVALID_ARGUMENT with field violations in FHIR paths (the
// first ones, the rest counted). Field-level rules are left to ValidateReferral, as for protobuf
// submissions.
absl::StatusOr<v1::Referral> ReferralFromFhirBundle(absl::string_view json);

// A bundle read for intake: the referral, or why not; and who sent it, as far as the bundle
// says whether or not it could be mapped, so that a rejection can go back to them:
// MessageHeader.source.name, ServiceRequest.identifier, and the ODS code of the
// ServiceRequest's requester or else of the MessageHeader's sender.
struct FhirSubmission {
  absl::StatusOr<v1::Referral> referral;
  SenderIdentity sender;
};
FhirSubmission ReadFhirSubmission(absl::string_view json);

// The FHIR element a referral field (as ValidateReferral names it: "identity.nhs_number",
// "needs[1].category") was read from by the mapping above, as a FHIRPath from its resource
// ("Patient.identifier.where(system='https://fhir.nhs.uk/Id/nhs-number')",
// "ServiceRequest.reasonCode[1]"); empty for a field no FHIR element maps to.
std::string FhirElementOfReferralField(absl::string_view field);

}  // namespace signpost::intake
