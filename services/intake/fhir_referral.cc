#include "services/intake/fhir_referral.h"

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/status/field_violations.h"
#include "services/intake/violation_list.h"

namespace signpost::intake {
namespace {

using nlohmann::json;

constexpr char kSnomed[] = "http://snomed.info/sct";
constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr char kNeedCategorySystem[] = "urn:signpost:need-category";
constexpr char kConsentCategorySystem[] = "urn:signpost:consent-category";
// Consent categories as FHIR R4 and UK Core senders code them (the R4 consent-category value set).
constexpr char kLoinc[] = "http://loinc.org";
constexpr char kLoincPatientConsent[] = "59284-0";
constexpr char kLoincReleaseOfInformation[] = "64292-6";
constexpr char kEthnicCategoryUrl[] =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory";
constexpr char kNhsCommunicationUrl[] =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication";

// SNOMED CT findings seen in referrals, and the need each stands for.
const std::map<std::string, v1::NeedCategory>& SnomedNeeds() {
  static const auto* kMap = new std::map<std::string, v1::NeedCategory>{
      {"267076002", v1::NEED_CATEGORY_LONELINESS},                   // Feeling lonely
      {"105529008", v1::NEED_CATEGORY_LONELINESS},                   // Lives alone
      {"81877007", v1::NEED_CATEGORY_HOUSING},                       // Housing problems
      {"407542009", v1::NEED_CATEGORY_CARER_SUPPORT},                // Informal caregiver
      {"161152002", v1::NEED_CATEGORY_PRACTICAL_SUPPORT},            // Social problem
      {"910241000000102", v1::NEED_CATEGORY_LANGUAGE_AND_LEARNING},  // First language not English
  };
  return *kMap;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* Find(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::vector<const json*> Extensions(const json& resource, absl::string_view url) {
  std::vector<const json*> out;
  if (const json* ext = Find(resource, "extension"); ext && ext->is_array()) {
    for (const auto& e : *ext) {
      if (e.is_object() && Str(e, "url") == url) out.push_back(&e);
    }
  }
  return out;
}

bool HasCode(const json& codeable, absl::string_view system, absl::string_view code) {
  if (const json* codings = Find(codeable, "coding"); codings && codings->is_array()) {
    for (const auto& c : *codings) {
      if (c.is_object() && Str(c, "system") == system && Str(c, "code") == code) return true;
    }
  }
  return false;
}

std::string FirstCode(const json& codeable, absl::string_view system) {
  if (const json* codings = Find(codeable, "coding"); codings && codings->is_array()) {
    for (const auto& c : *codings) {
      if (c.is_object() && (system.empty() || Str(c, "system") == system)) return Str(c, "code");
    }
  }
  return "";
}

template <typename Enum>
bool EnumFromCode(const std::string& code, const char* prefix,
                  bool (*parse)(const std::string&, Enum*), Enum* out) {
  std::string name = absl::StrCat(prefix, absl::AsciiStrToUpper(code));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return parse(name, out);
}

bool SetTimestamp(const std::string& text, google::protobuf::Timestamp* ts) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return false;
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(ts->seconds())) / absl::Nanoseconds(1)));
  return true;
}

v1::EthnicCategory EthnicFromLetter(const std::string& letter) {
  static const std::map<std::string, v1::EthnicCategory> kLetters = {
      {"A", v1::ETHNIC_CATEGORY_WHITE_BRITISH},
      {"B", v1::ETHNIC_CATEGORY_WHITE_IRISH},
      {"C", v1::ETHNIC_CATEGORY_WHITE_OTHER},
      {"D", v1::ETHNIC_CATEGORY_MIXED_WHITE_BLACK_CARIBBEAN},
      {"E", v1::ETHNIC_CATEGORY_MIXED_WHITE_BLACK_AFRICAN},
      {"F", v1::ETHNIC_CATEGORY_MIXED_WHITE_ASIAN},
      {"G", v1::ETHNIC_CATEGORY_MIXED_OTHER},
      {"H", v1::ETHNIC_CATEGORY_ASIAN_INDIAN},
      {"J", v1::ETHNIC_CATEGORY_ASIAN_PAKISTANI},
      {"K", v1::ETHNIC_CATEGORY_ASIAN_BANGLADESHI},
      {"L", v1::ETHNIC_CATEGORY_ASIAN_OTHER},
      {"M", v1::ETHNIC_CATEGORY_BLACK_CARIBBEAN},
      {"N", v1::ETHNIC_CATEGORY_BLACK_AFRICAN},
      {"P", v1::ETHNIC_CATEGORY_BLACK_OTHER},
      {"R", v1::ETHNIC_CATEGORY_CHINESE},
      {"S", v1::ETHNIC_CATEGORY_OTHER},
      {"Z", v1::ETHNIC_CATEGORY_NOT_STATED}};
  auto it = kLetters.find(letter);
  return it == kLetters.end() ? v1::ETHNIC_CATEGORY_UNSPECIFIED : it->second;
}

