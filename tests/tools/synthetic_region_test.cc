#include "tools/region/synthetic_region.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "services/intake/identifiers.h"
#include "services/matching/resource_validation.h"
#include "tools/region/default_region_profile.h"

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

double Km(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = (lat1 - lat2) * 111.2;
  const double dlon = (lon1 - lon2) * 111.2 * std::cos(lat1 * M_PI / 180);
  return std::sqrt(dlat * dlat + dlon * dlon);
}

// The region's postcodes are the profile's: real LSOA codes, each decile's share of the LSOAs
// as published, every postcode near its district's centre and the district near its town's.
TEST(SyntheticRegionTest, PostcodesFollowTheProfile) {
  const RegionProfile& profile = DefaultRegionProfile();
  auto region = GenerateRegion(20261123, 3000);
  EXPECT_EQ(region.imd_edition, profile.imd_edition);
  const std::regex lsoa_code("E01[0-9]{6}");
  std::map<std::string, int> decile_of_lsoa;
  std::map<std::string, const PostcodeRow*> district_rows;
  for (const auto& p : region.postcodes) {
    EXPECT_TRUE(std::regex_match(p.lsoa, lsoa_code)) << p.postcode << " " << p.lsoa;
    if (p.postcode.find(' ') == std::string::npos) {
      district_rows[p.postcode] = &p;
      continue;
    }
    decile_of_lsoa[p.lsoa] = p.imd_decile;
  }
  std::array<double, 10> share{};
  for (const auto& [lsoa, decile] : decile_of_lsoa)
    share[decile - 1] += 1.0 / decile_of_lsoa.size();
  for (int d = 0; d < 10; ++d) {
    EXPECT_NEAR(share[d], profile.decile_share[d], 0.01) << "decile " << d + 1;
  }
  // A town's centre: the mean of its districts'.
  std::map<std::string, std::pair<double, double>> town_centre;
  std::map<std::string, int> town_districts;
  for (const auto& d : profile.districts) {
    town_centre[d.post_town].first += d.latitude;
    town_centre[d.post_town].second += d.longitude;
    ++town_districts[d.post_town];
  }
  for (auto& [town, centre] : town_centre) {
    centre.first /= town_districts[town];
    centre.second /= town_districts[town];
  }
  for (const auto& d : profile.districts) {
    const auto& [lat, lon] = town_centre[d.post_town];
    EXPECT_LT(Km(d.latitude, d.longitude, lat, lon), 25) << d.code << " far from " << d.post_town;
  }
  for (const auto& p : region.postcodes) {
    if (p.postcode.find(' ') == std::string::npos) continue;
    const std::string outward = p.postcode.substr(0, p.postcode.find(' '));
    ASSERT_TRUE(district_rows.contains(outward)) << p.postcode;
    const PostcodeRow& d = *district_rows[outward];
    EXPECT_LT(Km(p.latitude, p.longitude, d.latitude, d.longitude), 15) << p.postcode;
  }
}

// Resources are thinner where deprivation is higher: fewer per person in the most deprived
// fifth of the region's LSOAs than in the least deprived fifth.
TEST(SyntheticRegionTest, ResourcesAreThinnerWhereDeprivationIsHigher) {
  const RegionProfile& profile = DefaultRegionProfile();
  auto region = GenerateRegion(20261123, 3000);
  std::array<double, 5> people{}, resources{};
  for (const auto& lsoa : profile.lsoas) {
    people[(lsoa.imd_decile - 1) / 2] += std::max(lsoa.population, 1);
  }
  for (const auto& r : region.resources) {
    if (r.locations_size() == 0) continue;
    const auto& point = r.locations(0).point();
    const PostcodeRow* nearest = nullptr;
    double best = 1e9;
    for (const auto& p : region.postcodes) {
      if (p.postcode.find(' ') == std::string::npos) continue;
      double km = Km(point.latitude(), point.longitude(), p.latitude, p.longitude);
      if (km < best) best = km, nearest = &p;
    }
    ASSERT_NE(nearest, nullptr);
    EXPECT_LT(best, 1.0) << r.id();
    resources[(nearest->imd_decile - 1) / 2] += 1;
  }
  const double most_deprived = resources[0] / people[0], least = resources[4] / people[4];
  EXPECT_LT(most_deprived, 0.75 * least) << most_deprived << " against " << least;
}

