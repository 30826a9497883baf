#include "services/matching/oruk_service_json.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "services/matching/oruk_ids.h"
#include "signpost/v1/common.pb.h"

namespace signpost::matching {
namespace {

using nlohmann::json;

// "NEED_CATEGORY_MENTAL_WELLBEING" without its prefix, as words: "Mental wellbeing".
std::string Words(const std::string& enum_name, const std::string& prefix) {
  std::string text = absl::AsciiStrToLower(absl::StrReplaceAll(
      enum_name.substr(std::min(prefix.size(), enum_name.size())), {{"_", " "}}));
  if (!text.empty()) text[0] = absl::ascii_toupper(text[0]);
  return text;
}

OrukTerm EnumTerm(const std::string& enum_name, const std::string& prefix,
                  const std::string& taxonomy, const std::string& description,
                  const std::string& link_type) {
  return {.id = NameBasedUuid(absl::StrCat("taxonomy_term:", taxonomy, ":", enum_name)),
          .name = Words(enum_name, prefix),
          .description = description,
          .taxonomy = taxonomy,
          .term = enum_name,
          .link_type = link_type};
}

const char* StatusName(v1::ResourceStatus status) {
  switch (status) {
    case v1::RESOURCE_STATUS_ACTIVE:
      return "active";
    case v1::RESOURCE_STATUS_DEFUNCT:
      return "defunct";
    case v1::RESOURCE_STATUS_TEMPORARILY_CLOSED:
      return "temporarily closed";
    default:  // inactive, and a status this build does not know (never published as active)
      return "inactive";
  }
}

const char* LocationTypeName(v1::LocationType type) {
  switch (type) {
    case v1::LOCATION_TYPE_POSTAL:
      return "postal";
    case v1::LOCATION_TYPE_VIRTUAL:
      return "virtual";
    default:  // physical, and unspecified: a location with a place on a map
      return "physical";
  }
}

// Only values the schema's formats accept: a web address for `uri`, an address for `email`.
bool IsWebAddress(const std::string& url) {
  return absl::StartsWith(url, "https://") || absl::StartsWith(url, "http://");
}
bool IsEmailAddress(const std::string& email) {
  return email.find('@') != std::string::npos && email.find(' ') == std::string::npos;
}

std::string ServiceId(const v1::Resource& r) { return OrukId("service", r.id()); }

// Of the service itself: one organisation id for every service it runs.
std::string OrganizationId(const v1::Organization& org) {
  return OrukId("organization", org.id().empty() ? org.name() : org.id());
}
bool HasOrganization(const v1::Resource& r) {
  return r.has_organization() &&
         !(r.organization().id().empty() && r.organization().name().empty());
}

// The one-to-one fields, shared by the list item and the full service.
json OneToOne(const v1::Resource& r) {
  json out = json::object();
  out["id"] = ServiceId(r);
  if (HasOrganization(r)) out["organization_id"] = OrganizationId(r.organization());
  out["name"] = r.name();
  out["description"] = r.description();
  if (IsWebAddress(r.contact().url())) out["url"] = r.contact().url();
  if (IsEmailAddress(r.contact().email())) out["email"] = r.contact().email();
  out["status"] = StatusName(r.status());
  if (r.minimum_age() > 0) out["minimum_age"] = r.minimum_age();
  if (r.maximum_age() > 0) out["maximum_age"] = r.maximum_age();
  if (r.assured_date().year() > 0) {
    out["assured_date"] = absl::StrFormat("%04d-%02d-%02d", r.assured_date().year(),
                                          r.assured_date().month(), r.assured_date().day());
  }
  if (r.has_updated_at()) out["last_modified"] = Rfc3339(r.updated_at());
  out["signpost_id"] = r.id();
  return out;
}

json Organization(const v1::Organization& org, bool nested) {
  const std::string id = OrganizationId(org);
  json out = {{"id", id}, {"name", org.name()}, {"description", ""}};
  if (IsWebAddress(org.url())) out["website"] = org.url();
  if (nested && !org.id().empty()) {
    out["organization_identifiers"] =
        json::array({{{"id", NameBasedUuid(absl::StrCat("organization_identifier:", id))},
                      {"organization_id", id},
                      {"identifier_scheme", "signpost"},
                      {"identifier_type", "Signpost organisation id"},
                      {"identifier", org.id()}}});
  }
  return out;
}

// `repeated`: an earlier location of the service has the same id; this one is then told apart
// by its position, so each location keeps an id of its own.
json Location(const v1::Resource& r, const v1::ResourceLocation& loc, size_t index, bool repeated) {
  const std::string id =
      IsLowerCaseUuid(loc.id()) && !repeated
          ? loc.id()
          : NameBasedUuid(
                absl::StrCat("location:", r.id(), "/",
                             loc.id().empty() || repeated ? absl::StrCat("#", index) : loc.id(),
                             repeated ? absl::StrCat("@", loc.id()) : ""));
  json out = {{"id", id}, {"location_type", LocationTypeName(loc.type())}};
  if (!loc.name().empty()) out["name"] = loc.name();
  if (loc.has_point()) {
    out["latitude"] = loc.point().latitude();
    out["longitude"] = loc.point().longitude();
  }
  const auto& lines = loc.address_lines();
  if (loc.type() != v1::LOCATION_TYPE_VIRTUAL && (!lines.empty() || !loc.postcode().empty())) {
    // Signpost holds address lines and a postcode; the town, when given, is the last line.
    json address = {{"id", NameBasedUuid(absl::StrCat("address:", id))},
                    {"location_id", id},
                    {"address_1", lines.empty() ? "" : lines[0]},
                    {"city", lines.size() >= 2 ? lines[lines.size() - 1] : ""},
                    {"state_province", ""},
                    {"postal_code", loc.postcode()},
                    {"country", "GB"},
                    {"address_type", LocationTypeName(loc.type())}};
    if (lines.size() >= 3) {
      address["address_2"] =
          absl::StrJoin(std::vector<std::string>(lines.begin() + 1, lines.end() - 1), ", ");
    }
    out["addresses"] = json::array({std::move(address)});
  }
  if (!loc.accessibility().empty()) {
    out["accessibility"] = json::array({{{"id", NameBasedUuid(absl::StrCat("accessibility:", id))},
                                         {"location_id", id},
                                         {"description", loc.accessibility()}}});
  }
  return out;
}

// An id for the `index`th item of kind `kind` belonging to service `service_id`.
std::string ChildId(const std::string& kind, const std::string& service_id,
                    const std::string& key) {
  return NameBasedUuid(absl::StrCat(kind, ":", service_id, "/", key));
}

}  // namespace

std::vector<OrukTerm> TermsOf(const v1::Resource& r) {
  std::vector<OrukTerm> terms;
  // A term given twice is one term (one attribute, one id).
  absl::flat_hash_set<std::string> seen;
  auto add = [&](OrukTerm term) {
    if (seen.insert(term.id).second) terms.push_back(std::move(term));
  };
  for (int need : r.need_categories()) {
    if (need == v1::NEED_CATEGORY_UNSPECIFIED || !v1::NeedCategory_IsValid(need)) continue;
    add(EnumTerm(v1::NeedCategory_Name(need), "NEED_CATEGORY_", "Signpost need categories",
                 "A need Signpost matches referrals to this service for", "need_category"));
  }
  for (const std::string& published : r.taxonomy_terms()) {
    if (published.empty()) continue;
    add({.id = NameBasedUuid(absl::StrCat("taxonomy_term:published:", published)),
         .name = published,
         .description = "A taxonomy term as the directory's publisher gave it",
         .taxonomy = "As published",
         .term = published,
         .link_type = "taxonomy_term"});
  }
  for (int group : r.eligibility()) {
    if (group == v1::INCLUSION_GROUP_UNSPECIFIED || !v1::InclusionGroup_IsValid(group)) continue;
    add(EnumTerm(v1::InclusionGroup_Name(group), "INCLUSION_GROUP_", "Signpost eligibility",
                 "Only people in this group are eligible", "eligibility"));
  }
  for (int mode : r.delivery_modes()) {
    if (mode == v1::DELIVERY_MODE_UNSPECIFIED || !v1::DeliveryMode_IsValid(mode)) continue;
    add(EnumTerm(v1::DeliveryMode_Name(mode), "DELIVERY_MODE_", "Signpost delivery modes",
                 "How the service is delivered", "delivery_mode"));
  }
  return terms;
}

json ApiDetails() {
  return {{"version", "HSDS-UK-3.0"},
          {"profile", "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"},
          {"openapi_url", "https://docs.openreferraluk.org/en/latest/openapi30.json"}};
}

json ServiceListItem(const v1::Resource& r) {
  json out = OneToOne(r);
  if (HasOrganization(r)) out["organization"] = Organization(r.organization(), /*nested=*/false);
  return out;
}

json FullService(const v1::Resource& r) {
  json out = OneToOne(r);
  const std::string id = out["id"];
  if (HasOrganization(r)) out["organization"] = Organization(r.organization(), /*nested=*/true);

  json schedules = json::array();
  for (int i = 0; i < r.schedules_size(); ++i) {
    const v1::Schedule& s = r.schedules(i);
    json schedule = {{"id", ChildId("schedule", id, absl::StrCat(i))}, {"service_id", id}};
    if (s.freq() == "WEEKLY" || s.freq() == "MONTHLY") schedule["freq"] = s.freq();
    if (!s.byday().empty()) schedule["byday"] = absl::StrJoin(s.byday(), ",");
    if (!s.opens_at().empty()) schedule["opens_at"] = s.opens_at();
    if (!s.closes_at().empty()) schedule["closes_at"] = s.closes_at();
    if (!s.description().empty()) schedule["description"] = s.description();
    schedules.push_back(std::move(schedule));
  }
  out["schedules"] = std::move(schedules);

  // An area, a location id or a language given twice is one item each: ids stay distinct.
  absl::flat_hash_set<std::string> seen_areas;
  json areas = json::array();
  for (const std::string& area : r.service_areas()) {
    if (!seen_areas.insert(area).second) continue;
    areas.push_back(
        {{"id", ChildId("service_area", id, area)}, {"service_id", id}, {"name", area}});
  }
  out["service_areas"] = std::move(areas);

  absl::flat_hash_set<std::string> seen_locations;
  json at_locations = json::array();
  for (int i = 0; i < r.locations_size(); ++i) {
    const std::string& given = r.locations(i).id();
    const bool repeated = !given.empty() && !seen_locations.insert(given).second;
    json location = Location(r, r.locations(i), static_cast<size_t>(i), repeated);
    const std::string location_id = location["id"];
    at_locations.push_back({{"id", ChildId("service_at_location", id, location_id)},
                            {"service_id", id},
                            {"location_id", location_id},
                            {"location", std::move(location)}});
  }
  out["service_at_locations"] = std::move(at_locations);

  absl::flat_hash_set<std::string> seen_languages;
  json languages = json::array();
  for (const std::string& code : r.languages()) {
    if (!seen_languages.insert(code).second) continue;
    // `code` (ISO 639) is HSDS 3.0's own field; the UK profile's language lists only ids.
    languages.push_back(
        {{"id", ChildId("language", id, code)}, {"service_id", id}, {"code", code}});
  }
  out["languages"] = std::move(languages);

  json costs = json::array();
  if (r.free()) {
    json free = {{"id", ChildId("cost_option", id, "free")},
                 {"service_id", id},
                 {"option", "Free"},
                 {"amount", 0}};
    if (!r.cost_description().empty()) free["amount_description"] = r.cost_description();
    costs.push_back(std::move(free));
  } else if (!r.cost_description().empty()) {
    costs.push_back({{"id", ChildId("cost_option", id, "cost")},
                     {"service_id", id},
                     {"option", r.cost_description()}});
  }
  out["cost_options"] = std::move(costs);

  // The UK profile's contact has a name and title only; the phone goes in HSDS 3.0's own
  // `phones` so a reader can still call.
  json contacts = json::array();
  if (!r.contact().phone().empty() || IsEmailAddress(r.contact().email())) {
    const std::string contact_id = ChildId("contact", id, "0");
    json contact = {{"id", contact_id}, {"service_id", id}};
    if (IsEmailAddress(r.contact().email())) contact["email"] = r.contact().email();
    if (!r.contact().phone().empty()) {
      contact["phones"] = json::array({{{"id", ChildId("phone", contact_id, "0")},
                                        {"contact_id", contact_id},
                                        {"number", r.contact().phone()}}});
    }
    contacts.push_back(std::move(contact));
  }
  out["contacts"] = std::move(contacts);

  json attributes = json::array();
  for (const OrukTerm& term : TermsOf(r)) {
    attributes.push_back({{"id", ChildId("attribute", id, term.id)},
                          {"link_id", id},
                          {"link_type", term.link_type},
                          {"taxonomy_term_id", term.id},
                          {"taxonomy_term",
                           {{"id", term.id},
                            {"name", term.name},
                            {"description", term.description},
                            {"taxonomy", term.taxonomy},
                            {"term", term.term}}}});
  }
  out["attributes"] = std::move(attributes);

  // HSDS 3.1's `capacities` (items service_capacity): the places left as matching takes them.
  json capacities = json::array();
  if (r.capacity().places_total() > 0) {
    const v1::Capacity& c = r.capacity();
    capacities.push_back(
        {{"id", ChildId("service_capacity", id, "places")},
         {"service_id", id},
         {"unit",
          {{"id", NameBasedUuid("unit:place")}, {"name", "Place"}, {"identifier", "place"}}},
         {"available", std::max(0, c.places_available())},
         {"maximum", c.places_total()},
         {"description", c.waitlist_open() ? "Places for new referrals; waiting list open"
                                           : "Places for new referrals; waiting list closed"},
         {"updated", Rfc3339(c.has_updated_at() ? c.updated_at() : r.updated_at())}});
  }
  out["capacities"] = std::move(capacities);
  return out;
}

json ServicePage(std::vector<json> contents, int64_t total_items, int page_number, int per_page) {
  const int64_t total_pages = (total_items + per_page - 1) / per_page;
  json out = {{"total_items", total_items},     {"total_pages", total_pages},
              {"page_number", page_number},     {"size", contents.size()},
              {"first_page", page_number == 1}, {"last_page", page_number >= total_pages},
              {"empty", contents.empty()}};
  out["contents"] = std::move(contents);
  return out;
}

json ErrorBody(int status, const std::string& message, const std::string& parameter) {
  json out = {{"status", status}, {"message", message}};
  if (!parameter.empty()) out["parameter"] = parameter;
  return out;
}

std::string Rfc3339(const google::protobuf::Timestamp& at) {
  absl::Time t = absl::FromUnixSeconds(at.seconds()) + absl::Nanoseconds(at.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace signpost::matching
