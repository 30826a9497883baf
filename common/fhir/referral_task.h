#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "signpost/v1/followup.pb.h"

namespace signpost::fhir {

// What intake's Task (GET /fhir/Task) and follow-up's message back (the Task in its FHIR message)
// say alike, so that a GP system reads one referral the same way in both: the identifier and
// code systems they name, and the Task status a closed case maps to.

// Signpost's own referral id (ServiceRequest.id and Task.id are the same value).
inline constexpr absl::string_view kReferralIdSystem = "https://signpost.nhs.example/referral-id";
// The sender's identifier of its referral: this prefix and the sending system's name
// (MessageHeader.source.name, Signpost's source_system) make the system, its
// ServiceRequest.identifier value the value.
inline constexpr absl::string_view kSourceSystemPrefix = "urn:signpost:source-system:";
inline constexpr absl::string_view kLinkWorkerSystem = "urn:signpost:link-worker-id";
inline constexpr absl::string_view kResourceSystem = "urn:signpost:resource-id";
inline constexpr absl::string_view kClosureReasonSystem = "urn:signpost:closure-reason";
inline constexpr absl::string_view kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr absl::string_view kTaskCodeSystem = "http://hl7.org/fhir/CodeSystem/task-code";
// Gravity's (SDOHCC TaskForReferralManagement) Task.output types, e.g. resulting-activity.
inline constexpr absl::string_view kGravityTemporaryCodes =
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes";

// The identifier system of the sending system `source_system`.
std::string SourceIdentifierSystem(absl::string_view source_system);

// A Task status (R4 task-status) and why, when the status is one Gravity says to explain
// (rejected, cancelled, failed).
struct TaskStatus {
  std::string code;         // requested, accepted, in-progress, completed, cancelled, failed, ...
  std::string reason;       // statusReason.text; empty when none is due
  std::string reason_code;  // a kClosureReasonSystem code, when the reason is a closure's
};

// A closed case's Task status: completed when the person was connected; cancelled when they
// declined or the referrer withdrew (not done, and not for want of trying); failed when it was
// attempted and not done (unable to contact, no suitable provision, expired). Never "rejected",
// which Gravity keeps for a performer that declines before doing anything: the link worker had
// accepted the referral and worked it. Unspecified (closed before reasons were kept): completed.
TaskStatus ClosedTaskStatus(v1::ClosureReason reason);

}  // namespace signpost::fhir
