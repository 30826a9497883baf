#pragma once

#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "tools/region/region_profile.h"

namespace signpost::region {

// A profile's files built into the binary (cmake/embed_web_assets.cmake), so that the default
// region needs nothing found at run time.
struct EmbeddedProfileFile {
  const char* name;  // "lsoas.csv"
  const char* content_type;
  const char* body;
};
std::span<const EmbeddedProfileFile> DefaultProfileFiles();

// The region every tool uses unless told otherwise: West Yorkshire
// (tools/region/profiles/west-yorkshire/, its sources in SOURCES.md), parsed once.
const RegionProfile& DefaultRegionProfile();

// A profile from a folder holding the four files (profile.json, lsoas.csv, postcodes.csv,
// postcode_districts.csv), e.g. another area's.
absl::StatusOr<RegionProfile> ReadRegionProfile(const std::string& folder);

}  // namespace signpost::region
