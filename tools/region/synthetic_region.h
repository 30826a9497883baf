#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "signpost/v1/link_worker.pb.h"
#include "signpost/v1/resource.pb.h"
#include "tools/region/region_profile.h"

namespace signpost::region {

struct PostcodeRow {
  std::string postcode;  // a full postcode, or a district such as "LS6"
  double latitude = 0;
  double longitude = 0;
  std::string lsoa;
  int imd_decile = 0;
  // The share of the region's people who live at this postcode (its LSOA's population over the
  // LSOA's postcodes listed), so that referrals come from where people live; 0 for a district.
  double weight = 0;
};

// A synthetic region shaped like a real one (a RegionProfile): the profile's real postcodes with
// their LSOAs and IMD deciles, and each postcode district at its real centre; community resources
// with plausible names, one need category each, thinner where deprivation is higher (the inverse
// care law), with realistic mixes of access, language, capacity, eligibility, delivery mode and
// freshness; Primary Care Networks of practices (ODS codes) in each local authority and their link
// workers, whose languages are drawn from the population's. A directory larger than the area's
// (over 3,000 resources) is spread over copies of the area moved south-west across England, with
// made-up postcode areas and LSOA codes (E019xxxxx), as a national directory is spread over many
// areas, so that its density stays realistic. The same profile and seed give the same region.
struct Region {
  std::string name;         // the profile's
  std::string imd_edition;  // of the postcodes' deciles
  double core20_population_share = 0;
  std::vector<PostcodeRow> postcodes;
  std::vector<v1::Resource> resources;
  std::vector<v1::Network> networks;
  std::vector<v1::LinkWorker> link_workers;
  std::vector<std::string> practice_ods_codes;
};

Region GenerateRegion(const RegionProfile& profile, uint64_t seed, int resources);
// The same, from the built-in profile (West Yorkshire).
Region GenerateRegion(uint64_t seed, int resources);

}  // namespace signpost::region
