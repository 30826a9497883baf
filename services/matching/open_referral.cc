#include "services/matching/open_referral.h"

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/matching/resource_validation.h"

namespace signpost::matching {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& Arr(const json& j, const char* key) {
  static const json kEmpty = json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

// Taxonomy terms (LGA "Needs and Circumstances" and common local vocabularies) by keyword.
std::vector<v1::NeedCategory> NeedsOf(const std::string& term) {
  static const std::vector<std::pair<std::vector<std::string>, v1::NeedCategory>> kKeywords = {
      {{"lonel", "isolat", "befriend", "social contact", "friendship"},
       v1::NEED_CATEGORY_LONELINESS},
      {{"mental", "wellbeing", "anxiety", "depress", "stress"}, v1::NEED_CATEGORY_MENTAL_WELLBEING},
      {{"walk", "exercise", "sport", "physical activity", "fitness", "dance"},
       v1::NEED_CATEGORY_PHYSICAL_ACTIVITY},
      {{"debt", "money", "benefit", "financ", "welfare"}, v1::NEED_CATEGORY_DEBT_AND_MONEY},
      {{"housing", "homeless", "tenan"}, v1::NEED_CATEGORY_HOUSING},
      {{"carer"}, v1::NEED_CATEGORY_CARER_SUPPORT},
      {{"long-term condition", "long term condition", "diabetes", "self-management"},
       v1::NEED_CATEGORY_LONG_TERM_CONDITION},
      {{"employ", "job", "volunteer", "training"}, v1::NEED_CATEGORY_EMPLOYMENT},
      {{"art", "craft", "music", "creative", "choir"}, v1::NEED_CATEGORY_ARTS_AND_CREATIVITY},
      {{"garden", "nature", "allotment", "green"}, v1::NEED_CATEGORY_GARDENING_AND_NATURE},
      {{"food", "cook", "nutrition", "meal"}, v1::NEED_CATEGORY_FOOD_AND_NUTRITION},
      {{"bereave", "grief"}, v1::NEED_CATEGORY_BEREAVEMENT},
      {{"legal", "law"}, v1::NEED_CATEGORY_LEGAL_ADVICE},
      {{"esol", "english language", "adult learning", "education"},
       v1::NEED_CATEGORY_LANGUAGE_AND_LEARNING},
      {{"digital", "computer", "internet"}, v1::NEED_CATEGORY_DIGITAL_SKILLS},
      {{"practical", "transport", "shopping"}, v1::NEED_CATEGORY_PRACTICAL_SUPPORT},
      {{"alcohol", "drug", "substance"}, v1::NEED_CATEGORY_SUBSTANCE_USE},
      {{"domestic abuse", "domestic violence"}, v1::NEED_CATEGORY_DOMESTIC_ABUSE},
  };
  std::string lower = absl::AsciiStrToLower(term);
  std::vector<v1::NeedCategory> out;
  for (const auto& [words, need] : kKeywords) {
    for (const auto& w : words) {
      if (absl::StrContains(lower, w)) {
        out.push_back(need);
        break;
      }
    }
  }
  return out;
}

std::string LanguageCode(const std::string& text) {
  static const std::map<std::string, std::string> kNames = {
      {"english", "en"},  {"welsh", "cy"},      {"polish", "pl"},     {"urdu", "ur"},
      {"punjabi", "pa"},  {"bengali", "bn"},    {"arabic", "ar"},     {"somali", "so"},
      {"romanian", "ro"}, {"gujarati", "gu"},   {"chinese", "zh"},    {"spanish", "es"},
      {"french", "fr"},   {"portuguese", "pt"}, {"kurdish", "ku"},    {"farsi", "fa"},
      {"persian", "fa"},  {"tigrinya", "ti"},   {"ukrainian", "uk"},  {"russian", "ru"},
      {"tamil", "ta"},    {"hindi", "hi"},      {"lithuanian", "lt"}, {"turkish", "tr"},
      {"pashto", "ps"}};
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower.size() == 2) return lower;
  auto it = kNames.find(lower);
  return it == kNames.end() ? "" : it->second;
}

bool DateOf(const std::string& text, v1::CalendarDate* out) {
  std::vector<std::string> parts = absl::StrSplit(text.substr(0, 10), '-');
  int y, m, d;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
      !absl::SimpleAtoi(parts[2], &d)) {
    return false;
  }
  out->set_year(y);
  out->set_month(m);
  out->set_day(d);
  return true;
}

