#include "tools/region/default_region_profile.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace signpost::region {
namespace {

RegionProfileFiles EmbeddedFiles() {
  RegionProfileFiles files;
  for (const auto& file : DefaultProfileFiles()) {
    const std::string name = file.name;
    if (name == "profile.json") files.profile_json = file.body;
    if (name == "lsoas.csv") files.lsoas_csv = file.body;
    if (name == "postcodes.csv") files.postcodes_csv = file.body;
    if (name == "postcode_districts.csv") files.postcode_districts_csv = file.body;
  }
  return files;
}

}  // namespace

const RegionProfile& DefaultRegionProfile() {
  static const RegionProfile* const profile = [] {
    auto parsed = ParseRegionProfile(EmbeddedFiles());
    // The files are the repository's own and a unit test parses them: failing here is a
    // programmer's error, not a user's.
    if (!parsed.ok()) {
      spdlog::critical("the built-in region profile: {}", parsed.status().ToString());
      std::abort();
    }
    return new RegionProfile(*std::move(parsed));
  }();
  return *profile;
}

absl::StatusOr<RegionProfile> ReadRegionProfile(const std::string& folder) {
  RegionProfileFiles files;
  for (auto [name, out] :
       {std::pair{"profile.json", &files.profile_json}, std::pair{"lsoas.csv", &files.lsoas_csv},
        std::pair{"postcodes.csv", &files.postcodes_csv},
        std::pair{"postcode_districts.csv", &files.postcode_districts_csv}}) {
    std::ifstream in(absl::StrCat(folder, "/", name));
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", folder, "/", name));
    std::ostringstream text;
    text << in.rdbuf();
    *out = text.str();
  }
  auto profile = ParseRegionProfile(files);
  if (!profile.ok()) {
    return absl::Status(profile.status().code(),
                        absl::StrCat(folder, "/", profile.status().message()));
  }
  return profile;
}

}  // namespace signpost::region
