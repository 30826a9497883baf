#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signpost::region {

// A real area's published figures that the synthetic region is shaped by: its small areas (LSOAs)
// with their deprivation, real postcodes in them at their real positions, its postcode districts
// and their towns, and its population's languages. tools/region/profiles/<area>/SOURCES.md says
// where each figure comes from.
struct ProfileLsoa {
  std::string code;  // E01 and six digits
  std::string name;  // e.g. "Bradford 001A"
  std::string local_authority;
  int imd_decile = 0;  // national decile, 1 = the most deprived tenth of England
  int population = 0;  // 0 when the profile gives none
};

struct ProfilePostcode {
  std::string postcode;  // "LS6 1BD"
  double latitude = 0;
  double longitude = 0;
  int lsoa = 0;  // index into RegionProfile::lsoas
};

struct ProfileDistrict {
  std::string code;       // the outward code, "LS6"
  std::string post_town;  // "Leeds"
  double latitude = 0;
  double longitude = 0;
};

struct ProfileLanguage {
  std::string code;  // ISO 639-1
  double share = 0;  // of the population, by main language
};

struct RegionProfile {
  std::string name;
  std::string imd_edition;  // the Indices of Deprivation the deciles come from, e.g. "IoD2019"
  std::array<double, 10> decile_share{};  // share of the LSOAs in each national decile
  double core20_population_share = 0;     // share of the population in deciles 1 and 2
  std::vector<ProfileLanguage> languages;
  std::vector<ProfileLsoa> lsoas;
  std::vector<ProfileDistrict> districts;
  std::vector<ProfilePostcode> postcodes;  // each in a district of `districts`
};

// The profile's files, as read from its folder (or built into the binary for the default).
struct RegionProfileFiles {
  std::string profile_json;
  std::string lsoas_csv;               // lsoa,name,local_authority,imd_decile,population
  std::string postcodes_csv;           // postcode,latitude,longitude,lsoa
  std::string postcode_districts_csv;  // district,post_town,latitude,longitude
};

// Parses and cross-checks a profile. An error names the file, the line and what is wrong (an
// unknown LSOA, a decile outside 1-10, a postcode whose district is not listed, shares that do
// not add up to what the LSOAs give, ...).
absl::StatusOr<RegionProfile> ParseRegionProfile(const RegionProfileFiles& files);

// The outward code of a postcode written with its space ("LS6 1BD" -> "LS6").
std::string OutwardCode(const std::string& postcode);

}  // namespace signpost::region