absl::StatusOr<v1::Resource> MapService(const json& s) {
  v1::Resource r;
  r.set_id(Str(s, "id"));
  r.set_name(Str(s, "name"));
  r.set_description(Str(s, "description"));
  r.mutable_contact()->set_url(Str(s, "url"));
  r.mutable_contact()->set_email(Str(s, "email"));
  std::string status = absl::AsciiStrToLower(Str(s, "status"));
  if (status == "active")
    r.set_status(v1::RESOURCE_STATUS_ACTIVE);
  else if (status == "inactive")
    r.set_status(v1::RESOURCE_STATUS_INACTIVE);
  else if (status == "defunct")
    r.set_status(v1::RESOURCE_STATUS_DEFUNCT);
  else if (status == "temporarily closed")
    r.set_status(v1::RESOURCE_STATUS_TEMPORARILY_CLOSED);
  if (auto org = s.find("organization"); org != s.end() && org->is_object()) {
    r.mutable_organization()->set_id(Str(*org, "id"));
    r.mutable_organization()->set_name(Str(*org, "name"));
  }
  if (std::string assured = Str(s, "assured_date"); !assured.empty()) {
    if (!DateOf(assured, r.mutable_assured_date())) {
      return absl::InvalidArgumentError("assured_date: not a YYYY-MM-DD date");
    }
  }
  if (auto a = s.find("minimum_age"); a != s.end() && a->is_number()) r.set_minimum_age(*a);
  if (auto a = s.find("maximum_age"); a != s.end() && a->is_number()) r.set_maximum_age(*a);
  for (const auto& l : Arr(s, "languages")) {
    // ORUK 2: {"language": "English"}; HSDS 3.0: {"name": "English", "code": "en"}.
    std::string code = l.is_string() ? LanguageCode(l.get<std::string>()) : "";
    for (const char* key : {"language", "code", "name"}) {
      if (code.empty() && l.is_object()) code = LanguageCode(Str(l, key));
    }
    if (!code.empty()) r.add_languages(code);
  }
  for (const auto& c : Arr(s, "cost_options")) {
    auto amount = c.find("amount");
    if ((amount != c.end() && amount->is_number() && amount->get<double>() == 0) ||
        absl::AsciiStrToLower(Str(c, "option")) == "free") {
      r.set_free(true);
    } else if (!Str(c, "option").empty()) {
      r.set_cost_description(Str(c, "option"));
    }
  }
  // ORUK 2 calls them regular_schedules, HSDS 3.0 schedules.
  const json& schedules =
      Arr(s, "regular_schedules").empty() ? Arr(s, "schedules") : Arr(s, "regular_schedules");
  for (const auto& sch : schedules) {
    auto* out = r.add_schedules();
    out->set_freq(Str(sch, "freq"));
    for (auto day : absl::StrSplit(Str(sch, "byday"), ',', absl::SkipEmpty())) {
      out->add_byday(std::string(absl::StripAsciiWhitespace(day)));
    }
    out->set_opens_at(Str(sch, "opens_at"));
    out->set_closes_at(Str(sch, "closes_at"));
    out->set_description(Str(sch, "description"));
  }
  for (const auto& area : Arr(s, "service_areas")) {
    std::string name = area.is_string() ? area.get<std::string>() : Str(area, "service_area");
    if (name.empty() && area.is_object()) name = Str(area, "name");  // HSDS 3.0
    if (!name.empty()) r.add_service_areas(name);
  }
  for (const auto& sal : Arr(s, "service_at_locations")) {
    auto loc_it = sal.find("location");
    if (loc_it == sal.end() || !loc_it->is_object()) continue;
    const json& loc = *loc_it;
    auto* out = r.add_locations();
    out->set_id(Str(loc, "id"));
    out->set_name(Str(loc, "name"));
    auto lat = loc.find("latitude"), lon = loc.find("longitude");
    if (lat != loc.end() && lon != loc.end() && lat->is_number() && lon->is_number()) {
      out->set_type(v1::LOCATION_TYPE_PHYSICAL);
      out->mutable_point()->set_latitude(*lat);
      out->mutable_point()->set_longitude(*lon);
    } else {
      out->set_type(v1::LOCATION_TYPE_VIRTUAL);
    }
    // ORUK 2: physical_addresses; HSDS 3.0: addresses with an address_type (the physical one).
    const json* address = nullptr;
    for (const auto& a : Arr(loc, "physical_addresses")) {
      if (address == nullptr) address = &a;
    }
    for (const auto& a : Arr(loc, "addresses")) {
      if (address == nullptr || Str(a, "address_type") == "physical") address = &a;
    }
    if (address != nullptr) {
      out->add_address_lines(Str(*address, "address_1"));
      out->set_postcode(Str(*address, "postal_code"));
    }
    std::vector<std::string> notes;
    // ORUK 2: accessibility_for_disabilities[].accessibility; HSDS 3.0:
    // accessibility[].description.
    std::vector<const json*> accessibility;
    for (const auto& a : Arr(loc, "accessibility_for_disabilities")) accessibility.push_back(&a);
    for (const auto& a : Arr(loc, "accessibility")) accessibility.push_back(&a);
    for (const json* a_ptr : accessibility) {
      const json& a = *a_ptr;
      std::string text = Str(a, "accessibility");
      if (text.empty()) text = Str(a, "description");
      notes.push_back(text);
      std::string lower = absl::AsciiStrToLower(text);
      if (absl::StrContains(lower, "step-free") || absl::StrContains(lower, "step free") ||
          absl::StrContains(lower, "wheelchair") || absl::StrContains(lower, "level access") ||
          absl::StrContains(lower, "ramp")) {
        r.mutable_access()->set_step_free(true);
      }
      if (absl::StrContains(lower, "hearing loop") || absl::StrContains(lower, "induction loop")) {
        r.mutable_access()->set_hearing_loop(true);
      }
      if (absl::StrContains(lower, "bsl") || absl::StrContains(lower, "sign language")) {
        r.mutable_access()->set_bsl(true);
      }
      if (absl::StrContains(lower, "interpreter")) r.mutable_access()->set_interpreter(true);
    }
    out->set_accessibility(absl::StrJoin(notes, "; "));
  }
  std::vector<std::string> unmapped;
  // ORUK 2: service_taxonomys[].taxonomy; HSDS 3.0: attributes[].taxonomy_term.
  std::vector<std::pair<const json*, const char*>> terms;
  for (const auto& t : Arr(s, "service_taxonomys")) terms.push_back({&t, "taxonomy"});
  for (const auto& t : Arr(s, "attributes")) terms.push_back({&t, "taxonomy_term"});
  for (const auto& [t_ptr, nested] : terms) {
    const json& t = *t_ptr;
    if (!t.is_object()) continue;
    auto tax = t.find(nested);
    std::string term = tax != t.end() && tax->is_object() ? Str(*tax, "name") : Str(t, "name");
    if (term.empty()) continue;
    r.add_taxonomy_terms(term);
    auto needs = NeedsOf(term);
    if (needs.empty()) unmapped.push_back(term);
    for (auto need : needs) {
      if (std::find(r.need_categories().begin(), r.need_categories().end(), need) ==
          r.need_categories().end()) {
        r.add_need_categories(need);
      }
    }
  }
  if (r.need_categories_size() == 0) {
    return absl::InvalidArgumentError(
        unmapped.empty()
            ? "service_taxonomys/attributes: no taxonomy term given, so no need category"
            : absl::StrCat("service_taxonomys/attributes: no term maps to a need category (",
                           absl::StrJoin(unmapped, ", "), ")"));
  }
  for (const auto& e : Arr(s, "eligibilitys")) {
    std::string text = absl::AsciiStrToLower(Str(e, "eligibility"));
    if (absl::StrContains(text, "veteran")) r.add_eligibility(v1::INCLUSION_GROUP_VETERAN);
    if (absl::StrContains(text, "carer")) r.add_eligibility(v1::INCLUSION_GROUP_CARER);
    if (absl::StrContains(text, "young")) r.add_eligibility(v1::INCLUSION_GROUP_YOUNG_PERSON);
    if (absl::StrContains(text, "older")) r.add_eligibility(v1::INCLUSION_GROUP_OLDER_PERSON);
    if (absl::StrContains(text, "women")) r.add_eligibility(v1::INCLUSION_GROUP_WOMEN_ONLY);
    if (absl::StrContains(text, "men only")) r.add_eligibility(v1::INCLUSION_GROUP_MEN_ONLY);
  }
  if (auto cap = s.find("x_signpost_capacity"); cap != s.end() && cap->is_object()) {
    auto* out = r.mutable_capacity();
    if (auto v = cap->find("places_total"); v != cap->end() && v->is_number())
      out->set_places_total(*v);
    if (auto v = cap->find("places_available"); v != cap->end() && v->is_number()) {
      out->set_places_available(*v);
    }
    if (auto v = cap->find("waitlist_open"); v != cap->end() && v->is_boolean()) {
      out->set_waitlist_open(*v);
    }
  }
  bool located = std::any_of(r.locations().begin(), r.locations().end(),
                             [](const auto& l) { return l.type() == v1::LOCATION_TYPE_PHYSICAL; });
  const json& modes = Arr(s, "x_signpost_delivery_modes");
  for (const auto& m : modes) {
    std::string mode = m.is_string() ? absl::AsciiStrToLower(m.get<std::string>()) : "";
    if (mode == "in_person")
      r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
    else if (mode == "online")
      r.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
    else if (mode == "phone")
      r.add_delivery_modes(v1::DELIVERY_MODE_PHONE);
    else if (mode == "home_visit")
      r.add_delivery_modes(v1::DELIVERY_MODE_HOME_VISIT);
    else
      return absl::InvalidArgumentError(
          absl::StrCat("x_signpost_delivery_modes: unknown '", mode, "'"));
  }
  if (modes.empty()) {
    r.add_delivery_modes(located ? v1::DELIVERY_MODE_IN_PERSON : v1::DELIVERY_MODE_ONLINE);
  }
  auto violations = ValidateResource(r);
  if (!violations.empty()) {
    std::vector<std::string> texts;
    for (const auto& v : violations) texts.push_back(absl::StrCat(v.field, ": ", v.description));
    return absl::InvalidArgumentError(absl::StrJoin(texts, "; "));
  }
  return r;
}

}  // namespace

absl::StatusOr<std::vector<OpenReferralRecord>> ResourcesFromOpenReferral(absl::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  const json* services = &doc;
  if (doc.is_object()) {
    for (const char* key : {"services", "items", "content"}) {
      if (auto it = doc.find(key); it != doc.end() && it->is_array()) services = &*it;
    }
  }
  if (!services->is_array()) {
    return absl::InvalidArgumentError("expected an array of services (or services/items/content)");
  }
  std::vector<OpenReferralRecord> out;
  for (const auto& s : *services) {
    if (!s.is_object()) {
      out.push_back({"", absl::InvalidArgumentError("not a service object")});
      continue;
    }
    out.push_back({Str(s, "id"), MapService(s)});
  }
  return out;
}

}  // namespace signpost::matching