class Mapper {
 public:
  explicit Mapper(const json& bundle) : bundle_(bundle) {
    const json* entries = bundle.is_object() ? Find(bundle, "entry") : nullptr;
    if (!entries || !entries->is_array()) return;
    for (const auto& entry : *entries) {
      const json* resource = entry.is_object() ? Find(entry, "resource") : nullptr;
      if (!resource || !resource->is_object()) continue;
      std::string type = Str(*resource, "resourceType");
      by_type_[type].push_back(resource);
      if (std::string url = Str(entry, "fullUrl"); !url.empty())
        by_reference_.emplace(url, resource);
      if (std::string id = Str(*resource, "id"); !id.empty()) {
        by_reference_.emplace(absl::StrCat(type, "/", id), resource);
      }
    }
  }

  // Who sent the bundle, read leniently: whatever can be read, however broken the rest.
  SenderIdentity Sender() const {
    SenderIdentity sender;
    const json* header = First("MessageHeader");
    const json* request = First("ServiceRequest");
    if (header) {
      if (const json* source = Find(*header, "source"); source && source->is_object()) {
        sender.source_system = Str(*source, "name");
      }
    }
    if (request) {
      if (const json* ids = Find(*request, "identifier"); ids && ids->is_array() && !ids->empty()) {
        sender.source_referral_id = Str((*ids)[0], "value");
      }
      if (const json* requester = Find(*request, "requester")) {
        sender.referrer_ods_code = OdsCodeOf(*requester);
      }
    }
    if (header && WellFormed(sender).referrer_ods_code.empty()) {
      if (const json* from = Find(*header, "sender")) sender.referrer_ods_code = OdsCodeOf(*from);
    }
    return WellFormed(std::move(sender));
  }

  absl::StatusOr<v1::Referral> Map() {
    const json& bundle = bundle_;
    if (!bundle.is_object() || Str(bundle, "resourceType") != "Bundle") {
      return Fail("resourceType", "expected a FHIR Bundle");
    }
    const json* entries = Find(bundle, "entry");
    if (!entries || !entries->is_array()) return Fail("Bundle.entry", "no entries");
    const auto& by_type = by_type_;
    auto one = [&](const char* type) -> const json* {
      auto it = by_type.find(type);
      if (it == by_type.end() || it->second.empty()) {
        violations_.Add(absl::StrCat("Bundle.entry[", type, "]"), "missing");
        return nullptr;
      }
      if (it->second.size() > 1) {
        violations_.Add(absl::StrCat("Bundle.entry[", type, "]"), "more than one");
      }
      return it->second.front();
    };
    const json* header = one("MessageHeader");
    const json* request = one("ServiceRequest");
    const json* patient = one("Patient");
    if (!violations_.empty()) return Status();

    v1::Referral r;
    if (const json* source = Find(*header, "source"); source && source->is_object()) {
      r.set_source_system(Str(*source, "name"));
    }
    MapServiceRequest(*request, r);
    MapPatient(*patient, r);
    if (auto it = by_type.find("Consent"); it != by_type.end()) {
      for (const json* consent : it->second) MapConsent(*consent, r);
    }
    if (!referral_consent_found_ && other_consents_ > 0) {
      violations_.Add("Consent.category",
                      "no Consent to the referral: code its category LOINC 59284-0 (Patient "
                      "Consent); LOINC 64292-6 (Release of information consent) records consent "
                      "to information sharing");
    }
    if (!violations_.empty()) return Status();
    return r;
  }

