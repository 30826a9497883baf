#include "services/followup/feedback_fhir_message.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/events/event_envelope.h"
#include "common/events/timestamp.h"
#include "common/fhir/referral_task.h"
#include "services/followup/message_back_codes.h"

namespace signpost::followup {
namespace {

// Insertion order kept, so resourceType comes first and the bytes are the same every time.
using Json = nlohmann::ordered_json;
// The systems intake's Task names too, so the GP system finds its referral the same way in both.
using fhir::kGravityTemporaryCodes;
using fhir::kLinkWorkerSystem;
using fhir::kOdsSystem;
using fhir::kReferralIdSystem;
using fhir::kResourceSystem;
using fhir::kTaskCodeSystem;

constexpr char kBarsMessageEvents[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kObservationCategory[] =
    "http://terminology.hl7.org/CodeSystem/observation-category";
// Signpost's own systems, where no verified standard code exists (no LOINC or SNOMED CT id for
// the ONS4 items or the SWEMWBS score was found with a public source).
constexpr char kNetworkSystem[] = "urn:signpost:network-id";
constexpr char kOutcomeMeasureSystem[] = "urn:signpost:outcome-measure";

// An object whose members are given in order, key then value: built in place, without the
// temporary two-element arrays a brace list of pairs makes for each member (this runs for every
// message back, and building the bundle was most of follow-up's outbox time). The keys must
// differ: members are appended without the lookup operator[] makes.
void AddMembers(Json::object_t&) {}
template <typename Value, typename... Rest>
void AddMembers(Json::object_t& members, const char* key, Value&& value, Rest&&... rest) {
  members.emplace_back(key, Json(std::forward<Value>(value)));
  AddMembers(members, std::forward<Rest>(rest)...);
}
template <typename... Members>
Json Object(Members&&... members) {
  Json object(Json::value_t::object);
  auto& inside = object.get_ref<Json::object_t&>();
  inside.reserve(sizeof...(members) / 2);
  AddMembers(inside, std::forward<Members>(members)...);
  return object;
}
// Room for an object's members added one by one: growing copies the members already there.
void Reserve(Json& object, size_t members) { object.get_ref<Json::object_t&>().reserve(members); }

// An array of the values given, built in place likewise.
template <typename... Values>
Json Array(Values&&... values) {
  Json array(Json::value_t::array);
  auto& inside = array.get_ref<Json::array_t&>();
  inside.reserve(sizeof...(values));
  (inside.emplace_back(std::forward<Values>(values)), ...);
  return array;
}

std::string Instant(const google::protobuf::Timestamp& at) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", events::FromTimestamp(at), absl::UTCTimeZone());
}

Json Coding(absl::string_view system, const std::string& code, const std::string& display = "") {
  if (display.empty()) return Object("system", std::string(system), "code", code);
  return Object("system", std::string(system), "code", code, "display", display);
}

Json Ref(const std::string& uuid) { return Object("reference", absl::StrCat("urn:uuid:", uuid)); }

Json LogicalRef(const std::string& type, absl::string_view system, const std::string& value) {
  return Object("type", type, "identifier", Object("system", std::string(system), "value", value));
}

// Who holds the case: the link worker's role, else the network (its team queue).
Json Holder(const v1::PrsbMessageBack& back) {
  if (!back.link_worker_id().empty()) {
    Json role = LogicalRef("PractitionerRole", kLinkWorkerSystem, back.link_worker_id());
    role["display"] = "Social prescribing link worker";
    return role;
  }
  if (!back.network_id().empty())
    return LogicalRef("Organization", kNetworkSystem, back.network_id());
  return nullptr;
}

Json Entry(const std::string& uuid, Json resource) {
  return Object("fullUrl", absl::StrCat("urn:uuid:", uuid), "resource", std::move(resource));
}

Json Measure(const std::string& id, const std::string& patient, const Json& recorder,
             const v1::OutcomeMeasure& m, const char* which) {
  Json obs = {{"resourceType", "Observation"},
              {"id", id},
              {"status", "final"},
              {"category", {{{"coding", {Coding(kObservationCategory, "survey", "Survey")}}}}}};
  Json components = Json::array();
  auto item = [&](const std::string& code, const std::string& text, int value) {
    components.push_back(
        {{"code", {{"coding", {Coding(kOutcomeMeasureSystem, code)}}, {"text", text}}},
         {"valueInteger", value}});
  };
  if (m.has_ons4()) {
    obs["code"] = {{"coding", {Coding(kOutcomeMeasureSystem, "ons4")}},
                   {"text", absl::StrCat("ONS4 personal wellbeing, ", which)}};
    const v1::Ons4& o = m.ons4();
    item("ons4-life-satisfaction", "Life satisfaction (0-10)", o.life_satisfaction());
    item("ons4-worthwhile", "Things done in life are worthwhile (0-10)", o.worthwhile());
    item("ons4-happiness", "Happiness yesterday (0-10)", o.happiness());
    item("ons4-anxiety", "Anxiety yesterday (0-10)", o.anxiety());
  } else {
    obs["code"] = {{"coding", {Coding(kOutcomeMeasureSystem, "swemwbs")}},
                   {"text", absl::StrCat("SWEMWBS raw total (7-35), ", which)}};
    int total = 0;
    for (int i = 0; i < m.swemwbs().answers_size(); ++i) {
      total += m.swemwbs().answers(i);
      item(absl::StrCat("swemwbs-item-", i + 1), absl::StrCat("SWEMWBS item ", i + 1, " (1-5)"),
           m.swemwbs().answers(i));
    }
    obs["valueInteger"] = total;
  }
  obs["subject"] = Ref(patient);
  if (m.has_recorded_at()) obs["effectiveDateTime"] = Instant(m.recorded_at());
  if (!recorder.is_null()) obs["performer"] = {recorder};
  obs["component"] = std::move(components);
  return obs;
}

Json Output(const char* type, const std::string& text, const char* value_key, Json value) {
  return Object("type", Object("coding", Array(Coding(kGravityTemporaryCodes, type)), "text", text),
                value_key, std::move(value));
}

}  // namespace

std::string TaskStatusOf(v1::FeedbackKind kind, v1::ClosureReason reason) {
  switch (kind) {
    case v1::FEEDBACK_KIND_ACCEPTED:
    case v1::FEEDBACK_KIND_ASSIGNED:
      return "accepted";
    case v1::FEEDBACK_KIND_FIRST_CONTACT:
    case v1::FEEDBACK_KIND_CONNECTED:
      return "in-progress";
    case v1::FEEDBACK_KIND_REJECTED:
      return "rejected";
    case v1::FEEDBACK_KIND_WITHDRAWN:
      return "cancelled";
    case v1::FEEDBACK_KIND_CLOSED:
      return fhir::ClosedTaskStatus(reason).code;
    default:
      return "in-progress";
  }
}

std::string FeedbackFhirMessage(const v1::Event& event) {
  const v1::ReferrerFeedback& f = event.referrer_feedback();
  const v1::PrsbMessageBack& back = f.message_back();
  const std::string& key = f.idempotency_key();
  auto uuid = [&](absl::string_view part) {
    return events::NameBasedEventId(absl::StrCat("fhir-message:", key, ":", part));
  };
  const std::string header_id = uuid("MessageHeader");
  const std::string task_uuid = uuid("Task");
  const std::string patient_id = uuid("Patient");
  const std::string procedure_id = uuid("Procedure");
  const std::string when = Instant(event.envelope().occurred_at());
  // The step as the GP record codes it (SNOMED CT where verified), and its exact name.
  MessageBackStep step = StepOf(f.kind(), f.closure_reason());
  if (back.has_step_code()) step.code = back.step_code();
  if (!back.step().empty()) step.step = back.step();
  Json step_codings =
      Json::array({Coding(step.code.system(), step.code.code(), step.code.display())});
  if (step.code.system() != kMessageBackStepSystem) {
    step_codings.push_back(Coding(kMessageBackStepSystem, step.step));
  }
  const std::string status = TaskStatusOf(f.kind(), f.closure_reason());

  Json header = Object("resourceType", "MessageHeader", "id", header_id, "eventCoding",
                       Coding(kBarsMessageEvents, "servicerequest-response"));
  Reserve(header, 6);
  if (!f.referrer_ods_code().empty()) {
    header["destination"] =
        Array(Object("endpoint", absl::StrCat("urn:signpost:ods:", f.referrer_ods_code()),
                     "receiver", LogicalRef("Organization", kOdsSystem, f.referrer_ods_code())));
  }
  header["source"] =
      Object("name", "Signpost social prescribing service", "endpoint", "urn:signpost:followup");
  header["focus"] = Array(Ref(task_uuid));

  const std::string& referral_id = event.envelope().referral_id();
  Json task = Object("resourceType", "Task", "id", referral_id.empty() ? task_uuid : referral_id);
  Reserve(task, 20);
  if (!referral_id.empty()) {
    task["identifier"] =
        Array(Object("system", std::string(kReferralIdSystem), "value", referral_id));
  }
  task["status"] = status;
  if (status == "rejected" || status == "cancelled" || status == "failed") {
    task["statusReason"] = Object("text", f.summary());
  }
  task["businessStatus"] = Object("coding", Array(Coding(kMessageBackStepSystem, step.step)),
                                  "text", step.code.display());
  task["intent"] = "order";
  task["code"] =
      Object("coding", Array(Coding(kTaskCodeSystem, "fulfill", "Fulfill the focal request")));
  task["description"] = f.summary();
  // The referral as the sender knows it: the GP system files the message by its own id. By
  // identifier, not "ServiceRequest/<id>": that would not resolve inside the message bundle.
  Json focus = Object("type", "ServiceRequest");
  Reserve(focus, 3);
  if (!f.source_referral_id().empty()) {
    focus["identifier"] = Object("system", fhir::SourceIdentifierSystem(f.source_system()), "value",
                                 f.source_referral_id());
  }
  if (!referral_id.empty()) focus["display"] = absl::StrCat("Referral ", referral_id);
  task["focus"] = std::move(focus);
  task["for"] = Ref(patient_id);
  if (back.has_case_opened_at() && events::FromTimestamp(back.case_opened_at()) <=
                                       events::FromTimestamp(event.envelope().occurred_at())) {
    task["authoredOn"] = Instant(back.case_opened_at());
  }
  task["lastModified"] = when;
  if (!f.referrer_ods_code().empty()) {
    task["requester"] = LogicalRef("Organization", kOdsSystem, f.referrer_ods_code());
  }
  if (Json holder = Holder(back); !holder.is_null()) task["owner"] = std::move(holder);

  Json outputs = Json::array();
  for (const v1::SupportOffered& s : back.support_offered()) {
    const std::string& name = s.resource_name().empty() ? s.resource_id() : s.resource_name();
    outputs.push_back(Output(
        "resulting-activity",
        s.need().empty() ? "Connected to" : absl::StrCat("Connected to, for ", s.need()),
        "valueCodeableConcept",
        Object("coding", Array(Coding(kResourceSystem, s.resource_id(), name)), "text", name)));
  }
  outputs.push_back(
      Output("resulting-activity", step.code.display(), "valueReference", Ref(procedure_id)));

  Json procedure =
      Object("resourceType", "Procedure", "id", procedure_id, "status", "completed", "code",
             Object("coding", std::move(step_codings), "text", step.code.display()), "subject",
             Ref(patient_id), "performedDateTime", when);
  Reserve(procedure, 7);
  if (!back.link_worker_id().empty()) {
    procedure["performer"] = Array(Object("actor", Holder(back)));
  }

  Json entries = Array(Entry(header_id, std::move(header)), Json());
  entries.get_ref<Json::array_t&>().reserve(6);
  // Empty on purpose: the subject the Task, Procedure and Observations point at. The GP system
  // knows who it is from its referral (the Task's focus); no personal detail travels here.
  entries.push_back(Entry(patient_id, Object("resourceType", "Patient", "id", patient_id)));
  entries.push_back(Entry(procedure_id, std::move(procedure)));
  for (const auto& [measure, which] :
       {std::pair{&f.baseline(), "baseline"}, std::pair{&f.latest(), "latest"}}) {
    if (measure->measure_case() == v1::OutcomeMeasure::MEASURE_NOT_SET) continue;
    const std::string id = uuid(absl::StrCat("Observation:", which));
    entries.push_back(Entry(id, Measure(id, patient_id, Holder(back), *measure, which)));
    outputs.push_back(Output("additional-content", absl::StrCat("Outcome measure, ", which),
                             "valueReference", Ref(id)));
  }
  task["output"] = std::move(outputs);
  entries[1] = Entry(task_uuid, std::move(task));

  Json bundle = Object("resourceType", "Bundle", "id",
                       events::NameBasedEventId(absl::StrCat("fhir-message:", key)), "type",
                       "message", "timestamp", when, "entry", std::move(entries));
  return bundle.dump();
}

void AttachFhirMessage(v1::Event& event) {
  if (!event.has_referrer_feedback()) return;
  event.mutable_referrer_feedback()->set_fhir_message(FeedbackFhirMessage(event));
}

}  // namespace signpost::followup