// Where provision is, for the monitor's provision view: a located resource names a postcode of
// the region within a kilometre of its point, and each network covers postcode districts of its
// own local authority (its networks' districts together: all the authority's).
TEST(SyntheticRegionTest, ResourcesNameTheirPostcodeAndNetworksTheirDistricts) {
  const RegionProfile& profile = DefaultRegionProfile();
  auto region = GenerateRegion(20261123, 3000);
  std::map<std::string, const PostcodeRow*> postcodes;
  for (const auto& p : region.postcodes) postcodes[p.postcode] = &p;
  int located = 0;
  for (const auto& r : region.resources) {
    if (r.locations_size() == 0) continue;
    ++located;
    auto it = postcodes.find(r.locations(0).postcode());
    ASSERT_NE(it, postcodes.end()) << r.id() << " " << r.locations(0).postcode();
    EXPECT_LT(Km(r.locations(0).point().latitude(), r.locations(0).point().longitude(),
                 it->second->latitude, it->second->longitude),
              1.0)
        << r.id();
  }
  EXPECT_GT(located, 2000);
  std::map<std::string, std::set<std::string>> districts_of_authority, covered;
  for (const auto& p : profile.postcodes) {
    const std::string& authority = profile.lsoas[p.lsoa].local_authority;
    districts_of_authority[authority].insert(p.postcode.substr(0, p.postcode.find(' ')));
  }
  for (const auto& n : region.networks) {
    const std::string authority = n.name().substr(0, n.name().rfind(" PCN "));
    EXPECT_GT(n.postcode_districts_size(), 0) << n.id();
    for (const auto& d : n.postcode_districts()) {
      EXPECT_TRUE(districts_of_authority[authority].count(d)) << n.id() << " " << d;
      covered[authority].insert(d);
    }
  }
  EXPECT_EQ(covered, districts_of_authority);
}

// One clear need each, a name that says what and where it is, and languages from the region's.
TEST(SyntheticRegionTest, ResourcesHavePlausibleNamesOneNeedEachAndTheRegionsLanguages) {
  const RegionProfile& profile = DefaultRegionProfile();
  auto region = GenerateRegion(20261123, 3000);
  std::set<std::string> languages;
  for (const auto& l : profile.languages) languages.insert(l.code);
  languages.insert("en");
  std::set<std::string> towns;
  for (const auto& d : profile.districts) towns.insert(d.post_town);
  for (const auto& r : region.resources) {
    EXPECT_EQ(r.need_categories_size(), 1) << r.id();
    EXPECT_EQ(r.name().find('_'), std::string::npos) << r.name();
    bool names_a_town = false;
    for (const auto& town : towns)
      names_a_town |= r.name().find(", " + town + " ") != std::string::npos;
    EXPECT_TRUE(names_a_town) << r.name();
    for (const auto& l : r.languages()) EXPECT_TRUE(languages.contains(l)) << r.id() << " " << l;
  }
  for (const auto& w : region.link_workers) {
    for (const auto& l : w.languages()) EXPECT_TRUE(languages.contains(l)) << w.id() << " " << l;
  }
}

// A directory larger than the area is spread over copies of it elsewhere in England: postcodes
// stay unique and within the UK, so matching's loader takes them all.
TEST(SyntheticRegionTest, ALargeDirectorySpreadsOverCopiesWithUniquePostcodes) {
  auto region = GenerateRegion(3, 12000);
  std::set<std::string> postcodes;
  for (const auto& p : region.postcodes) {
    EXPECT_TRUE(postcodes.insert(p.postcode).second) << p.postcode;
    EXPECT_GT(p.latitude, 49);
    EXPECT_LT(p.latitude, 61);
    EXPECT_GT(p.longitude, -9);
    EXPECT_LT(p.longitude, 2.5);
  }
  std::set<std::string> districts;
  for (const auto& p : DefaultRegionProfile().postcodes) districts.insert(OutwardCode(p.postcode));
  // Four copies (12,000 / 3,000), each with every postcode and district of the area.
  EXPECT_EQ(postcodes.size(), 4 * (DefaultRegionProfile().postcodes.size() + districts.size()));
}

}  // namespace
}  // namespace signpost::region
