#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/fhir/referral_task.h"
#include "signpost/v1/followup.pb.h"
#include "signpost/v1/intake_service.pb.h"

namespace signpost::intake {

// A referral's status view as a FHIR R4 Task, shaped as HL7 Gravity's
// SDOHCC-TaskForReferralManagement (intent order, code fulfill, focus the ServiceRequest, for the
// Patient, requester, owner, output the resulting activities) without claiming its profile:
// meta.profile names nothing an offline validator could resolve. Pure: no I/O.
//
// What leaves through it is what the referrer sent or what Signpost did, never the person's
// details: the status view holds none, and `for` names the person only as the subject of this
// referral (urn:signpost:referral-subject|<referral id>); the referrer holds the rest in its own
// ServiceRequest, which `focus` names by its identifier.

// Code systems only the status view's Task names (the rest: common/fhir/referral_task.h).
inline constexpr absl::string_view kReferralStateSystem = "urn:signpost:referral-state";
inline constexpr absl::string_view kReferralSubjectSystem = "urn:signpost:referral-subject";

// The Task status a referral's state (and, once closed, why it closed) maps to, and why when the
// status is one Gravity says to explain (rejected, cancelled, failed).
using fhir::TaskStatus;
TaskStatus TaskStatusOf(v1::ReferralState state, v1::ClosureReason closure);

// The source system an identifier system names (either the full URI, see
// fhir::SourceIdentifierSystem, or the bare name), empty when it names none.
std::string SourceSystemOf(absl::string_view identifier_system);

// The Task of `view`.
nlohmann::json TaskFromStatus(const v1::GetReferralResponse& view);

// A searchset Bundle of `tasks`: `base` the FHIR base as the caller reached it (e.g.
// "https://intake.example:8443/fhir"), `search` the search as asked after it (e.g.
// "Task?focus=ServiceRequest/ref-1").
nlohmann::json TaskSearchset(const std::vector<nlohmann::json>& tasks, const std::string& base,
                             const std::string& search);

// FHIR instant: "2026-12-07T05:10:00.123Z".
std::string FhirInstant(const google::protobuf::Timestamp& at);

}  // namespace signpost::intake
