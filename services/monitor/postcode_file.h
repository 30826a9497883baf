#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/geo/postcode_row.h"

namespace signpost::monitor {

// The postcode file matching loads (a header line, then postcode,latitude,longitude,lsoa,
// imd_decile rows): the monitor places resources and link workers' districts by deprivation with
// it. NOT_FOUND when unreadable; INVALID_ARGUMENT naming the first bad lines (up to 10).
absl::StatusOr<std::vector<geo::PostcodeRow>> ReadPostcodeFile(const std::string& path);

}  // namespace signpost::monitor
