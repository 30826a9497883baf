#include "services/intake/fhir_task.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace signpost::intake {
namespace {

using nlohmann::json;

using fhir::kClosureReasonSystem;
using fhir::kGravityTemporaryCodes;
using fhir::kLinkWorkerSystem;
using fhir::kOdsSystem;
using fhir::kResourceSystem;
using fhir::kSourceSystemPrefix;
using fhir::kTaskCodeSystem;
using fhir::SourceIdentifierSystem;

// "REFERRAL_STATE_IN_CONTACT" -> "IN_CONTACT".
std::string StateCode(v1::ReferralState state) {
  return std::string(absl::StripPrefix(v1::ReferralState_Name(state), "REFERRAL_STATE_"));
}

// "IN_CONTACT" -> "in contact".
std::string Words(absl::string_view code) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(code), {{"_", " "}});
}

std::string ClosureCode(v1::ClosureReason reason) {
  return std::string(absl::StripPrefix(v1::ClosureReason_Name(reason), "CLOSURE_REASON_"));
}

absl::Time TimeOf(const google::protobuf::Timestamp& at) {
  return absl::FromUnixSeconds(at.seconds()) + absl::Nanoseconds(at.nanos());
}

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return std::make_pair(a.seconds(), a.nanos()) < std::make_pair(b.seconds(), b.nanos());
}

// The change that took the referral into `state` first (the history is oldest first).
const v1::StateChange* FirstChangeTo(const v1::GetReferralResponse& view, v1::ReferralState state) {
  for (const auto& change : view.history()) {
    if (change.state() == state) return &change;
  }
  return nullptr;
}

}  // namespace

TaskStatus TaskStatusOf(v1::ReferralState state, v1::ClosureReason closure) {
  switch (state) {
    case v1::REFERRAL_STATE_SUBMITTED:
    case v1::REFERRAL_STATE_RECEIVED:
      return {"requested", "", ""};
    case v1::REFERRAL_STATE_MATCHED:
    case v1::REFERRAL_STATE_ASSIGNED:
      return {"accepted", "", ""};
    case v1::REFERRAL_STATE_IN_CONTACT:
    case v1::REFERRAL_STATE_CONNECTED:
      return {"in-progress", "", ""};
    case v1::REFERRAL_STATE_WITHDRAWN:
      return {"cancelled", "withdrawn by the referrer", ""};
    case v1::REFERRAL_STATE_REJECTED:
      return {"rejected", "rejected by Signpost intake", ""};
    case v1::REFERRAL_STATE_CLOSED:
      break;
    default:
      // A view always has a state once any event is applied; none is the referral as sent.
      return {"requested", "", ""};
  }
  return fhir::ClosedTaskStatus(closure);
}

std::string SourceSystemOf(absl::string_view identifier_system) {
  absl::string_view name = identifier_system;
  absl::ConsumePrefix(&name, kSourceSystemPrefix);
  return std::string(name);
}

std::string FhirInstant(const google::protobuf::Timestamp& at) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", TimeOf(at), absl::UTCTimeZone());
}

