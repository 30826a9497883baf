#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/fhir/referral_task.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// FHIR messaging as the NHS Booking and Referral Standard (BaRS) shapes it, for a referral to
// social prescribing: what a request message says about itself, and the response message. Pure:
// the referral itself is read by fhir_referral.h, the I/O is elsewhere.

// The BaRS code systems of MessageHeader.eventCoding and MessageHeader.reason.
inline constexpr absl::string_view kBarsMessageEvents =
    "https://fhir.nhs.uk/CodeSystem/message-events-bars";
inline constexpr absl::string_view kBarsMessageReasons =
    "https://fhir.nhs.uk/CodeSystem/message-reason-bars";
// The identifier system of Signpost's referral id, on the ServiceRequest of every response
// message (the ServiceRequest's id is the same referral id), as the Tasks name it too.
using fhir::kReferralIdSystem;
// The base of the FHIR resources Signpost names in its answers (ServiceRequest/<referral id>).
inline constexpr absl::string_view kFhirBase = "https://signpost.nhs.example/fhir";

enum class MessageKind {
  kReferral,      // reason new (or none, as older senders send it)
  kCancellation,  // reason update, ServiceRequest.status revoked or entered-in-error
};

// What a request message says about itself, read from its Bundle and MessageHeader.
struct RequestMessage {
  std::string bundle_id;  // Bundle.id: the response names it in MessageHeader.response.identifier
  MessageKind kind = MessageKind::kReferral;
  std::string source_name;           // MessageHeader.source.name: the submitting system
  std::string source_endpoint;       // MessageHeader.source.endpoint: where the response goes
  std::string destination_endpoint;  // MessageHeader.destination[0].endpoint
  std::string service_request_status;
  std::string intent;                // ServiceRequest.intent, "plan" when not given
  nlohmann::json sender_identifier;  // the ServiceRequest's first identifier, as sent
  // The person, as a logical reference for the response (their NHS number; the request's own
  // reference would not resolve outside it).
  nlohmann::json subject;
  // A cancellation names the referral by Signpost's referral id (the identifier of system
  // kReferralIdSystem), or by the sender's own (source_name and source_referral_id), or else by
  // ServiceRequest.id when the sender kept the one Signpost answered with.
  std::string referral_id;
  std::string source_referral_id;  // the first identifier of another system: the sender's
  std::string service_request_id;  // ServiceRequest.id
  v1::WithdrawalReason withdrawal_reason = v1::WITHDRAWAL_REASON_UNSPECIFIED;
  std::string withdrawal_detail;
};

// INVALID_ARGUMENT (HTTP 400) unless `bundle` is a FHIR message: a Bundle of type message whose
// first entry is a MessageHeader. The violations name the elements in FHIRPath.
absl::Status CheckMessageBundle(const nlohmann::json& bundle);

// What the message asks for: INVALID_ARGUMENT (HTTP 422), its violations in FHIRPath, for an
// event other than servicerequest-request, a reason other than new or update, an update that is
// not a cancellation (Signpost takes no other change to a referral; send a new referral), or a
// cancellation that names no referral. `bundle` passed CheckMessageBundle.
absl::StatusOr<RequestMessage> ReadRequestMessage(const nlohmann::json& bundle);

// The FHIRPath in `bundle` of the element a violation names: the violation's field as
// fhir_referral.h and ValidateReferral name them ("ServiceRequest.reasonCode[1]",
// "identity.nhs_number") made a path from the Bundle
// ("Bundle.entry[2].resource.ofType(Patient).identifier.where(...)"). Empty for none.
std::string ExpressionInMessage(const nlohmann::json& bundle, absl::string_view field);

// What Signpost did with a request message.
struct MessageOutcome {
  std::string referral_id;
  bool duplicate = false;          // the referral was received before; nothing new was done
  bool already_withdrawn = false;  // a cancellation found it withdrawn meanwhile
  v1::Urgency urgency = v1::URGENCY_UNSPECIFIED;  // a referral's triaged priority
};

// The response message to `request` (BaRS servicerequest-response): MessageHeader first
// (response.identifier the request's Bundle.id, response.code ok, source and destination the
// request's reversed, focus the ServiceRequest), then the ServiceRequest with id and identifier
// Signpost's referral id (and the sender's identifier), its status active or revoked; a duplicate
// adds an OperationOutcome (response.details) saying so. `id` is the new Bundle's id, `now` its
// timestamp. No meta.profile: a validator cannot resolve UK Core profiles offline.
nlohmann::json ResponseMessage(const RequestMessage& request, const MessageOutcome& outcome,
                               absl::string_view id, absl::Time now);

}  // namespace signpost::intake