 private:
  absl::Status Status() const {
    return StatusWithViolations(absl::StatusCode::kInvalidArgument, violations_.listed(),
                                violations_.unlisted());
  }

  absl::Status Fail(std::string field, std::string description) {
    violations_.Add(std::move(field), std::move(description));
    return Status();
  }

  const json* First(const std::string& type) const {
    auto it = by_type_.find(type);
    return it == by_type_.end() || it->second.empty() ? nullptr : it->second.front();
  }

  // The ODS code a FHIR Reference names: its logical identifier, or that of the Organization it
  // points to in the bundle (directly, or as a PractitionerRole's organization).
  std::string OdsCodeOf(const json& reference, int depth = 0) const {
    if (!reference.is_object() || depth > 2) return "";
    if (const json* id = Find(reference, "identifier"); id && id->is_object()) {
      if (Str(*id, "system") == kOdsSystem) return Str(*id, "value");
    }
    auto target = by_reference_.find(Str(reference, "reference"));
    if (target == by_reference_.end()) return "";
    const json& resource = *target->second;
    std::string type = Str(resource, "resourceType");
    if (type == "Organization") {
      if (const json* ids = Find(resource, "identifier"); ids && ids->is_array()) {
        for (const auto& i : *ids) {
          if (Str(i, "system") == kOdsSystem) return Str(i, "value");
        }
      }
    } else if (type == "PractitionerRole") {
      if (const json* organization = Find(resource, "organization")) {
        return OdsCodeOf(*organization, depth + 1);
      }
    }
    return "";
  }

  void MapServiceRequest(const json& sr, v1::Referral& r) {
    if (const json* ids = Find(sr, "identifier"); ids && ids->is_array() && !ids->empty()) {
      r.set_source_referral_id(Str((*ids)[0], "value"));
    }
    if (const json* requester = Find(sr, "requester"); requester && requester->is_object()) {
      r.mutable_referrer()->set_ods_code(OdsCodeOf(*requester));
      r.mutable_referrer()->set_name(Str(*requester, "display"));
    }
    r.mutable_referrer()->set_role(v1::REFERRER_ROLE_GP);
    for (const json* ext : Extensions(sr, "urn:signpost:referrer-role")) {
      v1::ReferrerRole role;
      if (EnumFromCode(Str(*ext, "valueCode"), "REFERRER_ROLE_", &v1::ReferrerRole_Parse, &role)) {
        r.mutable_referrer()->set_role(role);
      } else {
        violations_.Add("ServiceRequest.extension[referrer-role]",
                        absl::StrCat("unknown role '", Str(*ext, "valueCode"), "'"));
      }
    }
    std::string priority = Str(sr, "priority");
    if (priority.empty() || priority == "routine") {
      r.set_urgency(v1::URGENCY_ROUTINE);
    } else if (priority == "urgent" || priority == "asap" || priority == "stat") {
      r.set_urgency(v1::URGENCY_PRIORITY);
    } else {
      violations_.Add("ServiceRequest.priority", absl::StrCat("unknown '", priority, "'"));
    }
    if (std::string authored = Str(sr, "authoredOn"); !authored.empty()) {
      if (!SetTimestamp(authored, r.mutable_referred_at())) {
        violations_.Add("ServiceRequest.authoredOn", "not an RFC 3339 date-time");
      }
    }
    if (const json* notes = Find(sr, "note"); notes && notes->is_array()) {
      std::vector<std::string> texts;
      for (const auto& n : *notes) texts.push_back(Str(n, "text"));
      r.set_notes(absl::StrJoin(texts, "\n"));
    }
    if (const json* reasons = Find(sr, "reasonCode"); reasons && reasons->is_array()) {
      for (size_t i = 0; i < reasons->size(); ++i) MapNeed((*reasons)[i], i, r);
    }
  }

