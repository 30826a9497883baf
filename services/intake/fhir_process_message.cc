#include "services/intake/fhir_process_message.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/field_violations.h"
#include "services/intake/fhir_referral.h"

namespace signpost::intake {
namespace {

using nlohmann::json;

constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* Find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const json& Entries(const json& bundle) {
  static const json kNone = json::array();
  const json* entries = Find(bundle, "entry");
  return entries && entries->is_array() ? *entries : kNone;
}

const json* ResourceOf(const json& entry) {
  const json* resource = Find(entry, "resource");
  return resource && resource->is_object() ? resource : nullptr;
}

// The index of the first entry holding a resource of `type`, or -1.
int EntryIndexOf(const json& bundle, absl::string_view type) {
  const json& entries = Entries(bundle);
  for (size_t i = 0; i < entries.size(); ++i) {
    const json* resource = ResourceOf(entries[i]);
    if (resource && Str(*resource, "resourceType") == type) return static_cast<int>(i);
  }
  return -1;
}

std::string EntryPath(int index, absl::string_view type) {
  return absl::StrCat("Bundle.entry[", index, "].resource.ofType(", type, ")");
}

// The resource an entry's Reference points at within the bundle (by fullUrl or Type/id).
const json* Resolve(const json& bundle, const json& reference) {
  std::string target = Str(reference, "reference");
  if (target.empty()) return nullptr;
  for (const auto& entry : Entries(bundle)) {
    const json* resource = ResourceOf(entry);
    if (!resource) continue;
    if (Str(entry, "fullUrl") == target ||
        absl::StrCat(Str(*resource, "resourceType"), "/", Str(*resource, "id")) == target) {
      return resource;
    }
  }
  return nullptr;
}

// An Identifier as the response message says it back: its system and value only, so that
// whatever else the sender put in it is not echoed (nor an invalid element made ours).
json IdentifierOf(const json& identifier) {
  json out = json::object();
  if (std::string system = Str(identifier, "system"); !system.empty()) out["system"] = system;
  if (std::string value = Str(identifier, "value"); !value.empty()) out["value"] = value;
  return out;
}

bool HasCoding(const json& codeable, absl::string_view system, std::string* code) {
  const json* codings = Find(codeable, "coding");
  if (!codings || !codings->is_array()) return false;
  for (const auto& c : *codings) {
    if (Str(c, "system") == system) {
      *code = Str(c, "code");
      return true;
    }
  }
  return false;
}

// "Patient.extension[inclusion-group]" (fhir_referral.h names Signpost's extensions so) ->
// "Patient.extension.where(url='urn:signpost:inclusion-group')".
std::string WithExtensionUrls(std::string path) {
  size_t at = 0;
  while ((at = path.find("extension[", at)) != std::string::npos) {
    size_t open = at + std::string("extension").size();
    size_t close = path.find(']', open);
    if (close == std::string::npos) break;
    std::string name = path.substr(open + 1, close - open - 1);
    if (!name.empty() && absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
      at = close;
      continue;
    }
    std::string where = absl::StrCat(".where(url='urn:signpost:", name, "')");
    path.replace(open, close - open + 1, where);
    at = open + where.size();
  }
  return path;
}

}  // namespace

absl::Status CheckMessageBundle(const json& bundle) {
  if (!bundle.is_object() || Str(bundle, "resourceType") != "Bundle") {
    return InvalidArgumentWithViolations(
        {{"Bundle", "expected a FHIR R4 Bundle (resourceType Bundle) of type message"}});
  }
  std::vector<FieldViolation> violations;
  if (Str(bundle, "type") != "message") {
    violations.push_back(
        {"Bundle.type", "must be 'message' (POST $process-message takes a message)"});
  }
  const json& entries = Entries(bundle);
  const json* first = entries.empty() ? nullptr : ResourceOf(entries[0]);
  if (!first || Str(*first, "resourceType") != "MessageHeader") {
    violations.push_back({"Bundle.entry[0].resource",
                          "the first entry of a message must be its MessageHeader (bdl-12)"});
  }
  return InvalidArgumentWithViolations(violations);
}

absl::StatusOr<RequestMessage> ReadRequestMessage(const json& bundle) {
  std::vector<FieldViolation> violations;
  const json& header = *ResourceOf(Entries(bundle)[0]);
  const std::string at_header = EntryPath(0, "MessageHeader");
  RequestMessage message;
  message.bundle_id = Str(bundle, "id");

  // Older senders (the Kafka path before BaRS) send no reason, and may code no event.
  std::string event;
  if (const json* coding = Find(header, "eventCoding"); coding && coding->is_object()) {
    if (Str(*coding, "system") != kBarsMessageEvents ||
        (event = Str(*coding, "code")) != "servicerequest-request") {
      violations.push_back({absl::StrCat(at_header, ".eventCoding"),
                            absl::StrCat("must be ", kBarsMessageEvents,
                                         "#servicerequest-request (a referral to a service); got '",
                                         Str(*coding, "system"), "#", Str(*coding, "code"), "'")});
    }
  } else if (Find(header, "eventUri")) {
    violations.push_back({absl::StrCat(at_header, ".eventUri"),
                          absl::StrCat("code the event as eventCoding ", kBarsMessageEvents,
                                       "#servicerequest-request")});
  }
  std::string reason = "new";
  if (const json* codeable = Find(header, "reason")) {
    std::string code;
    if (!HasCoding(*codeable, kBarsMessageReasons, &code) || (code != "new" && code != "update")) {
      violations.push_back({absl::StrCat(at_header, ".reason"),
                            absl::StrCat("must be ", kBarsMessageReasons,
                                         " 'new' (a referral) or 'update' (its cancellation)")});
    } else {
      reason = code;
    }
  }
  if (const json* source = Find(header, "source")) {
    message.source_name = Str(*source, "name");
    message.source_endpoint = Str(*source, "endpoint");
  }
  if (const json* destinations = Find(header, "destination");
      destinations && destinations->is_array() && !destinations->empty()) {
    message.destination_endpoint = Str((*destinations)[0], "endpoint");
  }

  // The ServiceRequest the message is about: the header's focus, or else the bundle's first.
  const json* request = nullptr;
  int request_index = -1;
  if (const json* focus = Find(header, "focus"); focus && focus->is_array() && !focus->empty()) {
    request = Resolve(bundle, (*focus)[0]);
  }
  if (request && Str(*request, "resourceType") != "ServiceRequest") request = nullptr;
  request_index = EntryIndexOf(bundle, "ServiceRequest");
  if (!request && request_index >= 0) request = ResourceOf(Entries(bundle)[request_index]);
  if (!request) {
    violations.push_back({absl::StrCat(at_header, ".focus"),
                          "must reference the message's ServiceRequest (the referral)"});
    return InvalidArgumentWithViolations(violations);
  }
  const std::string at_request = EntryPath(request_index, "ServiceRequest");
  message.service_request_status = Str(*request, "status");
  message.intent = Str(*request, "intent");
  if (message.intent.empty()) message.intent = "plan";
  // The response message's ServiceRequest says it back: an R4 request-intent code or nothing.
  static constexpr absl::string_view kIntents[] = {"proposal",     "plan",           "directive",
                                                   "order",        "original-order", "reflex-order",
                                                   "filler-order", "instance-order", "option"};
  if (std::find(std::begin(kIntents), std::end(kIntents), message.intent) == std::end(kIntents)) {
    violations.push_back({absl::StrCat(at_request, ".intent"),
                          "not an R4 request-intent code (proposal, plan, order, ...)"});
  }
  if (const json* ids = Find(*request, "identifier"); ids && ids->is_array()) {
    for (const auto& id : *ids) {
      if (Str(id, "system") == kReferralIdSystem) {
        message.referral_id = Str(id, "value");
      } else if (message.sender_identifier.is_null()) {
        message.sender_identifier = IdentifierOf(id);
        message.source_referral_id = Str(id, "value");
      }
    }
  }
  if (const json* subject = Find(*request, "subject")) {
    if (const json* patient = Resolve(bundle, *subject)) {
      if (const json* ids = Find(*patient, "identifier"); ids && ids->is_array()) {
        for (const auto& id : *ids) {
          if (Str(id, "system") == kNhsNumberSystem) {
            std::string digits;
            for (char c : Str(id, "value")) {
              if (c != ' ') digits.push_back(c);
            }
            message.subject = {{"identifier", {{"system", kNhsNumberSystem}, {"value", digits}}}};
          }
        }
      }
    } else if (const json* id = Find(*subject, "identifier"); id && id->is_object()) {
      message.subject = {{"identifier", IdentifierOf(*id)}};
    }
  }
  if (message.subject.is_null()) message.subject = {{"display", "the person referred"}};

  const std::string& status = message.service_request_status;
  if (reason == "update") {
    if (status == "revoked") {
      message.kind = MessageKind::kCancellation;
      message.withdrawal_reason = v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER;
      message.withdrawal_detail = "cancelled by the referrer (BaRS: ServiceRequest revoked)";
    } else if (status == "entered-in-error") {
      message.kind = MessageKind::kCancellation;
      message.withdrawal_reason = v1::WITHDRAWAL_REASON_OTHER;
      message.withdrawal_detail =
          "the referral was made in error (BaRS: ServiceRequest entered-in-error)";
    } else {
      violations.push_back(
          {absl::StrCat(at_request, ".status"),
           absl::StrCat("an update must cancel the referral: status 'revoked' or "
                        "'entered-in-error' (got '",
                        status, "'); to change a referral, cancel it and send a new one")});
    }
    message.service_request_id = Str(*request, "id");
    if (message.kind == MessageKind::kCancellation && message.referral_id.empty() &&
        (message.source_name.empty() || message.source_referral_id.empty()) &&
        message.service_request_id.empty()) {
      violations.push_back(
          {absl::StrCat(at_request, ".identifier"),
           absl::StrCat("required: the referral to cancel, by its identifier (", kReferralIdSystem,
                        ", or the sender's own with MessageHeader.source.name)")});
    }
  } else if (status == "revoked" || status == "entered-in-error") {
    violations.push_back({absl::StrCat(at_header, ".reason"),
                          "a cancellation (ServiceRequest.status revoked or entered-in-error) "
                          "must have reason 'update'"});
  }
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  return message;
}

std::string ExpressionInMessage(const json& bundle, absl::string_view field) {
  if (field.empty()) return "";
  std::string path(field);
  if (absl::StartsWith(path, "Bundle")) {
    // "Bundle.entry[Patient]": the mapper's name for a resource that is missing or repeated.
    if (absl::StartsWith(path, "Bundle.entry[") &&
        !absl::ascii_isdigit(
            static_cast<unsigned char>(path[std::string("Bundle.entry[").size()]))) {
      std::string type = path.substr(13, path.find(']') - 13);
      return absl::StrCat("Bundle.entry.resource.ofType(", type, ")");
    }
    return path;
  }
  if (path == "resourceType") return "Bundle";
  // A referral field (ValidateReferral names them): the element it was read from.
  if (!absl::ascii_isupper(static_cast<unsigned char>(path[0]))) {
    path = FhirElementOfReferralField(path);
    if (path.empty()) return "Bundle";
  }
  size_t dot = path.find('.');
  std::string type = path.substr(0, dot);
  std::string rest = dot == std::string::npos ? "" : path.substr(dot);
  int index = EntryIndexOf(bundle, type);
  if (index < 0) return absl::StrCat("Bundle.entry.resource.ofType(", type, ")");
  return WithExtensionUrls(absl::StrCat(EntryPath(index, type), rest));
}

json ResponseMessage(const RequestMessage& request, const MessageOutcome& outcome,
                     absl::string_view id, absl::Time now) {
  const std::string request_url = absl::StrCat(kFhirBase, "/ServiceRequest/", outcome.referral_id);
  const std::string timestamp = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone());
  json header = {
      {"resourceType", "MessageHeader"},
      {"id", std::string(id)},
      {"eventCoding",
       {{"system", kBarsMessageEvents},
        {"code", "servicerequest-response"},
        {"display", "Service Request - Response"}}},
      {"reason",
       {{"coding", json::array({{{"system", kBarsMessageReasons},
                                 {"code", request.kind == MessageKind::kCancellation ? "update"
                                                                                     : "new"}}})}}},
      {"source",
       {{"name", "signpost-intake"},
        {"endpoint", request.destination_endpoint.empty()
                         ? absl::StrCat(kFhirBase, "/$process-message")
                         : request.destination_endpoint}}},
      {"response", {{"identifier", request.bundle_id}, {"code", "ok"}}},
      {"focus", json::array({{{"reference", request_url}}})}};
  if (!request.source_endpoint.empty()) {
    json destination = {{"endpoint", request.source_endpoint}};
    if (!request.source_name.empty()) destination["name"] = request.source_name;
    header["destination"] = json::array({destination});
  }

