#include "services/intake/referral_validation.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/intake/identifiers.h"
#include "services/intake/violation_list.h"

namespace signpost::intake {
namespace {

class Violations {
 public:
  void Add(std::string field, std::string description) {
    list_.Add(std::move(field), std::move(description));
  }
  void MaxLength(const std::string& field, const std::string& value, int max) {
    if (static_cast<int>(value.size()) > max) {
      Add(field, absl::StrCat("longer than ", max, " characters"));
    }
  }
  std::vector<FieldViolation> Take(int64_t* unlisted) {
    if (unlisted) *unlisted = list_.unlisted();
    return list_.TakeListed();
  }

 private:
  ViolationList list_;
};

bool ValidDate(const v1::CalendarDate& d) {
  if (d.year() < 1850 || d.month() < 1 || d.month() > 12 || d.day() < 1) return false;
  absl::CivilDay day(d.year(), d.month(), d.day());
  return day.year() == d.year() && day.month() == d.month() && day.day() == d.day();
}

int AgeInYears(const v1::CalendarDate& dob, absl::Time now) {
  absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  int age = static_cast<int>(today.year()) - dob.year();
  if (today.month() < dob.month() || (today.month() == dob.month() && today.day() < dob.day())) {
    --age;
  }
  return age;
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool IsPrintableToken(const std::string& s, const char* extra_forbidden) {
  for (char c : s) {
    if (c <= ' ' || c > '~' || std::strchr(extra_forbidden, c)) return false;
  }
  return true;
}

}  // namespace

v1::Referral NormaliseReferral(v1::Referral r, absl::Time now) {
  auto* identity = r.mutable_identity();
  if (auto nhs = NormaliseNhsNumber(identity->nhs_number())) identity->set_nhs_number(*nhs);
  auto* profile = r.mutable_profile();
  if (auto pc = NormalisePostcode(identity->postcode())) {
    identity->set_postcode(*pc);
    // Where the person lives is where they want support, unless the referrer said otherwise.
    if (profile->home_postcode().empty()) profile->set_home_postcode(*pc);
  }
  if (auto pc = NormalisePostcode(profile->home_postcode())) {
    profile->set_home_postcode(*pc);
    profile->set_postcode_district(PostcodeDistrict(*pc));
  }
  if (identity->has_date_of_birth() && ValidDate(identity->date_of_birth())) {
    profile->set_age_years(AgeInYears(identity->date_of_birth(), now));
  }
  profile->set_preferred_language(absl::AsciiStrToLower(profile->preferred_language()));
  r.mutable_referrer()->set_ods_code(absl::AsciiStrToUpper(r.referrer().ods_code()));
  return r;
}

std::vector<FieldViolation> ValidateReferral(const v1::Referral& r, absl::Time now,
                                             const ValidationLimits& limits, int64_t* unlisted) {
  Violations v;
  // Who submitted it.
  if (r.source_system().empty()) {
    v.Add("source_system", "required: the submitting system's identifier");
  } else if ((r.source_system().size() > 64 ||
              !std::all_of(r.source_system().begin(), r.source_system().end(), [](char c) {
                return absl::ascii_isalnum(c) || std::strchr("._:-", c) != nullptr;
              }))) {
    v.Add("source_system", "1-64 letters, digits, '.', '_', ':' or '-'");
  }
  if (r.source_referral_id().empty()) {
    v.Add("source_referral_id", "required: the submitting system's own id for this referral");
  } else if (r.source_referral_id().size() > 128 ||
             !IsPrintableToken(r.source_referral_id(), "|")) {
    v.Add("source_referral_id", "1-128 printable characters without spaces or '|'");
  }
  if (r.referrer().ods_code().empty()) {
    v.Add("referrer.ods_code", "required: the referring organisation's ODS code");
  } else if (!IsValidOdsCode(r.referrer().ods_code())) {
    v.Add("referrer.ods_code", "not a well-formed ODS code (e.g. A81001)");
  }
  if (r.referrer().role() == v1::REFERRER_ROLE_UNSPECIFIED) {
    v.Add("referrer.role", "required");
  } else if (!v1::ReferrerRole_IsValid(r.referrer().role())) {
    v.Add("referrer.role", absl::StrCat("unknown value ", r.referrer().role()));
  }
  v.MaxLength("referrer.name", r.referrer().name(), limits.max_name_length);
  v.MaxLength("referrer.contact", r.referrer().contact(), 254);

  if (r.has_sealed()) {
    v.Add("sealed", "set by intake only: submit identity and notes in their own fields");
  }

  // The person.
  const auto& id = r.identity();
  if (!id.nhs_number().empty()) {
    if (!IsValidNhsNumber(id.nhs_number())) {
      v.Add("identity.nhs_number",
            "not a valid NHS number (10 digits with a modulus-11 check digit)");
    }
    if (id.nhs_number_absence() != v1::NHS_NUMBER_ABSENCE_UNSPECIFIED) {
      v.Add("identity.nhs_number_absence", "must not be set when an NHS number is given");
    }
  } else if (id.nhs_number_absence() == v1::NHS_NUMBER_ABSENCE_UNSPECIFIED) {
    v.Add("identity.nhs_number", "required, or state why there is none in nhs_number_absence");
  } else if (!v1::NhsNumberAbsence_IsValid(id.nhs_number_absence())) {
    v.Add("identity.nhs_number_absence", absl::StrCat("unknown value ", id.nhs_number_absence()));
  }
  if (id.given_name().empty() && id.family_name().empty()) {
    v.Add("identity.family_name", "a given or family name is required");
  }
  v.MaxLength("identity.given_name", id.given_name(), limits.max_name_length);
  v.MaxLength("identity.family_name", id.family_name(), limits.max_name_length);
  v.MaxLength("identity.preferred_name", id.preferred_name(), limits.max_name_length);
  if (!id.has_date_of_birth()) {
    v.Add("identity.date_of_birth", "required");
  } else if (!ValidDate(id.date_of_birth())) {
    v.Add("identity.date_of_birth", "not a calendar date");
  } else {
    int age = AgeInYears(id.date_of_birth(), now);
    if (age < 0) {
      v.Add("identity.date_of_birth", "in the future");
    } else if (age > limits.max_age_years) {
      v.Add("identity.date_of_birth", absl::StrCat("gives an age over ", limits.max_age_years));
    }
  }
  if (id.address_lines_size() > limits.max_address_lines) {
    v.Add("identity.address_lines", absl::StrCat("more than ", limits.max_address_lines, " lines"));
  }
  for (int i = 0; i < id.address_lines_size() && i < limits.max_address_lines; ++i) {
    v.MaxLength(absl::StrCat("identity.address_lines[", i, "]"), id.address_lines(i),
                limits.max_name_length);
  }
  if (!id.postcode().empty() && !NormalisePostcode(id.postcode())) {
    v.Add("identity.postcode", "not a well-formed UK postcode");
  }
  v.MaxLength("identity.phone", id.phone(), 32);
  if (!id.email().empty() &&
      (id.email().size() > 254 || id.email().find('@') == std::string::npos)) {
    v.Add("identity.email", "not an email address");
  }

  // What matching needs.
  const auto& p = r.profile();
  if (!p.home_postcode().empty() && !NormalisePostcode(p.home_postcode())) {
    v.Add("profile.home_postcode", "not a well-formed UK postcode");
  }
  if (p.imd_decile() < 0 || p.imd_decile() > 10) {
    v.Add("profile.imd_decile", "must be 1 (most deprived) to 10, or 0 when unknown");
  } else if (p.imd_decile() > 0 && p.imd_edition().empty()) {
    v.Add("profile.imd_edition", "required with an IMD decile (e.g. IoD2019, IoD2025)");
  }
  const std::string& language = p.preferred_language();
  if (!language.empty() && (language.size() != 2 || !absl::ascii_islower(language[0]) ||
                            !absl::ascii_islower(language[1]))) {
    v.Add("profile.preferred_language", "an ISO 639-1 code such as \"en\" or \"pl\"");
  }
  if (!v1::CommunicationMode_IsValid(p.communication_mode())) {
    v.Add("profile.communication_mode", absl::StrCat("unknown value ", p.communication_mode()));
  }
  if (!v1::Sex_IsValid(p.sex())) v.Add("profile.sex", absl::StrCat("unknown value ", p.sex()));
  if (!v1::EthnicCategory_IsValid(p.ethnic_category())) {
    v.Add("profile.ethnic_category", absl::StrCat("unknown value ", p.ethnic_category()));
  }
  if (!v1::HousingSituation_IsValid(p.housing())) {
    v.Add("profile.housing", absl::StrCat("unknown value ", p.housing()));
  }
  // Past the bound one violation says so: each further entry would only repeat it.
  if (p.inclusion_groups_size() > limits.max_inclusion_groups) {
    v.Add("profile.inclusion_groups", absl::StrCat(p.inclusion_groups_size(), " entries; at most ",
                                                   limits.max_inclusion_groups));
  }
  for (int i = 0; i < p.inclusion_groups_size() && i < limits.max_inclusion_groups; ++i) {
    if (p.inclusion_groups(i) == v1::INCLUSION_GROUP_UNSPECIFIED ||
        !v1::InclusionGroup_IsValid(p.inclusion_groups(i))) {
      v.Add(absl::StrCat("profile.inclusion_groups[", i, "]"),
            absl::StrCat("unknown value ", p.inclusion_groups(i)));
    }
  }

  // Consent.
  if (!r.consent().referral_consent()) {
    v.Add(kConsentField, "the person's consent to referral is required");
  } else if (!r.consent().has_recorded_at()) {
    v.Add("consent.recorded_at", "required: when consent was recorded");
  } else if (ToTime(r.consent().recorded_at()) > now + absl::Minutes(5)) {
    v.Add("consent.recorded_at", "in the future");
  }

  // Needs.
  if (r.needs_size() == 0) {
    v.Add("needs", "at least one need is required");
  } else if (r.needs_size() > limits.max_needs) {
    v.Add("needs", absl::StrCat("at most ", limits.max_needs, " needs"));
  }
  for (int i = 0; i < r.needs_size() && i < limits.max_needs; ++i) {
    const auto& need = r.needs(i);
    std::string path = absl::StrCat("needs[", i, "]");
    if (need.category() == v1::NEED_CATEGORY_UNSPECIFIED) {
      v.Add(path + ".category", "required: a need category from the catalogue");
    } else if (!v1::NeedCategory_IsValid(need.category())) {
      v.Add(path + ".category", absl::StrCat("unknown need category ", need.category()));
    }
    if (!need.snomed_code().empty() && !IsValidSnomedConceptId(need.snomed_code())) {
      v.Add(path + ".snomed_code", "not a SNOMED CT concept id (6-18 digits, Verhoeff check)");
    }
    v.MaxLength(path + ".description", need.description(), limits.max_description_length);
  }

  if (!v1::Urgency_IsValid(r.urgency())) {
    v.Add("urgency", absl::StrCat("unknown value ", r.urgency()));
  }
  v.MaxLength("notes", r.notes(), limits.max_notes_length);
  if (r.has_referred_at() && ToTime(r.referred_at()) > now + absl::Minutes(5)) {
    v.Add("referred_at", "in the future");
  }
  return v.Take(unlisted);
}

absl::Status ValidationStatus(const std::vector<FieldViolation>& violations, int64_t unlisted) {
  if (violations.size() == 1 && unlisted == 0 && violations[0].field == kConsentField) {
    return FailedPreconditionWithViolations(violations);
  }
  return StatusWithViolations(absl::StatusCode::kInvalidArgument, violations, unlisted);
}

}  // namespace signpost::intake
