#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "signpost/v1/link_worker.pb.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::region {

struct PostcodeRow {
  std::string postcode;  // a full postcode, or a district such as "LS6"
  double latitude = 0;
  double longitude = 0;
  std::string lsoa;
  int imd_decile = 0;
};

// A synthetic but plausible region: towns with postcode districts and postcodes (with LSOA and
// IMD decile, the town centres more deprived), community resources across every need category
// with realistic mixes of access, language, capacity, eligibility, delivery mode and freshness,
// Primary Care Networks of practices (ODS codes) and their link workers. The same seed gives the
// same region.
struct Region {
  std::vector<PostcodeRow> postcodes;
  std::vector<v1::Resource> resources;
  std::vector<v1::Network> networks;
  std::vector<v1::LinkWorker> link_workers;
  std::vector<std::string> practice_ods_codes;
};

Region GenerateRegion(uint64_t seed, int resources);

}  // namespace signpost::region