  json identifiers = json::array({{{"system", kReferralIdSystem}, {"value", outcome.referral_id}}});
  if (request.sender_identifier.is_object()) identifiers.push_back(request.sender_identifier);
  json service_request = {
      {"resourceType", "ServiceRequest"},
      {"id", outcome.referral_id},
      {"identifier", identifiers},
      {"status", request.kind == MessageKind::kCancellation
                     ? (request.service_request_status.empty() ? std::string("revoked")
                                                               : request.service_request_status)
                     : std::string("active")},
      {"intent", request.intent},
      {"subject", request.subject}};
  if (outcome.urgency == v1::URGENCY_PRIORITY) {
    service_request["priority"] = "urgent";
  } else if (outcome.urgency == v1::URGENCY_ROUTINE) {
    service_request["priority"] = "routine";
  }

  json entries = json::array();
  entries.push_back({{"fullUrl", absl::StrCat("urn:uuid:", id)}, {"resource", header}});
  entries.push_back({{"fullUrl", request_url}, {"resource", service_request}});
  std::string note;
  if (outcome.duplicate) {
    note = absl::StrCat("this referral was received before as referral ", outcome.referral_id,
                        "; nothing new was done");
  } else if (outcome.already_withdrawn) {
    note = absl::StrCat("referral ", outcome.referral_id, " was withdrawn already");
  }
  if (!note.empty()) {
    // response.details: an OperationOutcome saying what the ok means this time.
    std::string outcome_id = absl::StrCat(id, "-details");
    if (outcome_id.size() > 64) outcome_id = outcome_id.substr(0, 64);
    json details = {
        {"resourceType", "OperationOutcome"},
        {"id", outcome_id},
        {"issue", json::array({{{"severity", "information"},
                                {"code", outcome.duplicate ? "duplicate" : "informational"},
                                {"diagnostics", note}}})}};
    std::string details_url = absl::StrCat(kFhirBase, "/OperationOutcome/", outcome_id);
    entries[0]["resource"]["response"]["details"] = {{"reference", details_url}};
    entries.push_back({{"fullUrl", details_url}, {"resource", details}});
  }
  return {{"resourceType", "Bundle"},
          {"id", std::string(id)},
          {"type", "message"},
          {"timestamp", timestamp},
          {"entry", entries}};
}

}  // namespace signpost::intake