json TaskFromStatus(const v1::GetReferralResponse& view) {
  const std::string& id = view.referral_id();
  const TaskStatus status = TaskStatusOf(view.state(), view.closure_reason());
  json task = {{"resourceType", "Task"}, {"id", id}};
  if (view.has_updated_at()) task["meta"] = {{"lastUpdated", FhirInstant(view.updated_at())}};

  json sender_identifier = json::object();
  if (!view.source().source_referral_id().empty()) {
    sender_identifier = {{"system", SourceIdentifierSystem(view.source().source_system())},
                         {"value", view.source().source_referral_id()}};
    task["identifier"] = json::array({sender_identifier});
  }
  task["status"] = status.code;
  if (!status.reason.empty()) {
    json reason = {{"text", status.reason}};
    // The detail the referral's final step gave (a withdrawal's reason and note, a rejection's
    // summary): the referrer's own words or Signpost's, never the person's details.
    if (const v1::StateChange* final_change = FirstChangeTo(view, view.state());
        final_change != nullptr && !final_change->detail().empty() &&
        (view.state() == v1::REFERRAL_STATE_WITHDRAWN ||
         view.state() == v1::REFERRAL_STATE_REJECTED)) {
      reason["text"] = absl::StrCat(status.reason, " (", final_change->detail(), ")");
    }
    if (!status.reason_code.empty()) {
      reason["coding"] = json::array({{{"system", kClosureReasonSystem},
                                       {"code", status.reason_code},
                                       {"display", Words(status.reason_code)}}});
    }
    task["statusReason"] = reason;
  }
  const std::string state = StateCode(view.state());
  std::string business_text = state;
  if (view.state() == v1::REFERRAL_STATE_CLOSED &&
      view.closure_reason() != v1::CLOSURE_REASON_UNSPECIFIED) {
    absl::StrAppend(&business_text, " (", Words(ClosureCode(view.closure_reason())), ")");
  }
  task["businessStatus"] = {
      {"coding",
       json::array(
           {{{"system", kReferralStateSystem}, {"code", state}, {"display", Words(state)}}})},
      {"text", business_text}};
  task["intent"] = "order";
  if (view.priority() == v1::URGENCY_PRIORITY) {
    task["priority"] = "urgent";
  } else if (view.priority() == v1::URGENCY_ROUTINE) {
    task["priority"] = "routine";
  }
  task["code"] = {{"coding", json::array({{{"system", kTaskCodeSystem},
                                           {"code", "fulfill"},
                                           {"display", "Fulfill the focal request"}}})}};
  task["focus"] = {{"reference", absl::StrCat("ServiceRequest/", id)}, {"type", "ServiceRequest"}};
  if (!sender_identifier.empty()) task["focus"]["identifier"] = sender_identifier;
  // The person, named only as the subject of this referral: no personal details leave here.
  task["for"] = {{"type", "Patient"},
                 {"identifier", {{"system", kReferralSubjectSystem}, {"value", id}}},
                 {"display", "The person referred (details as in the referrer's ServiceRequest)"}};
  // When Signpost took the referral in: its first recorded change.
  const google::protobuf::Timestamp* authored = nullptr;
  for (const auto& change : view.history()) {
    if (authored == nullptr || Before(change.at(), *authored)) authored = &change.at();
  }
  if (authored != nullptr) task["authoredOn"] = FhirInstant(*authored);
  if (view.has_updated_at()) task["lastModified"] = FhirInstant(view.updated_at());
  if (!view.referrer_ods_code().empty()) {
    task["requester"] = {
        {"type", "Organization"},
        {"identifier", {{"system", kOdsSystem}, {"value", view.referrer_ods_code()}}}};
  }
  if (!view.link_worker_id().empty()) {
    task["owner"] = {
        {"type", "PractitionerRole"},
        {"identifier", {{"system", kLinkWorkerSystem}, {"value", view.link_worker_id()}}},
        {"display", "Social prescribing link worker"}};
  }
  // Each step as a note, oldest first: what GetReferral's history says.
  if (!view.history().empty()) {
    json notes = json::array();
    for (const auto& change : view.history()) {
      std::string text = StateCode(change.state());
      if (!change.detail().empty()) absl::StrAppend(&text, ": ", change.detail());
      notes.push_back({{"time", FhirInstant(change.at())}, {"text", text}});
    }
    task["note"] = notes;
  }
  if (!view.connections().empty()) {
    json outputs = json::array();
    for (const auto& c : view.connections()) {
      const std::string name = c.resource_name().empty() ? c.resource_id() : c.resource_name();
      json concept_coding = {{"system", kResourceSystem}, {"code", c.resource_id()}};
      if (!c.resource_name().empty()) concept_coding["display"] = c.resource_name();
      outputs.push_back({{"type",
                          {{"coding", json::array({{{"system", kGravityTemporaryCodes},
                                                    {"code", "resulting-activity"},
                                                    {"display", "Resulting Activity"}}})}}},
                         {"valueCodeableConcept",
                          {{"coding", json::array({concept_coding})},
                           {"text", absl::StrCat("Connected to ", name, " on ",
                                                 absl::FormatTime("%Y-%m-%d", TimeOf(c.at()),
                                                                  absl::UTCTimeZone()))}}}});
    }
    task["output"] = outputs;
  }
  return task;
}

json TaskSearchset(const std::vector<json>& tasks, const std::string& base,
                   const std::string& search) {
  json bundle = {
      {"resourceType", "Bundle"},
      {"type", "searchset"},
      {"total", tasks.size()},
      {"link", json::array({{{"relation", "self"}, {"url", absl::StrCat(base, "/", search)}}})}};
  if (!tasks.empty()) {
    json entries = json::array();
    for (const auto& task : tasks) {
      entries.push_back({{"fullUrl", absl::StrCat(base, "/Task/", task.value("id", ""))},
                         {"resource", task},
                         {"search", {{"mode", "match"}}}});
    }
    bundle["entry"] = entries;
  }
  return bundle;
}

}  // namespace signpost::intake
