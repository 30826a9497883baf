#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace signpost::geo {

// One row of the postcode file deployments load (the national open data, or the region's):
// postcode,latitude,longitude,lsoa,imd_decile; a row whose postcode is a district ("LS6") gives
// the district's centre. Read by matching (to place people) and the monitor (to place resources
// and link workers' areas by deprivation).
struct PostcodeRow {
  std::string code;  // upper case, as written otherwise
  double latitude = 0;
  double longitude = 0;
  std::string lsoa;
  int imd_decile = 0;  // 0 = unknown
};

// INVALID_ARGUMENT saying what a row should be when a field is missing, not a number, or outside
// the UK (NaN included) or a decile outside 0..10.
absl::StatusOr<PostcodeRow> ParsePostcodeRow(absl::string_view line);

// A UK postcode in its canonical form ("LS6 2AB"), from any spacing and case; nullopt when it is
// not well formed (Royal Mail's rules).
std::optional<std::string> NormalisePostcode(absl::string_view text);

// Whether `code` is a well-formed outward code (postcode district), e.g. "LS6", "BD10", "EC1A".
bool IsOutwardCode(absl::string_view code);

// The outward code of a postcode ("LS6 1BD" -> "LS6"); a district is its own.
std::string PostcodeDistrict(absl::string_view postcode);

}  // namespace signpost::geo
