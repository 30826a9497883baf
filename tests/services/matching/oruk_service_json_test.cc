#include "services/matching/oruk_service_json.h"

#include <gtest/gtest.h>

#include <set>

#include "services/matching/oruk_ids.h"

namespace signpost::matching {
namespace {

using nlohmann::json;

v1::Resource Rich() {
  v1::Resource r;
  r.set_id("leeds-hp-walk-001");
  r.set_name("Headingley Health Walk");
  r.set_description("A gentle walk");
  r.set_status(v1::RESOURCE_STATUS_TEMPORARILY_CLOSED);
  r.mutable_organization()->set_id("leeds-council");
  r.mutable_organization()->set_name("Leeds City Council");
  r.mutable_organization()->set_url("https://www.leeds.gov.uk");
  r.mutable_contact()->set_phone("0113 222 4444");
  r.mutable_contact()->set_email("walks@leeds.gov.uk");
  r.mutable_contact()->set_url("not a web address");
  v1::ResourceLocation* loc = r.add_locations();
  loc->set_id("hq");
  loc->set_type(v1::LOCATION_TYPE_PHYSICAL);
  loc->set_name("Headingley Stadium");
  loc->mutable_point()->set_latitude(53.8176);
  loc->mutable_point()->set_longitude(-1.5822);
  loc->add_address_lines("St Michael's Lane");
  loc->add_address_lines("Headingley");
  loc->add_address_lines("Leeds");
  loc->set_postcode("LS6 3BR");
  loc->set_accessibility("Step-free");
  v1::Schedule* s = r.add_schedules();
  s->set_freq("WEEKLY");
  s->add_byday("MO");
  s->add_byday("TH");
  s->set_opens_at("10:00");
  s->set_closes_at("11:30");
  r.add_languages("en");
  r.add_languages("ur");
  r.set_free(true);
  r.set_minimum_age(18);
  r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  r.add_taxonomy_terms("Walking groups");
  r.add_eligibility(v1::INCLUSION_GROUP_OLDER_PERSON);
  r.add_service_areas("LS6");
  r.mutable_assured_date()->set_year(2026);
  r.mutable_assured_date()->set_month(3);
  r.mutable_assured_date()->set_day(9);
  r.mutable_capacity()->set_places_total(12);
  r.mutable_capacity()->set_places_available(5);
  r.mutable_capacity()->set_waitlist_open(true);
  r.mutable_capacity()->mutable_updated_at()->set_seconds(1769850000);
  r.mutable_updated_at()->set_seconds(1769846400);
  r.mutable_updated_at()->set_nanos(250000000);
  return r;
}

TEST(OrukServiceJsonTest, ListItemHasTheOneToOneFieldsAndTheOrganisation) {
  json item = ServiceListItem(Rich());
  EXPECT_EQ(item["id"], "cd6446b9-4c73-5cfb-a4e5-f0c891b1cf50");
  EXPECT_EQ(item["signpost_id"], "leeds-hp-walk-001");
  EXPECT_EQ(item["name"], "Headingley Health Walk");
  EXPECT_EQ(item["status"], "temporarily closed");
  EXPECT_EQ(item["email"], "walks@leeds.gov.uk");
  EXPECT_FALSE(item.contains("url")) << "not a URI: left out, not published invalid";
  EXPECT_EQ(item["minimum_age"], 18);
  EXPECT_FALSE(item.contains("maximum_age"));
  EXPECT_EQ(item["assured_date"], "2026-03-09");
  EXPECT_EQ(item["last_modified"], "2026-01-31T08:00:00.250Z");
  EXPECT_EQ(item["organization_id"], OrukId("organization", "leeds-council"));
  EXPECT_EQ(item["organization"]["id"], item["organization_id"]);
  EXPECT_EQ(item["organization"]["website"], "https://www.leeds.gov.uk");
  EXPECT_FALSE(item.contains("service_at_locations"));
  EXPECT_FALSE(item.contains("capacities"));
}

TEST(OrukServiceJsonTest, FullServiceIsNested) {
  json s = FullService(Rich());
  const std::string id = s["id"];
  ASSERT_EQ(s["service_at_locations"].size(), 1u);
  const json& at = s["service_at_locations"][0];
  EXPECT_EQ(at["service_id"], id);
  const json& loc = at["location"];
  EXPECT_EQ(at["location_id"], loc["id"]);
  EXPECT_TRUE(IsLowerCaseUuid(loc["id"].get<std::string>()));
  EXPECT_EQ(loc["location_type"], "physical");
  EXPECT_DOUBLE_EQ(loc["latitude"].get<double>(), 53.8176);
  EXPECT_DOUBLE_EQ(loc["longitude"].get<double>(), -1.5822);
  const json& address = loc["addresses"][0];
  EXPECT_EQ(address["address_1"], "St Michael's Lane");
  EXPECT_EQ(address["address_2"], "Headingley");
  EXPECT_EQ(address["city"], "Leeds");
  EXPECT_EQ(address["postal_code"], "LS6 3BR");
  EXPECT_EQ(address["country"], "GB");
  EXPECT_EQ(loc["accessibility"][0]["description"], "Step-free");

  EXPECT_EQ(s["schedules"][0]["freq"], "WEEKLY");
  EXPECT_EQ(s["schedules"][0]["byday"], "MO,TH");
  EXPECT_EQ(s["schedules"][0]["opens_at"], "10:00");
  EXPECT_EQ(s["languages"].size(), 2u);
  EXPECT_EQ(s["languages"][1]["code"], "ur");
  EXPECT_EQ(s["cost_options"][0]["option"], "Free");
  EXPECT_EQ(s["cost_options"][0]["amount"], 0);
  EXPECT_EQ(s["service_areas"][0]["name"], "LS6");
  EXPECT_EQ(s["contacts"][0]["phones"][0]["number"], "0113 222 4444");
  EXPECT_EQ(s["organization"]["organization_identifiers"][0]["identifier"], "leeds-council");

  ASSERT_EQ(s["attributes"].size(), 3u);
  EXPECT_EQ(s["attributes"][0]["link_type"], "need_category");
  EXPECT_EQ(s["attributes"][0]["taxonomy_term"]["term"], "NEED_CATEGORY_PHYSICAL_ACTIVITY");
  EXPECT_EQ(s["attributes"][0]["taxonomy_term"]["name"], "Physical activity");
  EXPECT_EQ(s["attributes"][0]["taxonomy_term_id"], s["attributes"][0]["taxonomy_term"]["id"]);
  EXPECT_EQ(s["attributes"][1]["taxonomy_term"]["name"], "Walking groups");
  EXPECT_EQ(s["attributes"][2]["link_type"], "eligibility");
}

TEST(OrukServiceJsonTest, CapacityIsHsds31ServiceCapacity) {
  json s = FullService(Rich());
  ASSERT_EQ(s["capacities"].size(), 1u);
  const json& c = s["capacities"][0];
  EXPECT_TRUE(IsLowerCaseUuid(c["id"].get<std::string>()));
  EXPECT_EQ(c["available"], 5);
  EXPECT_EQ(c["maximum"], 12);
  EXPECT_EQ(c["unit"]["name"], "Place");
  EXPECT_EQ(c["updated"], "2026-01-31T09:00:00.000Z");

  v1::Resource overbooked = Rich();
  overbooked.mutable_capacity()->set_places_available(-2);
  EXPECT_EQ(FullService(overbooked)["capacities"][0]["available"], 0);
  v1::Resource unlimited = Rich();
  unlimited.clear_capacity();
  EXPECT_TRUE(FullService(unlimited)["capacities"].empty());
}

TEST(OrukServiceJsonTest, ChildIdsAreStableAndDistinct) {
  json a = FullService(Rich());
  json b = FullService(Rich());
  EXPECT_EQ(a, b);
  EXPECT_NE(a["languages"][0]["id"], a["languages"][1]["id"]);
  v1::Resource other = Rich();
  other.set_id("another");
  EXPECT_NE(FullService(other)["service_at_locations"][0]["location"]["id"],
            a["service_at_locations"][0]["location"]["id"]);
}

// A publisher's record may repeat an area, a language, a term or a location id; each item of the
// full service is still one entity with an id of its own (ids are what readers key on).
TEST(OrukServiceJsonTest, RepeatedValuesGiveNoRepeatedIds) {
  v1::Resource r = Rich();
  r.add_service_areas(r.service_areas(0));
  r.add_languages(r.languages(0));
  r.add_taxonomy_terms("Walking groups");
  r.add_taxonomy_terms("Walking groups");
  r.add_need_categories(r.need_categories(0));
  *r.add_locations() = r.locations(0);
  *r.add_locations() = r.locations(0);
  r.mutable_locations(r.locations_size() - 1)->set_name("Another hall, the same id");
  json service = FullService(r);
  std::set<std::string> ids;
  for (const char* list : {"schedules", "service_areas", "service_at_locations", "languages",
                           "cost_options", "contacts", "attributes", "capacities"}) {
    for (const json& item : service[list]) {
      EXPECT_TRUE(ids.insert(item["id"].get<std::string>()).second) << list << ": " << item;
      if (item.contains("location")) {
        EXPECT_TRUE(ids.insert(item["location"]["id"].get<std::string>()).second) << item;
      }
    }
  }
  EXPECT_EQ(service["service_areas"].size(), 1u * Rich().service_areas_size());
  EXPECT_EQ(service["languages"].size(), 1u * Rich().languages_size());
  EXPECT_EQ(service["service_at_locations"].size(), 1u * r.locations_size());
}

TEST(OrukServiceJsonTest, WithoutOrganisationNoOrganisationId) {
  v1::Resource r = Rich();
  r.clear_organization();
  json item = ServiceListItem(r);
  EXPECT_FALSE(item.contains("organization_id"));
  EXPECT_FALSE(item.contains("organization"));
}

TEST(OrukServiceJsonTest, PageEnvelope) {
  json middle = ServicePage({json::object(), json::object()}, 5, 2, 2);
  EXPECT_EQ(middle["total_items"], 5);
  EXPECT_EQ(middle["total_pages"], 3);
  EXPECT_EQ(middle["page_number"], 2);
  EXPECT_EQ(middle["size"], 2);
  EXPECT_EQ(middle["first_page"], false);
  EXPECT_EQ(middle["last_page"], false);
  EXPECT_EQ(middle["empty"], false);
  EXPECT_EQ(middle["contents"].size(), 2u);

  json last = ServicePage({json::object()}, 5, 3, 2);
  EXPECT_EQ(last["last_page"], true);
  EXPECT_EQ(last["size"], 1);

  json none = ServicePage({}, 0, 1, 50);
  EXPECT_EQ(none["total_pages"], 0);
  EXPECT_EQ(none["first_page"], true);
  EXPECT_EQ(none["last_page"], true);
  EXPECT_EQ(none["empty"], true);
  EXPECT_TRUE(none["contents"].is_array());
}

TEST(OrukServiceJsonTest, ApiDetailsAsTheOrukValidatorExpects) {
  json root = ApiDetails();
  EXPECT_EQ(root["version"], "HSDS-UK-3.0");
  EXPECT_TRUE(root.contains("profile"));
  EXPECT_TRUE(root.contains("openapi_url"));
}

TEST(OrukServiceJsonTest, ErrorBodyNamesTheParameter) {
  json e = ErrorBody(400, "per_page: too big", "per_page");
  EXPECT_EQ(e["status"], 400);
  EXPECT_EQ(e["parameter"], "per_page");
  EXPECT_FALSE(ErrorBody(404, "no service x").contains("parameter"));
}

}  // namespace
}  // namespace signpost::matching
