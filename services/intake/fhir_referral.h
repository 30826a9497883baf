#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// Content type of FHIR submissions on signpost.referral.submitted.
inline constexpr absl::string_view kFhirJsonContentType = "application/fhir+json";

// Maps a FHIR R4 message Bundle (MessageHeader, UK Core ServiceRequest, Patient and optional
// Consent resources, JSON) to a referral:
//  - MessageHeader.source.name                  -> source_system
//  - ServiceRequest.identifier[0].value         -> source_referral_id
//  - ServiceRequest.requester.identifier (ODS)  -> referrer.ods_code; .display -> referrer.name
//  - extension urn:signpost:referrer-role       -> referrer.role (default GP: GP systems emit
//  these)
//  - ServiceRequest.reasonCode[]                -> needs: a urn:signpost:need-category coding, or a
//    SNOMED CT coding from the mapped set; the SNOMED code is kept; text -> description
//  - ServiceRequest.priority, authoredOn, note  -> urgency, referred_at, notes
//  - Patient: NHS number (https://fhir.nhs.uk/Id/nhs-number), name, birthDate, gender, address,
//    telecom, UK Core EthnicCategory and NHSCommunication extensions; Signpost extensions
//    urn:signpost:nhs-number-absence, urn:signpost:inclusion-group, urn:signpost:access-need
//  - Consent (category urn:signpost:consent-category referral | information-sharing; status
//    active = given; dateTime = when recorded)
// A bundle that cannot be read gives INVALID_ARGUMENT with field violations in FHIR paths.
// Field-level rules are left to ValidateReferral, as for protobuf submissions.
absl::StatusOr<v1::Referral> ReferralFromFhirBundle(absl::string_view json);

}  // namespace signpost::intake