  void MapNeed(const json& reason, size_t i, v1::Referral& r) {
    v1::Need* need = r.add_needs();
    need->set_description(Str(reason, "text"));
    std::string snomed = FirstCode(reason, kSnomed);
    need->set_snomed_code(snomed);
    std::string category = FirstCode(reason, kNeedCategorySystem);
    if (!category.empty()) {
      v1::NeedCategory parsed;
      if (EnumFromCode(category, "NEED_CATEGORY_", &v1::NeedCategory_Parse, &parsed)) {
        need->set_category(parsed);
      } else {
        violations_.Add(absl::StrCat("ServiceRequest.reasonCode[", i, "]"),
                        absl::StrCat("unknown need category '", category, "'"));
      }
      return;
    }
    if (auto it = SnomedNeeds().find(snomed); it != SnomedNeeds().end()) {
      need->set_category(it->second);
      return;
    }
    violations_.Add(absl::StrCat("ServiceRequest.reasonCode[", i, "]"),
                    snomed.empty() ? "no need category: add a urn:signpost:need-category coding"
                                   : absl::StrCat("SNOMED CT ", snomed,
                                                  " is not mapped to a need category: add a "
                                                  "urn:signpost:need-category coding"));
  }

  void MapPatient(const json& pt, v1::Referral& r) {
    auto* id = r.mutable_identity();
    auto* profile = r.mutable_profile();
    if (const json* ids = Find(pt, "identifier"); ids && ids->is_array()) {
      for (const auto& i : *ids) {
        if (Str(i, "system") == kNhsNumberSystem) id->set_nhs_number(Str(i, "value"));
      }
    }
    for (const json* ext : Extensions(pt, "urn:signpost:nhs-number-absence")) {
      v1::NhsNumberAbsence absence;
      if (EnumFromCode(Str(*ext, "valueCode"), "NHS_NUMBER_ABSENCE_", &v1::NhsNumberAbsence_Parse,
                       &absence)) {
        id->set_nhs_number_absence(absence);
      } else {
        violations_.Add("Patient.extension[nhs-number-absence]",
                        absl::StrCat("unknown reason '", Str(*ext, "valueCode"), "'"));
      }
    }
    if (const json* names = Find(pt, "name"); names && names->is_array() && !names->empty()) {
      const json& name = (*names)[0];
      id->set_family_name(Str(name, "family"));
      if (const json* given = Find(name, "given"); given && given->is_array() && !given->empty()) {
        if ((*given)[0].is_string()) id->set_given_name((*given)[0].get<std::string>());
      }
    }
    if (std::string birth = Str(pt, "birthDate"); !birth.empty()) {
      std::vector<std::string> parts = absl::StrSplit(birth, '-');
      int y = 0, m = 0, d = 0;
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
          !absl::SimpleAtoi(parts[2], &d)) {
        violations_.Add("Patient.birthDate", "not a YYYY-MM-DD date");
      } else {
        id->mutable_date_of_birth()->set_year(y);
        id->mutable_date_of_birth()->set_month(m);
        id->mutable_date_of_birth()->set_day(d);
      }
    }
    std::string gender = Str(pt, "gender");
    if (gender == "female")
      profile->set_sex(v1::SEX_FEMALE);
    else if (gender == "male")
      profile->set_sex(v1::SEX_MALE);
    else if (gender == "other")
      profile->set_sex(v1::SEX_OTHER);
    else if (gender == "unknown")
      profile->set_sex(v1::SEX_NOT_STATED);
    if (const json* addresses = Find(pt, "address");
        addresses && addresses->is_array() && !addresses->empty()) {
      const json& a = (*addresses)[0];
      if (const json* lines = Find(a, "line"); lines && lines->is_array()) {
        for (const auto& l : *lines) {
          if (l.is_string()) id->add_address_lines(l.get<std::string>());
        }
      }
      id->set_postcode(Str(a, "postalCode"));
    }
    if (const json* telecoms = Find(pt, "telecom"); telecoms && telecoms->is_array()) {
      for (const auto& t : *telecoms) {
        if (Str(t, "system") == "phone" && id->phone().empty()) id->set_phone(Str(t, "value"));
        if (Str(t, "system") == "email" && id->email().empty()) id->set_email(Str(t, "value"));
      }
    }
    for (const json* ext : Extensions(pt, kEthnicCategoryUrl)) {
      if (const json* codeable = Find(*ext, "valueCodeableConcept")) {
        profile->set_ethnic_category(EthnicFromLetter(FirstCode(*codeable, "")));
      }
    }
    for (const json* ext : Extensions(pt, kNhsCommunicationUrl)) {
      if (const json* parts = Find(*ext, "extension"); parts && parts->is_array()) {
        for (const auto& part : *parts) {
          if (Str(part, "url") == "language") {
            if (const json* codeable = Find(part, "valueCodeableConcept")) {
              profile->set_preferred_language(FirstCode(*codeable, ""));
            }
          } else if (Str(part, "url") == "interpreterRequired") {
            if (const json* b = Find(part, "valueBoolean"); b && b->is_boolean()) {
              profile->set_interpreter_required(b->get<bool>());
            }
          }
        }
      }
    }
    for (const json* ext : Extensions(pt, "urn:signpost:inclusion-group")) {
      v1::InclusionGroup group;
      if (EnumFromCode(Str(*ext, "valueCode"), "INCLUSION_GROUP_", &v1::InclusionGroup_Parse,
                       &group)) {
        profile->add_inclusion_groups(group);
      } else {
        violations_.Add("Patient.extension[inclusion-group]",
                        absl::StrCat("unknown group '", Str(*ext, "valueCode"), "'"));
      }
    }
    for (const json* ext : Extensions(pt, "urn:signpost:access-need")) {
      std::string code = Str(*ext, "valueCode");
      auto* access = profile->mutable_access_needs();
      if (code == "step-free")
        access->set_step_free(true);
      else if (code == "hearing-loop")
        access->set_hearing_loop(true);
      else if (code == "bsl")
        access->set_bsl(true);
      else if (code == "interpreter")
        access->set_interpreter(true);
      else if (code == "transport-barrier")
        profile->set_transport_barrier(true);
      else if (code == "digitally-excluded")
        profile->set_digitally_excluded(true);
      else
        violations_.Add("Patient.extension[access-need]",
                        absl::StrCat("unknown access need '", code, "'"));
    }
  }

  enum class ConsentTo { kOther, kReferral, kInformationSharing };

  // What a Consent is consent to, by its categories: the standard's codes, or our older ones.
  static ConsentTo WhatConsentIsTo(const json& consent) {
    bool sharing = false;
    if (const json* cats = Find(consent, "category"); cats && cats->is_array()) {
      for (const auto& c : *cats) {
        if (HasCode(c, kLoinc, kLoincPatientConsent) ||
            HasCode(c, kConsentCategorySystem, "referral")) {
          return ConsentTo::kReferral;
        }
        sharing = sharing || HasCode(c, kLoinc, kLoincReleaseOfInformation) ||
                  HasCode(c, kConsentCategorySystem, "information-sharing");
      }
    }
    return sharing ? ConsentTo::kInformationSharing : ConsentTo::kOther;
  }

  void MapConsent(const json& consent, v1::Referral& r) {
    // Given: an active Consent whose provision does not deny.
    bool given = Str(consent, "status") == "active";
    if (const json* provision = Find(consent, "provision"); provision && provision->is_object()) {
      given = given && Str(*provision, "type") != "deny";
    }
    auto* out = r.mutable_consent();
    switch (WhatConsentIsTo(consent)) {
      case ConsentTo::kReferral:
        // Two that disagree: which holds cannot be read, and the last must not win by its place.
        if (referral_consent_found_ && out->referral_consent() != given) {
          violations_.Add("Consent.provision",
                          "the Consents to the referral (LOINC 59284-0) disagree, one given and "
                          "one refused: send the one that holds");
        }
        referral_consent_found_ = true;
        out->set_referral_consent(given);
        if (std::string when = Str(consent, "dateTime"); !when.empty()) {
          if (!SetTimestamp(when, out->mutable_recorded_at())) {
            violations_.Add("Consent.dateTime", "not an RFC 3339 date-time");
          }
        }
        break;
      case ConsentTo::kInformationSharing:
        if (sharing_consent_found_ && out->sharing_consent() != given) {
          violations_.Add("Consent.provision",
                          "the Consents to information sharing (LOINC 64292-6) disagree, one "
                          "given and one refused: send the one that holds");
        }
        sharing_consent_found_ = true;
        out->set_sharing_consent(given);
        break;
      case ConsentTo::kOther:
        ++other_consents_;  // a research consent, say: not ours to read
        break;
    }
  }

  const json& bundle_;
  std::map<std::string, std::vector<const json*>> by_type_;
  std::map<std::string, const json*> by_reference_;  // by fullUrl and by "Type/id"
  ViolationList violations_;
  bool referral_consent_found_ = false;
  bool sharing_consent_found_ = false;
  int other_consents_ = 0;
};

}  // namespace

