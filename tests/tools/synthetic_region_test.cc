#include "tools/region/synthetic_region.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "services/intake/identifiers.h"
#include "services/matching/resource_validation.h"

namespace signpost::region {
namespace {

TEST(SyntheticRegionTest, SameSeedSameRegion) {
  auto a = GenerateRegion(7, 500);
  auto b = GenerateRegion(7, 500);
  ASSERT_EQ(a.resources.size(), 500u);
  for (size_t i = 0; i < a.resources.size(); ++i) {
    EXPECT_EQ(a.resources[i].SerializeAsString(), b.resources[i].SerializeAsString());
  }
  EXPECT_NE(GenerateRegion(8, 500).resources[0].SerializeAsString(),
            a.resources[0].SerializeAsString());
}

TEST(SyntheticRegionTest, EverythingIsValidAndEveryNeedIsCovered) {
  auto region = GenerateRegion(20261123, 2000);
  std::set<int> needs;
  std::map<std::string, int> mixes;
  for (const auto& r : region.resources) {
    auto violations = matching::ValidateResource(r);
    EXPECT_TRUE(violations.empty()) << r.id() << ": " << violations[0].field;
    for (int n : r.need_categories()) needs.insert(n);
    if (!r.access().step_free()) ++mixes["no step-free"];
    if (r.eligibility_size() > 0) ++mixes["eligibility"];
    if (r.locations_size() == 0) ++mixes["remote only"];
    if (r.capacity().places_total() > 0 && r.capacity().places_available() == 0) ++mixes["full"];
    if (r.languages_size() > 1) ++mixes["other language"];
  }
  EXPECT_EQ(needs.size(), 18u);
  for (const char* mix : {"no step-free", "eligibility", "remote only", "full", "other language"}) {
    EXPECT_GT(mixes[mix], 20) << mix;
  }
  for (const auto& p : region.postcodes) {
    if (p.postcode.find(' ') == std::string::npos) continue;  // a district row
    EXPECT_EQ(intake::NormalisePostcode(p.postcode), p.postcode);
  }
  // What matching's directory followers take from the topic (else they skip it as poison).
  for (const auto& w : region.link_workers) {
    EXPECT_TRUE(matching::ValidateLinkWorker(w).empty()) << w.id();
  }
  for (const auto& n : region.networks) EXPECT_TRUE(matching::ValidateNetwork(n).empty()) << n.id();
  std::set<std::string> served;
  for (const auto& n : region.networks) {
    for (const auto& ods : n.practice_ods_codes()) {
      EXPECT_TRUE(intake::IsValidOdsCode(ods)) << ods;
      served.insert(ods);
    }
  }
  EXPECT_EQ(served.size(), region.practice_ods_codes.size());
  EXPECT_GE(region.link_workers.size(), region.networks.size() * 3);
}

}  // namespace
}  // namespace signpost::region
