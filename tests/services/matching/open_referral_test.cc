#include "services/matching/open_referral.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "services/matching/resource_validation.h"

namespace signpost::matching {
namespace {

using ::testing::HasSubstr;

std::string Sample() {
  std::ifstream in(std::string(SIGNPOST_SOURCE_DIR) +
                   "/tests/services/matching/data/open_referral_leeds.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(OpenReferralTest, SampleFileMapsRecordByRecord) {
  auto records = ResourcesFromOpenReferral(Sample());
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 6u);

  const auto& walk = (*records)[0];
  ASSERT_TRUE(walk.resource.ok()) << walk.resource.status();
  const v1::Resource& r = *walk.resource;
  EXPECT_EQ(r.id(), "leeds-hp-walk-001");
  EXPECT_EQ(r.status(), v1::RESOURCE_STATUS_ACTIVE);
  EXPECT_THAT(r.need_categories(), ::testing::ElementsAre(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY,
                                                          v1::NEED_CATEGORY_LONELINESS));
  EXPECT_THAT(r.languages(), ::testing::ElementsAre("en", "pl"));
  EXPECT_TRUE(r.free());
  EXPECT_TRUE(r.access().step_free());
  EXPECT_EQ(r.minimum_age(), 18);
  EXPECT_EQ(r.capacity().places_available(), 6);
  EXPECT_TRUE(r.capacity().waitlist_open());
  ASSERT_EQ(r.locations_size(), 1);
  EXPECT_NEAR(r.locations(0).point().latitude(), 53.8168, 1e-9);
  EXPECT_EQ(r.locations(0).postcode(), "LS6 1BD");
  EXPECT_EQ(r.assured_date().year(), 2026);
  EXPECT_EQ(r.schedules(0).byday(0), "WE");

  const v1::Resource& money = *(*records)[1].resource;
  EXPECT_TRUE(money.access().step_free());  // "ramp"
  EXPECT_TRUE(money.access().hearing_loop());
  EXPECT_THAT(money.languages(), ::testing::ElementsAre("en", "ur", "pa"));

  const v1::Resource& carers = *(*records)[2].resource;
  EXPECT_EQ(carers.locations_size(), 0);
  EXPECT_THAT(carers.delivery_modes(),
              ::testing::ElementsAre(v1::DELIVERY_MODE_PHONE, v1::DELIVERY_MODE_ONLINE));
  EXPECT_THAT(carers.eligibility(), ::testing::ElementsAre(v1::INCLUSION_GROUP_CARER));

  EXPECT_EQ((*records)[3].resource->status(), v1::RESOURCE_STATUS_TEMPORARILY_CLOSED);

  EXPECT_FALSE((*records)[4].resource.ok());
  EXPECT_THAT(std::string((*records)[4].resource.status().message()), HasSubstr("Notices"));
  EXPECT_FALSE((*records)[5].resource.ok());
  EXPECT_THAT(std::string((*records)[5].resource.status().message()), HasSubstr("not in the UK"));
}

// GET /services/{id} of an ORUK 3.0 API (HSDS 3.0 names), as `directory import --url` sends it.
TEST(OpenReferralTest, HsdsThreeFullServiceMaps) {
  auto records = ResourcesFromOpenReferral(R"([{
    "id": "5e1f0000-0000-4000-8000-000000000001", "name": "Befriending group", "status": "active",
    "organization": {"id": "0a9b", "name": "Leeds Partnership", "description": "Groups"},
    "attributes": [{"id": "a1", "link_type": "service",
                    "taxonomy_term": {"id": "t1", "name": "Befriending", "code": "bef"}}],
    "schedules": [{"id": "s1", "freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00:00"}],
    "languages": [{"id": "l1", "name": "Polish", "code": "pl"}, {"id": "l2", "name": "Welsh"}],
    "service_areas": [{"id": "sa1", "name": "West Leeds"}],
    "service_at_locations": [{"id": "sal1", "location": {
      "id": "loc1", "location_type": "physical", "latitude": 53.81, "longitude": -1.56,
      "addresses": [{"address_1": "PO Box 1", "postal_code": "LS1 1AA", "address_type": "postal"},
                    {"address_1": "1 Cardigan Road", "postal_code": "LS6 1BD",
                     "address_type": "physical"}],
      "accessibility": [{"id": "ac1", "description": "Hearing loop and step-free access"}]}}]
  }, {
    "id": "5e1f0000-0000-4000-8000-000000000002", "name": "Notices", "status": "active",
    "attributes": [{"id": "a2", "taxonomy_term": {"id": "t2", "name": "Notices"}}]
  }])");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  ASSERT_TRUE((*records)[0].resource.ok()) << (*records)[0].resource.status();
  const v1::Resource& r = *(*records)[0].resource;
  EXPECT_THAT(r.need_categories(), ::testing::ElementsAre(v1::NEED_CATEGORY_LONELINESS));
  EXPECT_THAT(r.taxonomy_terms(), ::testing::ElementsAre("Befriending"));
  ASSERT_EQ(r.schedules_size(), 1);
  EXPECT_THAT(r.schedules(0).byday(), ::testing::ElementsAre("TU", "TH"));
  EXPECT_THAT(r.languages(), ::testing::ElementsAre("pl", "cy"));
  EXPECT_THAT(r.service_areas(), ::testing::ElementsAre("West Leeds"));
  ASSERT_EQ(r.locations_size(), 1);
  EXPECT_EQ(r.locations(0).postcode(), "LS6 1BD");  // the physical address, not the postal one
  EXPECT_TRUE(r.access().step_free());
  EXPECT_TRUE(r.access().hearing_loop());
  EXPECT_EQ(r.organization().name(), "Leeds Partnership");
  EXPECT_EQ((*records)[1].id, "5e1f0000-0000-4000-8000-000000000002");
  EXPECT_THAT((*records)[1].resource.status().message(), HasSubstr("attributes"));
  EXPECT_THAT((*records)[1].resource.status().message(), HasSubstr("Notices"));
}

TEST(OpenReferralTest, NotJsonFailsAsAWhole) {
  EXPECT_EQ(ResourcesFromOpenReferral("<xml/>").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResourcesFromOpenReferral("{\"x\": 1}").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResourceValidationTest, ReportsEveryProblem) {
  v1::Resource r;
  r.set_id("bad id with spaces");
  r.set_minimum_age(30);
  r.set_maximum_age(20);
  r.mutable_capacity()->set_places_total(5);
  r.mutable_capacity()->set_places_available(9);
  r.add_languages("English");
  std::vector<std::string> fields;
  for (const auto& v : ValidateResource(r)) fields.push_back(v.field);
  EXPECT_THAT(fields,
              ::testing::ElementsAre("id", "name", "status", "need_categories", "locations",
                                     "maximum_age", "capacity.places_available", "languages[0]"));
}

}  // namespace
}  // namespace signpost::matching
