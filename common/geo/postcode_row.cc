#include "common/geo/postcode_row.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace signpost::geo {

absl::StatusOr<PostcodeRow> ParsePostcodeRow(absl::string_view line) {
  std::vector<absl::string_view> f = absl::StrSplit(line, ',');
  PostcodeRow row;
  // The bounds are written so that NaN (which SimpleAtod reads) is refused too.
  if (f.size() < 5 || !absl::SimpleAtod(f[1], &row.latitude) ||
      !absl::SimpleAtod(f[2], &row.longitude) || !absl::SimpleAtoi(f[4], &row.imd_decile) ||
      !(row.latitude >= 49 && row.latitude <= 61) ||
      !(row.longitude >= -9 && row.longitude <= 2.5) || row.imd_decile < 0 || row.imd_decile > 10) {
    return absl::InvalidArgumentError(
        "expected postcode,latitude,longitude,lsoa,imd_decile within the UK");
  }
  row.code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(f[0]));
  row.lsoa = std::string(f[3]);
  return row;
}

std::string PostcodeDistrict(absl::string_view postcode) {
  absl::string_view code = absl::StripAsciiWhitespace(postcode);
  return absl::AsciiStrToUpper(code.substr(0, code.find(' ')));
}

}  // namespace signpost::geo