FhirSubmission ReadFhirSubmission(absl::string_view text) {
  json bundle = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded()) {
    return {InvalidArgumentWithViolations({{"", "not valid JSON"}}), SenderIdentity()};
  }
  Mapper mapper(bundle);
  return {mapper.Map(), mapper.Sender()};
}

std::string FhirElementOfReferralField(absl::string_view field) {
  // needs[i]... -> ServiceRequest.reasonCode[i]...
  if (absl::StartsWith(field, "needs[")) {
    size_t close = field.find(']');
    if (close == absl::string_view::npos) return "ServiceRequest.reasonCode";
    std::string element = absl::StrCat("ServiceRequest.reasonCode", field.substr(5, close - 4));
    if (absl::EndsWith(field, ".snomed_code")) absl::StrAppend(&element, ".coding");
    return element;
  }
  if (absl::StartsWith(field, "profile.inclusion_groups")) {
    return "Patient.extension.where(url='urn:signpost:inclusion-group')";
  }
  static const auto* kElements = new std::map<std::string, std::string, std::less<>>{
      {"source_system", "MessageHeader.source.name"},
      {"source_referral_id", "ServiceRequest.identifier[0].value"},
      {"referrer", "ServiceRequest.requester"},
      {"referrer.ods_code", "ServiceRequest.requester"},
      {"referrer.name", "ServiceRequest.requester.display"},
      {"referrer.role", "ServiceRequest.extension.where(url='urn:signpost:referrer-role')"},
      {"identity.nhs_number",
       absl::StrCat("Patient.identifier.where(system='", kNhsNumberSystem, "').value")},
      {"identity.nhs_number_absence",
       "Patient.extension.where(url='urn:signpost:nhs-number-absence')"},
      {"identity.family_name", "Patient.name[0].family"},
      {"identity.given_name", "Patient.name[0].given[0]"},
      {"identity.date_of_birth", "Patient.birthDate"},
      {"identity.address_lines", "Patient.address[0].line"},
      {"identity.postcode", "Patient.address[0].postalCode"},
      {"identity.phone", "Patient.telecom.where(system='phone').value"},
      {"identity.email", "Patient.telecom.where(system='email').value"},
      {"profile.home_postcode", "Patient.address[0].postalCode"},
      {"profile.sex", "Patient.gender"},
      {"profile.ethnic_category",
       absl::StrCat("Patient.extension.where(url='", kEthnicCategoryUrl, "')")},
      {"profile.preferred_language",
       absl::StrCat("Patient.extension.where(url='", kNhsCommunicationUrl, "')")},
      {"profile.communication_mode",
       absl::StrCat("Patient.extension.where(url='", kNhsCommunicationUrl, "')")},
      {"profile.access_needs", "Patient.extension.where(url='urn:signpost:access-need')"},
      {"consent", "Consent"},
      {"consent.referral_consent", "Consent.provision.type"},
      {"consent.sharing_consent", "Consent.provision.type"},
      {"consent.recorded_at", "Consent.dateTime"},
      {"needs", "ServiceRequest.reasonCode"},
      {"urgency", "ServiceRequest.priority"},
      {"referred_at", "ServiceRequest.authoredOn"},
      {"notes", "ServiceRequest.note"},
  };
  auto it = kElements->find(field);
  if (it != kElements->end()) return it->second;
  // The person's details FHIR carries nowhere Signpost reads (IMD, housing): the Patient.
  if (absl::StartsWith(field, "identity.") || absl::StartsWith(field, "profile.")) return "Patient";
  return "";
}

absl::StatusOr<v1::Referral> ReferralFromFhirBundle(absl::string_view text) {
  return ReadFhirSubmission(text).referral;
}

}  // namespace signpost::intake
